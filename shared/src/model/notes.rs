//! Shared notes: a need, a letter or a win one partner deliberately gives the other
//! (`haven share ID`), an appreciation (`haven thanks`), and a note that answers another
//! (`haven notes answer`).
//!
//! A note is a signed item of the couple document, `n/<id>/<signature>`, like a consent
//! (see `model::agreement`): the partner's device can delete one or write anything beside
//! it, but a note counts as someone's only if that member's pinned key signed it. One that
//! does not verify is listed apart as unverified, never under the partner's name, never in
//! `status` and never in a notification. This member's own notes are also kept in the
//! private journal and put back when the partner's device deletes them.
//!
//! What is shared is copied: the journal entry stays private and unchanged, and nothing
//! else of it (tags, mood, intensity, its id) enters the note.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::agreement::{
    display_member, sign_item, split_key, to_json, Keyring, MemberId, SignedItem,
};
use super::journal::{Entry, Kind};
use super::keyring::Signs;

pub const NOTE_KEY: &str = "n/";
const NOTE_DOMAIN: &str = "haven-note-v1\n";
/// The longest note text, in bytes: a long letter fits; a partner's note over it is not
/// shown (Haven never writes one).
pub const MAX_NOTE_TEXT: usize = 100_000;
/// The longest title, in characters.
pub const MAX_NOTE_TITLE: usize = 200;

/// What a note is: the kind of the entry it was shared from, or an appreciation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoteKind {
    Note,
    Trigger,
    Letter,
    Needs,
    Checkin,
    Win,
    Thanks,
}

impl NoteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoteKind::Note => "note",
            NoteKind::Trigger => "trigger",
            NoteKind::Letter => "letter",
            NoteKind::Needs => "needs",
            NoteKind::Checkin => "checkin",
            NoteKind::Win => "win",
            NoteKind::Thanks => "thanks",
        }
    }

    fn of_entry(kind: Kind) -> Option<NoteKind> {
        Some(match kind {
            Kind::Note => NoteKind::Note,
            Kind::Trigger => NoteKind::Trigger,
            Kind::Letter => NoteKind::Letter,
            Kind::Needs => NoteKind::Needs,
            Kind::Checkin => NoteKind::Checkin,
            Kind::Win => NoteKind::Win,
            // A pause holds a message kept unsent on purpose: sending it is what the pause
            // is there to think over, so Haven does not offer a shortcut.
            Kind::Pause => return None,
            // For the therapist, not the partner.
            Kind::Bring => return None,
        })
    }
}

impl NoteKind {
    /// "a need", "a letter": how a sentence names one.
    pub fn noun(self) -> &'static str {
        match self {
            NoteKind::Note => "a note",
            NoteKind::Trigger => "a thought record",
            NoteKind::Letter => "a letter",
            NoteKind::Needs => "a need",
            NoteKind::Checkin => "a check-in",
            NoteKind::Win => "a win",
            NoteKind::Thanks => "a thank-you",
        }
    }
}

impl std::fmt::Display for NoteKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, so `{:<7}` aligns a column.
        f.pad(self.as_str())
    }
}

/// A note as its author signed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    pub id: String,
    pub kind: NoteKind,
    pub title: String,
    pub text: String,
    /// The note this one answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers: Option<String>,
    pub by: MemberId,
    pub at: DateTime<FixedOffset>,
}

/// Why a note cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("the note is empty: write what you want to say")]
    Empty,
    #[error("the note is too long ({0} bytes; at most {MAX_NOTE_TEXT})")]
    TooLong(usize),
    #[error("a pause cannot be shared: it keeps a message unsent on purpose")]
    Pause,
}

impl NoteBody {
    /// A new note by the owner of `key`, checked the way every reader checks it.
    pub fn new(
        key: &impl Signs,
        id: &str,
        kind: NoteKind,
        title: &str,
        text: &str,
        answers: Option<String>,
        at: DateTime<FixedOffset>,
    ) -> Result<NoteBody, NoteError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(NoteError::Empty);
        }
        if text.len() > MAX_NOTE_TEXT {
            return Err(NoteError::TooLong(text.len()));
        }
        Ok(NoteBody {
            id: id.to_string(),
            kind,
            title: title.trim().chars().take(MAX_NOTE_TITLE).collect(),
            text: text.to_string(),
            answers,
            by: key.member(),
            at,
        })
    }

    pub fn sign(&self, key: &impl Signs) -> SignedItem {
        sign_item(
            key.signing_key(),
            NOTE_KEY,
            NOTE_DOMAIN,
            &self.id,
            to_json(self),
        )
    }
}

