//! One owner for the journal's sync with the person's other devices, as `partner_sync` is
//! for the couple document: what each session's device is known to hold, and what its
//! messages do. The protocol itself is `haven_shared::devices::journal_sync`; the session
//! loop (`own_devices::session`) only moves its messages.
//!
//! What a device holds is tracked per session, from its summary and from what went each
//! way since, so a change made here is pushed to it at once as just that change.

use std::collections::HashMap;

use haven_shared::devices::journal_sync::{
    Apply, Changes, DeviceMessage, Marks, Summary, Tombstone, PROTOCOL,
};
use haven_shared::devices::OwnDevices;

/// Whether `device` (an id) is active in the person's list as this device holds it, and
/// not caught running in two homes.
pub fn still_linked(own: &OwnDevices, device: &str) -> bool {
    !own.copies.contains(device)
        && own
            .list
            .open()
            .is_ok_and(|l| l.find(device).is_some_and(|d| d.is_active()))
}

/// The version of a signed list, or 0 if it does not open.
pub fn list_version(list: &haven_shared::devices::SignedDeviceList) -> u64 {
    list.open().map_or(0, |l| l.version)
}

/// What one session's device is known to hold.
struct Peer {
    device: String,
    /// The version of its device list and the generation of its secret, as it said or as
    /// sent to it since.
    list_version: u64,
    generation: u32,
    /// Its marks, once its summary arrived (or once it said its digest is ours).
    their: Option<Marks>,
    /// Its digest, as it last said.
    digest: Option<String>,
    /// The couple document's sync with it, once it said it syncs the couple document
    /// (a fresh state each session: the first exchange finds what is shared).
    couple: Option<automerge::sync::State>,
    /// Who the partner is, as last told to it in this session (`Some(None)`: told this
    /// device is not paired).
    card: Option<Option<haven_shared::devices::journal_sync::PartnerCard>>,
}

/// The person's devices as this one knows them, and the sessions with them.
#[derive(Default)]
pub struct DevicesSync {
    /// None until a second device is linked.
    pub own: Option<OwnDevices>,
    sessions: HashMap<u64, Peer>,
}

/// What the journal has to do with a device's message, handed back to the service.
pub struct Taken {
    pub replies: Vec<DeviceMessage>,
    /// The journal changed here: the other sessions push it on.
    pub changed: bool,
}

/// The journal, as the sync needs to read and change it (the vault, in the daemon).
pub trait Journal {
    fn journal_marks(&mut self) -> &mut Marks;
    /// What a device holding `their` lacks of this journal.
    fn changes_for(&mut self, their: &Marks) -> Vec<Changes>;
    /// What taking `changes` would do here, and how many items were refused.
    fn plan(&mut self, changes: Changes) -> (Apply, usize);
    fn put(&mut self, entry: haven_shared::model::Entry) -> Result<(), String>;
    fn delete(&mut self, tombstone: &Tombstone) -> Result<(), String>;
    fn purge(&mut self, at: &str) -> Result<(), String>;
    /// Makes what `put` and `delete` changed durable: once per message.
    fn persist(&mut self) -> Result<(), String>;
}

impl DevicesSync {
    pub fn open(&mut self, session: u64, device: String) {
        self.sessions.insert(
            session,
            Peer {
                device,
                list_version: 0,
                generation: 0,
                their: None,
                digest: None,
                couple: None,
                card: None,
            },
        );
    }

    /// Whether the device in `session`, which syncs the couple document, has not been told
    /// `card` (or, `None`, that this device is not paired) yet in this session; it is
    /// counted as told from now on.
    pub fn card_due(
        &mut self,
        session: u64,
        card: Option<&haven_shared::devices::journal_sync::PartnerCard>,
    ) -> bool {
        match self.sessions.get_mut(&session) {
            Some(peer)
                if peer.couple.is_some()
                    && peer.card.as_ref().map(Option::as_ref) != Some(card) =>
            {
                peer.card = Some(card.cloned());
                true
            }
            _ => false,
        }
    }

    /// The couple document's sync state with the device in `session`, if it syncs it.
    pub fn couple_state(&mut self, session: u64) -> Option<&mut automerge::sync::State> {
        self.sessions.get_mut(&session)?.couple.as_mut()
    }

    pub fn close(&mut self, session: u64) {
        self.sessions.remove(&session);
    }

    /// The device (its id) in `session`.
    pub fn device_of(&self, session: u64) -> Option<&str> {
        self.sessions.get(&session).map(|p| p.device.as_str())
    }

