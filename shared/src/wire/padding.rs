//! Protocol 3's chunk plaintexts: padded to a size bucket, so what a listener on the LAN or
//! the relay sees of a frame says little about how much was written, and a flag that
//! tells the other side the key is about to change.
//!
//! A padded chunk is the flag byte, the body's length (4 bytes, big-endian), the body,
//! then zeros up to the bucket: the next power of two, at least [`MIN_BUCKET`], at most
//! the largest Noise plaintext. A rekey chunk is the flag [`REKEY`] and nothing else: the
//! sender changes its sending key right after it, the receiver its receiving key right
//! after reading it (Noise's `REKEY`). [`PQ_SWITCH`] works the same way for the switch to
//! the post-quantum keys (the daemon's `peer::pq`). Both are inside the encryption, so a listener
//! cannot tell a rekey from any small frame, and a rekey frame replayed or moved fails
//! Noise's nonce check before it is read.

use super::message::MessageError;

/// The chunk's flag: more chunks of this message follow.
pub const MORE: u8 = 1;
/// The chunk's flag: the last (or only) chunk of a message.
pub const LAST: u8 = 0;
/// The chunk's flag: the sender's key changes after this chunk.
pub const REKEY: u8 = 2;
/// The chunk's flag: the sender's key becomes the post-quantum one after this chunk.
pub const PQ_SWITCH: u8 = 3;

/// The smallest bucket: a ping and a short sync message look alike.
pub const MIN_BUCKET: usize = 256;
/// The largest Noise plaintext (65,535 less the 16-byte tag).
pub const MAX_PLAIN: usize = 65_535 - 16;
/// Flag and length.
pub const HEADER: usize = 5;

/// The size a chunk of `body` bytes is padded to.
pub fn bucket(body: usize) -> usize {
    (HEADER + body)
        .max(MIN_BUCKET)
        .checked_next_power_of_two()
        .unwrap_or(MAX_PLAIN)
        .min(MAX_PLAIN)
}

/// `[flag][body]` (as [`super::chunks`] makes them) padded to its bucket.
pub fn pad(chunk: &[u8]) -> Result<Vec<u8>, MessageError> {
    let (&flag, body) = chunk.split_first().ok_or(MessageError::BadChunk)?;
    if HEADER + body.len() > MAX_PLAIN {
        return Err(MessageError::TooLarge);
    }
    let len = u32::try_from(body.len()).map_err(|_| MessageError::TooLarge)?;
    let mut out = Vec::with_capacity(bucket(body.len()));
    out.push(flag);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
    out.resize(bucket(body.len()), 0);
    Ok(out)
}

/// The rekey chunk, padded like any other.
pub fn rekey() -> Vec<u8> {
    flag_only(REKEY)
}

/// The chunk after which the sender's key is the post-quantum one.
pub fn pq_switch() -> Vec<u8> {
    flag_only(PQ_SWITCH)
}

fn flag_only(flag: u8) -> Vec<u8> {
    let mut out = vec![flag];
    out.resize(MIN_BUCKET, 0);
    out
}

/// What one padded chunk says.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk {
    /// `[flag][body]`, for the reassembler.
    Data(Vec<u8>),
    /// The sender's key changes after this chunk.
    Rekey,
    /// The sender's key becomes the post-quantum one after this chunk.
    PqSwitch,
}

/// Reads a padded chunk; the padding must be zeros and the length must fit.
pub fn unpad(plain: &[u8]) -> Result<Chunk, MessageError> {
    let (&flag, rest) = plain.split_first().ok_or(MessageError::BadChunk)?;
    match flag {
        REKEY if rest.iter().all(|b| *b == 0) => Ok(Chunk::Rekey),
        PQ_SWITCH if rest.iter().all(|b| *b == 0) => Ok(Chunk::PqSwitch),
        REKEY | PQ_SWITCH => Err(MessageError::Malformed("key change")),
        LAST | MORE => {
            let (len, rest) = rest.split_at_checked(4).ok_or(MessageError::BadChunk)?;
            let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]);
            let len = usize::try_from(len).map_err(|_| MessageError::BadChunk)?;
            let (body, padding) = rest.split_at_checked(len).ok_or(MessageError::BadChunk)?;
            if padding.iter().any(|b| *b != 0) {
                return Err(MessageError::Malformed("padding"));
            }
            let mut out = Vec::with_capacity(1 + body.len());
            out.push(flag);
            out.extend_from_slice(body);
            Ok(Chunk::Data(out))
        }
        _ => Err(MessageError::BadChunk),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn buckets_are_powers_of_two_between_the_bounds() {
        assert_eq!(bucket(0), 256);
        assert_eq!(bucket(251), 256);
        assert_eq!(bucket(252), 512);
        assert_eq!(bucket(40_000), MAX_PLAIN);
        assert_eq!(bucket(MAX_PLAIN - HEADER), MAX_PLAIN);
        assert!(pad(&vec![0; MAX_PLAIN - HEADER + 2]).is_err());
    }

    #[test]
    fn bad_chunks_are_errors_not_panics() {
        for bad in [
            &b""[..],
            &[0],
            &[0, 0, 0, 0, 9],
            &[0, 0, 0, 0, 1],
            &[0, 0, 0, 0, 0, 7],
            &[2, 1],
            &[4, 0, 0, 0, 0],
            &[3, 0, 1],
            &[0, 255, 255, 255, 255, 1, 2],
        ] {
            assert!(unpad(bad).is_err(), "{bad:?}");
        }
        assert_eq!(unpad(&rekey()), Ok(Chunk::Rekey));
        assert_eq!(unpad(&pq_switch()), Ok(Chunk::PqSwitch));
    }

    proptest! {
        #[test]
        fn what_is_padded_reads_back(flag in 0u8..2, body in proptest::collection::vec(any::<u8>(), 0..3000)) {
            let mut chunk = vec![flag];
            chunk.extend_from_slice(&body);
            let padded = pad(&chunk).expect("pads");
            prop_assert_eq!(padded.len(), bucket(body.len()));
            prop_assert!(padded.len().is_power_of_two());
            prop_assert_eq!(unpad(&padded).expect("reads"), Chunk::Data(chunk));
        }
    }
}
