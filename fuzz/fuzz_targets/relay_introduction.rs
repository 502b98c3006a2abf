//! What a laptop presents to the couple's relay as its auth token: the token and an
//! introduction signed by its pairing key. Anyone who reaches the relay sends this.
#![no_main]
use haven_shared::relay_introduction::parse;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let (token, intro) = parse(text);
        assert!(text.starts_with(token));
        if let Ok(intro) = intro {
            // Only a real signature gets here; the couple is always two different keys.
            let [a, b] = intro.couple();
            assert!(a < b);
        }
    }
});
