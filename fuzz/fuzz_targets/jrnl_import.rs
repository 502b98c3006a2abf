//! A jrnl export as anyone could hand it to `haven import --from jrnl`.
#![no_main]
use haven_shared::import;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = import::read_text(data, "jrnl") {
        if let Ok(entries) = import::jrnl::parse(&text) {
            for e in entries {
                let _ = e.into_entry().validated();
            }
        }
    }
});
