//! What is waiting for this person: what arrived from the partner (a proposal, an accept,
//! a decline, a withdrawal, a revision, a note, an appreciation, an answer), an agreement
//! whose review date came, a pause whose time is up. `haven status` lists them with the
//! command that shows each, and the daemon sends a desktop notification for new ones.
//!
//! Only verified items of the partner's count (a forged one is never "from Sam"). Looking
//! at something (`agree show`, `notes`, `ask`) marks it seen on this laptop only: nothing
//! is sent back, because a "seen" mark feeds the checking the practice works against.
//! A review date or a pause stays waiting until it is dealt with.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

use super::agreement::{Agreement, Book, Keyring, Status, Verb};
use super::ask::AskBook;
use super::notes::{Board, NoteKind};

/// What kind of thing is waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitingKind {
    Proposed,
    Revised,
    Accepted,
    Declined,
    Withdrew,
    Note,
    Thanks,
    Answer,
    ReviewDue,
    PauseEnded,
}

/// Which command marks an item seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// `agree show ID` (that agreement) or `agree list` (all).
    Agreement,
    /// `notes` (all) or `notes show ID`.
    Notes,
    /// `ask` or `ask list`.
    Ask,
}

/// One thing waiting, as `status` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    /// Stable across reads: what the seen marks name.
    pub key: String,
    pub kind: WaitingKind,
    /// The agreement, note or pause it is about.
    pub about: String,
    /// A sentence naming the partner and the title (what a detailed notification says).
    pub what: String,
    /// The command that shows it.
    pub command: String,
    pub at: DateTime<FixedOffset>,
    /// A proposal or revision this person has not accepted or declined yet: it stays
    /// waiting once seen, until it is answered (seen is not answered).
    #[serde(default)]
    pub needs_answer: bool,
}

impl Waiting {
    pub fn area(&self) -> Option<Area> {
        match self.kind {
            WaitingKind::Proposed
            | WaitingKind::Revised
            | WaitingKind::Accepted
            | WaitingKind::Declined
            | WaitingKind::Withdrew => Some(Area::Agreement),
            WaitingKind::Note | WaitingKind::Thanks => Some(Area::Notes),
            WaitingKind::Answer => Some(Area::Ask),
            WaitingKind::ReviewDue | WaitingKind::PauseEnded => None,
        }
    }

    /// Whether a neutral notification should speak of agreements or of a timer.
    pub fn is_own_timer(&self) -> bool {
        self.kind == WaitingKind::PauseEnded
    }
}

/// The longest title a sentence quotes.
const TITLE: usize = 60;

fn quoted(title: &str) -> String {
    let line: String = title.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= TITLE {
        format!("“{line}”")
    } else {
        format!("“{}…”", line.chars().take(TITLE - 1).collect::<String>())
    }
}

/// `what`, then the words a statement carried, quoted on one short line.
fn with_words(what: String, words: Option<&str>) -> String {
    match words.filter(|w| !w.trim().is_empty()) {
        Some(w) => format!("{what}: {}", quoted(w)),
        None => what,
    }
}

/// Everything waiting from the partner's verified items, before seen marks: the caller
/// drops the keys it has seen.
pub fn from_partner(
    book: &Book,
    board: &Board,
    ask: &AskBook,
    keyring: &Keyring,
    partner: &str,
    today: NaiveDate,
) -> Vec<Waiting> {
    let name = keyring.name(partner).unwrap_or("your partner").to_string();
    let mut out = Vec::new();
    for a in book.agreements.values() {
        revisions(&mut out, a, keyring, partner, &name);
        statement(&mut out, a, partner, &name);
        review_due(&mut out, a, keyring, today);
    }
    notes(&mut out, board, &name);
    answers(&mut out, ask, partner, &name, today);
    out
}

/// Proposals, revisions and renewals by the partner.
fn revisions(out: &mut Vec<Waiting>, a: &Agreement, keyring: &Keyring, partner: &str, name: &str) {
    let show = format!("haven agree show {}", a.id);
    let latest = a.latest().map(|r| r.hash.as_str());
    let answered = keyring
        .me()
        .and_then(|me| a.newest.get(me))
        .is_some_and(|s| Some(s.revision.as_str()) == latest || s.verb == Verb::Withdraw);
    let withdrawn = a.newest.values().any(|s| s.verb == Verb::Withdraw);
    for (i, r) in a.revisions.iter().enumerate() {
        if r.body.by != partner {
            continue;
        }
        let needs_answer = Some(r.hash.as_str()) == latest && !answered && !withdrawn;
        let before = i.checked_sub(1).and_then(|j| a.revisions.get(j));
        let (kind, what) = match before {
            None => (
                WaitingKind::Proposed,
                format!("{name} proposed {}", quoted(&r.body.title)),
            ),
            Some(b) if b.body.text == r.body.text && b.body.title == r.body.title => (
                WaitingKind::Revised,
                format!(
                    "{name} renewed {} with a review on {}",
                    quoted(&r.body.title),
                    r.body
                        .review_on
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "no date".into())
                ),
            ),
            Some(_) => (
                WaitingKind::Revised,
                format!("{name} revised {}", quoted(&r.body.title)),
            ),
        };
        // The words signed with it, while it is the partner's newest statement.
        let why = a
            .newest
            .get(partner)
            .filter(|s| s.revision == r.hash && s.verb == Verb::Consent)
            .and_then(|s| s.reason.as_deref());
        let mut what = with_words(what, why);
        if needs_answer {
            what.push_str("; it needs your answer");
        }
        out.push(Waiting {
            key: format!("r:{}", r.hash),
            kind,
            about: a.id.clone(),
            what,
            command: show.clone(),
            at: r.body.at,
            needs_answer,
        });
    }
}

