//! The paired partner: the keys pinned at pairing, the secrets pairing derived, and where
//! the partner was last seen.
//!
//! The record and the automerge sync state are stored as sealed blobs in `haven.db`'s
//! `peer` table, encrypted to the home's own recipient like every chunk: the transport PSK
//! and the discovery secret are as private as the keys in `identity.age`, and even the
//! partner's name is personal.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use std::fmt;
use zeroize::Zeroizing;

use crate::ed25519_dalek::VerifyingKey;

/// A 32-byte secret, hex in the sealed record, wiped on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Key32(pub Zeroizing<[u8; 32]>);

impl Key32 {
    pub fn new(bytes: [u8; 32]) -> Key32 {
        Key32(Zeroizing::new(bytes))
    }
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for Key32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key32(..)")
    }
}

impl Serialize for Key32 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&Zeroizing::new(hex::encode(*self.0)))
    }
}

impl<'de> Deserialize<'de> for Key32 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Zeroizing::new(String::deserialize(d)?);
        let mut out = [0u8; 32];
        hex::decode_to_slice(text.as_bytes(), &mut out).map_err(serde::de::Error::custom)?;
        Ok(Key32::new(out))
    }
}

/// Everything this device knows about its partner's device.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Partner {
    pub name: String,
    /// The partner's member id in the couple document.
    pub member_id: String,
    /// The Ed25519 key that signs the partner's consents (hex).
    pub signing_key: String,
    /// The partner's Noise static public key (hex): the only key the transport accepts.
    pub noise_key: String,
    /// The Noise IKpsk2 pre-shared key both devices derived at pairing.
    pub psk: Key32,
    /// Keys the rotating mDNS instance names (see the daemon's discovery).
    pub discovery: Key32,
    pub paired_at: DateTime<FixedOffset>,
    /// Addresses added with `haven partner address HOST:PORT`, tried as well as mDNS.
    #[serde(default)]
    pub addresses: Vec<String>,
    /// The address the partner was last reached at, re-dialled before mDNS finds it.
    #[serde(default)]
    pub last_address: Option<String>,
    #[serde(default)]
    pub last_seen: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    pub last_synced: Option<DateTime<FixedOffset>>,
    /// The newest handshake timestamp accepted from the partner: a first message that is
    /// not newer is a replay, also after a restart.
    #[serde(default)]
    pub last_handshake: u64,
    /// This laptop's iroh key for this pairing, for meeting the partner across networks
    /// (the daemon's `peer::apart`). Made at the first unlock after pairing; its public
    /// half is named in our member record of the couple document.
    #[serde(default)]
    pub endpoint_secret: Option<Key32>,
    /// The couple's own relay (`haven partner relay URL`), token included: a secret.
    #[serde(default)]
    pub relay: Option<String>,
    /// The post-quantum secrets sessions agreed on (the daemon's `peer::pq`); `None`
    /// until the first session after pairing (or after an upgrade) made one.
    #[serde(default)]
    pub pq: Option<PqSecrets>,
    /// The newest version of the partner's signed device list this laptop checked (its
    /// JSON, see `devices::list::follow`): whose signatures count in the partner's name.
    /// Kept here so a list deleted from the couple document later cannot be forgotten.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices: Option<String>,
}

/// One epoch's post-quantum secret.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PqEpoch {
    pub epoch: u32,
    pub secret: Key32,
}

/// The post-quantum secrets of the last few epochs, newest first: a handshake uses the
/// newest and is answered with any of them (a partner that missed the last reply, or two
/// sessions that raced, still connect).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PqSecrets {
    pub epochs: Vec<PqEpoch>,
    pub made_at: DateTime<FixedOffset>,
}

impl PqSecrets {
    /// The secret of `epoch`, if this laptop still has it.
    pub fn of(&self, epoch: u32) -> Option<&Key32> {
        self.epochs
            .iter()
            .find(|e| e.epoch == epoch)
            .map(|e| &e.secret)
    }

    /// The epoch a handshake names, with its secret.
    pub fn newest(&self) -> Option<&PqEpoch> {
        self.epochs.first()
    }

    /// Adds the newest epoch, keeping at most `keep`.
    pub fn push(&mut self, epoch: PqEpoch, keep: usize, at: DateTime<FixedOffset>) {
        self.epochs.retain(|e| e.epoch != epoch.epoch);
        self.epochs.insert(0, epoch);
        self.epochs.truncate(keep);
        self.made_at = at;
    }
}

impl Partner {
    /// Names this pairing without revealing its secret: both laptops compute the same id
    /// from the transport PSK, which is new at every pairing.
    pub fn pairing_id(&self) -> [u8; 32] {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(b"haven pairing id v1");
        h.update(self.psk.bytes());
        h.finalize().into()
    }

    pub fn verifying_key(&self) -> Option<VerifyingKey> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(&self.signing_key, &mut bytes).ok()?;
        VerifyingKey::from_bytes(&bytes).ok()
    }

    pub fn noise_public(&self) -> Option<[u8; 32]> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(&self.noise_key, &mut bytes).ok()?;
        Some(bytes)
    }
}

/// What is kept of a former partner after `unpair`: enough to answer its next call with a
/// farewell bound to the pairing that ended (so a farewell captured then cannot end a
/// later pairing of the same two laptops), and nothing that names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormerPartner {
    /// SHA-256 of the former partner's Noise key.
    pub key_hash: [u8; 32],
    /// [`Partner::pairing_id`] of the pairing that ended.
    pub pairing: [u8; 32],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_hidden_from_debug_and_round_trip_as_hex() {
        let k = Key32::new([7; 32]);
        assert_eq!(format!("{k:?}"), "Key32(..)");
        let json = serde_json::to_string(&k).expect("json");
        assert_eq!(json, format!("\"{}\"", "07".repeat(32)));
        assert_eq!(serde_json::from_str::<Key32>(&json).expect("back"), k);
        assert!(serde_json::from_str::<Key32>("\"zz\"").is_err());
    }
}
