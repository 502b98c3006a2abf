//! The private journal: writing, reading, searching, importing and exporting entries.
//! Nothing in these calls ever reaches the partner.

use serde::{Deserialize, Serialize};

use crate::model::insights::Insights;
use crate::model::notes::NoteView;
use crate::model::{AgreementView, Entry, EntryChanges, ListQuery, NewEntry};

/// The public age recipient of this home (for encrypted recovery files).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Recipient {}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct JournalWrite {
    /// Boxed: a thought record and its feelings make it the largest request by far.
    pub entry: Box<NewEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct JournalList {
    pub query: ListQuery,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct JournalShow {
    pub id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct JournalEdit {
    pub id: String,
    /// Boxed: a record's changes are the largest call by far (the wire is the same).
    pub changes: Box<EntryChanges>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct JournalDelete {
    pub id: String,
}

/// Rewrites the stored journal so deleted and edited text is gone from disk.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct JournalPurge {}

/// Entries from another journal app, with ids derived from their content: an entry
/// whose id exists already is skipped, so importing a file twice adds nothing.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct JournalImport {
    pub entries: Vec<Entry>,
}

/// The entries and agreements an export renders (the CLI does the rendering).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Export {
    pub selection: ExportSelection,
    /// With a range: also the appreciations the partner sent in it (`--thanks`).
    #[serde(default)]
    pub thanks: bool,
}

/// Which entries `haven export` takes: one by id, or a range (a session brief).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum ExportSelection {
    Entry { id: String },
    Range { query: ListQuery },
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RecipientReply {
    pub recipient: String,
}

/// A new entry, agreement or question: its id.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Created {
    pub id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EntryReply {
    pub entry: Entry,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entries {
    pub entries: Vec<ListedEntry>,
    pub total: usize,
}

/// An entry in a listing, with the shortest id prefix that is unique in the journal.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ListedEntry {
    #[serde(flatten)]
    pub entry: Entry,
    pub short_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Purged {
    pub entries: usize,
    pub bytes_before: u64,
    pub bytes_after: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Imported {
    pub added: usize,
    pub existing: usize,
}

/// What an export shows: entries oldest first, and the agreements in force.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExportData {
    pub entries: Vec<Entry>,
    /// Active and due-for-review agreements (empty for a single-entry export).
    pub agreements: Vec<AgreementView>,
    pub name: String,
    /// What changed over the range (a session brief only).
    #[serde(default)]
    pub insights: Option<Insights>,
    /// The partner's verified appreciations in the range, oldest first (`--thanks`).
    #[serde(default)]
    pub thanks: Vec<NoteView>,
}
