//! What is waiting for this person: the partner's items not seen yet, review dates reached,
//! pauses ended; what has been seen (marks kept on this laptop only) and what a desktop
//! notification went out for (see `model::waiting`).

use chrono::Local;

use haven_shared::ipc::OpenPause;
use haven_shared::model::agreement::{self, Book};
use haven_shared::model::ask::{self, AskBook};
use haven_shared::model::notes::{self, Board};
use haven_shared::model::waiting::{self, Waiting, WaitingKind};
use haven_shared::when;

use crate::seen_marks::SeenMarks;
use crate::vault::Unlocked;

/// Pauses not finished yet, oldest first.
pub fn open_pauses(u: &Unlocked) -> Vec<OpenPause> {
    u.index
        .open_pauses()
        .into_iter()
        .filter_map(|e| {
            let p = e.pause.as_ref()?;
            Some(OpenPause {
                id: e.id.clone(),
                started_at: e.created_at,
                ends_at: p.ends_at(e.created_at),
            })
        })
        .collect()
}

/// What the partner's items and the review dates leave waiting, before seen marks.
fn from_partner(u: &Unlocked, book: &Book, today: chrono::NaiveDate) -> Vec<Waiting> {
    let Some(partner) = u.partner_member() else {
        // Unpaired: only review dates.
        return waiting::from_partner(
            book,
            &Board::default(),
            &AskBook::default(),
            u.keyring(),
            "",
            today,
        );
    };
    let items = u.home.together_items();
    let board = notes::assemble(&items, u.keyring());
    let ask = ask::assemble(&items, u.keyring());
    waiting::from_partner(book, &board, &ask, u.keyring(), &partner, today)
}

/// Everything waiting for this person now, oldest first. The partner's part is cached
/// until the couple document or the day changes, so `status` stays cheap.
pub fn waiting(u: &mut Unlocked) -> Vec<Waiting> {
    let today = Local::now().date_naive();
    let heads = u.home.couple_log.saved_heads().to_vec();
    if u.marks().cached(&heads, today).is_none() {
        let items = match u.home.agreement_sources() {
            Ok(sources) => from_partner(u, &agreement::assemble(&sources, u.keyring()), today),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the agreements to list what is waiting");
                Vec::new()
            }
        };
        u.marks_mut().cache(heads.clone(), today, items);
    }
    let mut items = u
        .marks()
        .cached(&heads, today)
        .map(<[Waiting]>::to_vec)
        .unwrap_or_default();
    let now = when::now();
    for p in open_pauses(u) {
        if p.ends_at <= now {
            items.push(Waiting {
                key: format!("pause:{}", p.id),
                kind: WaitingKind::PauseEnded,
                what: "your pause has ended".into(),
                command: "haven pause done --urge N --sent|--not-sent|--rewrite TEXT".into(),
                about: p.id,
                at: p.ends_at,
                needs_answer: false,
            });
        }
    }
    let (items, changed) = u.marks_mut().unseen(items);
    if changed {
        save_marks(u, "could not save what was seen");
    }
    items
}

fn save_marks(u: &mut Unlocked, failed: &str) {
    if let Err(e) = u.save_marks() {
        tracing::warn!(error = %e, "{failed}");
    }
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
    let Some(partner) = u.partner_member() else {
        return;
    };
    let empty = (Book::default(), Board::default(), AskBook::default());
    let shown = waiting::from_partner(
        book.unwrap_or(&empty.0),
        board.unwrap_or(&empty.1),
        ask.unwrap_or(&empty.2),
        u.keyring(),
        &partner,
        Local::now().date_naive(),
    );
    if u.marks_mut().mark(shown.into_iter().filter(|w| which(w))) {
        save_marks(u, "could not save what was seen; it may be listed again");
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
    let stored = match u.home.seen_marks() {
        Ok(stored) => stored,
        Err(e) => {
            tracing::warn!(error = %e, "what was seen is unreadable; listing everything");
            Some(Default::default())
        }
    };
    *u.marks_mut() = SeenMarks::at_unlock(stored);
}

/// Waiting items not notified yet (and remembers them as notified).
pub fn new_since_last_notice(u: &mut Unlocked) -> Vec<Waiting> {
    let now = waiting(u);
    u.marks_mut().not_notified(now)
}
