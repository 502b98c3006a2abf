//! What reaches the peer port's guard and the dialler's: a first frame split into its
//! Noise message and MACs, and a cookie reply from whoever answered the dial.
#![no_main]
use haven_shared::wire::cookie::{is_cookie_reply, open_reply, FirstFrame, MAC_LEN};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let key = [7u8; 32];
    if let Some(first) = FirstFrame::split(data, data.len().saturating_sub(2 * MAC_LEN)) {
        let _ = first.mac1_ok(&key);
        let _ = first.mac2_ok(&[1; MAC_LEN]);
    }
    let mac1: [u8; MAC_LEN] = [3; MAC_LEN];
    if open_reply(&key, &mac1, data).is_ok() {
        // Only a reply sealed with the key opens; the fuzzer cannot forge one.
        assert!(is_cookie_reply(data));
    }
});
