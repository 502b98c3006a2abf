//! Application messages between paired daemons, and their chunking into Noise-sized
//! pieces. Only the couple document's sync messages ever travel: there is no message type
//! that could carry the journal.

/// The largest reassembled message. When the partner lacks more than a third of the couple
/// document, automerge sends the whole document in one message, so this bounds the
/// document that can be synced: 128 MiB, far past what a couple writes in a lifetime
/// (1,000 agreements are ~1 MB), and still a bound on what a peer can make us buffer.
pub const MAX_MESSAGE: usize = 128 * 1024 * 1024;
/// Body per chunk: a Noise message (65,535) less its 16-byte tag, our flag byte and the
/// 4-byte length a padded chunk carries (the 5 bytes of `padding::HEADER`).
const CHUNK: usize = 65_535 - 16 - 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// First message after the handshake: protocol version.
    Hello {
        version: u16,
    },
    /// An automerge sync message for the couple document.
    Sync(Vec<u8>),
    Ping,
    Pong,
    /// The sender is closing (locking, shutting down); it will be back.
    Bye,
    /// The sender ran `haven partner unpair`: it has forgotten our keys and will not be back.
    Unpaired,
    /// Protocol 3: an ML-KEM-768 encapsulation key, for the secret of `epoch` (the
    /// daemon's `peer::pq`).
    PqOffer {
        epoch: u32,
        key: Vec<u8>,
    },
    /// Protocol 3: the ciphertext that answers a [`Message::PqOffer`].
    PqReply {
        epoch: u32,
        ciphertext: Vec<u8>,
    },
}

/// The size of an ML-KEM-768 encapsulation key; an offer of any other size is refused.
pub const PQ_ENCAPSULATION_KEY: usize = 1184;
/// The size of an ML-KEM-768 ciphertext.
pub const PQ_CIPHERTEXT: usize = 1088;

/// `epoch` (4 bytes) then exactly `size` bytes.
fn epoch_and(rest: &[u8], size: usize, name: &'static str) -> Result<(u32, Vec<u8>), MessageError> {
    match rest.split_at_checked(4) {
        Some((epoch, body)) if body.len() == size => Ok((
            u32::from_be_bytes([epoch[0], epoch[1], epoch[2], epoch[3]]),
            body.to_vec(),
        )),
        _ => Err(MessageError::Malformed(name)),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("an empty message")]
    Empty,
    #[error("unknown message type {0}")]
    UnknownType(u8),
    #[error("a malformed {0} message")]
    Malformed(&'static str),
    #[error("a chunk without its flag byte")]
    BadChunk,
    #[error("a message larger than {MAX_MESSAGE} bytes")]
    TooLarge,
}

impl Message {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Message::Hello { version } => {
                let mut v = vec![1];
                v.extend_from_slice(&version.to_be_bytes());
                v
            }
            Message::Sync(bytes) => {
                let mut v = Vec::with_capacity(1 + bytes.len());
                v.push(2);
                v.extend_from_slice(bytes);
                v
            }
            Message::Ping => vec![3],
            Message::Pong => vec![4],
            Message::Bye => vec![5],
            Message::Unpaired => vec![6],
            Message::PqOffer { epoch, key } => {
                let mut v = vec![7];
                v.extend_from_slice(&epoch.to_be_bytes());
                v.extend_from_slice(key);
                v
            }
            Message::PqReply { epoch, ciphertext } => {
                let mut v = vec![8];
                v.extend_from_slice(&epoch.to_be_bytes());
                v.extend_from_slice(ciphertext);
                v
            }
        }
    }

    pub fn decode(bytes: &[u8]) -> Result<Message, MessageError> {
        let (&kind, rest) = bytes.split_first().ok_or(MessageError::Empty)?;
        let bare = |m: Message, name| {
            if rest.is_empty() {
                Ok(m)
            } else {
                Err(MessageError::Malformed(name))
            }
        };
        match kind {
            1 => match rest {
                [a, b] => Ok(Message::Hello {
                    version: u16::from_be_bytes([*a, *b]),
                }),
                _ => Err(MessageError::Malformed("hello")),
            },
            2 if !rest.is_empty() => Ok(Message::Sync(rest.to_vec())),
            2 => Err(MessageError::Malformed("sync")),
            3 => bare(Message::Ping, "ping"),
            4 => bare(Message::Pong, "pong"),
            5 => bare(Message::Bye, "bye"),
            6 => bare(Message::Unpaired, "unpaired"),
            7 => epoch_and(rest, PQ_ENCAPSULATION_KEY, "post-quantum offer")
                .map(|(epoch, key)| Message::PqOffer { epoch, key }),
            8 => epoch_and(rest, PQ_CIPHERTEXT, "post-quantum reply")
                .map(|(epoch, ciphertext)| Message::PqReply { epoch, ciphertext }),
            other => Err(MessageError::UnknownType(other)),
        }
    }
}

