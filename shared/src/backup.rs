//! The backup archive: one age file, protected by the passphrase, holding `identity.age`
//! and a consistent copy of `haven.db`.
//!
//! Inside the encryption: a magic line, one JSON line (format version, creation time, and
//! each file's name, size and SHA-256), then the files' bytes in order. The format number
//! lets an older Haven refuse a newer backup clearly instead of misreading it.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};

const MAGIC: &[u8] = b"HAVEN-BACKUP\n";
pub const FORMAT: u32 = 1;
/// The files a backup holds, in order.
pub const FILES: [&str; 2] = ["identity.age", "haven.db"];

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("wrong passphrase")]
    WrongPassphrase,
    #[error("this is not a Haven backup, or it is damaged ({0})")]
    NotABackup(String),
    #[error("this backup was made by a newer Haven (format {0}); upgrade Haven to restore it")]
    TooNew(u32),
    #[error("the backup is damaged: {0} does not match its checksum")]
    Damaged(String),
    #[error("could not encrypt the backup: {0}")]
    Encrypt(String),
}

#[derive(Serialize, Deserialize)]
struct Manifest {
    format: u32,
    created_at: String,
    files: Vec<FileEntry>,
}

#[derive(Serialize, Deserialize)]
struct FileEntry {
    name: String,
    size: u64,
    sha256: String,
}

/// Packs `(name, bytes)` pairs and encrypts them with `passphrase` (scrypt, logN 18).
pub fn pack(files: &[(&str, Vec<u8>)], passphrase: &SecretString) -> Result<Vec<u8>, BackupError> {
    let manifest = Manifest {
        format: FORMAT,
        created_at: crate::when::now().to_rfc3339(),
        files: files
            .iter()
            .map(|(name, bytes)| FileEntry {
                name: name.to_string(),
                size: bytes.len() as u64,
                sha256: hex::encode(Sha256::digest(bytes)),
            })
            .collect(),
    };
    let mut plain = MAGIC.to_vec();
    plain.extend(serde_json::to_vec(&manifest).map_err(|e| BackupError::Encrypt(e.to_string()))?);
    plain.push(b'\n');
    for (_, bytes) in files {
        plain.extend_from_slice(bytes);
    }
    let mut recipient = age::scrypt::Recipient::new(passphrase.clone());
    recipient.set_work_factor(crate::crypto::identity::SCRYPT_LOG_N);
    let enc = age::Encryptor::with_recipients(std::iter::once(&recipient as _))
        .map_err(|e| BackupError::Encrypt(e.to_string()))?;
    let mut out = Vec::new();
    let mut w = enc
        .wrap_output(&mut out)
        .map_err(|e| BackupError::Encrypt(e.to_string()))?;
    w.write_all(&plain)
        .and_then(|_| w.finish().map(|_| ()))
        .map_err(|e| BackupError::Encrypt(e.to_string()))?;
    Ok(out)
}

/// Decrypts and checks a backup; returns its files by name.
pub fn unpack(
    archive: &[u8],
    passphrase: &SecretString,
) -> Result<Vec<(String, Vec<u8>)>, BackupError> {
    let bad = |why: &str| BackupError::NotABackup(why.to_string());
    let decryptor = age::Decryptor::new_buffered(archive).map_err(|_| bad("not an age file"))?;
    if !decryptor.is_scrypt() {
        return Err(bad("not protected by a passphrase"));
    }
    let mut identity = age::scrypt::Identity::new(passphrase.clone());
    identity.set_max_work_factor(crate::crypto::identity::SCRYPT_MAX_LOG_N);
    let mut reader = decryptor
        .decrypt(std::iter::once(&identity as _))
        .map_err(|e| match e {
            age::DecryptError::DecryptionFailed
            | age::DecryptError::KeyDecryptionFailed
            | age::DecryptError::NoMatchingKeys => BackupError::WrongPassphrase,
            other => BackupError::NotABackup(other.to_string()),
        })?;
    let mut plain = Vec::new();
    reader
        .read_to_end(&mut plain)
        .map_err(|_| bad("truncated or altered"))?;
    parse(&plain)
}

