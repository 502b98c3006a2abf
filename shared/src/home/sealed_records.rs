//! The sealed records of the `peer` table: the paired partner, the farewell left after an
//! unpair, the automerge sync state and the seen marks. Each is one age file (see
//! `crypto::blob`), authenticated as a row like every other.

use zeroize::Zeroizing;

use super::{HomeError, OpenHome};
use crate::crypto::{open_blob, seal_blob, BlobError};
use crate::devices::OwnDevices;
use crate::partner_record::{FormerPartner, Partner};

/// The `peer` table keys.
/// The peer row holding what this person has seen of the partner's items.
pub const SEEN_KEY: &str = "seen";
pub const PARTNER_KEY: &str = "partner";
pub const SYNC_STATE_KEY: &str = "sync_state";
/// After `unpair`: a [`FormerPartner`] (a hash of the former partner's Noise key, never the
/// key, and the pairing's id), so that laptop can be told it was unpaired when it next calls.
pub const FAREWELL_KEY: &str = "farewell";
/// This person's own devices ([`OwnDevices`]), once a second one was linked.
pub const DEVICES_KEY: &str = "devices";

impl OpenHome {
    /// A sealed row of the `peer` table, opened.
    fn open_peer_blob(&self, key: &'static str) -> Result<Option<Zeroizing<Vec<u8>>>, HomeError> {
        match self.store.peer_blob(key)? {
            Some(sealed) => Ok(Some(open_blob(self.identity.storage(), key, &sealed)?)),
            None => Ok(None),
        }
    }

    /// Seals `bytes` to this home and stores them as a row of the `peer` table.
    fn put_peer_blob(&mut self, key: &'static str, bytes: &[u8]) -> Result<(), HomeError> {
        let sealed = seal_blob(&self.identity.recipient(), key, bytes)?;
        self.store.put_peer_blob(key, &sealed)?;
        Ok(())
    }

    /// This person's own devices, if any other was ever linked.
    pub fn own_devices(&self) -> Result<Option<OwnDevices>, HomeError> {
        let Some(json) = self.open_peer_blob(DEVICES_KEY)? else {
            return Ok(None);
        };
        let devices =
            serde_json::from_slice(&json).map_err(|e| BlobError::Malformed(e.to_string()))?;
        Ok(Some(devices))
    }

    /// Stores (replaces) what this device keeps about the person's devices, sealed.
    pub fn save_own_devices(&mut self, devices: &OwnDevices) -> Result<(), HomeError> {
        let json = Zeroizing::new(
            serde_json::to_vec(devices).map_err(|e| BlobError::Malformed(e.to_string()))?,
        );
        self.put_peer_blob(DEVICES_KEY, &json)?;
        if self.put_device_list(devices)? {
            self.persist_couple()?;
        }
        Ok(())
    }

    /// Puts the current version of the person's device list into the couple document,
    /// where the partner's devices follow it (`devices::list::follow`), and notes whose
    /// member this device signs for. True when the document did not hold it yet (persist
    /// it then).
    pub(super) fn put_device_list(&mut self, devices: &OwnDevices) -> Result<bool, HomeError> {
        let list = devices
            .list
            .open()
            .map_err(|e| BlobError::Malformed(e.to_string()))?;
        self.member = Some(list.member_id.clone());
        let json = String::from_utf8(devices.list.encode())
            .map_err(|e| BlobError::Malformed(e.to_string()))?;
        Ok(self
            .couple
            .put_device_list(&list.member_id, list.version, &json)?)
    }

    /// The paired partner, if any.
    pub fn partner(&self) -> Result<Option<Partner>, HomeError> {
        let Some(json) = self.open_peer_blob(PARTNER_KEY)? else {
            return Ok(None);
        };
        let partner =
            serde_json::from_slice(&json).map_err(|e| BlobError::Malformed(e.to_string()))?;
        Ok(Some(partner))
    }

    /// Stores (replaces) the partner record, sealed; durable when this returns.
    pub fn save_partner(&mut self, partner: &Partner) -> Result<(), HomeError> {
        let json = Zeroizing::new(
            serde_json::to_vec(partner).map_err(|e| BlobError::Malformed(e.to_string()))?,
        );
        self.put_peer_blob(PARTNER_KEY, &json)
    }

    /// Forgets the partner's keys and the sync state, keeping `farewell`, by which that
    /// laptop is told it was unpaired, and what this device keeps about the person's own
    /// devices (a pairing or an unpairing must not unlink it).
    pub fn forget_partner(&mut self, farewell: Option<FormerPartner>) -> Result<(), HomeError> {
        let sealed = farewell
            .map(|f| {
                let bytes = [f.key_hash, f.pairing].concat();
                seal_blob(&self.identity.recipient(), FAREWELL_KEY, &bytes)
            })
            .transpose()?;
        // The person's own devices are not the partner's: their row stays (when the table
        // verifies; a tampered one is cleared whole, as before).
        let devices = self.store.peer_blob(DEVICES_KEY).ok().flatten();
        let mut keep: Vec<(&str, &[u8])> = Vec::new();
        if let Some(s) = sealed.as_deref() {
            keep.push((FAREWELL_KEY, s));
        }
        if let Some(d) = devices.as_deref() {
            keep.push((DEVICES_KEY, d));
        }
        self.store.clear_peer(&keep)?;
        Ok(())
    }

    /// What [`Self::forget_partner`] kept, if any. A farewell kept by an older Haven (the
    /// key's hash alone) names no pairing and is not answered.
    pub fn farewell(&self) -> Result<Option<FormerPartner>, HomeError> {
        Ok(self.open_peer_blob(FAREWELL_KEY)?.and_then(|bytes| {
            let (key_hash, pairing) = bytes.split_at_checked(32)?;
            Some(FormerPartner {
                key_hash: key_hash.try_into().ok()?,
                pairing: pairing.try_into().ok()?,
            })
        }))
    }

    /// The automerge sync state with the partner, as `sync::State::encode` wrote it.
    pub fn sync_state(&self) -> Result<Option<Vec<u8>>, HomeError> {
        Ok(self.open_peer_blob(SYNC_STATE_KEY)?.map(|b| b.to_vec()))
    }

    pub fn save_sync_state(&mut self, encoded: &[u8]) -> Result<(), HomeError> {
        self.put_peer_blob(SYNC_STATE_KEY, encoded)
    }

    /// What this person has looked at of the partner's items (see `model::waiting`); `None`
    /// before the first time. Kept on this laptop only, sealed like the sync state.
    pub fn seen_marks(&self) -> Result<Option<std::collections::BTreeSet<String>>, HomeError> {
        let Some(json) = self.open_peer_blob(SEEN_KEY)? else {
            return Ok(None);
        };
        Ok(Some(
            serde_json::from_slice(&json).map_err(|e| BlobError::Malformed(e.to_string()))?,
        ))
    }

    pub fn save_seen_marks(
        &mut self,
        seen: &std::collections::BTreeSet<String>,
    ) -> Result<(), HomeError> {
        let json = serde_json::to_vec(seen).map_err(|e| BlobError::Malformed(e.to_string()))?;
        self.put_peer_blob(SEEN_KEY, &json)
    }
}