/// The partner's newest statement on `a`, when it is news.
fn statement(out: &mut Vec<Waiting>, a: &Agreement, partner: &str, name: &str) {
    let Some(latest) = a.latest() else { return };
    let title = quoted(&latest.body.title);
    let show = format!("haven agree show {}", a.id);
    if let Some(s) = a.newest.get(partner) {
        // A proposal or a revision carries its author's consent: already said above.
        let own_terms = a
            .revisions
            .iter()
            .any(|r| r.hash == s.revision && r.body.by == partner && r.body.at == s.at);
        let kind = match s.verb {
            Verb::Consent if own_terms => None,
            Verb::Consent => Some((WaitingKind::Accepted, "accepted")),
            Verb::Decline => Some((WaitingKind::Declined, "declined")),
            Verb::Withdraw => Some((WaitingKind::Withdrew, "withdrew from")),
        };
        if let Some((kind, verb)) = kind {
            out.push(Waiting {
                // What was said, about which terms, when: a statement re-signed at an
                // upgrade (same verb, terms and time, a new counter) is not news.
                key: format!(
                    "s:{}:{}:{}:{}",
                    a.id,
                    s.verb.as_str(),
                    s.revision,
                    s.at.to_rfc3339()
                ),
                kind,
                about: a.id.clone(),
                what: with_words(format!("{name} {verb} {title}"), s.reason.as_deref()),
                command: show.clone(),
                at: s.at,
                needs_answer: false,
            });
        }
    }
}

/// An agreement whose review date has come.
fn review_due(out: &mut Vec<Waiting>, a: &Agreement, keyring: &Keyring, today: NaiveDate) {
    let Some(latest) = a.latest() else { return };
    let title = quoted(&latest.body.title);
    if a.status(keyring, today) == Status::DueForReview {
        let day = latest
            .body
            .review_on
            .map(|d| d.to_string())
            .unwrap_or_default();
        out.push(Waiting {
            key: format!("due:{}:{day}", a.id),
            kind: WaitingKind::ReviewDue,
            about: a.id.clone(),
            what: format!("{title} is due for review (since {day})"),
            command: format!("haven agree renew {} --review-on DATE", a.id),
            at: latest.body.at,
            needs_answer: false,
        });
    }
}

/// Notes, answers to notes and thanks from the partner.
fn notes(out: &mut Vec<Waiting>, board: &Board, name: &str) {
    for n in board.notes.values().filter(|n| !n.mine) {
        let (kind, what) = match (n.kind, &n.answers) {
            (NoteKind::Thanks, _) => (WaitingKind::Thanks, format!("{name} thanked you")),
            (_, Some(_)) => (WaitingKind::Note, format!("{name} answered your note")),
            (kind, None) if n.title.is_empty() => (
                WaitingKind::Note,
                format!("{name} shared {} with you", kind.noun()),
            ),
            (kind, None) => (
                WaitingKind::Note,
                format!(
                    "{name} shared {} with you: {}",
                    kind.noun(),
                    quoted(&n.title)
                ),
            ),
        };
        out.push(Waiting {
            key: format!("n:{}", n.id),
            kind,
            about: n.id.clone(),
            what,
            command: format!("haven notes show {}", n.id),
            at: n.at,
            needs_answer: false,
        });
    }
}

/// The partner's answers to the weekly question.
fn answers(out: &mut Vec<Waiting>, ask: &AskBook, partner: &str, name: &str, today: NaiveDate) {
    let this_week = super::ask::week_of(today);
    for c in ask.commits.values().filter(|c| c.body.by == partner) {
        let question = if c.body.week == this_week {
            "this week's question".to_string()
        } else {
            format!("the question of {}", c.body.week)
        };
        let (key, what) = match c.answer {
            Some(_) => (
                format!("v:{}", c.body.id),
                format!("{name}'s answer to {question} is here"),
            ),
            None => (
                format!("c:{}", c.body.id),
                format!("{name} answered {question}"),
            ),
        };
        out.push(Waiting {
            key,
            kind: WaitingKind::Answer,
            about: c.body.week.clone(),
            what,
            command: if c.body.week == this_week {
                "haven ask".into()
            } else {
                "haven ask list".into()
            },
            at: c.body.at,
            needs_answer: false,
        });
    }
}

/// Drops what was seen, and sorts oldest first.
pub fn unseen(mut items: Vec<Waiting>, seen: &BTreeSet<String>) -> Vec<Waiting> {
    items.retain(|w| w.area().is_none() || w.needs_answer || !seen.contains(&w.key));
    items.sort_by(|a, b| (a.at, &a.key).cmp(&(b.at, &b.key)));
    items
}
