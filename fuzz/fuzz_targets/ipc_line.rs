//! A line on the daemon's socket.
#![no_main]
use haven_shared::ipc::{decode_line, Reply, Request};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = decode_line::<Request>(data);
    let _ = decode_line::<Reply>(data);
});
