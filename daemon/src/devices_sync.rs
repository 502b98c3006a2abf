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

/// What one session's device is known to hold.
struct Peer {
    device: String,
    /// Its marks, once its summary arrived (or once it said its digest is ours).
    their: Option<Marks>,
    /// Its digest, as it last said.
    digest: Option<String>,
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
                their: None,
                digest: None,
            },
        );
    }

    pub fn close(&mut self, session: u64) {
        self.sessions.remove(&session);
    }

    /// The session with `device`, if one is up, and the digest it last said.
    pub fn session_with(&self, device: &str) -> Option<Option<&str>> {
        self.sessions
            .values()
            .find(|p| p.device == device)
            .map(|p| p.digest.as_deref())
    }

    /// The first message of a session.
    pub fn hello(journal: &mut impl Journal) -> DeviceMessage {
        DeviceMessage::Hello {
            protocol: PROTOCOL,
            digest: journal.journal_marks().digest(),
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
            DeviceMessage::Hello { protocol, digest } => {
                if protocol != PROTOCOL {
                    return Err(format!(
                        "the other device syncs the journal with protocol {protocol}, this one with {PROTOCOL}: update Haven on both"
                    ));
                }
                if digest != journal.journal_marks().digest() {
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
            DeviceMessage::Changes(changes) => {
                let their = peer
                    .their
                    .get_or_insert_with(|| Marks::from_summary(Summary::default()));
                for e in &changes.entries {
                    their.put(e);
                }
                for t in &changes.tombstones {
                    their.delete(t);
                }
                if let Some(p) = &changes.purged {
                    their.set_purged(p.clone());
                }
                let (apply, refused) = journal.plan(changes);
                if refused > 0 {
                    tracing::warn!(
                        refused,
                        "entries from another device did not pass the checks; left out"
                    );
                }
                taken.changed = !apply.is_empty();
                for e in apply.put {
                    journal.put(e)?;
                }
                for t in &apply.delete {
                    journal.delete(t)?;
                }
                if taken.changed {
                    journal.persist()?;
                }
                if let Some(at) = apply.purge {
                    journal.purge(&at)?;
                }
                // Ours may be the newer version of something it sent: it gets ours.
                taken.replies = push(peer, journal);
                taken.replies.push(DeviceMessage::Digest {
                    digest: journal.journal_marks().digest(),
                });
            }
            DeviceMessage::Digest { digest } => peer.digest = Some(digest),
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

/// Our changes the peer lacks, as messages; what they carry is then marked as its.
fn push(peer: &mut Peer, journal: &mut impl Journal) -> Vec<DeviceMessage> {
    let Some(their) = &mut peer.their else {
        return Vec::new();
    };
    let batches = journal.changes_for(their);
    for b in &batches {
        for e in &b.entries {
            their.put(e);
        }
        for t in &b.tombstones {
            their.delete(t);
        }
        if let Some(p) = &b.purged {
            their.set_purged(p.clone());
        }
    }
    batches.into_iter().map(DeviceMessage::Changes).collect()
}