    /// The session with `device`, if one is up, and the digest it last said.
    pub fn session_with(&self, device: &str) -> Option<Option<&str>> {
        self.sessions
            .values()
            .find(|p| p.device == device)
            .map(|p| p.digest.as_deref())
    }

    /// The first message of a session.
    pub fn hello(journal: &mut impl Journal, own: Option<&OwnDevices>) -> DeviceMessage {
        DeviceMessage::Hello {
            protocol: PROTOCOL,
            digest: journal.journal_marks().digest(),
            list_version: own.map_or(0, |o| list_version(&o.list)),
            generation: own.map_or(0, |o| o.generation),
            couple: true,
            marks: true,
        }
    }

    /// What the device in `session` lacks of the list and the secret: the newer of each,
    /// marked as its from then on. Nothing for a device the list no longer names as
    /// active: a revoked device gets neither the list that revokes it nor the secret
    /// that replaced the one it knew.
    pub fn catch_up(&mut self, session: u64, own: &OwnDevices) -> Vec<DeviceMessage> {
        let Some(peer) = self.sessions.get_mut(&session) else {
            return Vec::new();
        };
        if !still_linked(own, &peer.device) {
            return Vec::new();
        }
        let mut out = Vec::new();
        let version = list_version(&own.list);
        if peer.list_version < version {
            out.push(DeviceMessage::List {
                list: own.list.clone(),
            });
            peer.list_version = version;
        }
        if peer.generation < own.generation {
            out.push(DeviceMessage::Secret {
                generation: own.generation,
                secret: own.secret.clone(),
            });
            peer.generation = own.generation;
        }
        out
    }

    /// The device in `session` said it holds this list version and secret generation.
    pub fn holds(&mut self, session: u64, version: u64, generation: u32) {
        if let Some(peer) = self.sessions.get_mut(&session) {
            peer.list_version = peer.list_version.max(version);
            peer.generation = peer.generation.max(generation);
        }
    }

    /// A message from the device in `session`: what to answer, and whether the journal
    /// changed. An error ends the session (the journal is as it was before the message,
    /// or as after a whole batch of it).
    pub fn receive(
        &mut self,
        session: u64,
        message: DeviceMessage,
        journal: &mut impl Journal,
    ) -> Result<Taken, String> {
        let peer = self.sessions.get_mut(&session).ok_or("no such session")?;
        let mut taken = Taken {
            replies: Vec::new(),
            changed: false,
        };
        match message {
            DeviceMessage::Hello {
                protocol,
                digest,
                list_version,
                generation,
                couple,
                ..
            } => {
                if couple && peer.couple.is_none() {
                    peer.couple = Some(automerge::sync::State::new());
                }
                peer.list_version = peer.list_version.max(list_version);
                peer.generation = peer.generation.max(generation);
                if protocol != PROTOCOL {
                    return Err(format!(
                        "the other device syncs the journal with protocol {protocol}, this one with {PROTOCOL}: update Haven on both"
                    ));
                }
                if digest == journal.journal_marks().digest() {
                    // It holds what this one does: what it lacks later is what changes.
                    peer.their = Some(journal.journal_marks().clone());
                } else {
                    taken
                        .replies
                        .push(DeviceMessage::Summary(journal.journal_marks().summary()));
                }
                peer.digest = Some(digest);
            }
            DeviceMessage::Summary(summary) => {
                peer.their = Some(Marks::from_summary(summary));
                taken.replies = push(peer, journal);
            }
            DeviceMessage::Changes(changes) => taken = take_changes(peer, changes, journal)?,
            DeviceMessage::Digest { digest } => peer.digest = Some(digest),
            // The list and the secret are the service's (they are saved with the home).
            // The session answers those itself.
            DeviceMessage::Ping
            | DeviceMessage::Pong
            | DeviceMessage::ListTaken { .. }
            | DeviceMessage::PqOffer { .. }
            | DeviceMessage::PqReply { .. } => {}
            DeviceMessage::List { .. }
            | DeviceMessage::Secret { .. }
            | DeviceMessage::Couple { .. }
            | DeviceMessage::Partner { .. }
            | DeviceMessage::NoPartner
            | DeviceMessage::Mark { .. }
            | DeviceMessage::NewMark { .. }
            | DeviceMessage::MarkKept { .. }
            | DeviceMessage::TwoHomes => {
                return Err(
                    "a list, a secret, a mark or the couple's reached the journal's sync".into(),
                )
            }
        }
        Ok(taken)
    }

