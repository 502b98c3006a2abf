//! A person's own devices: which devices are theirs ([`list`]), how their journals stay
//! the same ([`journal_sync`]), and what each device keeps about the others
//! ([`OwnDevices`]).

pub mod journal_sync;
pub mod list;

use hkdf::Hkdf;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::BTreeMap;
use zeroize::Zeroizing;

pub use list::{
    check_name, Device, DeviceList, DeviceListError, Revocation, SignedDeviceList, Update,
};

use crate::partner_record::Key32;

/// What this device keeps about the person's devices, sealed in its home like the partner
/// record. Absent until the first link.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OwnDevices {
    /// The newest device list this device accepted.
    pub list: SignedDeviceList,
    /// Known to the person's devices alone: keys their sessions and their mDNS names.
    pub secret: Key32,
    /// The person's name, as their first device was named at `init`.
    pub member_name: String,
    /// By device id: when each other device was last in session, and where.
    #[serde(default)]
    pub seen: BTreeMap<String, Seen>,
}

/// What a device already linked sends the new one once the person confirmed the words,
/// over the link's Noise channel: the list naming it, the devices' secret, the name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkPackage {
    pub list: SignedDeviceList,
    pub secret: Key32,
    pub member_name: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Seen {
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    /// The address it listens on, as it said in its last session: dialled first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

impl OwnDevices {
    fn derive(&self, info: &[u8]) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        // 32 bytes is always a valid HKDF-SHA256 length.
        let _ = Hkdf::<Sha256>::new(None, self.secret.bytes()).expand(info, &mut out[..]);
        out
    }

    /// The Noise PSK of sessions between the person's devices.
    pub fn psk(&self) -> Zeroizing<[u8; 32]> {
        self.derive(b"haven own devices psk v1")
    }

    /// The secret their rotating mDNS names are made with.
    pub fn discovery(&self) -> Zeroizing<[u8; 32]> {
        self.derive(b"haven own devices discovery v1")
    }
}
