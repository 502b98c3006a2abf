//! The journal's sync between one person's own devices, with no transport in it.
//!
//! Entry by entry, not automerge's history: each device compacts and purges its journal
//! on its own (a purge rewrites the document with no history), so two devices' journals
//! share no automerge history to sync. What they share is the entries. Each side says what
//! it holds ([`Summary`]: an id and a short hash per entry, and the deletions); the other
//! answers with what the first lacks or holds differently ([`Changes`]); both then hold
//! the same entries, and say so with a [`Digest`](DeviceMessage::Digest).
//!
//! The rules, the same on every device so every device ends with the same journal:
//! - the same entry changed on two devices: the one changed last (`updated_at`) is kept,
//!   and on a tie the one with the larger hash;
//! - a deletion wins over every version of the entry, earlier or later: deleting an entry
//!   on one device deletes it on all of them (a tombstone, an id and a time, is kept);
//! - a purge on one device asks the others to purge too (their history of deleted entries
//!   goes), when they next hear from it.

use sha2::{Digest as _, Sha256};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::SignedDeviceList;
use crate::model::is_valid_id;
use crate::model::journal::Entry;
use crate::partner_record::Key32;

/// Raised when the messages change shape; a device on another protocol is told to update.
pub const PROTOCOL: u16 = 1;
/// How much entry text one [`Changes`] message carries, so a long journal travels in
/// pieces well under the transport's limit.
pub const BATCH_BYTES: usize = 4 * 1024 * 1024;

/// A deletion, kept so that it reaches every device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    pub id: String,
    /// RFC 3339.
    pub at: String,
}

/// What a device holds: each entry's id and short hash, its deletions, its last purge.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub entries: Vec<(String, String)>,
    pub tombstones: Vec<Tombstone>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purged: Option<String>,
}

/// Entries and deletions the other device lacks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Changes {
    pub entries: Vec<Entry>,
    pub tombstones: Vec<Tombstone>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purged: Option<String>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.tombstones.is_empty() && self.purged.is_none()
    }
}

/// What two devices say to each other about the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum DeviceMessage {
    /// First, each way: the protocol, the sender's digest, the version of its device list
    /// and the generation of its secret.
    Hello {
        protocol: u16,
        digest: String,
        #[serde(default)]
        list_version: u64,
        #[serde(default)]
        generation: u32,
        /// The sender syncs the couple document too ([`DeviceMessage::Couple`]); an older
        /// Haven does not say so, and is sent none of it.
        #[serde(default)]
        couple: bool,
        /// The sender gives and shows marks ([`DeviceMessage::Mark`]); an older Haven
        /// does not say so, and is asked for none.
        #[serde(default)]
        marks: bool,
    },
    /// After the other's `Hello`: the newest mark the other gave the sender, if any
    /// (`devices::copies`): a copy of a device shows an older one than the original.
    Mark {
        shown: Option<String>,
    },
    /// A fresh mark for the receiver to keep and show next time.
    NewMark {
        mark: String,
    },
    /// The answer to a [`DeviceMessage::NewMark`]: kept.
    MarkKept {
        mark: String,
    },
    /// The receiver runs in two homes (it showed an older mark than another copy of it
    /// did): this device refuses it, both copies, until the person revokes it.
    TwoHomes,
    /// The sender syncs the couple document too: one automerge sync message (hex), as
    /// with the partner, so an agreement answered on any of the person's devices reaches
    /// the others and, through whichever is paired, the partner.
    Couple {
        sync: String,
    },
    /// Who the partner is, from a device that paired with them: what another of the
    /// person's devices needs to check the partner's signatures. Never the pairing's
    /// secrets: only the paired device talks to the partner.
    Partner {
        card: PartnerCard,
    },
    /// From a device that is not paired (any more): a card it gave before no longer holds.
    NoPartner,
    /// The sender's device list, newer than the other's.
    List {
        list: SignedDeviceList,
    },
    /// The answer to a `List` the receiver holds now (kept, or already known): a device
    /// that left waits for it before it counts the other as told.
    ListTaken {
        version: u64,
    },
    /// The sender's secret, newer than the other's (a device was revoked).
    Secret {
        generation: u32,
        secret: Key32,
    },
    Summary(Summary),
    Changes(Changes),
    /// The sender's digest after it took changes: equal digests mean the same journal.
    Digest {
        digest: String,
    },
    /// A quiet session says it is still there (answered with `Pong`).
    Ping,
    Pong,
    /// First in a session, from the device that called: an ML-KEM-768 encapsulation key,
    /// hex. The answer's shared secret keys the rest of the session (`crypto::pq`).
    PqOffer {
        key: String,
    },
    /// The ciphertext that answers a [`DeviceMessage::PqOffer`], hex.
    PqReply {
        ciphertext: String,
    },
}

