//! Bytes on the peer port after the handshake: frames, then messages reassembled from them,
//! plain (protocol 2's hello) and padded (protocol 3's chunks and rekey flags).
#![no_main]
use haven_shared::wire::padding::{self, Chunk};
use haven_shared::wire::{FrameDecoder, Message, Reassembler};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = Message::decode(data);
    let padded = data.first().is_some_and(|b| b & 1 == 1);
    let mut frames = FrameDecoder::new();
    let mut messages = Reassembler::new();
    for part in data.chunks(97) {
        frames.push(part);
        while let Ok(Some(frame)) = frames.next_frame() {
            let chunk = if padded {
                match padding::unpad(&frame) {
                    Ok(Chunk::Data(chunk)) => chunk,
                    Ok(Chunk::Rekey | Chunk::PqSwitch) => continue,
                    Err(_) => return,
                }
            } else {
                frame
            };
            if messages.push(&chunk).is_err() {
                return;
            }
        }
    }
});
