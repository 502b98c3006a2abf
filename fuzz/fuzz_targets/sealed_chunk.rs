//! A row of haven.db as someone with the disk could write it.
#![no_main]
use haven_shared::crypto::seal::{open, ChunkHeader, ChunkKind};
use std::sync::OnceLock;

static IDENTITY: OnceLock<age::x25519::Identity> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let identity = IDENTITY.get_or_init(age::x25519::Identity::generate);
    let header = ChunkHeader {
        doc_id: [1; 16],
        seq: 7,
        kind: ChunkKind::Changes,
    };
    let _ = open(identity, header, data);
});