    /// What the device in `session` lacks now (after a change here), and this journal's
    /// new digest, so it can tell once it holds the same.
    pub fn push(&mut self, session: u64, journal: &mut impl Journal) -> Vec<DeviceMessage> {
        let Some(peer) = self.sessions.get_mut(&session) else {
            return Vec::new();
        };
        let mut messages = push(peer, journal);
        messages.push(DeviceMessage::Digest {
            digest: journal.journal_marks().digest(),
        });
        messages
    }

    /// The device in `session` holds exactly what this one does, as far as it last said.
    pub fn in_sync(&self, session: u64, journal: &mut impl Journal) -> bool {
        let digest = journal.journal_marks().digest();
        self.sessions
            .get(&session)
            .is_some_and(|p| p.digest.as_deref() == Some(digest.as_str()))
    }
}

/// Changes from the peer: what they carry is its from now on; what wins is taken here;
/// ours, where newer, goes back; then this journal's digest.
fn take_changes(
    peer: &mut Peer,
    changes: Changes,
    journal: &mut impl Journal,
) -> Result<Taken, String> {
    peer.their
        .get_or_insert_with(|| Marks::from_summary(Summary::default()))
        .note(&changes);
    let (apply, refused) = journal.plan(changes);
    if refused > 0 {
        tracing::warn!(
            refused,
            "entries from another device did not pass the checks; left out"
        );
    }
    let changed = !apply.is_empty();
    for e in apply.put {
        journal.put(e)?;
    }
    for t in &apply.delete {
        journal.delete(t)?;
    }
    if changed {
        journal.persist()?;
    }
    if let Some(at) = apply.purge {
        journal.purge(&at)?;
    }
    let mut replies = push(peer, journal);
    replies.push(DeviceMessage::Digest {
        digest: journal.journal_marks().digest(),
    });
    Ok(Taken { replies, changed })
}

