//! Keys and encryption: the passphrase-protected identity file and sealed storage chunks.
//!
//! Everything on disk is a standard age file, so a user can always get their words back
//! with the reference `age` CLI: `age -d -i identity.age chunk.age`.

pub mod blob;
pub mod identity;
pub mod pq;
pub mod rows;
pub mod seal;

pub use blob::{open_blob, seal_blob, BlobError};
pub use identity::{Identity, IdentityError, Passphrase};
pub use rows::RowKey;
pub use seal::{padded_len, ChunkHeader, ChunkKind, SealError};

/// Fills a buffer from the OS random source.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    // The OS RNG failing is not something a journal can recover from.
    #[allow(clippy::expect_used)]
    getrandom::getrandom(&mut out).expect("the operating system's random source is unavailable");
    out
}
