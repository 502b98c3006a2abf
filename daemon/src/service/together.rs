//! The practice together: shared notes, appreciations and the weekly question (see
//! `model::notes`, `model::ask`; what is waiting for this person is `waiting`'s).
//!
//! Every item written here is signed with this member's key and published like a consent:
//! first into the private journal (this laptop's own copy), then into the couple document.
//! Nothing of the journal moves except the one entry `share` was asked to copy.

use std::collections::{BTreeMap, BTreeSet};

use haven_shared::ipc::{
    AskHistory, Created, ErrorKind, ErrorReply, NoteBoard, NoteReply, Reply, Shared, TogetherCall,
    WeekReply,
};

use haven_shared::model::ask::{self, AskBook, PendingAnswer, WeekView};
use haven_shared::model::new_id;
use haven_shared::model::notes::{self, Board, NoteBody, NoteKind, NoteView};
use haven_shared::when;

use super::{doc_error, waiting};
use crate::vault::{home_error, Unlocked};

pub fn handle(u: &mut Unlocked, call: TogetherCall) -> Reply {
    match call {
        TogetherCall::Share(c) => share(u, &c.id).map(Into::into),
        TogetherCall::Notes(_) => notes(u).map(Into::into),
        TogetherCall::NoteShow(c) => note_show(u, &c.id).map(Into::into),
        TogetherCall::NoteAnswer(c) => answer_note(u, &c.id, &c.text).map(Into::into),
        TogetherCall::Thanks(c) => thanks(u, &c.text).map(Into::into),
        TogetherCall::Ask(_) => ask(u).map(Into::into),
        TogetherCall::AskAnswer(c) => ask_answer(u, &c.text).map(Into::into),
        TogetherCall::AskAdd(c) => ask_add(u, &c.text).map(Into::into),
        TogetherCall::AskList(_) => ask_list(u).map(Into::into),
    }
}

fn not_paired(what: &str) -> ErrorReply {
    ErrorReply::new(
        ErrorKind::NotFound,
        format!("this laptop is not paired with a partner: {what} has nobody to go to"),
    )
    .hint("pair with `haven pair` on one laptop and `haven pair CODE` on the other")
}

/// The partner's member id, or why there is none.
fn partner_member(u: &Unlocked, what: &str) -> Result<String, ErrorReply> {
    u.partner_member().ok_or_else(|| not_paired(what))
}

fn invalid(e: impl std::fmt::Display) -> ErrorReply {
    ErrorReply::new(ErrorKind::InvalidInput, e.to_string())
}

fn resolve_note<'b>(board: &'b Board, prefix: &str) -> Result<&'b NoteView, ErrorReply> {
    board.resolve(prefix).map_err(|ids| match ids.as_slice() {
        [] => ErrorReply::new(
            ErrorKind::NotFound,
            format!("no shared note matches {:?}", prefix.trim()),
        )
        .hint("see the ids with `haven notes`"),
        many => ErrorReply::new(
            ErrorKind::Ambiguous,
            format!(
                "{:?} matches several notes ({})",
                prefix.trim(),
                many.join(", ")
            ),
        )
        .hint("type more of the id"),
    })
}

/// Signs and publishes one note; returns it as the board shows it.
fn write_note(
    u: &mut Unlocked,
    kind: NoteKind,
    title: &str,
    text: &str,
    answers: Option<String>,
) -> Result<NoteView, ErrorReply> {
    partner_member(u, "a note")?;
    let key = u.home.signer();
    let body =
        NoteBody::new(&key, &new_id(), kind, title, text, answers, when::now()).map_err(invalid)?;
    u.publish(&[body.sign(&key)])?;
    u.board()
        .notes
        .remove(&body.id)
        .ok_or_else(|| ErrorReply::new(ErrorKind::Internal, "the note just written is missing"))
}

/// `haven share ID`: one journal entry copied into a note, once.
fn share(u: &mut Unlocked, id: &str) -> Result<Shared, ErrorReply> {
    partner_member(u, "a shared note")?;
    let entry = u.resolve_entry(id)?.clone();
    if let Some(note_id) = u.home.journal.shared_as(&entry.id).map_err(doc_error)? {
        if let Some(note) = u.board().notes.remove(&note_id) {
            return Ok(Shared {
                note,
                already: true,
            });
        }
    }
    let (kind, title, text) = notes::shared_from(&entry).map_err(invalid)?;
    let note = write_note(u, kind, &title, &text, None)?;
    // Which entry became which note stays in the journal: the note does not name it.
    u.home
        .journal
        .put_shared_as(&entry.id, &note.id)
        .map_err(doc_error)?;
    u.home.persist_journal().map_err(home_error)?;
    tracing::info!("an entry was shared as a note");
    Ok(Shared {
        note,
        already: false,
    })
}

fn thanks(u: &mut Unlocked, text: &str) -> Result<NoteReply, ErrorReply> {
    let note = write_note(u, NoteKind::Thanks, "", text, None)?;
    Ok(NoteReply {
        note,
        answers: Vec::new(),
    })
}

fn answer_note(u: &mut Unlocked, id: &str, text: &str) -> Result<NoteReply, ErrorReply> {
    let to = resolve_note(&u.board(), id)?.id.clone();
    let note = write_note(u, NoteKind::Note, "", text, Some(to))?;
    Ok(NoteReply {
        note,
        answers: Vec::new(),
    })
}

