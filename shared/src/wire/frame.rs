//! Length-prefixed frames: `u16` big-endian length, then that many bytes.

/// The Noise protocol's message limit.
pub const MAX_FRAME: usize = 65_535;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("an empty frame")]
    Empty,
    #[error("a frame of {0} bytes is larger than {MAX_FRAME}")]
    TooLarge(usize),
}

/// Prefixes `payload` with its length.
pub fn encode_frame(payload: &[u8]) -> Result<Vec<u8>, FrameError> {
    if payload.is_empty() {
        return Err(FrameError::Empty);
    }
    let len = u16::try_from(payload.len()).map_err(|_| FrameError::TooLarge(payload.len()))?;
    let mut out = Vec::with_capacity(2 + payload.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    Ok(out)
}

/// Collects bytes as they arrive and yields whole frames. Holds at most one frame's
/// worth of bytes, since the length prefix cannot name more than 65,535.
#[derive(Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
}

impl FrameDecoder {
    pub fn new() -> FrameDecoder {
        FrameDecoder::default()
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame, `Ok(None)` if more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        if self.buf.len() < 2 {
            return Ok(None);
        }
        let len = usize::from(u16::from_be_bytes([self.buf[0], self.buf[1]]));
        if len == 0 {
            return Err(FrameError::Empty);
        }
        if self.buf.len() < 2 + len {
            return Ok(None);
        }
        let frame = self.buf[2..2 + len].to_vec();
        self.buf.drain(..2 + len);
        Ok(Some(frame))
    }

    /// Bytes received but not yet part of a whole frame (a peer that stops mid-frame).
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn limits_are_enforced() {
        assert_eq!(encode_frame(&[]), Err(FrameError::Empty));
        assert_eq!(
            encode_frame(&vec![0; MAX_FRAME + 1]),
            Err(FrameError::TooLarge(MAX_FRAME + 1))
        );
        assert!(encode_frame(&vec![0; MAX_FRAME]).is_ok());
        let mut d = FrameDecoder::new();
        d.push(&[0, 0]);
        assert_eq!(d.next_frame(), Err(FrameError::Empty));
    }

    #[test]
    fn a_truncated_frame_waits_for_more() {
        let wire = encode_frame(b"hello").expect("frame");
        let mut d = FrameDecoder::new();
        d.push(&wire[..4]);
        assert_eq!(d.next_frame(), Ok(None));
        assert_eq!(d.pending(), 4);
        d.push(&wire[4..]);
        assert_eq!(d.next_frame(), Ok(Some(b"hello".to_vec())));
    }

    proptest! {
        #[test]
        fn frames_survive_any_split(frames in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..300), 1..8), cut in 1usize..64) {
            let wire: Vec<u8> = frames.iter().flat_map(|f| encode_frame(f).expect("frame")).collect();
            let mut d = FrameDecoder::new();
            let mut out = Vec::new();
            for piece in wire.chunks(cut) {
                d.push(piece);
                while let Some(f) = d.next_frame().expect("valid") {
                    out.push(f);
                }
            }
            prop_assert_eq!(out, frames);
            prop_assert_eq!(d.pending(), 0);
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let mut d = FrameDecoder::new();
            d.push(&bytes);
            while let Ok(Some(_)) = d.next_frame() {}
        }
    }
}
