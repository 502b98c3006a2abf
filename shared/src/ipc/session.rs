//! The daemon itself: its state, the keys, stopping. The only calls that work while
//! locked, and the only ones a daemon of another version still understands (a stop).

use serde::{Deserialize, Serialize};

use super::SecretText;
use crate::model::waiting::Waiting;

/// `haven status`: locked or not, paired or not, what is waiting.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Status {}

/// `haven unlock`: the passphrase, over the 0600 socket only.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Unlock {
    pub passphrase: SecretText,
}

/// `haven lock`: the keys and the decrypted documents leave memory.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Lock {}

/// `haven daemon stop`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Shutdown {}

/// A consistent copy of haven.db in the home folder, for `haven backup`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct CopyDatabase {}

/// The network half of `haven doctor`: mDNS, the interface, the listener, the partner.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct NetworkChecks {}

/// A call that is answered with nothing but success.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Done {}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Unlocked {
    pub name: String,
    /// What the unlock noticed and the person should know (haven.db older than the newest
    /// copy seen here), one sentence each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// `haven doctor --accept-older`: the older haven.db put back on purpose becomes the
/// newest copy.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct AcceptOlder {}

/// The CLI wrote a backup or an export here (an absolute path), for `haven leave` to list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct NoteWritten {
    pub kind: crate::written_files::WrittenKind,
    pub path: String,
}

/// Where the daemon wrote the copy (the CLI reads then removes it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DatabaseCopy {
    pub path: std::path::PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Checks {
    pub checks: Vec<Check>,
}

/// One line of `haven doctor` (see `health`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
    pub fix: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StatusInfo {
    pub locked: bool,
    /// The member's name (known only while unlocked: it is stored encrypted).
    pub name: Option<String>,
    pub paired: bool,
    pub partner: Option<String>,
    pub connected: bool,
    pub entries: Option<usize>,
    pub agreements: Option<usize>,
    pub pid: u32,
    pub version: String,
    /// The daemon's resident memory, in bytes (from /proc/self/statm).
    pub memory_bytes: Option<u64>,
    /// Pauses not finished yet (known while unlocked), oldest first.
    #[serde(default)]
    pub open_pauses: Vec<OpenPause>,
    /// What is waiting for this person (from the partner, a review date, a pause's end),
    /// oldest first; known while unlocked.
    #[serde(default)]
    pub waiting: Vec<Waiting>,
    /// This device's name, once another device of this person's was linked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// How many other devices of this person's are linked (not revoked).
    #[serde(default)]
    pub other_devices: usize,
    /// This home was restored from a backup of one of the person's devices, and does not
    /// sync as it (`haven doctor` says what to do).
    #[serde(default)]
    pub device_restored: bool,
    /// Another of the person's devices found this one running in two homes (its home
    /// folder was copied and both copies ran): it syncs with none of them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub device_two_homes: bool,
}

/// A pause still open, for `haven status`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OpenPause {
    pub id: String,
    pub started_at: chrono::DateTime<chrono::FixedOffset>,
    pub ends_at: chrono::DateTime<chrono::FixedOffset>,
}
