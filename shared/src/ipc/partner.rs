//! The paired partner and the way to their laptop: who, how connected, addresses, the
//! couple's relay, and unpairing (which never needs the partner's consent).

use serde::{Deserialize, Serialize};

use super::SecretText;

/// `haven partner`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Partner {}

/// A static `HOST:PORT` for networks that block multicast.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PartnerAddress {
    pub address: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PartnerUnpair {
    pub wipe: bool,
}

/// `haven partner relay URL` (set) or `--remove` (`None`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PartnerRelay {
    pub url: Option<SecretText>,
}

/// `haven partner`: who the partner is and how the link is doing.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct PartnerInfo {
    pub paired: bool,
    pub name: Option<String>,
    pub member_id: Option<String>,
    pub connected: bool,
    /// The partner's address while connected (else the last one known).
    pub address: Option<String>,
    pub last_seen: Option<chrono::DateTime<chrono::FixedOffset>>,
    pub last_synced: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Local changes the partner is not known to have yet.
    pub waiting: usize,
    /// Static addresses from `haven partner address`.
    pub addresses: Vec<String>,
    /// Words derived from both devices' keys: the same on both laptops.
    pub safety_words: Option<String>,
    /// How the session reaches the partner while connected: `lan`, `direct` or `relayed`.
    pub path: Option<String>,
    /// The couple's relay (`HOST:PORT`), if set; never its token.
    pub relay: Option<String>,
    /// Why the laptops cannot sync though they reach each other (another peer protocol).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// The session in place runs on post-quantum keys (ML-KEM-768 beside X25519).
    #[serde(default)]
    pub post_quantum: bool,
    /// Connected, and the partner's copy of the agreements holds exactly the changes this
    /// one does (their heads, as they last said, are ours). Never true while they differ.
    #[serde(default)]
    pub in_sync: bool,
    /// A short fingerprint of this copy's heads: the same on both laptops when in sync.
    #[serde(default)]
    pub heads: String,
    /// The fingerprint of the partner's heads, as they last said in this session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_heads: Option<String>,
    /// The partner's devices, from their signed device list as this laptop last checked
    /// it; empty while they have only the one they paired with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<PartnerDevice>,
    /// Not paired here: another of the person's devices is, and this one acts in the
    /// couple through it (`name` is the partner's).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub through_another_device: bool,
}

/// One of the partner's devices: what they called it, and whether they revoked it (then
/// nothing it signs dated after the revocation counts here).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PartnerDevice {
    pub name: String,
    pub revoked: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Unpaired {
    pub partner: String,
    pub wiped: bool,
    /// There was no partner any more: only this laptop's copy was deleted (`--wipe`).
    #[serde(default)]
    pub already: bool,
}

/// `haven leave`: unpair, and make this laptop one the former partner cannot recognise.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Leave {
    /// The passphrase now: leaving is for the person at the keyboard, and `identity.age`
    /// is sealed again with it (or with `new_passphrase`).
    pub passphrase: SecretText,
    /// A new passphrase, since the former partner may know the old one.
    pub new_passphrase: Option<SecretText>,
    /// Also delete this laptop's copy of the agreements, notes and thanks.
    pub wipe: bool,
}

/// What `haven leave` did.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Left {
    /// The partner left, or empty when this laptop was not paired any more.
    pub partner: String,
    /// The partner's laptop was connected, so the session's goodbye told it.
    pub told: bool,
    pub wiped: bool,
    /// The relay this laptop forgot (`HOST:PORT`), if one was set.
    pub relay: Option<String>,
    /// identity.age is sealed with the new passphrase.
    pub passphrase_changed: bool,
    /// The backups and exports Haven wrote that are still there, oldest first.
    pub files: Vec<crate::written_files::WrittenFile>,
}
