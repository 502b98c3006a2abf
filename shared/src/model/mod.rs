//! What Haven stores, as plain Rust values: journal entries, agreements, and what the
//! couple shares beside them (notes, the weekly question).
//!
//! These types know nothing of automerge or SQLite; `documents` maps them onto the CRDT and
//! `store` seals them on disk. The rules that matter to people live here: what a valid
//! entry is, and when an agreement counts as agreed.

pub mod agreement;
pub mod ask;
pub mod error;
pub mod feelings;
pub mod insights;
pub mod journal;
pub mod keyring;
pub mod look_back;
pub mod notes;
pub mod practice;
pub mod record;
pub mod waiting;

pub use agreement::{
    Agreement, AgreementView, Book, Keyring, MemberId, Revision, SignedItem, Sources, Status, Verb,
};
pub use error::ModelError;
pub use journal::{Entry, EntryChanges, Kind, ListQuery, NewEntry};
pub use practice::{NewPause, PauseEnd, PauseRecord, SoothingPlan};
pub use record::{Did, RecordChanges, Story, ThoughtRecord};

/// Whether `id` is an id as Haven makes them: a lowercase ULID (26 characters of
/// Crockford's base 32). Ids from outside (an import, the partner's device) are checked
/// against this before they are stored or shown.
pub fn is_valid_id(id: &str) -> bool {
    id.len() == 26
        && id.bytes().all(|b| {
            b.is_ascii_digit()
                || (b.is_ascii_lowercase() && !matches!(b, b'i' | b'l' | b'o' | b'u'))
        })
}

/// Makes a new sortable id (a ULID, lowercase).
pub fn new_id() -> String {
    ulid::Ulid::new().to_string().to_ascii_lowercase()
}

/// An item by exact id (always wins, whatever sits beside it), else by unique prefix, any
/// case; the ids that match when there is not exactly one.
pub fn resolve_prefix<'a, T>(
    items: &'a std::collections::BTreeMap<String, T>,
    prefix: &str,
) -> Result<&'a T, Vec<String>> {
    let p = prefix.trim().to_ascii_lowercase();
    if let Some(item) = items.get(&p) {
        return Ok(item);
    }
    let found: Vec<(&String, &T)> = items
        .range(p.clone()..)
        .take_while(|(id, _)| !p.is_empty() && id.starts_with(&p))
        .collect();
    match found.as_slice() {
        [(_, one)] => Ok(one),
        many => Err(many.iter().map(|(id, _)| (*id).clone()).collect()),
    }
}
