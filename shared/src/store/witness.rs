//! `haven.generation`: the newest generation of `haven.db` this laptop has seen, kept
//! outside the database, so a `haven.db` put back from an older copy is noticed.
//!
//! Every write to `haven.db` raises the generation in its authenticated head. After each
//! commit the generation is written here too, tagged with the home's row key (a file
//! that someone edited does not verify). At unlock, a head older than this file means the
//! database went back in time: an entry deleted and purged is back, one written since is
//! gone. That is remembered here until the person says the older copy is the one they
//! want (`haven doctor --accept-older`), so later writes cannot hide it.
//!
//! What it cannot see: the whole folder restored together (both files old), or this file
//! deleted along with the swap. A missing file is named at unlock, once. The file sits in
//! the state folder (`~/.local/state/haven` under XDG), apart from the data folder a
//! backup or sync tool would restore; with `--home` it sits beside `haven.db`.
//!
//! Written without an fsync (a temp file, then a rename): a crash may leave it one write
//! behind the database, never ahead of it, so it can miss a rollback of that last write
//! but never raise a false one.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::crypto::RowKey;

/// The database went back: what unlock found, and the newest seen before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollback {
    /// The generation of the `haven.db` that was opened.
    pub found: u64,
    /// The newest generation seen on this laptop before it.
    pub newest: u64,
    /// When it was noticed.
    pub noticed: DateTime<FixedOffset>,
}

/// What the file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub newest: u64,
    /// Set when an older `haven.db` was opened; kept until accepted.
    #[serde(default)]
    pub rollback: Option<Rollback>,
}

/// What reading the file found.
#[derive(Debug, PartialEq, Eq)]
pub enum Read {
    Missing,
    /// Present but not written by this home's key (edited, truncated, or another home's).
    Forged,
    Found(Record),
}

/// The generation file of one home.
#[derive(Debug, Clone)]
pub struct Witness {
    pub path: PathBuf,
}

/// The file is a line of JSON, then a line with the hex tag.
const MAX_LEN: u64 = 4096;

impl Witness {
    pub fn new(path: PathBuf) -> Witness {
        Witness { path }
    }

    pub fn read(&self, key: &RowKey) -> Read {
        let Ok(meta) = std::fs::metadata(&self.path) else {
            return Read::Missing;
        };
        if meta.len() > MAX_LEN {
            return Read::Forged;
        }
        let Ok(text) = std::fs::read_to_string(&self.path) else {
            return Read::Forged;
        };
        let mut lines = text.lines();
        let (Some(json), Some(tag)) = (lines.next(), lines.next()) else {
            return Read::Forged;
        };
        let Ok(tag) = hex::decode(tag.trim()) else {
            return Read::Forged;
        };
        if !key.verify(&[b"generation", json.as_bytes()], &tag) {
            return Read::Forged;
        }
        serde_json::from_str(json).map_or(Read::Forged, Read::Found)
    }

    /// Replaces the file (mode 0600); a failure leaves the old one whole.
    pub fn write(&self, key: &RowKey, record: &Record) -> std::io::Result<()> {
        let json = serde_json::to_string(record).map_err(std::io::Error::other)?;
        let tag = hex::encode(key.tag(&[b"generation", json.as_bytes()]));
        let dir = self
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let mut file = tempfile::Builder::new()
            .prefix(".haven-generation-")
            .tempfile_in(dir)?;
        file.write_all(format!("{json}\n{tag}\n").as_bytes())?;
        file.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> (RowKey, RowKey) {
        let k = || RowKey::derive(&age::x25519::Identity::generate());
        (k(), k())
    }

    #[test]
    fn a_record_reads_back_and_an_edit_or_another_key_does_not_verify() {
        let dir = tempfile::tempdir().expect("tmp");
        let w = Witness::new(dir.path().join("state/haven.generation"));
        let (one, two) = keys();
        let key = |n: u8| if n == 1 { &one } else { &two };
        assert_eq!(w.read(key(1)), Read::Missing);
        let record = Record {
            newest: 41,
            rollback: None,
        };
        w.write(key(1), &record).expect("write");
        assert_eq!(w.read(key(1)), Read::Found(record));
        assert_eq!(w.read(key(2)), Read::Forged, "another home's key");
        let text = std::fs::read_to_string(&w.path).expect("read");
        std::fs::write(&w.path, text.replace("41", "4")).expect("edit");
        assert_eq!(w.read(key(1)), Read::Forged, "a lowered number");
        for garbage in [&b""[..], b"\n", b"{}\nzz\n", &[0xff; 10], &[b'a'; 5000]] {
            std::fs::write(&w.path, garbage).expect("garbage");
            assert_eq!(w.read(key(1)), Read::Forged);
        }
    }
}
