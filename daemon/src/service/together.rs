//! The practice together: shared notes, appreciations, the weekly question, and what is
//! waiting for this person (see `model::notes`, `model::ask`, `model::waiting`).
//!
//! Every item written here is signed with this member's key and published like a consent:
//! first into the private journal (this laptop's own copy), then into the couple document.
//! Nothing of the journal moves except the one entry `share` was asked to copy.

use chrono::Local;
use std::collections::{BTreeMap, BTreeSet};

use haven_shared::ipc::{ErrorKind, ErrorReply, Reply, Response};
use haven_shared::model::agreement::{self, Book};
use haven_shared::model::ask::{self, AskBook, PendingAnswer, WeekView};
use haven_shared::model::new_id;
use haven_shared::model::notes::{self, Board, NoteBody, NoteKind, NoteView};
use haven_shared::model::waiting::{self, Waiting, WaitingKind};
use haven_shared::when;

use super::{doc_error, publish, resolve};
use crate::vault::{home_error, Unlocked};

fn not_paired(what: &str) -> ErrorReply {
    ErrorReply::new(
        ErrorKind::NotFound,
        format!("this laptop is not paired with a partner: {what} has nobody to go to"),
    )
    .hint("pair with `haven pair` on one laptop and `haven pair CODE` on the other")
}

/// The partner's member id, or why there is none.
fn partner_member(u: &Unlocked, what: &str) -> Result<String, ErrorReply> {
    u.partner
        .as_ref()
        .filter(|_| u.partner_problem.is_none())
        .map(|p| p.member_id.clone())
        .ok_or_else(|| not_paired(what))
}

fn invalid(e: impl std::fmt::Display) -> ErrorReply {
    ErrorReply::new(ErrorKind::InvalidInput, e.to_string())
}

fn board(u: &Unlocked) -> Board {
    notes::assemble(&u.home.together_items(), &u.keyring)
}

fn ask_book(u: &Unlocked) -> AskBook {
    ask::assemble(&u.home.together_items(), &u.keyring)
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
    let key = u.home.identity.signing_key().clone();
    let body =
        NoteBody::new(&key, &new_id(), kind, title, text, answers, when::now()).map_err(invalid)?;
    publish(u, &[body.sign(&key)])?;
    board(u)
        .notes
        .remove(&body.id)
        .ok_or_else(|| ErrorReply::new(ErrorKind::Internal, "the note just written is missing"))
}

