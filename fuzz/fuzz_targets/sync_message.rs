//! A sync message from the partner: the guard, and for what it lets through, automerge's
//! decode, receive and the next generate (where the Bloom filter bug struck).
#![no_main]
use automerge::sync::{self, SyncDoc};
use automerge::transaction::Transactable;
use haven_shared::couple_sync::guard::{check, Limits};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_inflated: 1 << 20,
        ..Limits::default()
    };
    if check(data, &limits).is_err() {
        return;
    }
    let Ok(message) = sync::Message::decode(data) else {
        return;
    };
    let mut doc = automerge::AutoCommit::new();
    let _ = doc.put(automerge::ROOT, "k", "v");
    let mut state = sync::State::new();
    if doc.sync().receive_sync_message(&mut state, message).is_ok() {
        let _ = doc.sync().generate_sync_message(&mut state);
    }
});
