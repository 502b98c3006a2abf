//! The signed list of one person's devices.
//!
//! A person is the set of their devices. Each device has its own Ed25519 key; the list
//! names them, and every version of it is signed by a device the previous version already
//! named, so whoever holds one version (the person's other devices, later the partner's)
//! can check the next one without trusting whoever delivered it. The first version is
//! signed by the person's first device, whose key the person's member id is made from.
//!
//! The list is kept and sent as its exact bytes beside the signature, so a field added by
//! a newer Haven is still covered by the signature an older one checks.

use chrono::DateTime;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::model::agreement::member_id_of;
use crate::model::keyring::DeviceKey;

/// More devices than one person has; a list naming more is refused whole.
pub const MAX_DEVICES: usize = 64;
/// The largest encoded signed list accepted (64 devices need about 25 KB).
pub const MAX_LIST_BYTES: usize = 64 * 1024;
/// The longest device name, in characters.
pub const MAX_NAME: usize = 64;
/// What a signature covers before the list's bytes, so it can never be read as another
/// kind of statement.
const DOMAIN: &[u8] = b"haven device list v1\n";

/// One device of the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// The device's Ed25519 key, hex: it signs lists (and later this member's statements).
    pub key: String,
    /// The device's Noise static key, hex: the one its sessions are pinned to.
    pub noise_key: String,
    /// What the person called it (`init --join --name`).
    pub name: String,
    /// RFC 3339.
    pub added: String,
    /// The id of the device that added it; none for the first device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<Revocation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// RFC 3339.
    pub at: String,
    /// The id of the device that revoked it (itself, for `device leave`).
    pub by: String,
}

impl Device {
    /// A short id made from the key, as a member id is (the first device's id *is* the
    /// member id).
    pub fn id(&self) -> String {
        parse_key(&self.key)
            .map(|k| member_id_of(&k))
            .unwrap_or_default()
    }

    pub fn is_active(&self) -> bool {
        self.revoked.is_none()
    }
}

/// A version of the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceList {
    /// The person's member id (their first device's id).
    pub member_id: String,
    /// Grows by one with every change.
    pub version: u64,
    pub devices: Vec<Device>,
}

impl DeviceList {
    /// The first version: the person's first device alone.
    pub fn first(device: Device) -> DeviceList {
        DeviceList {
            member_id: device.id(),
            version: 1,
            devices: vec![device],
        }
    }

    /// The next version, with `device` added by `by`.
    pub fn with_added(&self, mut device: Device, by: &str) -> DeviceList {
        device.added_by = Some(by.to_string());
        let mut next = self.clone();
        next.version += 1;
        next.devices.push(device);
        next
    }

    /// The next version, with the device `id` revoked by `by` at `at`.
    pub fn with_revoked(&self, id: &str, by: &str, at: &str) -> DeviceList {
        let mut next = self.clone();
        next.version += 1;
        for d in &mut next.devices {
            if d.id() == id && d.revoked.is_none() {
                d.revoked = Some(Revocation {
                    at: at.to_string(),
                    by: by.to_string(),
                });
            }
        }
        next
    }

    pub fn find(&self, id: &str) -> Option<&Device> {
        self.devices.iter().find(|d| d.id() == id)
    }

    /// The device whose Noise static key is `noise_key` (hex), revoked or not.
    pub fn by_noise_key(&self, noise_key: &str) -> Option<&Device> {
        self.devices.iter().find(|d| d.noise_key == noise_key)
    }

    /// Every device's signing key with when it was revoked, in the list's order (the
    /// person's first device first): what a keyring checks this person's signatures with.
    pub fn keys(&self) -> Vec<DeviceKey> {
        self.devices
            .iter()
            .filter_map(|d| {
                Some(DeviceKey {
                    key: parse_key(&d.key)?,
                    revoked: match &d.revoked {
                        Some(r) => Some(DateTime::parse_from_rfc3339(&r.at).ok()?),
                        None => None,
                    },
                })
            })
            .collect()
    }