/// What `haven share` copies from a journal entry: its kind, title and text (a thought
/// record's fields under their headings). Tags, mood, intensity and the entry's id stay.
pub fn shared_from(entry: &Entry) -> Result<(NoteKind, String, String), NoteError> {
    let kind = NoteKind::of_entry(entry.kind).ok_or(NoteError::Pause)?;
    let mut text = entry.body.trim().to_string();
    if let Some(r) = &entry.record {
        for (heading, section) in r.sections() {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(&format!("## {heading}\n{}", section.trim()));
        }
    }
    if text.trim().is_empty() {
        return Err(NoteError::Empty);
    }
    Ok((kind, entry.title.trim().to_string(), text))
}

/// A note as people and scripts see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteView {
    pub id: String,
    pub kind: NoteKind,
    pub title: String,
    pub text: String,
    /// The author's name, as this laptop knows the key that signed it.
    pub by: String,
    /// Written by this member.
    pub mine: bool,
    pub at: DateTime<FixedOffset>,
    pub answers: Option<String>,
    /// False for a note whose signature does not verify: shown apart, never as the
    /// partner's.
    pub verified: bool,
}

/// Every note of the couple document, assembled from verified items.
#[derive(Debug, Default)]
pub struct Board {
    /// Verified notes by id (the first signed body wins if an id repeats).
    pub notes: BTreeMap<String, NoteView>,
    /// Notes whose signature does not verify: shown apart, never counted.
    pub unverified: Vec<NoteView>,
    /// Items that are not notes at all, or too large: ignored.
    pub malformed: usize,
}

impl Board {
    /// Verified notes, oldest first.
    pub fn in_order(&self) -> Vec<&NoteView> {
        let mut notes: Vec<&NoteView> = self.notes.values().collect();
        notes.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
        notes
    }

    /// A note by exact id, else by unique prefix.
    pub fn resolve(&self, prefix: &str) -> Result<&NoteView, Vec<String>> {
        super::resolve_prefix(&self.notes, prefix)
    }

    /// The verified notes that answer `id`, oldest first.
    pub fn answers_to(&self, id: &str) -> Vec<&NoteView> {
        self.in_order()
            .into_iter()
            .filter(|n| n.answers.as_deref() == Some(id))
            .collect()
    }
}