/// The partner as the person's paired device knows them: name, member id, the key pinned
/// at pairing, and the partner's device list as that device last checked it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerCard {
    pub name: String,
    pub member_id: String,
    /// Ed25519, hex.
    pub signing_key: String,
    /// The partner's signed device list (its JSON), if they have more than one device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices: Option<String>,
    /// The id of the device that is paired: only it gives the card (cards are never
    /// passed on), and its word that it is no longer paired withdraws it.
    #[serde(default)]
    pub from: String,
}

impl PartnerCard {
    /// Whether the card holds together: a name a terminal prints as it is, and a member id
    /// that is the one made from the key (a card cannot name one member with another's
    /// key). The device list is checked where it is used.
    pub fn check(&self) -> Result<(), String> {
        // Pairing's rule for a name (it came from there): 1 to 200 bytes. Control
        // characters are refused here; the screen shows names through `visible` anyway.
        if self.name.trim().is_empty()
            || self.name.len() > 200
            || self.name.chars().any(char::is_control)
        {
            return Err(
                "the partner's name is empty, longer than 200 bytes or has control characters"
                    .into(),
            );
        }
        let mut key = [0u8; 32];
        hex::decode_to_slice(&self.signing_key, &mut key)
            .map_err(|_| "the partner's key is not one".to_string())?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&key)
            .map_err(|_| "the partner's key is not one".to_string())?;
        if crate::model::agreement::member_id_of(&key) != self.member_id {
            return Err("the partner's member id is not made from their key".into());
        }
        if self
            .devices
            .as_ref()
            .is_some_and(|d| d.len() > super::list::MAX_LIST_BYTES)
        {
            return Err("the partner's device list is larger than Haven accepts".into());
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("a malformed message from the other device: {0}")]
    Malformed(String),
}

impl DeviceMessage {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn decode(bytes: &[u8]) -> Result<DeviceMessage, MessageError> {
        serde_json::from_slice(bytes).map_err(|e| MessageError::Malformed(e.to_string()))
    }
}

/// An entry's short hash, over its canonical JSON.
pub fn entry_hash(entry: &Entry) -> String {
    let json = serde_json::to_vec(entry).unwrap_or_default();
    hex::encode(&Sha256::digest(&json)[..8])
}

/// Which of two versions of one entry every device keeps.
pub fn newer<'a>(a: &'a Entry, b: &'a Entry) -> &'a Entry {
    match a.updated_at.cmp(&b.updated_at) {
        Ordering::Greater => a,
        Ordering::Less => b,
        Ordering::Equal if entry_hash(a) >= entry_hash(b) => a,
        Ordering::Equal => b,
    }
}

/// What one device holds, kept up to date as entries change, so a digest costs nothing
/// after the first: the digest is a XOR of one hash per entry and per deletion.
#[derive(Debug, Clone, Default)]
pub struct Marks {
    entries: HashMap<String, String>,
    tombstones: BTreeMap<String, String>,
    purged: Option<String>,
    xor: [u8; 32],
}

fn item_hash(kind: &[u8], id: &str, value: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"haven journal mark v1");
    h.update(kind);
    h.update((id.len() as u64).to_be_bytes());
    h.update(id.as_bytes());
    h.update(value.as_bytes());
    h.finalize().into()
}

fn xor_into(acc: &mut [u8; 32], h: [u8; 32]) {
    for (a, b) in acc.iter_mut().zip(h) {
        *a ^= b;
    }
}

