//! The files Haven wrote outside its home that hold a person's words: backups and exports.
//! `haven leave` lists the ones still there, since leaving cannot reach them: an export is
//! plain text to whoever finds it, and a backup opens with the passphrase it was made
//! with, which the former partner may know.
//!
//! The list is sealed to this home's own key (`written-files.age`, 0600), like every other
//! record: a file's name can say as much as its content ("brief-about-sam.pdf"). Losing it
//! loses only the list, never a file.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::crypto::{open_blob, seal_blob, BlobError, Identity};
use crate::paths::{write_private_file, Paths};

const LABEL: &str = "written-files";
/// The newest this many are kept.
pub const KEEP: usize = 500;
/// Longer paths are not noted (a path from outside, checked before it is kept).
pub const MAX_PATH: usize = 4096;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WrittenKind {
    /// `haven backup`: opens with the passphrase it was made with.
    Backup,
    /// `haven export -o FILE`, plain: anyone who reads the file reads the words.
    Export,
    /// `haven export -o FILE --to/--passphrase`: opens only for its recipients.
    EncryptedExport,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct WrittenFile {
    pub kind: WrittenKind,
    pub path: String,
    pub when: chrono::DateTime<chrono::FixedOffset>,
}

#[derive(Debug, thiserror::Error)]
pub enum WrittenError {
    #[error("{0}")]
    Sealed(#[from] BlobError),
    #[error("cannot write {0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("the path is not one to keep (relative, too long, or with control characters)")]
    BadPath,
}

fn file(paths: &Paths) -> PathBuf {
    paths.data_dir.join("written-files.age")
}

/// Every file noted, oldest first; an unreadable list reads as empty.
pub fn list(paths: &Paths, identity: &Identity) -> Vec<WrittenFile> {
    let Ok(sealed) = std::fs::read(file(paths)) else {
        return Vec::new();
    };
    open_blob(identity.storage(), LABEL, &sealed)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .unwrap_or_default()
}

/// Notes that Haven wrote `path` now (a second note of the same path replaces the first).
pub fn note(
    paths: &Paths,
    identity: &Identity,
    kind: WrittenKind,
    path: &str,
) -> Result<(), WrittenError> {
    if path.len() > MAX_PATH || !path.starts_with('/') || path.chars().any(char::is_control) {
        return Err(WrittenError::BadPath);
    }
    let mut all = list(paths, identity);
    all.retain(|f| f.path != path);
    all.push(WrittenFile {
        kind,
        path: path.to_string(),
        when: crate::when::now(),
    });
    let skip = all.len().saturating_sub(KEEP);
    let json = zeroize::Zeroizing::new(
        serde_json::to_vec(&all[skip..]).map_err(|e| BlobError::Malformed(e.to_string()))?,
    );
    let sealed = seal_blob(&identity.recipient(), LABEL, &json)?;
    write_private_file(&file(paths), &sealed).map_err(|e| WrittenError::Io(file(paths), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_noted_sealed_newest_last_and_bad_paths_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let paths = Paths::under_home(dir.path());
        std::fs::create_dir_all(&paths.data_dir).expect("dir");
        let id = Identity::generate();
        note(&paths, &id, WrittenKind::Backup, "/b/haven.backup").expect("note");
        note(&paths, &id, WrittenKind::Export, "/b/brief-CANARY.pdf").expect("note");
        note(&paths, &id, WrittenKind::Backup, "/b/haven.backup").expect("note");
        let all = list(&paths, &id);
        let kept: Vec<&str> = all.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(kept, ["/b/brief-CANARY.pdf", "/b/haven.backup"]);
        let on_disk = std::fs::read(file(&paths)).expect("read");
        assert!(!String::from_utf8_lossy(&on_disk).contains("CANARY"));
        for bad in [
            "relative.pdf",
            "/a\nb",
            "/a\x1b[2Jb",
            &format!("/{}", "a".repeat(MAX_PATH)),
        ] {
            assert!(matches!(
                note(&paths, &id, WrittenKind::Export, bad),
                Err(WrittenError::BadPath)
            ));
        }
        // Another home's key reads nothing, and garbage reads as nothing.
        assert!(list(&paths, &Identity::generate()).is_empty());
        std::fs::write(file(&paths), b"garbage").expect("write");
        assert!(list(&paths, &id).is_empty());
    }
}