/// `haven share ID`: one journal entry copied into a note, once.
pub fn share(u: &mut Unlocked, id: &str) -> Reply {
    partner_member(u, "a shared note")?;
    let entry = resolve(u, id)?.clone();
    if let Some(note_id) = u.home.journal.shared_as(&entry.id).map_err(doc_error)? {
        if let Some(note) = board(u).notes.remove(&note_id) {
            return Ok(Response::Shared {
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
    Ok(Response::Shared {
        note,
        already: false,
    })
}

pub fn thanks(u: &mut Unlocked, text: &str) -> Reply {
    let note = write_note(u, NoteKind::Thanks, "", text, None)?;
    Ok(Response::Note {
        note,
        answers: Vec::new(),
    })
}

pub fn answer_note(u: &mut Unlocked, id: &str, text: &str) -> Reply {
    let to = resolve_note(&board(u), id)?.id.clone();
    let note = write_note(u, NoteKind::Note, "", text, Some(to))?;
    Ok(Response::Note {
        note,
        answers: Vec::new(),
    })
}

/// The partner's verified appreciations since `since`, oldest first, for a brief.
pub fn thanks_received(
    u: &Unlocked,
    since: Option<chrono::DateTime<chrono::FixedOffset>>,
) -> Vec<NoteView> {
    board(u)
        .in_order()
        .into_iter()
        .filter(|n| !n.mine && n.kind == NoteKind::Thanks && since.is_none_or(|s| n.at >= s))
        .cloned()
        .collect()
}

pub fn notes(u: &mut Unlocked) -> Reply {
    let board = board(u);
    mark_seen(u, None, Some(&board), None, |_| true);
    Ok(Response::Notes {
        notes: board.in_order().into_iter().cloned().collect(),
        unverified: board.unverified,
        ignored: board.malformed,
    })
}

pub fn note_show(u: &mut Unlocked, id: &str) -> Reply {
    let board = board(u);
    let note = resolve_note(&board, id)?.clone();
    let answers: Vec<NoteView> = board.answers_to(&note.id).into_iter().cloned().collect();
    let about: BTreeSet<&str> = answers
        .iter()
        .map(|a| a.id.as_str())
        .chain([note.id.as_str()])
        .collect();
    mark_seen(u, None, Some(&board), None, |w| {
        about.contains(w.about.as_str())
    });
    Ok(Response::Note { note, answers })
}

/// This week's question, as both partners see it (see `AskBook::current_week`).
fn this_week(u: &Unlocked, book: &AskBook) -> String {
    let partner = u.partner.as_ref().map(|p| p.member_id.as_str());
    book.current_week(when::now(), &u.home.identity.member_id(), partner)
}

fn week_view(u: &Unlocked, book: &AskBook, week: &str) -> WeekView {
    let partner = u.partner.as_ref().map(|p| p.member_id.as_str());
    book.week(week, &u.keyring, partner, &u.home.journal.pending_answers())
}

pub fn ask(u: &mut Unlocked) -> Reply {
    let book = ask_book(u);
    let week = week_view(u, &book, &this_week(u, &book));
    mark_seen(u, None, None, Some(&book), |_| true);
    Ok(Response::Ask { week })
}

pub fn ask_list(u: &mut Unlocked) -> Reply {
    let book = ask_book(u);
    let mut weeks: Vec<WeekView> = book
        .weeks()
        .iter()
        .map(|w| week_view(u, &book, w))
        .collect();
    let now = this_week(u, &book);
    if !weeks.iter().any(|w| w.week == now) {
        weeks.insert(0, week_view(u, &book, &now));
    }
    mark_seen(u, None, None, Some(&book), |_| true);
    Ok(Response::AskList {
        weeks,
        questions: book.all_questions(&u.keyring),
    })
}

pub fn ask_add(u: &mut Unlocked, text: &str) -> Reply {
    let key = u.home.identity.signing_key().clone();
    let id = new_id();
    let item = ask::sign_question(&key, &id, text, when::now()).map_err(invalid)?;
    publish(u, &[item])?;
    Ok(Response::Created { id })
}

/// `haven ask answer TEXT`: publishes the commitment only; the answer waits in the journal
/// until the partner has committed too.
pub fn ask_answer(u: &mut Unlocked, text: &str) -> Reply {
    partner_member(u, "an answer")?;
    let book = ask_book(u);
    let week = this_week(u, &book);
    let me = u.home.identity.member_id();
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
    let key = u.home.identity.signing_key().clone();
    let (item, pending) = ask::commit(&key, &new_id(), &week, &question, text, nonce, when::now())
        .map_err(invalid)?;
    // The answer is in the journal before its commitment is published: a crash between
    // the two leaves an answer nobody saw, never a commitment nobody can reveal.
    u.home
        .journal
        .put_pending_answer(&pending)
        .map_err(doc_error)?;
    publish(u, &[item])?;
    reveal_due(u);
    ask(u)
}

/// Publishes this member's reveals whose time has come (the partner committed to the
/// same question). Called after an answer, after the partner's changes arrive, and at
/// unlock. Returns how many.
pub fn reveal_due(u: &mut Unlocked) -> usize {
    let Some(partner) = u.partner.as_ref().map(|p| p.member_id.clone()) else {
        return 0;
    };
    let pending: BTreeMap<String, PendingAnswer> = u.home.journal.pending_answers();
    if pending.is_empty() {
        return 0;
    }
    let book = ask_book(u);
    let key = u.home.identity.signing_key().clone();
    let items: Vec<_> = book
        .due_reveals(&u.keyring, &partner, &pending)
        .into_iter()
        .map(|p| ask::reveal(&key, p, when::now()))
        .collect();
    if items.is_empty() {
        return 0;
    }
    match publish(u, &items) {
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

/// What the partner's items and the review dates leave waiting, before seen marks.
fn from_partner(u: &Unlocked, book: &Book, today: chrono::NaiveDate) -> Vec<Waiting> {
    let Some(partner) = u.partner.as_ref().map(|p| p.member_id.clone()) else {
        // Unpaired: only review dates.
        return waiting::from_partner(
            book,
            &Board::default(),
            &AskBook::default(),
            &u.keyring,
            "",
            today,
        );
    };
    let items = u.home.together_items();
    let board = notes::assemble(&items, &u.keyring);
    let ask = ask::assemble(&items, &u.keyring);
    waiting::from_partner(book, &board, &ask, &u.keyring, &partner, today)
}

/// Everything waiting for this person now, oldest first. The partner's part is cached
/// until the couple document or the day changes, so `status` stays cheap.
pub fn waiting(u: &mut Unlocked) -> Vec<Waiting> {
    let today = Local::now().date_naive();
    let heads = u.home.couple_log.saved_heads().to_vec();
    let fresh = matches!(&u.waiting_cache, Some((h, d, _)) if *h == heads && *d == today);
    if !fresh {
        let items = match u.home.agreement_sources() {
            Ok(sources) => from_partner(u, &agreement::assemble(&sources, &u.keyring), today),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the agreements to list what is waiting");
                Vec::new()
            }
        };
        u.waiting_cache = Some((heads, today, items));
    }
    let mut items = u
        .waiting_cache
        .as_ref()
        .map(|(_, _, w)| w.clone())
        .unwrap_or_default();
    let now = when::now();
    for p in super::practice::open_pauses(u) {
        if p.ends_at <= now {
            items.push(Waiting {
                key: format!("pause:{}", p.id),
                kind: WaitingKind::PauseEnded,
                what: "your pause has ended".into(),
                command: "haven pause done --urge N --sent|--not-sent".into(),
                about: p.id,
                at: p.ends_at,
            });
        }
    }
    if u.seen_baseline_due {
        // The first time: everything there is now counts as seen (see `load_seen`).
        u.seen_baseline_due = false;
        u.seen.extend(
            items
                .iter()
                .filter(|w| w.area().is_some())
                .map(|w| w.key.clone()),
        );
        if let Err(e) = u.home.save_seen_marks(&u.seen) {
            tracing::warn!(error = %e, "could not save what was seen");
        }
    }
    let items = waiting::unseen(items, &u.seen);
    if u.notice_baseline_due {
        // Nothing waiting when the laptop was unlocked is news: the person is there.
        u.notice_baseline_due = false;
        u.notified = items.iter().map(|w| w.key.clone()).collect();
    }
    items
}

/// What was just shown becomes seen, on this laptop only: the waiting items computed
/// from what the request already assembled (an agreement book, the notes, the weekly
/// question), never from a fresh read of everything, so looking stays cheap.
pub fn mark_seen(
    u: &mut Unlocked,
    book: Option<&Book>,
    board: Option<&Board>,
    ask: Option<&AskBook>,
    which: impl Fn(&Waiting) -> bool,
) {
    let Some(partner) = u.partner.as_ref().map(|p| p.member_id.clone()) else {
        return;
    };
    let empty = (Book::default(), Board::default(), AskBook::default());
    let shown = waiting::from_partner(
        book.unwrap_or(&empty.0),
        board.unwrap_or(&empty.1),
        ask.unwrap_or(&empty.2),
        &u.keyring,
        &partner,
        Local::now().date_naive(),
    );
    let before = u.seen.len();
    u.seen.extend(
        shown
            .into_iter()
            .filter(|w| w.area().is_some() && which(w))
            .map(|w| w.key),
    );
    if u.seen.len() == before {
        return;
    }
    if let Err(e) = u.home.save_seen_marks(&u.seen) {
        tracing::warn!(error = %e, "could not save what was seen; it may be listed again");
    }
}

/// Everything the agreement `id` leaves waiting is seen (`agree show ID`).
pub fn seen_agreement(u: &mut Unlocked, book: &Book, id: &str) {
    let mut one = Book::default();
    if let Some(a) = book.agreements.get(id) {
        one.agreements.insert(id.to_string(), a.clone());
    }
    mark_seen(u, Some(&one), None, None, |_| true);
}

/// At unlock: what was seen before. The first time there is nothing, and everything there
/// is counts as seen, so an upgrade does not list a couple's whole history as new. Both
/// that and the notification baseline are taken at the first look ([`waiting`]: the first
/// tick, within a second), not here: building the list reads every agreement, and unlock
/// need not wait for it.
pub fn load_seen(u: &mut Unlocked) {
    match u.home.seen_marks() {
        Ok(Some(seen)) => u.seen = seen,
        Ok(None) => u.seen_baseline_due = true,
        Err(e) => tracing::warn!(error = %e, "what was seen is unreadable; listing everything"),
    }
    u.waiting_cache = None;
    u.notice_baseline_due = true;
}

/// Waiting items not notified yet (and remembers them as notified).
pub fn new_since_last_notice(u: &mut Unlocked) -> Vec<Waiting> {
    let now = waiting(u);
    let fresh: Vec<Waiting> = now
        .into_iter()
        .filter(|w| !u.notified.contains(&w.key))
        .collect();
    u.notified.extend(fresh.iter().map(|w| w.key.clone()));
    fresh
}