impl Marks {
    pub fn new<'a>(
        entries: impl IntoIterator<Item = &'a Entry>,
        tombstones: impl IntoIterator<Item = Tombstone>,
        purged: Option<String>,
    ) -> Marks {
        let mut marks = Marks {
            purged,
            ..Marks::default()
        };
        for e in entries {
            marks.put(e);
        }
        for t in tombstones {
            marks.delete(&t);
        }
        marks
    }

    /// An entry written or changed here or taken from another device. An id once deleted
    /// stays deleted (ids are never reused), so its entry is not marked.
    pub fn put(&mut self, entry: &Entry) {
        if self.is_deleted(&entry.id) {
            return;
        }
        let hash = entry_hash(entry);
        if let Some(old) = self.entries.insert(entry.id.clone(), hash.clone()) {
            xor_into(&mut self.xor, item_hash(b"e", &entry.id, &old));
        }
        xor_into(&mut self.xor, item_hash(b"e", &entry.id, &hash));
    }

    /// An entry deleted: its mark goes, the deletion's comes (once).
    pub fn delete(&mut self, tombstone: &Tombstone) {
        if let Some(old) = self.entries.remove(&tombstone.id) {
            xor_into(&mut self.xor, item_hash(b"e", &tombstone.id, &old));
        }
        if !self.tombstones.contains_key(&tombstone.id) {
            self.tombstones
                .insert(tombstone.id.clone(), tombstone.at.clone());
            xor_into(&mut self.xor, item_hash(b"d", &tombstone.id, ""));
        }
    }

    pub fn set_purged(&mut self, at: String) {
        self.purged = Some(at);
    }

    /// Marks what `changes` carry as held here (the other side's marks, tracked as
    /// changes go to it or come from it).
    pub fn note(&mut self, changes: &Changes) {
        for e in &changes.entries {
            self.put(e);
        }
        for t in &changes.tombstones {
            self.delete(t);
        }
        if let Some(p) = &changes.purged {
            self.set_purged(p.clone());
        }
    }

    pub fn purged(&self) -> Option<&str> {
        self.purged.as_deref()
    }

    pub fn is_deleted(&self, id: &str) -> bool {
        self.tombstones.contains_key(id)
    }

    pub fn hash_of(&self, id: &str) -> Option<&str> {
        self.entries.get(id).map(String::as_str)
    }

    /// Equal on two devices exactly when they hold the same entries and deletions.
    pub fn digest(&self) -> String {
        hex::encode(self.xor)
    }

    /// The digest as people compare it on two screens: `5c1e 0b7d`.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.digest())
    }

    pub fn summary(&self) -> Summary {
        Summary {
            entries: self
                .entries
                .iter()
                .map(|(id, h)| (id.clone(), h.clone()))
                .collect(),
            tombstones: self
                .tombstones
                .iter()
                .map(|(id, at)| Tombstone {
                    id: id.clone(),
                    at: at.clone(),
                })
                .collect(),
            purged: self.purged.clone(),
        }
    }

    /// What another device holds, from its summary.
    pub fn from_summary(summary: Summary) -> Marks {
        let mut marks = Marks {
            purged: summary.purged,
            ..Marks::default()
        };
        for (id, hash) in summary.entries {
            if let Some(old) = marks.entries.insert(id.clone(), hash.clone()) {
                xor_into(&mut marks.xor, item_hash(b"e", &id, &old));
            }
            xor_into(&mut marks.xor, item_hash(b"e", &id, &hash));
        }
        for t in summary.tombstones {
            marks.delete(&t);
        }
        marks
    }

    /// What a device holding `theirs` lacks of ours, in batches of about [`BATCH_BYTES`]
    /// of entries. `entry` looks one of ours up by id.
    pub fn changes_for<'a>(
        &self,
        theirs: &Marks,
        entry: impl Fn(&str) -> Option<&'a Entry>,
    ) -> Vec<Changes> {
        let mut batches = vec![Changes::default()];
        let mut size = 0;
        let mut ids: Vec<&String> = self
            .entries
            .iter()
            .filter(|(id, ours)| {
                !theirs.is_deleted(id) && theirs.hash_of(id) != Some(ours.as_str())
            })
            .map(|(id, _)| id)
            .collect();
        ids.sort();
        for id in ids {
            let Some(e) = entry(id) else { continue };
            let len = e.body.len() + e.title.len() + 200;
            if size + len > BATCH_BYTES && size > 0 {
                batches.push(Changes::default());
                size = 0;
            }
            size += len;
            if let Some(last) = batches.last_mut() {
                last.entries.push(e.clone());
            }
        }
        if let Some(last) = batches.last_mut() {
            last.tombstones = self
                .tombstones
                .iter()
                .filter(|(id, _)| !theirs.is_deleted(id))
                .map(|(id, at)| Tombstone {
                    id: id.clone(),
                    at: at.clone(),
                })
                .collect();
            if self.purged.as_deref() > theirs.purged() {
                last.purged = self.purged.clone();
            }
        }
        batches.retain(|c| !c.is_empty());
        batches
    }
}

