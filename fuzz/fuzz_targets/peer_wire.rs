//! Bytes on the peer port after the handshake: frames, then messages reassembled from them.
#![no_main]
use haven_shared::wire::{FrameDecoder, Message, Reassembler};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = Message::decode(data);
    let mut frames = FrameDecoder::new();
    let mut messages = Reassembler::new();
    for part in data.chunks(97) {
        frames.push(part);
        while let Ok(Some(frame)) = frames.next_frame() {
            if messages.push(&frame).is_err() {
                return;
            }
        }
    }
});
