//! A person's own devices: which devices are theirs ([`list`]), how their journals stay
//! the same ([`journal_sync`]), and what each device keeps about the others
//! ([`OwnDevices`]).

pub mod copies;
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
    /// Replaced when a device is revoked ([`OwnDevices::rotate`]).
    pub secret: Key32,
    /// Which secret `secret` is: 0 at the first link, one more at each revocation.
    #[serde(default)]
    pub generation: u32,
    /// The secrets before it, oldest first (at most [`KEEP_SECRETS`]): a device that was
    /// away when one was replaced still calls with the one it holds, and is given the new
    /// one once in session.
    #[serde(default)]
    pub previous: Vec<OldSecret>,
    /// The person's name, as their first device was named at `init`.
    pub member_name: String,
    /// By device id: when each other device was last in session, and where.
    #[serde(default)]
    pub seen: BTreeMap<String, Seen>,
    /// After `device leave`: the devices already told this one left.
    #[serde(default)]
    pub told_left: std::collections::BTreeSet<String>,
    /// When this home was restored from a backup (RFC 3339). A restored copy does not
    /// sync as the device it was: that device may still exist, and two homes acting as
    /// one device would each sign for it. See `haven doctor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored: Option<String>,
    /// Who the partner is, as the person's paired device told this one (when this one is
    /// not paired itself): whose signatures count in the couple document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<journal_sync::PartnerCard>,
    /// Other devices caught running in two homes (`copies`), by id: refused, both copies,
    /// until the person revokes them.
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub copies: std::collections::BTreeSet<String>,
    /// When another of the person's devices said this one runs in two homes (RFC 3339):
    /// from then on it syncs with none of them. See `haven doctor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copied: Option<String>,
}

/// What a device already linked sends the new one once the person confirmed the words,
/// over the link's Noise channel: the list naming it, the devices' secret, the name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkPackage {
    pub list: SignedDeviceList,
    pub secret: Key32,
    /// Which secret it is (see [`OwnDevices::generation`]).
    #[serde(default)]
    pub generation: u32,
    pub member_name: String,
}

/// How many replaced secrets a device keeps for devices that were away.
pub const KEEP_SECRETS: usize = 8;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OldSecret {
    pub generation: u32,
    pub secret: Key32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Seen {
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    /// The address it listens on, as it said in its last session: dialled first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The marks this device gave that one (`copies`).
    #[serde(default)]
    pub given: copies::Given,
    /// The newest mark that device gave this one, shown at the next session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<String>,
}

fn derive(secret: &Key32, info: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    // 32 bytes is always a valid HKDF-SHA256 length.
    let _ = Hkdf::<Sha256>::new(None, secret.bytes()).expand(info, &mut out[..]);
    out
}

impl OwnDevices {
    /// What a device keeps at its first link: the list, the secret (and which one it is)
    /// and the person's name; nothing seen, told, restored or copied yet.
    pub fn new(
        list: SignedDeviceList,
        secret: Key32,
        generation: u32,
        member_name: String,
    ) -> OwnDevices {
        OwnDevices {
            list,
            secret,
            generation,
            previous: Vec::new(),
            member_name,
            seen: BTreeMap::new(),
            told_left: Default::default(),
            restored: None,
            partner: None,
            copies: Default::default(),
            copied: None,
        }
    }

    /// The Noise PSK of sessions between the person's devices, from the current secret.
    pub fn psk(&self) -> Zeroizing<[u8; 32]> {
        derive(&self.secret, b"haven own devices psk v1")
    }

    /// The secret their rotating mDNS names are made with.
    pub fn discovery(&self) -> Zeroizing<[u8; 32]> {
        derive(&self.secret, b"haven own devices discovery v1")
    }

    /// The PSK of every secret this device knows, by generation, the current one first.
    pub fn psks(&self) -> Vec<(u32, Zeroizing<[u8; 32]>)> {
        std::iter::once((self.generation, self.psk()))
            .chain(
                self.previous
                    .iter()
                    .rev()
                    .map(|o| (o.generation, derive(&o.secret, b"haven own devices psk v1"))),
            )
            .collect()
    }

    /// The secret of the mDNS names of every generation this device knows, the current
    /// one first.
    pub fn discoveries(&self) -> Vec<Zeroizing<[u8; 32]>> {
        std::iter::once(self.discovery())
            .chain(
                self.previous
                    .iter()
                    .rev()
                    .map(|o| derive(&o.secret, b"haven own devices discovery v1")),
            )
            .collect()
    }

    /// A new secret (at a revocation): the revoked device knew the old one.
    pub fn rotate(&mut self) {
        let old = OldSecret {
            generation: self.generation,
            secret: self.secret.clone(),
        };
        self.previous.push(old);
        if self.previous.len() > KEEP_SECRETS {
            self.previous.remove(0);
        }
        self.generation += 1;
        self.secret = Key32::new(crate::crypto::random_bytes::<32>());
    }

    /// Takes a newer secret another device sent; false if it is not newer.
    pub fn take_secret(&mut self, generation: u32, secret: Key32) -> bool {
        if generation <= self.generation {
            return false;
        }
        self.previous.push(OldSecret {
            generation: self.generation,
            secret: std::mem::replace(&mut self.secret, secret),
        });
        if self.previous.len() > KEEP_SECRETS {
            self.previous.remove(0);
        }
        self.generation = generation;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own() -> OwnDevices {
        let key = ed25519_dalek::SigningKey::from_bytes(&[3u8; 32]);
        let first = Device {
            key: hex::encode(key.verifying_key().as_bytes()),
            noise_key: hex::encode([4u8; 32]),
            name: "laptop".into(),
            added: "2026-12-05T10:00:00Z".into(),
            added_by: None,
            revoked: None,
        };
        OwnDevices::new(
            SignedDeviceList::sign(&DeviceList::first(first), &key),
            Key32::new([1u8; 32]),
            0,
            "Maya".into(),
        )
    }

    #[test]
    fn a_rotated_secret_keys_new_sessions_and_the_old_stays_known() {
        let mut a = own();
        let before = a.psk();
        a.rotate();
        assert_eq!(a.generation, 1);
        assert_ne!(*a.psk(), *before);
        let psks = a.psks();
        assert_eq!(psks[0].0, 1);
        assert_eq!(*psks[1].1, *before, "the old one is still known");
        let mut b = own();
        assert!(b.take_secret(1, a.secret.clone()));
        assert_eq!(*b.psk(), *a.psk());
        assert!(!b.take_secret(1, Key32::new([9u8; 32])), "not newer");
        for _ in 0..20 {
            a.rotate();
        }
        assert_eq!(a.previous.len(), KEEP_SECRETS);
    }
}
