//! What the partner's device can write into the couple document: any keys and values in
//! the agreement ranges, assembled into agreements and shown.
#![no_main]
use haven_shared::ed25519_dalek::SigningKey;
use haven_shared::model::agreement::{assemble, Keyring, Sources};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut sources = Sources::default();
    for line in text.lines() {
        if let Some((k, v)) = line.split_once('\t') {
            sources.items.insert(k.to_string(), v.to_string());
        }
    }
    let ring = Keyring::new()
        .with("Maya", SigningKey::from_bytes(&[1; 32]).verifying_key())
        .with("Sam", SigningKey::from_bytes(&[2; 32]).verifying_key());
    let book = assemble(&sources, &ring);
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default();
    for a in book.agreements.values() {
        let _ = a.view(&ring, today);
    }
    let _ = book.resolve(&text);
});
