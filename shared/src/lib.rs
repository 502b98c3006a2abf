//! haven-shared: the model, the documents, storage, crypto and the IPC types that `havend`
//! and `haven` share. No CLI parsing, no printing, no process exits here.

pub mod backup;
pub mod config;
pub mod couple_sync;
pub mod crypto;
pub mod devices;
pub mod documents;
pub mod health;
pub mod home;
pub mod import;
pub mod ipc;
pub mod model;
pub mod partner_record;
pub mod paths;
pub mod plural;
pub mod relay_introduction;
pub mod relay_url;
pub mod reminders;
pub mod store;
pub mod when;
pub mod wiping_alloc;
pub mod wire;
pub mod words;
pub mod written_files;

/// The version printed by both binaries.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Re-exported so the binaries name the same key types as the library.
pub use ed25519_dalek;