    pub fn active(&self) -> impl Iterator<Item = &Device> {
        self.devices.iter().filter(|d| d.is_active())
    }
}

/// A list as kept and sent: its exact bytes, who signed them, and the signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedDeviceList {
    /// The [`DeviceList`] as JSON, exactly as signed.
    pub list: String,
    /// The signing device's id.
    pub signer: String,
    /// Ed25519, hex, over [`DOMAIN`] and `list`.
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceListError {
    #[error("a device list of {0} bytes is larger than Haven accepts ({MAX_LIST_BYTES})")]
    TooLarge(usize),
    #[error("a device list naming {0} devices is more than Haven accepts ({MAX_DEVICES})")]
    TooMany(usize),
    #[error("a malformed device list: {0}")]
    Malformed(String),
    #[error("the device list's signature does not verify")]
    BadSignature,
    #[error("the device list is signed by a device it does not name")]
    UnknownSigner,
    #[error("the device list is signed by a device that was revoked")]
    RevokedSigner,
    #[error("the device list is another person's")]
    OtherPerson,
    #[error("an older device list (version {got}; version {known} is known here)")]
    Stale { known: u64, got: u64 },
    #[error(
        "a different device list with the same version ({0}): two devices changed the list at once"
    )]
    Conflict(u64),
    #[error("the device list drops or rewrites a device it named before ({0})")]
    Rewritten(String),
}

/// What a newer list means for the one known here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// The same version, nothing to do.
    Same,
    /// A newer version that follows from the known one.
    Newer(DeviceList),
}

fn parse_key(hex_key: &str) -> Option<VerifyingKey> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(hex_key, &mut bytes).ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

fn malformed(what: impl Into<String>) -> DeviceListError {
    DeviceListError::Malformed(what.into())
}

/// A name a person can type back (`device revoke NAME`) and a terminal prints as it is.
pub fn check_name(name: &str) -> Result<(), String> {
    let count = name.chars().count();
    if name.trim().is_empty() || count > MAX_NAME {
        return Err(format!(
            "a device name has 1 to {MAX_NAME} characters, not {count}"
        ));
    }
    if name.chars().any(char::is_control) || name.trim() != name {
        return Err("a device name has no control characters and no spaces at its ends".into());
    }
    Ok(())
}