/// Splits an encoded message into chunk plaintexts: a flag byte (1 = more follows, 0 =
/// last) and up to `CHUNK` bytes.
pub fn chunks(encoded: &[u8]) -> Result<Vec<Vec<u8>>, MessageError> {
    if encoded.len() > MAX_MESSAGE {
        return Err(MessageError::TooLarge);
    }
    let pieces: Vec<&[u8]> = encoded.chunks(CHUNK).collect();
    let last = pieces.len().saturating_sub(1);
    Ok(pieces
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let mut c = Vec::with_capacity(1 + p.len());
            c.push(u8::from(i != last));
            c.extend_from_slice(p);
            c
        })
        .collect())
}

/// Reassembles chunks into messages, refusing to grow past [`MAX_MESSAGE`].
#[derive(Default)]
pub struct Reassembler {
    buf: Vec<u8>,
}

impl Reassembler {
    pub fn new() -> Reassembler {
        Reassembler::default()
    }

    /// Adds one chunk; returns the message when it was the last chunk.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Option<Message>, MessageError> {
        match self.push_bytes(chunk)? {
            Some(whole) => Message::decode(&whole).map(Some),
            None => Ok(None),
        }
    }

    /// Adds one chunk; returns the reassembled bytes when it was the last chunk, for a
    /// protocol of its own over the same chunks (the person's own devices).
    pub fn push_bytes(&mut self, chunk: &[u8]) -> Result<Option<Vec<u8>>, MessageError> {
        let (&flag, body) = chunk.split_first().ok_or(MessageError::BadChunk)?;
        if flag > 1 {
            return Err(MessageError::BadChunk);
        }
        if self.buf.len() + body.len() > MAX_MESSAGE {
            self.buf = Vec::new();
            return Err(MessageError::TooLarge);
        }
        self.buf.extend_from_slice(body);
        if flag == 1 {
            return Ok(None);
        }
        Ok(Some(std::mem::take(&mut self.buf)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(m: &Message) -> Message {
        let mut r = Reassembler::new();
        let mut out = None;
        for c in chunks(&m.encode()).expect("chunks") {
            assert!(out.is_none(), "only the last chunk completes");
            out = r.push(&c).expect("push");
        }
        out.expect("complete")
    }

    #[test]
    fn every_message_round_trips_also_across_chunks() {
        for m in [
            Message::Hello { version: 1 },
            Message::Ping,
            Message::Pong,
            Message::Bye,
            Message::Unpaired,
            Message::Sync(vec![9; 10]),
            Message::Sync(vec![7; 3 * CHUNK + 5]),
            Message::PqOffer {
                epoch: 3,
                key: vec![5; PQ_ENCAPSULATION_KEY],
            },
            Message::PqReply {
                epoch: u32::MAX,
                ciphertext: vec![6; PQ_CIPHERTEXT],
            },
        ] {
            assert_eq!(round_trip(&m), m);
        }
    }

    #[test]
    fn malformed_messages_are_named() {
        assert_eq!(Message::decode(&[]), Err(MessageError::Empty));
        assert_eq!(Message::decode(&[9]), Err(MessageError::UnknownType(9)));
        assert_eq!(
            Message::decode(&[1, 0]),
            Err(MessageError::Malformed("hello"))
        );
        assert_eq!(Message::decode(&[2]), Err(MessageError::Malformed("sync")));
        assert_eq!(
            Message::decode(&[3, 0]),
            Err(MessageError::Malformed("ping"))
        );
        // A post-quantum key or ciphertext of any other size, or without its epoch.
        for (kind, size) in [(7u8, PQ_ENCAPSULATION_KEY), (8, PQ_CIPHERTEXT)] {
            for len in [0, 3, 4, 4 + size - 1, 4 + size + 1, 4 + 2 * size] {
                let mut bytes = vec![kind];
                bytes.extend(vec![1u8; len]);
                assert!(
                    matches!(Message::decode(&bytes), Err(MessageError::Malformed(_))),
                    "type {kind}, {len} bytes"
                );
            }
        }
        let mut r = Reassembler::new();
        assert_eq!(r.push(&[]), Err(MessageError::BadChunk));
        assert_eq!(r.push(&[2, 1]), Err(MessageError::BadChunk));
    }

    #[test]
    fn a_peer_cannot_make_us_buffer_more_than_the_maximum() {
        let mut r = Reassembler::new();
        let chunk = {
            let mut c = vec![1u8];
            c.extend(vec![0u8; CHUNK]);
            c
        };
        let mut result = Ok(None);
        for _ in 0..(MAX_MESSAGE / CHUNK + 2) {
            result = r.push(&chunk);
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(MessageError::TooLarge));
        assert!(chunks(&vec![0; MAX_MESSAGE + 1]).is_err());
    }

    proptest! {
        #[test]
        fn sync_payloads_round_trip(payload in proptest::collection::vec(any::<u8>(), 1..200_000)) {
            let m = Message::Sync(payload);
            prop_assert_eq!(round_trip(&m), m);
        }

        #[test]
        fn garbage_chunks_never_panic(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..16)) {
            let mut r = Reassembler::new();
            for c in chunks {
                let _ = r.push(&c);
            }
        }
    }
}
