//! Sealing storage chunks: each chunk is its own age file for the device's own recipient.
//!
//! The plaintext starts with a header binding it to its document and sequence number, so a
//! row copied into another document or replayed at another position fails loudly on load
//! instead of silently merging.
//!
//! Since `HVN2` the payload's length follows the header and zeros pad the plaintext to a
//! size bucket ([`padded_len`]), so the size of a row on disk says which bucket an entry
//! fell in, not how long it is. Rows written before (`HVN1`) still open.

use std::fmt;

/// Unpadded rows, from before padding.
const MAGIC_V1: &[u8; 4] = b"HVN1";
/// Padded rows.
const MAGIC: &[u8; 4] = b"HVN2";
const HEADER_LEN: usize = 4 + 16 + 8 + 1;
/// The payload's length, after the header of an `HVN2` row.
const LEN_LEN: usize = 8;
/// Rows up to this size are padded to a power of two; larger ones (snapshots) to a
/// multiple of it, so padding never costs more than 64 KiB a row.
const POWER_OF_TWO_UP_TO: usize = 64 * 1024;
/// The smallest bucket: a short entry and a one-word edit look alike.
const MIN_BUCKET: usize = 1024;

/// The plaintext length a row of `payload` bytes is padded to.
pub fn padded_len(payload: usize) -> usize {
    let n = (HEADER_LEN + LEN_LEN)
        .saturating_add(payload)
        .max(MIN_BUCKET);
    if n <= POWER_OF_TWO_UP_TO {
        n.next_power_of_two()
    } else {
        n.div_ceil(POWER_OF_TWO_UP_TO)
            .saturating_mul(POWER_OF_TWO_UP_TO)
    }
}

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
    let total = padded_len(payload.len());
    let mut plain = zeroize::Zeroizing::new(Vec::with_capacity(total));
    plain.extend_from_slice(MAGIC);
    plain.extend_from_slice(&header.doc_id);
    plain.extend_from_slice(&header.seq.to_be_bytes());
    plain.push(header.kind as u8);
    plain.extend_from_slice(&(payload.len() as u64).to_be_bytes());
    plain.extend_from_slice(payload);
    plain.resize(total, 0);
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
    let padded = match plain.get(..4) {
        Some(m) if m == MAGIC && plain.len() >= HEADER_LEN + LEN_LEN => true,
        Some(m) if m == MAGIC_V1 && plain.len() >= HEADER_LEN => false,
        _ => return Err(bad(Misplacement::Header)),
    };
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
    if !padded {
        return Ok(zeroize::Zeroizing::new(plain[HEADER_LEN..].to_vec()));
    }
    let mut len_bytes = [0u8; LEN_LEN];
    len_bytes.copy_from_slice(&plain[HEADER_LEN..HEADER_LEN + LEN_LEN]);
    let body = &plain[HEADER_LEN + LEN_LEN..];
    let len = usize::try_from(u64::from_be_bytes(len_bytes))
        .ok()
        .filter(|len| *len <= body.len())
        .ok_or(bad(Misplacement::Header))?;
    Ok(zeroize::Zeroizing::new(body[..len].to_vec()))
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
    fn rows_are_padded_to_buckets_and_old_rows_still_open() {
        let id = age::x25519::Identity::generate();
        // What the disk holds is the age file of the padded plaintext (age adds a header
        // of its own, of varying length): one bucket, whatever the length inside it.
        let size = |n: usize| {
            let sealed = seal(&id.to_public(), header(1), &vec![b'x'; n]).expect("seal");
            age::decrypt(&id, &sealed).expect("decrypt").len()
        };
        assert_eq!((size(10), size(900)), (1024, 1024));
        assert_eq!((size(1100), size(1900)), (2048, 2048));
        assert_eq!(padded_len(0), 1024);
        assert_eq!(padded_len(40_000), 64 * 1024);
        assert_eq!(padded_len(70_000), 128 * 1024);
        assert_eq!(padded_len(200_000), 256 * 1024);
        for n in [0, 1, 1000, 5000, 70_000] {
            let payload = vec![7u8; n];
            let sealed = seal(&id.to_public(), header(2), &payload).expect("seal");
            assert_eq!(
                open(&id, header(2), &sealed).expect("open").as_slice(),
                &payload[..]
            );
        }
        // A row from before padding.
        let mut v1 = Vec::new();
        v1.extend_from_slice(MAGIC_V1);
        v1.extend_from_slice(&[7; 16]);
        v1.extend_from_slice(&5u64.to_be_bytes());
        v1.push(ChunkKind::Changes as u8);
        v1.extend_from_slice(b"older");
        let sealed = age::encrypt(&id.to_public(), &v1).expect("encrypt");
        assert_eq!(
            open(&id, header(5), &sealed).expect("open").as_slice(),
            b"older"
        );
        // A length past the end is refused, not read past.
        let mut lying = Vec::new();
        lying.extend_from_slice(MAGIC);
        lying.extend_from_slice(&[7; 16]);
        lying.extend_from_slice(&6u64.to_be_bytes());
        lying.push(ChunkKind::Changes as u8);
        lying.extend_from_slice(&u64::MAX.to_be_bytes());
        lying.extend_from_slice(b"short");
        let sealed = age::encrypt(&id.to_public(), &lying).expect("encrypt");
        assert!(open(&id, header(6), &sealed).is_err());
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
