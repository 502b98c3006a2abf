//! Whose signatures count: the members of the couple and, for a member with more than one
//! device, each device's key.
//!
//! A member is named by their first device's key (the member id is made from it). Once a
//! member's signed device list is known (their own list on their own devices; the list
//! the partner published and this device checked, on the partner's), a signature in that
//! member's name counts when it is made by a device the list names, and a revoked
//! device's counts only for what it dated no later than its revocation. The list is
//! checked before it gets here (`devices::list`); this module only applies it.

use chrono::{DateTime, FixedOffset};
use ed25519_dalek::{Signature, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

/// A member of the couple: the first 16 hex digits of the SHA-256 of their signing key, so
/// an id cannot be claimed with another key.
pub type MemberId = String;

pub fn member_id_of(key: &VerifyingKey) -> MemberId {
    hex::encode(&Sha256::digest(key.as_bytes())[..8])
}

/// One of a member's devices, as their checked list names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceKey {
    pub key: VerifyingKey,
    /// When the device was revoked: what it signs dated after this does not count.
    pub revoked: Option<DateTime<FixedOffset>>,
}

/// Who signs: a device's key, in its member's name. A person's first device signs as the
/// member its key names; another of their devices signs with its own key in the name of
/// the member its device list belongs to.
pub trait Signs {
    fn signing_key(&self) -> &SigningKey;
    fn member(&self) -> MemberId;
}

impl Signs for SigningKey {
    fn signing_key(&self) -> &SigningKey {
        self
    }
    fn member(&self) -> MemberId {
        member_id_of(&self.verifying_key())
    }
}

/// A device signing for the member whose device list names it.
#[derive(Clone)]
pub struct DeviceSigner {
    pub key: SigningKey,
    pub member: MemberId,
}

impl Signs for DeviceSigner {
    fn signing_key(&self) -> &SigningKey {
        &self.key
    }
    fn member(&self) -> MemberId {
        self.member.clone()
    }
}

/// The members whose signatures this device trusts: its own member (the first one added),
/// and the partner's key as pinned at pairing. Never built from the couple document, which
/// a partner can write. Remembers which signatures it has checked, so a listing of a
/// thousand agreements verifies each signature once per unlock.
#[derive(Debug, Default)]
pub struct Keyring {
    members: BTreeMap<MemberId, (String, VerifyingKey)>,
    /// Members with more than one device: the devices whose signatures count for them.
    devices: BTreeMap<MemberId, Vec<DeviceKey>>,
    me: Option<MemberId>,
    verified: Mutex<HashSet<[u8; 32]>>,
}

impl Clone for Keyring {
    fn clone(&self) -> Keyring {
        Keyring {
            members: self.members.clone(),
            devices: self.devices.clone(),
            me: self.me.clone(),
            verified: Mutex::new(HashSet::new()),
        }
    }
}

impl Keyring {
    pub fn new() -> Keyring {
        Keyring::default()
    }
    pub fn with(mut self, name: &str, key: VerifyingKey) -> Keyring {
        self.add(name, key);
        self
    }
    pub fn add(&mut self, name: &str, key: VerifyingKey) -> MemberId {
        let id = member_id_of(&key);
        self.members.insert(id.clone(), (name.to_string(), key));
        if self.me.is_none() {
            self.me = Some(id.clone());
        }
        id
    }

    /// The devices of `member` (already added), from their checked device list. Ignored
    /// unless the list's first device is the member's own key, so a list can never speak
    /// for another member. From then on the member's signatures are checked against the
    /// devices alone: a revoked first device counts no more than any other.
    pub fn set_devices(&mut self, member: &str, devices: Vec<DeviceKey>) -> bool {
        let Some((_, key)) = self.members.get(member) else {
            return false;
        };
        if devices.first().map(|d| d.key) != Some(*key) {
            return false;
        }
        self.devices.insert(member.to_string(), devices);
        true
    }