/// Every note of the couple; they count as seen here.
fn notes(u: &mut Unlocked) -> Result<NoteBoard, ErrorReply> {
    let board = u.board();
    waiting::mark_seen(u, None, Some(&board), None, |_| true);
    Ok(NoteBoard {
        notes: board.in_order().into_iter().cloned().collect(),
        unverified: board.unverified,
        ignored: board.malformed,
    })
}

fn note_show(u: &mut Unlocked, id: &str) -> Result<NoteReply, ErrorReply> {
    let board = u.board();
    let note = resolve_note(&board, id)?.clone();
    let answers: Vec<NoteView> = board.answers_to(&note.id).into_iter().cloned().collect();
    let about: BTreeSet<&str> = answers
        .iter()
        .map(|a| a.id.as_str())
        .chain([note.id.as_str()])
        .collect();
    waiting::mark_seen(u, None, Some(&board), None, |w| {
        about.contains(w.about.as_str())
    });
    Ok(NoteReply { note, answers })
}

/// This week's question, as both partners see it (see `AskBook::current_week`).
fn this_week(u: &Unlocked, book: &AskBook) -> String {
    let partner = u.partner_member();
    book.current_week(when::now(), &u.home.member_id(), partner.as_deref())
}

fn week_view(u: &Unlocked, book: &AskBook, week: &str) -> WeekView {
    let partner = u.partner_member();
    book.week(
        week,
        u.keyring(),
        partner.as_deref(),
        &u.home.journal.pending_answers(),
    )
}

fn ask(u: &mut Unlocked) -> Result<WeekReply, ErrorReply> {
    let book = u.ask_book();
    let week = week_view(u, &book, &this_week(u, &book));
    waiting::mark_seen(u, None, None, Some(&book), |_| true);
    Ok(WeekReply { week })
}

fn ask_list(u: &mut Unlocked) -> Result<AskHistory, ErrorReply> {
    let book = u.ask_book();
    let mut weeks: Vec<WeekView> = book
        .weeks()
        .iter()
        .map(|w| week_view(u, &book, w))
        .collect();
    let now = this_week(u, &book);
    if !weeks.iter().any(|w| w.week == now) {
        weeks.insert(0, week_view(u, &book, &now));
    }
    waiting::mark_seen(u, None, None, Some(&book), |_| true);
    Ok(AskHistory {
        weeks,
        questions: book.all_questions(u.keyring()),
    })
}

fn ask_add(u: &mut Unlocked, text: &str) -> Result<Created, ErrorReply> {
    let key = u.home.signer();
    let id = new_id();
    let item = ask::sign_question(&key, &id, text, when::now()).map_err(invalid)?;
    u.publish(&[item])?;
    Ok(Created { id })
}

/// `haven ask answer TEXT`: publishes the commitment only; the answer waits in the journal
/// until the partner has committed too.
fn ask_answer(u: &mut Unlocked, text: &str) -> Result<WeekReply, ErrorReply> {
    partner_member(u, "an answer")?;
    let book = u.ask_book();
    let week = this_week(u, &book);
    let me = u.home.member_id();
    let question = book.question_of(&week);
    if book
        .commits_of(&me, &week)
        .iter()
        .any(|c| c.body.question == question)
    {
        return Err(invalid(ask::AskError::AlreadyAnswered)
            .hint("see both answers with `haven ask`; next week brings a new question"));
    }
    let mut nonce = [0u8; 32];
    getrandom::getrandom(&mut nonce)
        .map_err(|e| ErrorReply::new(ErrorKind::Internal, format!("no randomness: {e}")))?;
    let key = u.home.signer();
    let (item, pending) = ask::commit(&key, &new_id(), &week, &question, text, nonce, when::now())
        .map_err(invalid)?;
    // The answer is in the journal before its commitment is published: a crash between
    // the two leaves an answer nobody saw, never a commitment nobody can reveal.
    u.home
        .journal
        .put_pending_answer(&pending)
        .map_err(doc_error)?;
    u.publish(&[item])?;
    reveal_due(u);
    ask(u)
}

/// Publishes this member's reveals whose time has come (the partner committed to the
/// same question). Called after an answer, after the partner's changes arrive, and at
/// unlock. Returns how many.
pub fn reveal_due(u: &mut Unlocked) -> usize {
    let Some(partner) = u.partner_member() else {
        return 0;
    };
    let pending: BTreeMap<String, PendingAnswer> = u.home.journal.pending_answers();
    if pending.is_empty() {
        return 0;
    }
    let book = u.ask_book();
    let key = u.home.signer();
    let items: Vec<_> = book
        .due_reveals(u.keyring(), &partner, &pending)
        .into_iter()
        .map(|p| ask::reveal(&key, p, when::now()))
        .collect();
    if items.is_empty() {
        return 0;
    }
    match u.publish(&items) {
        Ok(()) => {
            tracing::info!(answers = items.len(), "both answered: revealed ours");
            items.len()
        }
        Err(e) => {
            tracing::warn!(error = %e.message, "could not reveal our answer; will try again");
            0
        }
    }
}