/// Our changes the peer lacks, as messages; what they carry is then marked as its.
fn push(peer: &mut Peer, journal: &mut impl Journal) -> Vec<DeviceMessage> {
    let Some(their) = &mut peer.their else {
        return Vec::new();
    };
    let batches = journal.changes_for(their);
    for b in &batches {
        their.note(b);
    }
    batches.into_iter().map(DeviceMessage::Changes).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use haven_shared::devices::journal_sync::plan;
    use haven_shared::model::{Entry, Kind};
    use std::collections::BTreeMap;

    /// A journal in memory: entries by id and their marks.
    #[derive(Default)]
    struct Fake {
        entries: BTreeMap<String, Entry>,
        marks: Marks,
    }

    impl Journal for Fake {
        fn journal_marks(&mut self) -> &mut Marks {
            &mut self.marks
        }
        fn changes_for(&mut self, their: &Marks) -> Vec<Changes> {
            self.marks.changes_for(their, |id| self.entries.get(id))
        }
        fn plan(&mut self, changes: Changes) -> (Apply, usize) {
            plan(&self.marks, changes, |id| self.entries.get(id))
        }
        fn put(&mut self, entry: Entry) -> Result<(), String> {
            self.marks.put(&entry);
            self.entries.insert(entry.id.clone(), entry);
            Ok(())
        }
        fn delete(&mut self, t: &Tombstone) -> Result<(), String> {
            self.entries.remove(&t.id);
            self.marks.delete(t);
            Ok(())
        }
        fn purge(&mut self, at: &str) -> Result<(), String> {
            self.marks.set_purged(at.to_string());
            Ok(())
        }
        fn persist(&mut self) -> Result<(), String> {
            Ok(())
        }
    }

    fn entry(n: u32) -> Entry {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-05T10:00:00Z").expect("date");
        Entry {
            id: format!("{n:0>26}"),
            kind: Kind::Note,
            title: String::new(),
            body: format!("entry {n}"),
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

    /// Delivers messages both ways until neither side has anything to say.
    fn settle(
        a: (&mut DevicesSync, &mut Fake),
        b: (&mut DevicesSync, &mut Fake),
        mut to_b: Vec<DeviceMessage>,
        mut to_a: Vec<DeviceMessage>,
    ) {
        for _ in 0..20 {
            if to_a.is_empty() && to_b.is_empty() {
                return;
            }
            let mut next_a = Vec::new();
            for m in std::mem::take(&mut to_b) {
                next_a.extend(b.0.receive(1, m, b.1).expect("b takes it").replies);
            }
            for m in std::mem::take(&mut to_a) {
                to_b.extend(a.0.receive(1, m, a.1).expect("a takes it").replies);
            }
            to_a = next_a;
        }
        panic!("the two never stopped talking");
    }

    /// Two devices that start a session already holding the same journal: a change made
    /// after must still travel. (It did not: with equal digests no summary was asked for,
    /// so nothing was known of the other side, and nothing was pushed.)
    #[test]
    fn a_change_travels_after_a_session_that_started_in_sync() {
        let (mut a, mut b) = (Fake::default(), Fake::default());
        for j in [&mut a, &mut b] {
            j.put(entry(1)).expect("put");
        }
        let (mut sa, mut sb) = (DevicesSync::default(), DevicesSync::default());
        sa.open(1, "b".into());
        sb.open(1, "a".into());
        let (ha, hb) = (
            DevicesSync::hello(&mut a, None),
            DevicesSync::hello(&mut b, None),
        );
        settle((&mut sa, &mut a), (&mut sb, &mut b), vec![ha], vec![hb]);
        assert!(sa.in_sync(1, &mut a) && sb.in_sync(1, &mut b));

        a.put(entry(2)).expect("put");
        let pushed = sa.push(1, &mut a);
        assert!(
            pushed
                .iter()
                .any(|m| matches!(m, DeviceMessage::Changes(c) if c.entries.len() == 1)),
            "{pushed:?}"
        );
        settle((&mut sa, &mut a), (&mut sb, &mut b), pushed, Vec::new());
        assert_eq!(a.entries, b.entries);
        assert!(sa.in_sync(1, &mut a) && sb.in_sync(1, &mut b));
    }

    fn own_with(revoked: bool) -> (OwnDevices, String) {
        use haven_shared::devices::{Device, DeviceList, SignedDeviceList};
        use haven_shared::partner_record::Key32;
        let (a, b) = (
            haven_shared::ed25519_dalek::SigningKey::from_bytes(&[5u8; 32]),
            haven_shared::ed25519_dalek::SigningKey::from_bytes(&[6u8; 32]),
        );
        let device = |k: &haven_shared::ed25519_dalek::SigningKey, n: &str, noise: u8| Device {
            key: hex::encode(k.verifying_key().as_bytes()),
            noise_key: hex::encode([noise; 32]),
            name: n.into(),
            added: "2026-12-05T10:00:00Z".into(),
            added_by: None,
            revoked: None,
        };
        let first = DeviceList::first(device(&a, "laptop", 1));
        let mut list = first.with_added(device(&b, "desk", 2), &first.member_id);
        let desk = list.devices[1].id();
        if revoked {
            list = list.with_revoked(&desk, &first.member_id, "2026-12-05T11:00:00Z");
        }
        let mut own = OwnDevices::new(
            SignedDeviceList::sign(&list, &a),
            Key32::new([7u8; 32]),
            0,
            "Maya".into(),
        );
        if revoked {
            own.rotate();
        }
        (own, desk)
    }

    /// The list and the secret go to a device behind on them, and never to one the list
    /// revokes (it was in session when revoked).
    #[test]
    fn a_revoked_device_in_session_is_sent_neither_the_list_nor_the_secret() {
        let (linked, desk) = own_with(false);
        let mut sync = DevicesSync::default();
        sync.open(1, desk.clone());
        let sent = sync.catch_up(1, &linked);
        assert!(matches!(sent[..], [DeviceMessage::List { .. }]), "{sent:?}");
        let (revoked, _) = own_with(true);
        let mut sync = DevicesSync::default();
        sync.open(1, desk);
        assert!(sync.catch_up(1, &revoked).is_empty());
    }

    /// Apart, each wrote and deleted: after the session both hold the same, and each
    /// says so.
    #[test]
    fn two_devices_that_grew_apart_end_in_sync() {
        let (mut a, mut b) = (Fake::default(), Fake::default());
        a.put(entry(1)).expect("put");
        a.put(entry(2)).expect("put");
        b.put(entry(2)).expect("put");
        b.put(entry(3)).expect("put");
        b.delete(&Tombstone {
            id: entry(2).id,
            at: "2026-12-05T11:00:00Z".into(),
        })
        .expect("delete");
        let (mut sa, mut sb) = (DevicesSync::default(), DevicesSync::default());
        sa.open(1, "b".into());
        sb.open(1, "a".into());
        let (ha, hb) = (
            DevicesSync::hello(&mut a, None),
            DevicesSync::hello(&mut b, None),
        );
        settle((&mut sa, &mut a), (&mut sb, &mut b), vec![ha], vec![hb]);
        assert_eq!(a.entries, b.entries);
        let ids: Vec<String> = a.entries.keys().cloned().collect();
        assert_eq!(ids, [entry(1).id, entry(3).id]);
        assert!(sa.in_sync(1, &mut a) && sb.in_sync(1, &mut b));
    }
}
