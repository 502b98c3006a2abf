//! What Haven stores, as plain Rust values: journal entries and agreements.
//!
//! These types know nothing of automerge or SQLite; `documents` maps them onto the CRDT and
//! `store` seals them on disk. The rules that matter to people live here: what a valid
//! entry is, and when an agreement counts as agreed.

pub mod agreement;
pub mod journal;

pub use agreement::{
    Agreement, AgreementView, ConsentRecord, Keyring, MemberId, Revision, Status, Verb,
};
pub use journal::{Entry, EntryChanges, Kind, ListQuery, ModelError, NewEntry};

/// Makes a new sortable id (a ULID, lowercase).
pub fn new_id() -> String {
    ulid::Ulid::new().to_string().to_ascii_lowercase()
}