    /// The members, by id.
    pub fn member_ids(&self) -> impl Iterator<Item = &MemberId> {
        self.members.keys()
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
    pub fn name(&self, member: &str) -> Option<&str> {
        self.members.get(member).map(|(n, _)| n.as_str())
    }
    /// This device's own member.
    pub fn me(&self) -> Option<&str> {
        self.me.as_deref()
    }

    /// Whether `sig_hex` is `member`'s signature over `message`, made by a device that was
    /// not revoked (an undated message counts only from a device that never was).
    pub fn verifies(&self, member: &str, message: &[u8], sig_hex: &str) -> bool {
        self.verifies_at(member, message, sig_hex, None)
    }

    /// As [`Keyring::verifies`], for a message its signer dated `at`: a revoked device's
    /// signature counts when `at` is no later than the revocation.
    pub fn verifies_at(
        &self,
        member: &str,
        message: &[u8],
        sig_hex: &str,
        at: Option<&DateTime<FixedOffset>>,
    ) -> bool {
        let Some((_, member_key)) = self.members.get(member) else {
            return false;
        };
        let Some(sig) = hex::decode(sig_hex)
            .ok()
            .and_then(|bytes| Signature::from_slice(&bytes).ok())
        else {
            return false;
        };
        match self.devices.get(member) {
            None => self.checked(member_key, message, sig_hex, &sig),
            Some(devices) => devices
                .iter()
                .filter(|d| match (&d.revoked, at) {
                    (None, _) => true,
                    (Some(revoked), Some(at)) => at <= revoked,
                    (Some(_), None) => false,
                })
                .any(|d| self.checked(&d.key, message, sig_hex, &sig)),
        }
    }

    /// One key's check, remembered once it passed.
    fn checked(&self, key: &VerifyingKey, message: &[u8], sig_hex: &str, sig: &Signature) -> bool {
        let mut h = Sha256::new();
        h.update(key.as_bytes());
        h.update(sig_hex.as_bytes());
        h.update(message);
        let fingerprint: [u8; 32] = h.finalize().into();
        if self
            .verified
            .lock()
            .is_ok_and(|seen| seen.contains(&fingerprint))
        {
            return true;
        }
        let ok = key.verify(message, sig).is_ok();
        if ok {
            if let Ok(mut seen) = self.verified.lock() {
                seen.insert(fingerprint);
            }
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::Signer;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).expect("date")
    }

    fn sig(k: &SigningKey, m: &[u8]) -> String {
        hex::encode(k.sign(m).to_bytes())
    }

    fn device(k: &SigningKey, revoked: Option<&str>) -> DeviceKey {
        DeviceKey {
            key: k.verifying_key(),
            revoked: revoked.map(at),
        }
    }

    #[test]
    fn without_a_list_only_the_member_key_signs() {
        let (laptop, desk) = (key(1), key(2));
        let ring = Keyring::new().with("Maya", laptop.verifying_key());
        let maya = member_id_of(&laptop.verifying_key());
        assert!(ring.verifies(&maya, b"m", &sig(&laptop, b"m")));
        assert!(!ring.verifies(&maya, b"m", &sig(&desk, b"m")));
        assert!(!ring.verifies(&maya, b"other", &sig(&laptop, b"m")));
        assert!(!ring.verifies(&maya, b"m", "not hex"));
    }

    #[test]
    fn a_listed_device_signs_for_its_member_and_an_unlisted_one_does_not() {
        let (laptop, desk, stranger) = (key(1), key(2), key(3));
        let mut ring = Keyring::new().with("Maya", laptop.verifying_key());
        let maya = member_id_of(&laptop.verifying_key());
        assert!(ring.set_devices(&maya, vec![device(&laptop, None), device(&desk, None)]));
        assert!(ring.verifies(&maya, b"m", &sig(&laptop, b"m")));
        assert!(ring.verifies(&maya, b"m", &sig(&desk, b"m")));
        assert!(!ring.verifies(&maya, b"m", &sig(&stranger, b"m")));
        // The device's own member id is not a member.
        assert!(!ring.verifies(
            &member_id_of(&desk.verifying_key()),
            b"m",
            &sig(&desk, b"m")
        ));
    }

    #[test]
    fn a_revoked_device_counts_only_up_to_its_revocation() {
        let (laptop, desk) = (key(1), key(2));
        let mut ring = Keyring::new().with("Maya", laptop.verifying_key());
        let maya = member_id_of(&laptop.verifying_key());
        let revoked = "2026-12-01T10:00:00+00:00";
        ring.set_devices(
            &maya,
            vec![device(&laptop, None), device(&desk, Some(revoked))],
        );
        let s = sig(&desk, b"m");
        let before = at("2026-12-01T09:59:59+00:00");
        let after = at("2026-12-01T10:00:01+00:00");
        assert!(ring.verifies_at(&maya, b"m", &s, Some(&before)));
        // Remembering the check above must not let the later one through.
        assert!(!ring.verifies_at(&maya, b"m", &s, Some(&after)));
        assert!(!ring.verifies(&maya, b"m", &s));
    }

    #[test]
    fn a_revoked_first_device_no_longer_signs_for_the_member() {
        let (laptop, desk) = (key(1), key(2));
        let mut ring = Keyring::new().with("Maya", laptop.verifying_key());
        let maya = member_id_of(&laptop.verifying_key());
        ring.set_devices(
            &maya,
            vec![
                device(&laptop, Some("2026-12-01T10:00:00+00:00")),
                device(&desk, None),
            ],
        );
        let late = at("2026-12-02T00:00:00+00:00");
        assert!(!ring.verifies_at(&maya, b"m", &sig(&laptop, b"m"), Some(&late)));
        assert!(ring.verifies_at(&maya, b"m", &sig(&desk, b"m"), Some(&late)));
    }

    #[test]
    fn a_list_that_does_not_start_with_the_member_key_is_refused() {
        let (laptop, desk, stranger) = (key(1), key(2), key(3));
        let mut ring = Keyring::new().with("Maya", laptop.verifying_key());
        let maya = member_id_of(&laptop.verifying_key());
        assert!(!ring.set_devices(&maya, vec![device(&stranger, None), device(&desk, None)]));
        assert!(!ring.set_devices("0000000000000000", vec![device(&laptop, None)]));
        assert!(!ring.verifies(&maya, b"m", &sig(&stranger, b"m")));
        assert!(!ring.verifies(&maya, b"m", &sig(&desk, b"m")));
    }
}
