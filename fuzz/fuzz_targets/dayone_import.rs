//! A Day One export (its JSON, or a zip) as anyone could hand it to `haven import`.
#![no_main]
use haven_shared::import;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(entries) = import::dayone::parse(std::io::Cursor::new(data)) {
        for e in entries {
            let _ = e.into_entry().validated();
        }
    }
});