/// A digest shown as two groups of four hex digits.
pub fn fingerprint(digest: &str) -> String {
    match (digest.get(..4), digest.get(4..8)) {
        (Some(a), Some(b)) => format!("{a} {b}"),
        _ => "---- ----".to_string(),
    }
}

/// What taking `changes` does to a journal: the entries to write (each the winner against
/// what is here), the deletions to make, and whether to purge.
#[derive(Debug, Default, PartialEq)]
pub struct Apply {
    pub put: Vec<Entry>,
    pub delete: Vec<Tombstone>,
    pub purge: Option<String>,
}

impl Apply {
    pub fn is_empty(&self) -> bool {
        self.put.is_empty() && self.delete.is_empty() && self.purge.is_none()
    }
}

/// Decides what to take of `changes`, given what is here (`marks`, and `entry` to look an
/// entry up). Entries that do not pass `Entry::validated`, and deletions with a malformed
/// id or time, are left out and counted.
pub fn plan<'a>(
    marks: &Marks,
    changes: Changes,
    entry: impl Fn(&str) -> Option<&'a Entry>,
) -> (Apply, usize) {
    let mut apply = Apply::default();
    let mut refused = 0;
    let mut deleted: std::collections::HashSet<String> = std::collections::HashSet::new();
    for t in changes.tombstones {
        if chrono::DateTime::parse_from_rfc3339(&t.at).is_err() || !is_valid_id(&t.id) {
            refused += 1;
            continue;
        }
        if !marks.is_deleted(&t.id) && deleted.insert(t.id.clone()) {
            apply.delete.push(t);
        }
    }
    let mut taken: HashMap<String, usize> = HashMap::new();
    for e in changes.entries {
        // Checked by the rules of an import, and kept exactly as sent: a normalised copy
        // would hash differently from the sender's, and the two would never agree.
        if e.clone().validated().is_err() {
            refused += 1;
            continue;
        }
        if marks.is_deleted(&e.id) || deleted.contains(&e.id) {
            continue;
        }
        // The same id twice in one message: the newer of the two is the candidate.
        let candidate = match taken.get(&e.id) {
            Some(&i) => newer(&apply.put[i], &e).clone(),
            None => e,
        };
        let keep = match entry(&candidate.id) {
            Some(here) => {
                std::ptr::eq(newer(here, &candidate), &candidate)
                    && entry_hash(here) != entry_hash(&candidate)
            }
            None => true,
        };
        match (taken.get(&candidate.id), keep) {
            (Some(&i), _) => apply.put[i] = candidate,
            (None, true) => {
                taken.insert(candidate.id.clone(), apply.put.len());
                apply.put.push(candidate);
            }
            (None, false) => {}
        }
    }
    if let Some(p) = changes.purged {
        if chrono::DateTime::parse_from_rfc3339(&p).is_ok() && Some(p.as_str()) > marks.purged() {
            apply.purge = Some(p);
        }
    }
    (apply, refused)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;
    use proptest::prelude::*;

    fn card(seed: u8) -> PartnerCard {
        let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]).verifying_key();
        PartnerCard {
            name: "Sam".into(),
            member_id: crate::model::agreement::member_id_of(&key),
            signing_key: hex::encode(key.as_bytes()),
            devices: None,
            from: "0123456789abcdef".into(),
        }
    }

    /// A card from another device is checked before it is kept: a member id made from
    /// another key, a key that is not one, a name a terminal would act on, an oversized
    /// list are each refused with their reason.
    #[test]
    fn a_partner_card_that_does_not_hold_together_is_refused() {
        assert_eq!(card(1).check(), Ok(()));
        let borrowed = PartnerCard {
            member_id: card(2).member_id,
            ..card(1)
        };
        assert!(borrowed.check().expect_err("refused").contains("member id"));
        let not_a_key = PartnerCard {
            signing_key: "zz".repeat(32),
            ..card(1)
        };
        assert!(not_a_key.check().expect_err("refused").contains("key"));
        let escape = PartnerCard {
            name: "Sam\u{1b}[2J".into(),
            ..card(1)
        };
        assert!(escape.check().expect_err("refused").contains("name"));
        // A long name pairing accepted (up to 200 bytes) is a good card.
        let long = PartnerCard {
            name: "Sam ".repeat(40),
            ..card(1)
        };
        assert_eq!(long.check(), Ok(()));
        let huge = PartnerCard {
            devices: Some("x".repeat(super::super::list::MAX_LIST_BYTES + 1)),
            ..card(1)
        };
        assert!(huge.check().expect_err("refused").contains("larger"));
        // And it travels as a message like any other.
        let m = DeviceMessage::Partner { card: card(1) };
        assert_eq!(DeviceMessage::decode(&m.encode()), Ok(m));
    }

    fn entry(id: &str, body: &str, minute: u32) -> Entry {
        let at = chrono::DateTime::parse_from_rfc3339(&format!("2026-12-05T10:{minute:02}:00Z"))
            .expect("date");
        Entry {
            id: format!("{id:0>26}"),
            kind: Kind::Note,
            title: String::new(),
            body: body.into(),
            tags: vec![],
            mood: None,
            intensity: None,
            created_at: at,
            updated_at: at,
            record: None,
            pause: None,
            feelings: Vec::new(),
        }
    }

    /// A device's journal, as the daemon holds it: entries by id, and the marks.
    #[derive(Default, Clone)]
    struct Device {
        entries: BTreeMap<String, Entry>,
        marks: Marks,
    }

    impl Device {
        fn write(&mut self, e: Entry) {
            if self.marks.is_deleted(&e.id) {
                return;
            }
            self.marks.put(&e);
            self.entries.insert(e.id.clone(), e);
        }
        fn delete(&mut self, id: &str) {
            let id = format!("{id:0>26}");
            self.entries.remove(&id);
            self.marks.delete(&Tombstone {
                id,
                at: "2026-12-05T11:00:00Z".into(),
            });
        }
        fn take(&mut self, changes: Changes) -> usize {
            let (apply, refused) = plan(&self.marks, changes, |id| self.entries.get(id));
            for e in apply.put {
                self.write(e);
            }
            for t in apply.delete {
                self.entries.remove(&t.id);
                self.marks.delete(&t);
            }
            if let Some(p) = apply.purge {
                self.marks.set_purged(p);
            }
            refused
        }
        fn changes_for(&self, other: &Device) -> Vec<Changes> {
            self.marks
                .changes_for(&other.marks, |id| self.entries.get(id))
        }
    }

    /// One exchange both ways, as a session does it.
    fn sync(a: &mut Device, b: &mut Device) {
        let (to_b, to_a) = (a.changes_for(b), b.changes_for(a));
        for c in to_b {
            assert_eq!(b.take(c), 0);
        }
        for c in to_a {
            assert_eq!(a.take(c), 0);
        }
    }

    #[test]
    fn offline_edits_on_two_devices_merge_and_a_deletion_wins() {
        let (mut laptop, mut desk) = (Device::default(), Device::default());
        laptop.write(entry("01a", "first", 0));
        laptop.write(entry("01b", "to be deleted", 1));
        sync(&mut laptop, &mut desk);
        assert_eq!(laptop.marks.digest(), desk.marks.digest());
        // Apart: each writes; the laptop edits 01a later than the desk does; the desk
        // edits 01b, which the laptop deletes.
        laptop.write(entry("01c", "on the laptop", 2));
        desk.write(entry("01d", "on the desk", 3));
        desk.write(entry("01a", "desk's edit", 4));
        laptop.write(entry("01a", "laptop's later edit", 5));
        desk.write(entry("01b", "edited while deleted elsewhere", 6));
        laptop.delete("01b");
        assert_ne!(laptop.marks.digest(), desk.marks.digest());
        sync(&mut laptop, &mut desk);
        assert_eq!(laptop.marks.digest(), desk.marks.digest());
        assert_eq!(laptop.entries, desk.entries);
        let ids: Vec<&str> = laptop
            .entries
            .keys()
            .map(|k| k.trim_start_matches('0'))
            .collect();
        assert_eq!(ids, ["1a", "1c", "1d"]);
        assert_eq!(
            laptop.entries[&format!("{:0>26}", "01a")].body,
            "laptop's later edit"
        );
        // In sync, there is nothing to send.
        assert!(laptop.changes_for(&desk).is_empty());
    }

    #[test]
    fn a_summary_read_back_gives_the_same_digest() {
        let mut laptop = Device::default();
        laptop.write(entry("01a", "one", 0));
        laptop.write(entry("01b", "two", 1));
        laptop.delete("01b");
        let back = Marks::from_summary(laptop.marks.summary());
        assert_eq!(back.digest(), laptop.marks.digest());
        assert!(laptop
            .marks
            .changes_for(&back, |id| laptop.entries.get(id))
            .is_empty());
        assert_ne!(back.digest(), Marks::default().digest());
    }

    #[test]
    fn garbage_entries_are_refused_and_a_purge_travels() {
        let mut desk = Device::default();
        let mut bad = entry("01x", "ok", 0);
        bad.mood = Some(200);
        let refused = desk.take(Changes {
            entries: vec![bad, entry("01y", "fine", 1)],
            tombstones: vec![Tombstone {
                id: "01z".into(),
                at: "not a date".into(),
            }],
            purged: Some("2026-12-05T12:00:00Z".into()),
        });
        assert_eq!(refused, 2);
        assert_eq!(desk.entries.len(), 1);
        assert_eq!(desk.marks.purged(), Some("2026-12-05T12:00:00Z"));
        // An older purge mark asks nothing.
        let (apply, _) = plan(
            &desk.marks,
            Changes {
                purged: Some("2026-12-01T12:00:00Z".into()),
                ..Changes::default()
            },
            |_| None,
        );
        assert!(apply.is_empty());
    }

    #[test]
    fn a_long_journal_travels_in_batches() {
        let mut laptop = Device::default();
        for i in 0..60 {
            laptop.write(entry(&format!("01{i:03}"), &"x".repeat(200_000), 0));
        }
        let batches = laptop.changes_for(&Device::default());
        assert!(batches.len() >= 3, "{}", batches.len());
        assert_eq!(batches.iter().map(|b| b.entries.len()).sum::<usize>(), 60);
        let mut desk = Device::default();
        for b in batches {
            desk.take(b);
        }
        assert_eq!(desk.marks.digest(), laptop.marks.digest());
    }

    #[test]
    fn messages_read_back_and_garbage_is_an_error() {
        let m = DeviceMessage::Changes(Changes {
            entries: vec![entry("01a", "x", 0)],
            ..Changes::default()
        });
        assert_eq!(DeviceMessage::decode(&m.encode()).expect("decode"), m);
        assert!(DeviceMessage::decode(b"{\"t\":\"changes\"").is_err());
        assert!(DeviceMessage::decode(&[0xff, 0, 1]).is_err());
    }

    proptest! {
        /// Whatever each device did apart, one exchange leaves them with the same journal.
        #[test]
        fn any_two_histories_converge(
            ops in proptest::collection::vec((0u8..2, 0u8..3, 0u8..6, 0u32..50), 0..40)
        ) {
            let (mut a, mut b) = (Device::default(), Device::default());
            for (side, op, id, minute) in ops {
                let d = if side == 0 { &mut a } else { &mut b };
                let id = format!("01{id}");
                match op {
                    0 | 1 => d.write(entry(&id, &format!("v{minute}{side}"), minute)),
                    _ => d.delete(&id),
                }
            }
            sync(&mut a, &mut b);
            prop_assert_eq!(a.marks.digest(), b.marks.digest());
            prop_assert_eq!(&a.entries, &b.entries);
            prop_assert!(a.changes_for(&b).is_empty());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = DeviceMessage::decode(&bytes);
        }
    }
}
