//! Creating and opening a home: the identity file, the database and both documents.
//!
//! `haven init` creates a home without any daemon; `havend` opens it on `unlock`. Both go
//! through here so the two can never disagree about the layout. What an open home stores
//! beside the documents' own history is split by kind: `sealed_records` (partner, farewell,
//! sync state, seen marks) and `couple_items` (this member's signed items and the partner's).

use std::path::PathBuf;

use crate::crypto::{random_bytes, Identity, IdentityError, Passphrase};
use crate::crypto::{seal_blob, BlobError};
use crate::documents::{CoupleDoc, JournalDoc, MemberRecord};
use crate::model::MemberId;
use crate::partner_record::Partner;
use crate::paths::{write_private_file, Paths};
use crate::store::{DocLog, DocName, Meta, Store, StoreError};
use zeroize::Zeroizing;

mod couple_items;
mod sealed_records;

pub use sealed_records::{FAREWELL_KEY, PARTNER_KEY, SEEN_KEY, SYNC_STATE_KEY};

#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    #[error("there is no Haven home at {0}")]
    NotInitialised(PathBuf),
    #[error("a Haven home already exists at {0}")]
    AlreadyInitialised(PathBuf),
    #[error("identity.age belongs to another home: it cannot open this haven.db")]
    ForeignIdentity,
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the document is damaged: {0}")]
    Document(#[from] automerge::AutomergeError),
    #[error(transparent)]
    Partner(#[from] BlobError),
}

/// An unlocked home: keys in memory, both documents loaded.
pub struct OpenHome {
    pub identity: Identity,
    pub store: Store,
    pub journal: JournalDoc,
    pub journal_log: DocLog,
    pub couple: CoupleDoc,
    pub couple_log: DocLog,
    /// The member this device signs for, once it is one of several devices of its person:
    /// their first device's id (kept up to date by `save_own_devices`). `None`: this
    /// device's own id is the member's.
    member: Option<MemberId>,
}

/// Creates a new home: keys sealed with `passphrase`, an empty journal, and a couple
/// document naming this member.
pub fn create(paths: &Paths, name: &str, passphrase: &Passphrase) -> Result<(), HomeError> {
    if paths.is_initialised() {
        return Err(HomeError::AlreadyInitialised(paths.data_dir.clone()));
    }
    paths.create_dirs().map_err(|source| HomeError::Io {
        path: paths.data_dir.clone(),
        source,
    })?;
    let identity = Identity::generate();
    let meta = Meta {
        journal_id: random_bytes::<16>(),
        couple_id: random_bytes::<16>(),
        recipient: identity.recipient().to_string(),
    };
    let db = paths.database();
    let result = (|| {
        let mut store = Store::create(&db, &meta, identity.row_key())?;
        store.watch_generation(paths.generation_file());
        let mut journal = JournalDoc::new();
        DocLog::create(
            &mut store,
            &identity.recipient(),
            DocName::Journal,
            meta.journal_id,
            journal.automerge_mut(),
        )?;
        let mut couple = CoupleDoc::new();
        couple.put_member(&own_member(&identity, name))?;
        DocLog::create(
            &mut store,
            &identity.recipient(),
            DocName::Couple,
            meta.couple_id,
            couple.automerge_mut(),
        )?;
        let sealed = identity.seal(passphrase)?;
        write_private_file(&paths.identity(), &sealed).map_err(|source| HomeError::Io {
            path: paths.identity(),
            source,
        })?;
        Ok(())
    })();
    if result.is_err() {
        // Leave no half-made home behind: a retry should start clean.
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
        let _ = std::fs::remove_file(paths.generation_file());
    }
    result
}

/// This member's record in the couple document: the name and the key consents are
/// checked against.
fn own_member(identity: &Identity, name: &str) -> MemberRecord {
    MemberRecord {
        id: identity.member_id(),
        name: name.to_string(),
        signing_key: hex::encode(identity.verifying_key().as_bytes()),
    }
}

/// Appends a document's unsaved changes, compacting the log when it has grown long.
fn persist_and_compact(
    store: &mut Store,
    recipient: &age::x25519::Recipient,
    log: &mut DocLog,
    doc: &mut automerge::AutoCommit,
) -> Result<(), StoreError> {
    log.persist(store, recipient, doc)?;
    if log.needs_compaction() {
        // A failed compaction loses nothing: the chunks it would fold are still there.
        let _ = log.compact(store, recipient, doc);
    }
    Ok(())
}

/// Decrypts the identity and loads both documents.
pub fn open(paths: &Paths, passphrase: &Passphrase) -> Result<OpenHome, HomeError> {
    let identity = read_identity(paths, passphrase)?;
    open_with(paths, identity, passphrase)
}

/// Decrypts `identity.age` (one scrypt, ~0.7 s by design).
pub fn read_identity(paths: &Paths, passphrase: &Passphrase) -> Result<Identity, HomeError> {
    let identity_path = paths.identity();
    if !identity_path.exists() || !paths.database().exists() {
        return Err(HomeError::NotInitialised(paths.data_dir.clone()));
    }
    let sealed = std::fs::read(&identity_path).map_err(|source| HomeError::Io {
        path: identity_path.clone(),
        source,
    })?;
    // Check the database before spending a second of scrypt on a home that cannot open.
    Store::open(&paths.database())?.meta()?;
    Ok(Identity::unseal(&sealed, passphrase)?)
}

/// Loads both documents with an already decrypted identity, checking every row against
/// the home's key (`store`). A home from before authenticated rows is upgraded here, once:
/// its rows get their tags in one transaction, then `identity.age` is sealed again with
/// `passphrase` and a mark that says so, after which a database without tags is refused. A
/// crash between the two leaves tagged rows and an unmarked identity, which the next
/// unlock simply marks.
pub fn open_with(
    paths: &Paths,
    mut identity: Identity,
    passphrase: &Passphrase,
) -> Result<OpenHome, HomeError> {
    let mut store = Store::open(&paths.database())?;
    let meta = store.meta()?;
    if identity.recipient().to_string() != meta.recipient {
        return Err(HomeError::ForeignIdentity);
    }
    store.watch_generation(paths.generation_file());
    store.authenticate(identity.row_key(), identity.rows_authenticated)?;
    let (journal_log, journal) = DocLog::load(
        &store,
        identity.storage(),
        DocName::Journal,
        meta.journal_id,
    )?;
    let (couple_log, couple) =
        DocLog::load(&store, identity.storage(), DocName::Couple, meta.couple_id)?;
    if !identity.rows_authenticated {
        identity.rows_authenticated = true;
        let sealed = identity.seal(passphrase)?;
        write_private_file(&paths.identity(), &sealed).map_err(|source| HomeError::Io {
            path: paths.identity(),
            source,
        })?;
    }
    let mut home = OpenHome {
        identity,
        store,
        journal: JournalDoc::from_automerge(journal),
        journal_log,
        couple: CoupleDoc::from_automerge(couple),
        couple_log,
        member: None,
    };
    home.member = home
        .own_devices()
        .ok()
        .flatten()
        .and_then(|o| o.list.open().ok())
        .map(|l| l.member_id);
    Ok(home)
}

impl OpenHome {
    /// The member this device signs for: its person's first device's id (this device's
    /// own, unless another device of theirs linked it).
    pub fn member_id(&self) -> MemberId {
        self.member
            .clone()
            .unwrap_or_else(|| self.identity.member_id())
    }

    /// Signs in the name of this device's member.
    pub fn signer(&self) -> crate::model::agreement::DeviceSigner {
        crate::model::agreement::DeviceSigner {
            key: self.identity.signing_key().clone(),
            member: self.member_id(),
        }
    }

    /// Gives this laptop a new Noise static key and seals `identity.age` again with
    /// `passphrase` (a new one, or the same). On failure nothing changed, on disk or here.
    pub fn renew_partner_key(
        &mut self,
        paths: &Paths,
        passphrase: &Passphrase,
    ) -> Result<(), HomeError> {
        let old = self
            .identity
            .replace_noise_static(Identity::new_noise_static());
        let written = self
            .identity
            .seal(passphrase)
            .map_err(HomeError::from)
            .and_then(|sealed| {
                write_private_file(&paths.identity(), &sealed).map_err(|source| HomeError::Io {
                    path: paths.identity(),
                    source,
                })
            });
        if written.is_err() {
            self.identity.replace_noise_static(old);
        }
        written
    }

    /// This member's name, from the couple document.
    pub fn own_name(&self) -> String {
        let me = self.identity.member_id();
        self.couple
            .members()
            .ok()
            .and_then(|m| m.into_iter().find(|m| m.id == me))
            .map(|m| m.name)
            .unwrap_or_default()
    }

    /// Appends the journal's unsaved changes. On failure the in-memory journal is reloaded
    /// from disk, so what the user sees is exactly what is stored. When the log has grown
    /// long it is compacted the way `purge` does it, from the current state with no
    /// history, so deleted or overwritten text does not wait for a purge to leave the disk.
    pub fn persist_journal(&mut self) -> Result<(), HomeError> {
        let recipient = self.identity.recipient();
        let result =
            self.journal_log
                .persist(&mut self.store, &recipient, self.journal.automerge_mut());
        self.reload_on_error(result.map(|_| ()), DocName::Journal)?;
        if self.journal_log.needs_compaction() {
            // The write is saved whatever happens here: a failed compaction loses nothing
            // (the chunks it would fold are still there) and is tried again next write.
            let _ = self.purge_journal(None);
        }
        Ok(())
    }

    /// Same as [`Self::persist_journal`] for the couple document.
    pub fn persist_couple(&mut self) -> Result<(), HomeError> {
        let recipient = self.identity.recipient();
        let result = persist_and_compact(
            &mut self.store,
            &recipient,
            &mut self.couple_log,
            self.couple.automerge_mut(),
        );
        self.reload_on_error(result, DocName::Couple)
    }

    /// After a partner's message changed the couple document: its new changes, the
    /// partner record (when it last synced) and the sync state, in one commit. On failure
    /// none of it is stored and the document is reloaded from disk, so memory matches it.
    pub fn save_received(&mut self, partner: &Partner, sync_state: &[u8]) -> Result<(), HomeError> {
        let recipient = self.identity.recipient();
        let json = Zeroizing::new(
            serde_json::to_vec(partner).map_err(|e| BlobError::Malformed(e.to_string()))?,
        );
        let partner_row = seal_blob(&recipient, PARTNER_KEY, &json)?;
        let sync_row = seal_blob(&recipient, SYNC_STATE_KEY, sync_state)?;
        let (log, doc) = (&mut self.couple_log, self.couple.automerge_mut());
        let result = self.store.batch(|store| {
            log.persist(store, &recipient, doc)?;
            store.put_peer_blob(PARTNER_KEY, &partner_row)?;
            store.put_peer_blob(SYNC_STATE_KEY, &sync_row)
        });
        self.reload_on_error(result, DocName::Couple)?;
        // Outside the batch: a compaction that fails (a full disk) loses nothing and must
        // not take the messages' commit with it.
        if self.couple_log.needs_compaction() {
            let _ =
                self.couple_log
                    .compact(&mut self.store, &recipient, self.couple.automerge_mut());
        }
        Ok(())
    }

    fn reload_on_error(
        &mut self,
        result: Result<(), StoreError>,
        name: DocName,
    ) -> Result<(), HomeError> {
        if let Err(e) = result {
            self.reload(name)?;
            return Err(e.into());
        }
        Ok(())
    }

    /// Replaces a document in memory with what is stored: after a failed write, or after
    /// a panic that may have left it half-changed.
    pub fn reload(&mut self, name: DocName) -> Result<(), HomeError> {
        let meta = self.store.meta()?;
        match name {
            DocName::Journal => {
                let (log, doc) =
                    DocLog::load(&self.store, self.identity.storage(), name, meta.journal_id)?;
                self.journal_log = log;
                self.journal = JournalDoc::from_automerge(doc);
            }
            DocName::Couple => {
                let (log, doc) =
                    DocLog::load(&self.store, self.identity.storage(), name, meta.couple_id)?;
                self.couple_log = log;
                self.couple = CoupleDoc::from_automerge(doc);
            }
        }
        Ok(())
    }

    /// Rewrites the journal from its current state with no history, removes every older
    /// row and truncates the WAL: deleted and overwritten text is gone from disk. A purge
    /// the person asked for is dated (`at`), so their other devices purge too; a
    /// compaction is not.
    pub fn purge_journal(&mut self, at: Option<&str>) -> Result<(), HomeError> {
        let mut fresh = self.journal.rebuilt()?;
        if let Some(at) = at {
            fresh.set_purged_at(at)?;
        }
        let recipient = self.identity.recipient();
        self.journal_log
            .compact(&mut self.store, &recipient, fresh.automerge_mut())?;
        self.journal = fresh;
        self.store.checkpoint()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Entry, Kind};

    fn pass(s: &str) -> Passphrase {
        Passphrase::from(s.to_string())
    }

    #[test]
    fn a_created_home_opens_with_its_passphrase_and_keeps_writes() {
        let tmp = tempfile::tempdir().expect("tmp");
        let paths = Paths::under_home(tmp.path());
        create(&paths, "Maya", &pass("pw")).expect("create");
        assert!(matches!(
            create(&paths, "Maya", &pass("pw")),
            Err(HomeError::AlreadyInitialised(_))
        ));
        let mut home = open(&paths, &pass("pw")).expect("open");
        assert_eq!(home.own_name(), "Maya");
        let now = crate::when::now();
        let entry = Entry {
            id: "01x".into(),
            kind: Kind::Note,
            title: String::new(),
            body: "CANARY-HOME-TEST".into(),
            tags: vec![],
            mood: None,
            intensity: None,
            created_at: now,
            updated_at: now,
            record: None,
            pause: None,
            feelings: Vec::new(),
        };
        home.journal.put_entry(&entry).expect("put");
        home.persist_journal().expect("persist");
        drop(home);
        let home = open(&paths, &pass("pw")).expect("reopen");
        assert_eq!(home.journal.entries().expect("entries").0, vec![entry]);
        assert!(matches!(
            open(&paths, &pass("nope")),
            Err(HomeError::Identity(IdentityError::WrongPassphrase))
        ));
    }

    #[test]
    fn an_identity_from_another_home_is_named() {
        let (a, b) = (
            tempfile::tempdir().expect("a"),
            tempfile::tempdir().expect("b"),
        );
        let (pa, pb) = (Paths::under_home(a.path()), Paths::under_home(b.path()));
        create(&pa, "A", &pass("pw")).expect("a");
        create(&pb, "B", &pass("pw")).expect("b");
        std::fs::copy(pb.identity(), pa.identity()).expect("copy");
        assert!(matches!(
            open(&pa, &pass("pw")),
            Err(HomeError::ForeignIdentity)
        ));
    }
}
