//! The person's own devices: linking a new one (answered by the daemon's network side, as
//! pairing is, since it waits on the LAN) and listing them (answered by the core).

use serde::{Deserialize, Serialize};

use super::SecretText;

/// `haven init --join`, on the new device: make a link code and wait on the LAN.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct LinkStart {}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LinkCode {
    pub code: String,
    pub expires_in_secs: u64,
}

/// The next thing that happens to a code `LinkStart` showed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LinkWait {
    pub code: String,
}

/// What happened: the other device answered (compare the words), or the link is done.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum LinkStep {
    /// Both devices show these words; the person confirms on the other one.
    Words {
        safety_words: String,
        device: String,
    },
    /// Linked: this device is one of `person`'s, and holds the journal.
    Linked(Linked),
}

/// `haven device add CODE`: find the new device showing CODE and introduce the two.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeviceAdd {
    pub code: SecretText,
    /// What to call this device, if it has no name yet (its first link).
    #[serde(default)]
    pub name: Option<String>,
}

/// The new device answered: its name and the words both screens show. Nothing is sent to
/// it until `DeviceConfirm` says the words match.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LinkOffer {
    /// Names this offer in `DeviceConfirm`.
    pub token: String,
    pub device: String,
    pub safety_words: String,
}

/// The person compared the words (`confirmed`), or did not.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeviceConfirm {
    pub token: String,
    pub confirmed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Linked {
    /// The other device's name.
    pub device: String,
    /// The person's name.
    pub person: String,
    /// Journal entries the new device holds now.
    pub entries: usize,
}

/// `haven device list`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct ListDevices {}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Devices {
    pub devices: Vec<DeviceInfo>,
}

/// One of the person's devices, as `haven device list --json` prints it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeviceInfo {
    pub id: String,
    pub name: String,
    pub this_device: bool,
    pub added: String,
    /// When it was last in session with this device (none for this device).
    pub last_seen: Option<String>,
    /// `lan` while in session.
    pub path: Option<String>,
    /// In session, and its journal holds exactly what this one does (its digest, as it
    /// last said, is ours). Always true for this device.
    pub in_sync: bool,
    /// A short fingerprint of the journal it holds, as it last said (this device: now).
    pub heads: Option<String>,
    /// When it was revoked, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<String>,
}

/// `haven device revoke NAME`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeviceRevoke {
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Revoked {
    pub device: String,
    /// The person's devices still linked besides this one.
    pub others: usize,
}

/// `haven device leave`: this device takes itself out of the person's devices.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct DeviceLeave {}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeviceLeft {
    /// The person's devices still linked, to be told when they next meet this one.
    pub others: usize,
}
