//! Sealing storage chunks: each chunk is its own age file for the device's own recipient.
//!
//! The plaintext starts with a header binding it to its document and sequence number, so a
//! row copied into another document or replayed at another position fails loudly on load
//! instead of silently merging.

use std::fmt;

const MAGIC: &[u8; 4] = b"HVN1";
const HEADER_LEN: usize = 4 + 16 + 8 + 1;

/// Whether a chunk holds incremental changes or a whole compacted document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkKind {
    Changes = 0,
    Snapshot = 1,
}

impl ChunkKind {
    pub fn from_u8(v: u8) -> Option<ChunkKind> {
        match v {
            0 => Some(ChunkKind::Changes),
            1 => Some(ChunkKind::Snapshot),
            _ => None,
        }
    }
}

/// Where a chunk belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkHeader {
    pub doc_id: [u8; 16],
    pub seq: u64,
    pub kind: ChunkKind,
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("chunk {seq} cannot be decrypted with this identity: it was altered or belongs to another home")]
    Decrypt { seq: u64, source: age::DecryptError },
    #[error("chunk {seq} is not where it belongs ({why}): the database was tampered with")]
    Misplaced { seq: u64, why: Misplacement },
    #[error("could not encrypt a chunk: {0}")]
    Encrypt(#[from] age::EncryptError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misplacement {
    Header,
    Document,
    Sequence,
    Kind,
}

impl fmt::Display for Misplacement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Misplacement::Header => "bad header",
            Misplacement::Document => "it belongs to another document",
            Misplacement::Sequence => "its sequence number differs",
            Misplacement::Kind => "its kind differs",
        })
    }
}

/// Encrypts `payload` with its header to `recipient`.
pub fn seal(
    recipient: &age::x25519::Recipient,
    header: ChunkHeader,
    payload: &[u8],
) -> Result<Vec<u8>, SealError> {
    let mut plain = zeroize::Zeroizing::new(Vec::with_capacity(HEADER_LEN + payload.len()));
    plain.extend_from_slice(MAGIC);
    plain.extend_from_slice(&header.doc_id);
    plain.extend_from_slice(&header.seq.to_be_bytes());
    plain.push(header.kind as u8);
    plain.extend_from_slice(payload);
    Ok(age::encrypt(recipient, &plain)?)
}

/// Decrypts a chunk and checks that it is the one `expected` names.
pub fn open(
    identity: &age::x25519::Identity,
    expected: ChunkHeader,
    ciphertext: &[u8],
) -> Result<zeroize::Zeroizing<Vec<u8>>, SealError> {
    let seq = expected.seq;
    let plain = zeroize::Zeroizing::new(
        age::decrypt(identity, ciphertext).map_err(|source| SealError::Decrypt { seq, source })?,
    );
    let bad = |why| SealError::Misplaced { seq, why };
    if plain.len() < HEADER_LEN || &plain[..4] != MAGIC {
        return Err(bad(Misplacement::Header));
    }
    if plain[4..20] != expected.doc_id {
        return Err(bad(Misplacement::Document));
    }
    let mut seq_bytes = [0u8; 8];
    seq_bytes.copy_from_slice(&plain[20..28]);
    if u64::from_be_bytes(seq_bytes) != expected.seq {
        return Err(bad(Misplacement::Sequence));
    }
    if plain[28] != expected.kind as u8 {
        return Err(bad(Misplacement::Kind));
    }
    Ok(zeroize::Zeroizing::new(plain[HEADER_LEN..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(seq: u64) -> ChunkHeader {
        ChunkHeader {
            doc_id: [7; 16],
            seq,
            kind: ChunkKind::Changes,
        }
    }

    #[test]
    fn a_sealed_chunk_opens_only_where_it_belongs() {
        let id = age::x25519::Identity::generate();
        let sealed = seal(&id.to_public(), header(3), b"automerge bytes").expect("seal");
        assert!(!sealed.windows(9).any(|w| w == b"automerge"));
        assert_eq!(
            open(&id, header(3), &sealed).expect("open").as_slice(),
            b"automerge bytes"
        );
        assert!(matches!(
            open(&id, header(4), &sealed),
            Err(SealError::Misplaced {
                why: Misplacement::Sequence,
                ..
            })
        ));
        let other_doc = ChunkHeader {
            doc_id: [8; 16],
            ..header(3)
        };
        assert!(matches!(
            open(&id, other_doc, &sealed),
            Err(SealError::Misplaced {
                why: Misplacement::Document,
                ..
            })
        ));
        let snapshot = ChunkHeader {
            kind: ChunkKind::Snapshot,
            ..header(3)
        };
        assert!(open(&id, snapshot, &sealed).is_err());
    }

    #[test]
    fn altered_ciphertext_or_a_foreign_key_fails() {
        let id = age::x25519::Identity::generate();
        let mut sealed = seal(&id.to_public(), header(1), b"payload").expect("seal");
        let other = age::x25519::Identity::generate();
        assert!(matches!(
            open(&other, header(1), &sealed),
            Err(SealError::Decrypt { .. })
        ));
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(matches!(
            open(&id, header(1), &sealed),
            Err(SealError::Decrypt { .. })
        ));
    }
}
