//! A line on the daemon's socket: the hello, a request, a reply.
#![no_main]
use haven_shared::ipc::{decode_line, Hello, Reply, Request};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = decode_line::<Hello>(data);
    let _ = decode_line::<Request>(data);
    let _ = decode_line::<Reply>(data);
});