impl SignedDeviceList {
    pub fn sign(list: &DeviceList, key: &SigningKey) -> SignedDeviceList {
        let json = serde_json::to_string(list).unwrap_or_default();
        let signature = key.sign(&[DOMAIN, json.as_bytes()].concat());
        SignedDeviceList {
            list: json,
            signer: member_id_of(&key.verifying_key()),
            signature: hex::encode(signature.to_bytes()),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads an encoded list, refusing an oversized one before parsing it.
    pub fn decode(bytes: &[u8]) -> Result<SignedDeviceList, DeviceListError> {
        if bytes.len() > MAX_LIST_BYTES {
            return Err(DeviceListError::TooLarge(bytes.len()));
        }
        serde_json::from_slice(bytes).map_err(|e| malformed(e.to_string()))
    }

    /// Checks the list's own rules and its signature; returns the list.
    pub fn open(&self) -> Result<DeviceList, DeviceListError> {
        if self.list.len() > MAX_LIST_BYTES {
            return Err(DeviceListError::TooLarge(self.list.len()));
        }
        let list: DeviceList =
            serde_json::from_str(&self.list).map_err(|e| malformed(e.to_string()))?;
        check_list(&list)?;
        let signer = list
            .find(&self.signer)
            .ok_or(DeviceListError::UnknownSigner)?;
        // A device may sign its own revocation (`device leave`), nobody else's list.
        match &signer.revoked {
            Some(r) if r.by != self.signer => return Err(DeviceListError::RevokedSigner),
            _ => {}
        }
        let key = parse_key(&signer.key).ok_or_else(|| malformed("a device key"))?;
        let mut sig = [0u8; 64];
        hex::decode_to_slice(&self.signature, &mut sig)
            .map_err(|_| DeviceListError::BadSignature)?;
        key.verify(
            &[DOMAIN, self.list.as_bytes()].concat(),
            &Signature::from_bytes(&sig),
        )
        .map_err(|_| DeviceListError::BadSignature)?;
        Ok(list)
    }

    /// Whether this list may replace `known`: signed by a device `known` names and has not
    /// revoked, the same person, a later version, and every device `known` names still
    /// there as it was (a revocation, once made, stays).
    pub fn update_of(&self, known: &DeviceList) -> Result<Update, DeviceListError> {
        let list = self.open()?;
        if list.member_id != known.member_id {
            return Err(DeviceListError::OtherPerson);
        }
        if list.version < known.version {
            return Err(DeviceListError::Stale {
                known: known.version,
                got: list.version,
            });
        }
        if list.version == known.version {
            return if &list == known {
                Ok(Update::Same)
            } else {
                Err(DeviceListError::Conflict(list.version))
            };
        }
        match known.find(&self.signer) {
            None => return Err(DeviceListError::UnknownSigner),
            Some(d) if !d.is_active() => return Err(DeviceListError::RevokedSigner),
            Some(_) => {}
        }
        for before in &known.devices {
            let Some(now) = list.devices.iter().find(|d| d.key == before.key) else {
                return Err(DeviceListError::Rewritten(before.name.clone()));
            };
            let same = now.noise_key == before.noise_key
                && now.name == before.name
                && now.added == before.added
                && now.added_by == before.added_by
                && (before.revoked.is_none() || now.revoked == before.revoked);
            if !same {
                return Err(DeviceListError::Rewritten(before.name.clone()));
            }
        }
        Ok(Update::Newer(list))
    }
}

/// Follows a member's device list, as the partner's devices do, from `known` (`None`:
/// nothing known yet) through `published` (the versions after it, oldest first, as the
/// couple document holds them), each checked against the one before it
/// ([`SignedDeviceList::update_of`]). When nothing is known, the first list taken must be
/// signed by the member's first device, whose key (`member_key`, hex) was pinned at
/// pairing. Versions that do not follow (junk, forgeries, another person's) are skipped.
/// Returns the newest list reached, if it is newer than `known`.
pub fn follow(
    member_key: &str,
    known: Option<&SignedDeviceList>,
    published: &[String],
) -> Option<SignedDeviceList> {
    let mut current: Option<(SignedDeviceList, DeviceList)> =
        known.and_then(|k| Some((k.clone(), k.open().ok()?)));
    let mut advanced = false;
    for json in published {
        let Ok(candidate) = SignedDeviceList::decode(json.as_bytes()) else {
            continue;
        };
        let next = match &current {
            Some((_, list)) => match candidate.update_of(list) {
                Ok(Update::Newer(next)) => next,
                _ => continue,
            },
            None => match candidate.open() {
                Ok(list)
                    if list.devices[0].key == member_key && candidate.signer == list.member_id =>
                {
                    list
                }
                _ => continue,
            },
        };
        current = Some((candidate, next));
        advanced = true;
    }
    current.filter(|_| advanced).map(|(signed, _)| signed)
}

/// The rules a list holds by itself, whoever signed it.
fn check_list(list: &DeviceList) -> Result<(), DeviceListError> {
    if list.devices.len() > MAX_DEVICES {
        return Err(DeviceListError::TooMany(list.devices.len()));
    }
    if list.devices.is_empty() || list.version == 0 {
        return Err(malformed("an empty list"));
    }
    let first = &list.devices[0];
    if first.id() != list.member_id || first.added_by.is_some() {
        return Err(malformed("the first device is not the person's"));
    }
    let mut keys = std::collections::BTreeSet::new();
    let mut noise = std::collections::BTreeSet::new();
    let mut names = std::collections::BTreeSet::new();
    for d in &list.devices {
        parse_key(&d.key).ok_or_else(|| malformed("a device key"))?;
        let mut n = [0u8; 32];
        hex::decode_to_slice(&d.noise_key, &mut n).map_err(|_| malformed("a Noise key"))?;
        check_name(&d.name).map_err(malformed)?;
        DateTime::parse_from_rfc3339(&d.added).map_err(|_| malformed("a date"))?;
        if let Some(r) = &d.revoked {
            let at = DateTime::parse_from_rfc3339(&r.at).map_err(|_| malformed("a date"))?;
            // A revoked device's signatures count up to its revocation: one dated ahead
            // (a device leaving "in 2099") would keep them counting. An hour of clock
            // difference between devices is allowed.
            if at.with_timezone(&chrono::Utc) > chrono::Utc::now() + chrono::Duration::hours(1) {
                return Err(malformed("a revocation dated in the future"));
            }
        }
        if !keys.insert(d.key.as_str()) || !noise.insert(d.noise_key.as_str()) {
            return Err(malformed("a device named twice"));
        }
        if d.is_active() && !names.insert(d.name.as_str()) {
            return Err(malformed(format!("two devices named {:?}", d.name)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&crate::crypto::random_bytes::<32>())
    }

    fn device(k: &SigningKey, name: &str) -> Device {
        Device {
            key: hex::encode(k.verifying_key().as_bytes()),
            noise_key: hex::encode(crate::crypto::random_bytes::<32>()),
            name: name.into(),
            added: "2026-12-05T10:00:00+01:00".into(),
            added_by: None,
            revoked: None,
        }
    }

    /// Maya's laptop, then her second laptop added by it.
    fn two() -> (SigningKey, SigningKey, DeviceList, DeviceList) {
        let (a, b) = (key(), key());
        let first = DeviceList::first(device(&a, "laptop"));
        let second = first.with_added(device(&b, "desk"), &first.member_id);
        (a, b, first, second)
    }

    #[test]
    fn a_list_signed_by_a_named_device_opens_and_follows_the_one_before() {
        let (a, b, first, second) = two();
        let signed = SignedDeviceList::sign(&second, &a);
        let back = SignedDeviceList::decode(&signed.encode()).expect("decode");
        assert_eq!(back.open().expect("open"), second);
        assert_eq!(back.update_of(&first), Ok(Update::Newer(second.clone())));
        assert_eq!(back.update_of(&second), Ok(Update::Same));
        // The new device may sign the next version too.
        let mut third = second.clone();
        third.version += 1;
        third.devices[0].revoked = Some(Revocation {
            at: "2026-12-05T11:00:00Z".into(),
            by: second.devices[1].id(),
        });
        let by_b = SignedDeviceList::sign(&third, &b);
        assert_eq!(by_b.update_of(&second), Ok(Update::Newer(third.clone())));
        // The revoked laptop can sign no later list.
        let mut fourth = third.clone();
        fourth.version += 1;
        assert_eq!(
            SignedDeviceList::sign(&fourth, &a).update_of(&third),
            Err(DeviceListError::RevokedSigner)
        );
    }

    fn json(signed: &SignedDeviceList) -> String {
        String::from_utf8(signed.encode()).expect("utf-8")
    }

    #[test]
    fn the_partner_follows_a_list_from_the_pinned_key_through_each_version() {
        let (a, b, _, second) = two();
        let member_key = second.devices[0].key.clone();
        let c = key();
        let third = second.with_added(device(&c, "phone"), &second.devices[1].id());
        let (second_s, third_s) = (
            SignedDeviceList::sign(&second, &a),
            SignedDeviceList::sign(&third, &b),
        );
        // Nothing known: taken from the list the first device signed, then the next.
        let newest = follow(&member_key, None, &[json(&second_s), json(&third_s)]);
        assert_eq!(newest.as_ref(), Some(&third_s));
        // Known already: nothing newer, nothing returned.
        assert_eq!(follow(&member_key, Some(&third_s), &[json(&third_s)]), None);
        // From a known version, only what follows it.
        assert_eq!(
            follow(&member_key, Some(&second_s), &[json(&third_s)]),
            Some(third_s.clone())
        );
        // With nothing known, a list the first device did not sign is no start.
        assert_eq!(follow(&member_key, None, &[json(&third_s)]), None);
    }

    #[test]
    fn the_partner_skips_junk_forgeries_and_another_persons_list() {
        let (a, _, _, second) = two();
        let member_key = second.devices[0].key.clone();
        let signed = SignedDeviceList::sign(&second, &a);
        // A stranger's own list, whatever it names, starts nothing for this member.
        let (s, _, _, strangers) = two();
        let theirs = SignedDeviceList::sign(&strangers, &s);
        // A version signed by a key the list does not name.
        let mut forged = second.with_added(device(&key(), "thief"), &second.member_id);
        forged.version += 1;
        let forged = SignedDeviceList::sign(&forged, &key());
        let published = [
            "not json".to_string(),
            json(&theirs),
            json(&signed),
            json(&forged),
            "{\"list\":\"\",\"signer\":\"\",\"signature\":\"\"}".to_string(),
        ];
        assert_eq!(follow(&member_key, None, &published), Some(signed.clone()));
        assert_eq!(follow(&member_key, Some(&signed), &published), None);
    }

    #[test]
    fn a_stranger_a_forged_signature_or_an_older_list_is_refused() {
        let (a, _, first, second) = two();
        let stranger = key();
        assert_eq!(
            SignedDeviceList::sign(&second, &stranger).open(),
            Err(DeviceListError::UnknownSigner)
        );
        let mut forged = SignedDeviceList::sign(&second, &a);
        forged.list = forged.list.replace("desk", "dusk");
        assert_eq!(forged.open(), Err(DeviceListError::BadSignature));
        assert_eq!(
            SignedDeviceList::sign(&first, &a).update_of(&second),
            Err(DeviceListError::Stale { known: 2, got: 1 })
        );
        // The device just added cannot have signed the list that adds it, as far as the
        // known list is concerned.
        let (_, b, first, second) = two();
        assert_eq!(
            SignedDeviceList::sign(&second, &b).update_of(&first),
            Err(DeviceListError::UnknownSigner)
        );
    }

    #[test]
    fn a_list_cannot_undo_a_revocation_or_drop_a_device() {
        let (a, b, _, second) = two();
        let mut revoked = second.clone();
        revoked.version = 3;
        revoked.devices[1].revoked = Some(Revocation {
            at: "2026-12-05T11:00:00Z".into(),
            by: second.devices[0].id(),
        });
        let mut undone = revoked.clone();
        undone.version = 4;
        undone.devices[1].revoked = None;
        assert_eq!(
            SignedDeviceList::sign(&undone, &a).update_of(&revoked),
            Err(DeviceListError::Rewritten("desk".into()))
        );
        let mut dropped = second.clone();
        dropped.version = 3;
        dropped.devices.pop();
        assert_eq!(
            SignedDeviceList::sign(&dropped, &a).update_of(&second),
            Err(DeviceListError::Rewritten("desk".into()))
        );
        // Two devices changing the list at once: neither version replaces the other.
        let mut other = second.clone();
        other.version = 3;
        other.devices[0].name = "old".into();
        let mut renamed = second.clone();
        renamed.version = 3;
        renamed.devices[1].name = "study".into();
        assert_eq!(
            SignedDeviceList::sign(&renamed, &b).update_of(&other),
            Err(DeviceListError::Conflict(3))
        );
    }

    /// A device that leaves "in 2099" would keep signing for the person until then.
    #[test]
    fn a_revocation_dated_in_the_future_is_refused() {
        let (_, b, _, second) = two();
        let desk = second.devices[1].id();
        let future = second.with_revoked(&desk, &desk, "2099-01-01T00:00:00Z");
        assert!(matches!(
            SignedDeviceList::sign(&future, &b).open(),
            Err(DeviceListError::Malformed(m)) if m.contains("future")
        ));
        let now = chrono::Utc::now().to_rfc3339();
        let today = second.with_revoked(&desk, &desk, &now);
        assert!(SignedDeviceList::sign(&today, &b).open().is_ok());
    }

    #[test]
    fn bad_shapes_are_refused_with_their_reason() {
        let (a, _, _, second) = two();
        let mut many = second.clone();
        for i in 0..10_000 {
            let mut d = second.devices[1].clone();
            d.key = hex::encode(key().verifying_key().as_bytes());
            d.name = format!("d{i}");
            many.devices.push(d);
        }
        let signed = SignedDeviceList::sign(&many, &a);
        assert!(matches!(
            SignedDeviceList::decode(&signed.encode()),
            Err(DeviceListError::TooLarge(_))
        ));
        assert!(matches!(signed.open(), Err(DeviceListError::TooLarge(_))));
        many.devices.truncate(MAX_DEVICES + 1);
        let signed = SignedDeviceList::sign(&many, &a);
        assert_eq!(
            signed.open(),
            Err(DeviceListError::TooMany(MAX_DEVICES + 1))
        );
        for name in ["", " desk", "de\x1b[2Jsk", &"x".repeat(MAX_NAME + 1)] {
            let mut bad = second.clone();
            bad.devices[1].name = name.to_string();
            assert!(
                matches!(
                    SignedDeviceList::sign(&bad, &a).open(),
                    Err(DeviceListError::Malformed(_))
                ),
                "{name:?}"
            );
        }
        let mut twice = second.clone();
        twice.devices[1].name = "laptop".into();
        assert!(matches!(
            SignedDeviceList::sign(&twice, &a).open(),
            Err(DeviceListError::Malformed(_))
        ));
        let mut other_person = second.clone();
        other_person.member_id = "0011223344556677".into();
        assert!(matches!(
            SignedDeviceList::sign(&other_person, &a).open(),
            Err(DeviceListError::Malformed(_))
        ));
    }

    proptest! {
        /// Whatever bytes arrive, reading and checking them returns, never panics.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(signed) = SignedDeviceList::decode(&bytes) {
                let _ = signed.open();
            }
        }

        /// Whatever the couple document holds as versions (junk, or a real list with any
        /// byte changed), following them never panics, and never reaches a list whose text
        /// was changed.
        #[test]
        fn following_junk_never_panics_nor_takes_a_changed_list(
            junk in proptest::collection::vec(".{0,80}", 0..4),
            at in any::<proptest::sample::Index>(),
        ) {
            let (a, _, _, second) = two();
            let member_key = second.devices[0].key.clone();
            let signed = SignedDeviceList::sign(&second, &a);
            let mut bytes = signed.list.clone().into_bytes();
            let i = at.index(bytes.len());
            bytes[i] = bytes[i].wrapping_add(1);
            let mut changed = signed.clone();
            changed.list = String::from_utf8_lossy(&bytes).into_owned();
            let mut published = junk.clone();
            published.push(json(&changed));
            prop_assert_eq!(follow(&member_key, None, &published), None);
            published.push(json(&signed));
            prop_assert_eq!(follow(&member_key, None, &published), Some(signed));
        }

        /// Flipping any byte of a signed list's text breaks it.
        #[test]
        fn any_change_to_the_signed_text_is_caught(at in any::<proptest::sample::Index>(), bit in 0u8..8) {
            let (a, _, _, second) = two();
            let mut signed = SignedDeviceList::sign(&second, &a);
            let mut bytes = signed.list.clone().into_bytes();
            let i = at.index(bytes.len());
            bytes[i] ^= 1 << bit;
            if let Ok(text) = String::from_utf8(bytes) {
                signed.list = text;
                prop_assert!(signed.open().is_err());
            }
        }
    }
}