/// The files inside a decrypted backup, checked against its manifest. Public for the
/// fuzzer: this is what runs on the bytes behind the passphrase.
pub fn parse(plain: &[u8]) -> Result<Vec<(String, Vec<u8>)>, BackupError> {
    let bad = |why: &str| BackupError::NotABackup(why.to_string());
    let rest = plain
        .strip_prefix(MAGIC)
        .ok_or_else(|| bad("no Haven header"))?;
    let newline = rest
        .iter()
        .position(|b| *b == b'\n')
        .ok_or_else(|| bad("no manifest"))?;
    let manifest: Manifest =
        serde_json::from_slice(&rest[..newline]).map_err(|_| bad("unreadable manifest"))?;
    if manifest.format > FORMAT {
        return Err(BackupError::TooNew(manifest.format));
    }
    let mut data = &rest[newline + 1..];
    let mut out = Vec::new();
    for file in manifest.files {
        let size = usize::try_from(file.size).map_err(|_| bad("bad size"))?;
        if data.len() < size {
            return Err(BackupError::Damaged(file.name));
        }
        let (bytes, tail) = data.split_at(size);
        if hex::encode(Sha256::digest(bytes)) != file.sha256 {
            return Err(BackupError::Damaged(file.name));
        }
        out.push((file.name, bytes.to_vec()));
        data = tail;
    }
    for name in FILES {
        if !out.iter().any(|(n, _)| n == name) {
            return Err(bad(&format!("{name} is missing")));
        }
    }
    Ok(out)
}

/// When the last backup was written, remembered in `last-backup` beside the database:
/// a time and nothing else, so `status`, `doctor` and a backup reminder can say how long
/// ago it was. `None` when there has been none (or the file cannot be read).
pub fn last_backup(paths: &crate::paths::Paths) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    let text = std::fs::read_to_string(last_backup_file(paths)).ok()?;
    chrono::DateTime::parse_from_rfc3339(text.trim()).ok()
}

/// Remembers that a backup was written now.
pub fn record_backup(paths: &crate::paths::Paths) -> std::io::Result<()> {
    crate::paths::write_private_file(
        &last_backup_file(paths),
        crate::when::now().to_rfc3339().as_bytes(),
    )
}

fn last_backup_file(paths: &crate::paths::Paths) -> std::path::PathBuf {
    paths.data_dir.join("last-backup")
}

/// "today", "yesterday", "12 days ago".
pub fn ago(
    then: chrono::DateTime<chrono::FixedOffset>,
    now: chrono::DateTime<chrono::FixedOffset>,
) -> String {
    match (now.date_naive() - then.date_naive()).num_days() {
        d if d <= 0 => "today".into(),
        1 => "yesterday".into(),
        d => format!("{d} days ago"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(s: &str) -> SecretString {
        SecretString::from(s.to_string())
    }

    #[test]
    fn a_backup_round_trips_and_refuses_what_it_should() {
        let files = [
            ("identity.age", b"id".to_vec()),
            ("haven.db", vec![7u8; 1000]),
        ];
        let archive = pack(&files, &pass("pw")).expect("pack");
        let back = unpack(&archive, &pass("pw")).expect("unpack");
        assert_eq!(back[1], ("haven.db".to_string(), vec![7u8; 1000]));
        assert!(matches!(
            unpack(&archive, &pass("nope")),
            Err(BackupError::WrongPassphrase)
        ));
        assert!(matches!(
            unpack(&archive[..archive.len() - 40], &pass("pw")),
            Err(BackupError::NotABackup(_))
        ));
        assert!(matches!(
            unpack(b"hello", &pass("pw")),
            Err(BackupError::NotABackup(_))
        ));
    }

    #[test]
    fn a_newer_format_is_named() {
        let mut plain = MAGIC.to_vec();
        plain.extend(br#"{"format": 99, "created_at": "x", "files": []}"#);
        plain.push(b'\n');
        let mut r = age::scrypt::Recipient::new(pass("pw"));
        r.set_work_factor(10);
        let archive = age::encrypt(&r, &plain).expect("encrypt");
        assert!(matches!(
            unpack(&archive, &pass("pw")),
            Err(BackupError::TooNew(99))
        ));
    }
}