/// Builds the notes from `items` (couple-document keys and values; this member's own
/// merged in): only items whose signatures verify against `keyring` count.
pub fn assemble(items: &BTreeMap<String, String>, keyring: &Keyring) -> Board {
    let mut board = Board::default();
    let end = format!("{}0", NOTE_KEY.trim_end_matches('/'));
    for (key, value) in items.range(NOTE_KEY.to_string()..end) {
        let Some((id, sig)) = split_key(key, NOTE_KEY) else {
            board.malformed += 1;
            continue;
        };
        let Ok(body) = serde_json::from_str::<NoteBody>(value) else {
            board.malformed += 1;
            continue;
        };
        if body.text.len() > MAX_NOTE_TEXT || body.title.chars().count() > MAX_NOTE_TITLE {
            board.malformed += 1;
            continue;
        }
        let message = [NOTE_DOMAIN.as_bytes(), value.as_bytes()].concat();
        let verified =
            body.id == id && keyring.verifies_at(&body.by, &message, sig, Some(&body.at));
        let view = NoteView {
            mine: verified && keyring.me() == Some(body.by.as_str()),
            by: if verified {
                display_member(keyring, &body.by)
            } else {
                "unverified".to_string()
            },
            id: body.id,
            kind: body.kind,
            title: body.title,
            text: body.text,
            at: body.at,
            answers: body.answers.filter(|a| super::is_valid_id(a)),
            verified,
        };
        if !verified {
            board.unverified.push(view);
            continue;
        }
        match board.notes.get(&view.id) {
            Some(first) if (first.at, &first.text) <= (view.at, &view.text) => {}
            _ => {
                board.notes.insert(view.id.clone(), view);
            }
        }
    }
    board
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::agreement::{member_id_of, Keyring};
    use ed25519_dalek::SigningKey;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn at() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-11-01T10:00:00+01:00").expect("time")
    }

    const ID: &str = "01jn0te0000000000000000000";

    fn ring() -> Keyring {
        Keyring::new()
            .with("Maya", key(1).verifying_key())
            .with("Sam", key(2).verifying_key())
    }

    fn put(items: &mut BTreeMap<String, String>, item: SignedItem) {
        items.insert(item.key, item.value);
    }

    #[test]
    fn a_signed_note_shows_under_its_author_and_a_forged_one_apart() {
        let mut items = BTreeMap::new();
        let note =
            NoteBody::new(&key(2), ID, NoteKind::Needs, "t", "I need", None, at()).expect("note");
        put(&mut items, note.sign(&key(2)));
        // Sam's device writes a note "by Maya", signed with Sam's key.
        let forged = NoteBody {
            id: "01jn0te0000000000000000001".into(),
            by: member_id_of(&key(1).verifying_key()),
            ..note.clone()
        };
        put(&mut items, forged.sign(&key(2)));
        // A stranger's key.
        let stranger = NoteBody {
            id: "01jn0te0000000000000000002".into(),
            by: member_id_of(&key(9).verifying_key()),
            ..note.clone()
        };
        put(&mut items, stranger.sign(&key(9)));
        // A note moved under another id's key.
        let mut moved = note.sign(&key(2));
        moved.key = moved.key.replace(ID, "01jn0te0000000000000000003");
        put(&mut items, moved);
        items.insert(format!("{NOTE_KEY}nope/ab"), "{}".into());
        let board = assemble(&items, &ring());
        assert_eq!(board.notes.len(), 1);
        assert_eq!(board.notes[ID].by, "Sam");
        assert!(!board.notes[ID].mine);
        assert_eq!(board.unverified.len(), 3);
        assert!(board.unverified.iter().all(|n| n.by == "unverified"));
        assert_eq!(board.malformed, 1);
    }

    #[test]
    fn oversized_or_empty_notes_are_refused_and_never_shown() {
        assert_eq!(
            NoteBody::new(&key(1), ID, NoteKind::Note, "", "  \n", None, at()),
            Err(NoteError::Empty)
        );
        let huge = "x".repeat(MAX_NOTE_TEXT + 1);
        assert!(matches!(
            NoteBody::new(&key(1), ID, NoteKind::Note, "", &huge, None, at()),
            Err(NoteError::TooLong(_))
        ));
        // A modified device signs one anyway.
        let body = NoteBody {
            id: ID.into(),
            kind: NoteKind::Letter,
            title: String::new(),
            text: huge,
            answers: None,
            by: member_id_of(&key(2).verifying_key()),
            at: at(),
        };
        let mut items = BTreeMap::new();
        put(&mut items, body.sign(&key(2)));
        let board = assemble(&items, &ring());
        assert!(board.notes.is_empty());
        assert_eq!(board.malformed, 1);
    }

    #[test]
    fn answers_are_found_and_prefixes_resolve() {
        let mut items = BTreeMap::new();
        let first = NoteBody::new(&key(1), ID, NoteKind::Win, "", "a win", None, at()).expect("n");
        let answer = NoteBody::new(
            &key(2),
            "01jn0te0000000000000000009",
            NoteKind::Note,
            "",
            "so glad",
            Some(ID.into()),
            at(),
        )
        .expect("n");
        put(&mut items, first.sign(&key(1)));
        put(&mut items, answer.sign(&key(2)));
        let board = assemble(&items, &ring());
        assert_eq!(board.answers_to(ID).len(), 1);
        assert!(board.notes[ID].mine);
        assert_eq!(
            board.resolve("01jn0te0000000000000000000").expect("id").id,
            ID
        );
        assert_eq!(board.resolve("01jn0te").expect_err("two").len(), 2);
        assert!(board.resolve("").is_err());
    }
}
