//! Reading another journal app's export: jrnl's JSON and Day One's JSON (or its zip).
//!
//! Parsing lives here, with no I/O and no presentation, so the fuzzers can reach it and the
//! CLI only reads the file and words the errors. A file is parsed and checked whole before
//! anything is imported. Each entry's id is derived from its time and content (a ULID whose
//! random part is a hash), so importing the same file twice adds nothing the second time.
//! Sizes are bounded: what a zip inflates to is counted against [`MAX_TEXT_BYTES`].

pub mod dayone;
pub mod jrnl;

use chrono::{DateTime, FixedOffset};
use sha2::{Digest, Sha256};
use std::io::Read;

use crate::model::{Entry, Kind};

/// The most JSON text an import reads (a 10,000-entry jrnl export is ~10 MB).
pub const MAX_TEXT_BYTES: u64 = 256 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("is not a {app} JSON export ({why})")]
    NotAnExport { app: &'static str, why: String },
    #[error("is not a readable zip ({0})")]
    BadZip(String),
    #[error("holds no .json journal")]
    NoJournal,
    #[error("holds more than {} MiB of text, more than an import reads", MAX_TEXT_BYTES >> 20)]
    TooLarge,
    /// `index` counts from 1, as a person would.
    #[error("entry {index} {why}")]
    Entry { index: usize, why: &'static str },
}

/// An entry as read from another app, before it gets an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub created_at: DateTime<FixedOffset>,
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    /// Stable identity in the source app (Day One's uuid), if it has one.
    pub source_id: Option<String>,
}

impl Imported {
    /// The journal entry, with an id derived from the content (see the module comment).
    pub fn into_entry(self) -> Entry {
        let mut hash = Sha256::new();
        for part in [
            self.source_id.as_deref().unwrap_or(""),
            &self.title,
            &self.body,
            &self.created_at.to_rfc3339(),
        ] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        let digest = hash.finalize();
        let mut random = [0u8; 16];
        random[6..].copy_from_slice(&digest[..10]);
        let millis = u64::try_from(self.created_at.timestamp_millis()).unwrap_or(0);
        let id = ulid::Ulid::from_parts(millis, u128::from_be_bytes(random))
            .to_string()
            .to_ascii_lowercase();
        Entry {
            id,
            kind: Kind::Note,
            title: self.title,
            body: self.body,
            tags: self.tags,
            mood: None,
            intensity: None,
            created_at: self.created_at,
            updated_at: self.created_at,
            record: None,
            pause: None,
            feelings: Vec::new(),
        }
    }
}

/// Reads a whole export as text, refusing more than [`MAX_TEXT_BYTES`] before holding it.
pub fn read_text(input: impl Read, app: &'static str) -> Result<String, ImportError> {
    let mut raw = Vec::new();
    input
        .take(MAX_TEXT_BYTES + 1)
        .read_to_end(&mut raw)
        .map_err(|e| ImportError::NotAnExport {
            app,
            why: e.to_string(),
        })?;
    if raw.len() as u64 > MAX_TEXT_BYTES {
        return Err(ImportError::TooLarge);
    }
    String::from_utf8(raw).map_err(|_| ImportError::NotAnExport {
        app,
        why: "not text".into(),
    })
}

/// Tags from other apps: `@tag` and `#tag` lose their sign; blanks and spaces go.
pub fn clean_tags(tags: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        let t = t
            .trim()
            .trim_start_matches(['@', '#'])
            .replace(char::is_whitespace, "-");
        if !t.is_empty() && !out.contains(&t) {
            out.push(t);
        }
    }
    out
}
