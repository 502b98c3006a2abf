//! Locked or unlocked: whether the keys and the decrypted documents are in memory.
//!
//! The daemon starts locked. Unlocking costs one scrypt (~0.7 s) and one load of each
//! document; locking drops everything, and every secret type zeroizes itself on drop.

use haven_shared::devices::journal_sync::{Apply, Changes, Marks, PartnerCard, Tombstone};
use haven_shared::devices::SignedDeviceList;
use haven_shared::home::{self, HomeError, OpenHome};
use haven_shared::ipc::{ErrorKind, ErrorReply};
use haven_shared::model::agreement::{self, Book, SignedItem};
use haven_shared::model::ask::{self, AskBook};
use haven_shared::model::notes::{self, Board};
use haven_shared::model::{AgreementView, Entry, Keyring, Status};
use haven_shared::partner_record::{FormerPartner, Partner};
use haven_shared::paths::Paths;

use crate::devices_sync::DevicesSync;
use crate::journal_index::{JournalIndex, Resolve};
use crate::partner_sync::PartnerSync;
use crate::seen_marks::SeenMarks;

/// Everything that exists only while unlocked. The documents, the index and the name are
/// plain state the handlers read and write; who the partner is, the keyring that follows
/// from it, the couple sync and the seen marks are private, so the rules between them
/// (a new partner means a new sync, a new keyring and a new waiting list) hold in one place.
pub struct Unlocked {
    pub home: OpenHome,
    pub index: JournalIndex,
    pub name: String,
    /// The signing keys whose consents count: this member's own (and, once paired, the
    /// partner's pinned key).
    keyring: Keyring,
    /// The paired partner, pinned at pairing.
    partner: Option<Partner>,
    /// Why the partner's rows in `haven.db` do not verify, if they do not: someone with
    /// the disk wrote them. Then there is no partner to dial or sync with until
    /// `unpair` (or a new pairing) clears them.
    partner_problem: Option<String>,
    /// After an unpair: a hash of the former partner's Noise key, to tell it when it calls.
    farewell: Option<FormerPartner>,
    /// The couple document's sync with the partner: its state and its session.
    partner_sync: PartnerSync,
    /// What this person has looked at of the partner's items, and what was notified.
    marks: SeenMarks,
    /// Which of the partner's iroh keys the endpoint follows (one change per pause).
    pub endpoint: crate::partner_endpoint::EndpointFollow,
    /// The person's other devices and the journal's sessions with them.
    pub devices: DevicesSync,
}

impl Unlocked {
    /// Sets (or clears) the paired partner. What depends on who the partner is follows:
    /// the sync state starts afresh, the keyring is made anew, the waiting list is
    /// recomputed.
    pub fn set_partner(&mut self, partner: Option<Partner>) {
        self.partner = partner;
        self.partner_sync.reset();
        self.endpoint = Default::default();
        self.keyring = self.keyring_now();
        self.marks.forget_cache();
    }

    /// A new pairing: the partner is pinned, any farewell to a former one and any
    /// problem with the old rows end.
    pub fn pin_partner(&mut self, partner: Partner) {
        self.partner_problem = None;
        self.farewell = None;
        self.set_partner(Some(partner));
    }

    /// An unpair: nobody is the partner; `former`, if any, is told when it calls.
    pub fn unpin_partner(&mut self, former: Option<FormerPartner>) {
        self.partner_problem = None;
        self.farewell = former;
        self.set_partner(None);
    }

    pub fn partner(&self) -> Option<&Partner> {
        self.partner.as_ref()
    }

    /// The partner's record, for what it learns (addresses, last seen, the relay). Who the
    /// partner is changes only through [`Self::pin_partner`] and [`Self::unpin_partner`].
    pub fn partner_record_mut(&mut self) -> Option<&mut Partner> {
        self.partner.as_mut()
    }

    pub fn partner_problem(&self) -> Option<&str> {
        self.partner_problem.as_deref()
    }

    pub fn farewell(&self) -> Option<FormerPartner> {
        self.farewell
    }

    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    pub fn marks(&self) -> &SeenMarks {
        &self.marks
    }

    pub fn marks_mut(&mut self) -> &mut SeenMarks {
        &mut self.marks
    }

    /// Stores the partner's record as it is in memory (nothing when unpaired).
    pub fn save_partner_record(&mut self) -> Result<(), ErrorReply> {
        match &self.partner {
            Some(p) => self.home.save_partner(p).map_err(home_error),
            None => Ok(()),
        }
    }

    /// Stores the seen marks.
    pub fn save_marks(&mut self) -> Result<(), ErrorReply> {
        self.home
            .save_seen_marks(self.marks.seen())
            .map_err(home_error)
    }

    /// Carries agreements from before signed statements over, once (see
    /// `OpenHome::migrate_agreements`).
    pub fn migrate_agreements(&mut self) -> Result<usize, ErrorReply> {
        self.home
            .migrate_agreements(&self.keyring)
            .map_err(home_error)
    }

    /// A session with the partner began: the sync starts from the saved state.
    pub fn sync_start(&mut self, session: u64) {
        let saved = self.home.sync_state();
        self.partner_sync.start(session, saved);
    }

    /// The next sync message for the partner, if any (see `PartnerSync::next`).
    pub fn sync_next(&mut self, session: u64) -> Option<Vec<u8>> {
        self.partner.as_ref()?;
        self.partner_sync.next(session, &mut self.home.couple)
    }

    /// A message from the partner, merged and saved (see `PartnerSync::receive`). True
    /// when the couple document changed.
    pub fn sync_receive(&mut self, session: u64, bytes: &[u8]) -> Result<bool, String> {
        let Some(partner) = self.partner.as_mut() else {
            return Err("not paired".into());
        };
        self.partner_sync
            .receive(session, &mut self.home, partner, bytes)
    }

    /// How many of our changes the partner has not acknowledged yet.
    pub fn sync_waiting(&mut self) -> usize {
        self.partner_sync.waiting(&mut self.home.couple)
    }

    /// Where our copy of the couple document stands against the partner's.
    pub fn sync_standing(&mut self) -> haven_shared::couple_sync::Standing {
        self.partner_sync.standing(&mut self.home.couple)
    }

    /// The documents were reloaded from disk: the index and the sync start afresh.
    pub fn after_reload(&mut self) {
        self.rebuild_index();
        self.partner_sync.reset();
        self.marks.forget_cache();
    }

    /// An entry by exact id or unique prefix, or why not.
    pub fn resolve_entry(&self, prefix: &str) -> Result<&Entry, ErrorReply> {
        self.index.resolve(prefix).map_err(|e| match e {
            Resolve::NotFound => ErrorReply::new(
                ErrorKind::NotFound,
                format!("no journal entry matches {prefix:?}"),
            )
            .hint("see the ids with `haven journal list`"),
            Resolve::Ambiguous(ids) => ErrorReply::new(
                ErrorKind::Ambiguous,
                format!("{prefix:?} matches several entries ({})", ids.join(", ")),
            )
            .hint("type more of the id"),
        })
    }

    /// Persists the journal; on failure the home reloaded it from disk, so the index is
    /// rebuilt to match what is stored.
    pub fn persist_journal(&mut self) -> Result<(), ErrorReply> {
        self.home.persist_journal().map_err(|e| {
            self.rebuild_index();
            home_error(e)
        })
    }

    /// The index made anew from the journal document (after it was reloaded).
    pub fn rebuild_index(&mut self) {
        if let Ok((entries, _)) = self.home.journal.entries() {
            self.index = JournalIndex::build(entries);
        }
    }

    /// Publishes signed items: into this laptop's own copy, then the couple document.
    pub fn publish(&mut self, items: &[SignedItem]) -> Result<(), ErrorReply> {
        self.home.publish_items(items).map_err(|e| {
            self.rebuild_index();
            home_error(e)
        })
    }

    /// Every agreement, assembled from verified items (this member's own merged in).
    pub fn book(&self) -> Result<Book, ErrorReply> {
        let sources = self.home.agreement_sources().map_err(home_error)?;
        Ok(agreement::assemble(&sources, &self.keyring))
    }

    /// Every agreement as people see it (status derived today), oldest first.
    pub fn agreement_views(&self, book: &Book) -> Vec<AgreementView> {
        let today = chrono::Local::now().date_naive();
        let mut views: Vec<AgreementView> = book
            .agreements
            .values()
            .map(|a| a.view(&self.keyring, today))
            .collect();
        views.sort_by_key(|a| a.created_at);
        views
    }

    /// Active and due-for-review agreements, for a session brief and a pause.
    pub fn in_force_agreements(&self) -> Result<Vec<AgreementView>, ErrorReply> {
        let mut views = self.agreement_views(&self.book()?);
        views.retain(|v| matches!(v.status, Status::Active | Status::DueForReview));
        Ok(views)
    }

    /// The couple's shared notes and thanks, verified.
    pub fn board(&self) -> Board {
        notes::assemble(&self.home.together_items(), &self.keyring)
    }

    /// The weekly question's commitments and reveals, verified.
    pub fn ask_book(&self) -> AskBook {
        ask::assemble(&self.home.together_items(), &self.keyring)
    }

    /// The keyring for this member and, when paired, the partner's pinned key. Each
    /// member's signatures count from the devices their checked list names: this person's
    /// own list, and the partner's as this laptop followed it (`follow_partner_devices`).
    fn keyring_now(&self) -> Keyring {
        let own = self.devices.own.as_ref().and_then(|o| o.list.open().ok());
        let own_keys = own.as_ref().map(|l| l.keys());
        let first = own_keys.as_ref().and_then(|k| k.first()).map(|d| d.key);
        let mut keyring = Keyring::new().with(
            &self.name,
            first.unwrap_or_else(|| self.home.identity.verifying_key()),
        );
        if let (Some(list), Some(keys)) = (&own, own_keys) {
            keyring.set_devices(&list.member_id, keys);
        }
        if let Some(p) = self.partner_card() {
            if let Some(key) = key_of(&p.signing_key) {
                let member = keyring.add(&p.name, key);
                if let Some(list) = partner_devices(p.devices.as_deref()) {
                    keyring.set_devices(&member, list.keys());
                }
            }
        } else {
            // Unpaired (before pairing, or after `unpair` without --wipe): the agreements made
            // together stay readable, signed by the member keys the couple document names. A
            // key counts only under the id derived from it, and this member's own key is never
            // taken from the document, so nothing read this way can speak for this member.
            // Nor a record one of this person's own devices left there (each home starts
            // with one): a device is never a member of its own.
            let me = self.home.member_id();
            let mine = |key: &str| {
                own.as_ref()
                    .is_some_and(|l| l.devices.iter().any(|d| d.key == key))
            };
            for m in self.home.couple.members().unwrap_or_default() {
                if let Some(key) = key_of(&m.signing_key) {
                    if m.id != me
                        && !mine(&m.signing_key)
                        && haven_shared::model::agreement::member_id_of(&key) == m.id
                    {
                        keyring.add(&m.name, key);
                    }
                }
            }
        }
        keyring
    }

    /// Who the partner is: from this device's pairing or, on another of the person's
    /// devices, as the paired one told it (`DeviceMessage::Partner`).
    pub fn partner_card(&self) -> Option<PartnerCard> {
        match &self.partner {
            Some(p) => Some(PartnerCard {
                name: p.name.clone(),
                member_id: p.member_id.clone(),
                signing_key: p.signing_key.clone(),
                devices: p.devices.clone(),
                from: String::new(),
            }),
            None => self.devices.own.as_ref()?.partner.clone(),
        }
    }

    /// The partner's member id, from this device's pairing (unless its rows do not verify)
    /// or as the person's paired device told this one: whose items are the partner's.
    pub fn partner_member(&self) -> Option<String> {
        if self.partner_problem.is_some() {
            return None;
        }
        self.partner_card().map(|c| c.member_id)
    }

    /// This person's device list changed (a device linked, revoked, or left): whose
    /// signatures count for them follows.
    pub fn devices_changed(&mut self) {
        self.keyring = self.keyring_now();
    }

    /// Follows the partner's device list through the versions the couple document holds
    /// past the one this laptop knows (each checked against the one before, from the key
    /// pinned at pairing), and keeps the newest in the partner record. True when it moved.
    pub fn follow_partner_devices(&mut self) -> bool {
        let Some(partner) = &self.partner else {
            return false;
        };
        let known = partner
            .devices
            .as_deref()
            .and_then(|j| SignedDeviceList::decode(j.as_bytes()).ok());
        let after = known
            .as_ref()
            .and_then(|k| k.open().ok())
            .map_or(0, |l| l.version);
        let published = self.home.couple.device_lists(&partner.member_id, after);
        let Some(newer) =
            haven_shared::devices::list::follow(&partner.signing_key, known.as_ref(), &published)
        else {
            return false;
        };
        let mut updated = partner.clone();
        updated.devices = String::from_utf8(newer.encode()).ok();
        if let Err(e) = self.home.save_partner(&updated) {
            tracing::warn!(error = %e, "cannot save the partner's device list; following it again later");
            return false;
        }
        if let Ok(list) = newer.open() {
            tracing::info!(
                version = list.version,
                devices = list.active().count(),
                "took a newer list of the partner's devices"
            );
        }
        self.partner = Some(updated);
        self.keyring = self.keyring_now();
        true
    }
}

/// An Ed25519 key from its hex.
fn key_of(hex_key: &str) -> Option<haven_shared::ed25519_dalek::VerifyingKey> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(hex_key, &mut bytes).ok()?;
    haven_shared::ed25519_dalek::VerifyingKey::from_bytes(&bytes).ok()
}

/// The partner's device list as this laptop (or the person's paired device) last checked
/// it.
pub fn partner_devices(json: Option<&str>) -> Option<haven_shared::devices::DeviceList> {
    SignedDeviceList::decode(json?.as_bytes()).ok()?.open().ok()
}

pub enum Vault {
    Locked,
    Unlocked(Box<Unlocked>),
}

impl Vault {
    /// Decrypts the identity and loads both documents and the journal's index. What the
    /// practice does after an unlock (carrying old agreements over, putting back missing
    /// statements, revealing an answer, the seen marks) is the service's.
    pub fn unlock(
        paths: &Paths,
        passphrase: &secrecy::SecretString,
    ) -> Result<Unlocked, ErrorReply> {
        let started = std::time::Instant::now();
        let identity = home::read_identity(paths, passphrase).map_err(home_error)?;
        let scrypt = started.elapsed();
        // Each phase timed, so a slow unlock says where its time went (bench/scale.sh).
        let phase = std::time::Instant::now();
        let home = home::open_with(paths, identity, passphrase).map_err(home_error)?;
        let open = phase.elapsed();
        let phase = std::time::Instant::now();
        let (entries, skipped) = home.journal.entries().map_err(|e| home_error(e.into()))?;
        let read = phase.elapsed();
        if skipped > 0 {
            tracing::warn!(
                skipped,
                "journal entries that could not be read were skipped"
            );
        }
        let phase = std::time::Instant::now();
        let index = JournalIndex::build(entries);
        let indexed = phase.elapsed();
        let name = home.own_name();
        let partner_problem = home.store.peer_problem().map(str::to_string);
        if let Some(problem) = &partner_problem {
            tracing::error!(
                problem = %problem,
                "the partner's rows in haven.db do not verify: not connecting to anyone"
            );
        }
        let partner = home.partner().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the partner record is unreadable; acting unpaired");
            None
        });
        tracing::info!(
            entries = index.len(),
            scrypt_ms = scrypt.as_millis() as u64,
            load_ms = (started.elapsed() - scrypt).as_millis() as u64,
            open_ms = open.as_millis() as u64,
            read_ms = read.as_millis() as u64,
            index_ms = indexed.as_millis() as u64,
            "unlocked"
        );
        if let Some(r) = home.store.rollback() {
            tracing::error!(
                found = r.found,
                newest = r.newest,
                "haven.db is older than the newest generation seen on this laptop"
            );
        }
        if let Some(notice) = home.store.witness_notice() {
            tracing::warn!(notice, "the generation file");
        }
        let farewell = home.farewell().unwrap_or_default();
        let mut unlocked = Unlocked {
            home,
            index,
            keyring: Keyring::new(),
            name,
            partner,
            partner_problem,
            farewell,
            partner_sync: PartnerSync::default(),
            marks: SeenMarks::default(),
            endpoint: Default::default(),
            devices: DevicesSync::default(),
        };
        unlocked.devices.own = unlocked.home.own_devices().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the record of this person's devices is unreadable; acting unlinked");
            None
        });
        if let Some(own) = &unlocked.devices.own {
            unlocked.name = own.member_name.clone();
        }
        unlocked.keyring = unlocked.keyring_now();
        Ok(unlocked)
    }
}

/// What an unlock tells the person about the age of haven.db: older than the newest copy
/// this laptop has seen, or no way to tell.
pub fn generation_warnings(u: &Unlocked) -> Vec<String> {
    let store = &u.home.store;
    let mut out = Vec::new();
    if store.rollback().is_some() {
        out.push(OLDER_COPY.to_string());
    }
    if let Some(notice) = store.witness_notice() {
        out.push(format!(
            "{notice} (expected once if you moved or restored your home yourself)"
        ));
    }
    out
}

/// What a haven.db older than the newest copy seen means, in one sentence.
pub const OLDER_COPY: &str = "haven.db is older than the newest copy this laptop has seen: what you wrote or deleted since may be missing or back; `haven doctor` says what to do";

/// How to recover from rows that do not verify.
pub const RESTORE_HINT: &str = "Haven changed nothing; restore your latest backup into a new home (`haven --home NEW_DIR restore FILE`)";

/// Maps a home error to what the CLI shows: what happened, and what to do.
pub fn home_error(e: HomeError) -> ErrorReply {
    use haven_shared::crypto::IdentityError;
    use haven_shared::store::StoreError;
    match e {
        HomeError::NotInitialised(dir) => ErrorReply::new(
            ErrorKind::NotFound,
            format!("there is no Haven home at {}", dir.display()),
        )
        .hint("create one with `haven init --name NAME`"),
        HomeError::Identity(IdentityError::WrongPassphrase) => {
            ErrorReply::new(ErrorKind::WrongPassphrase, "wrong passphrase")
                .hint("try again; nothing was changed")
        }
        HomeError::ForeignIdentity => ErrorReply::new(
            ErrorKind::ForeignIdentity,
            "identity.age belongs to another home and cannot open this haven.db",
        )
        .hint("put back this home's own identity.age (from a backup)"),
        HomeError::Store(StoreError::DiskFull) => {
            ErrorReply::new(ErrorKind::DiskFull, "the disk is full: nothing was saved")
                .hint("free some space and try again; everything saved before is intact")
        }
        HomeError::Store(e @ StoreError::Tampered(_)) => {
            ErrorReply::new(ErrorKind::Tampered, e.to_string()).hint(RESTORE_HINT)
        }
        HomeError::Store(e @ (StoreError::Foreign(_) | StoreError::TooNew(_))) => {
            ErrorReply::new(ErrorKind::Corrupt, e.to_string())
                .hint("check the --home folder, or restore from a backup")
        }
        HomeError::Store(
            e @ (StoreError::Corrupt(_)
            | StoreError::Seal(_)
            | StoreError::Document(_)
            | StoreError::MissingMeta(_)),
        ) => ErrorReply::new(ErrorKind::Corrupt, format!("haven.db is damaged: {e}"))
            .hint("run `haven doctor`; restore haven.db from a backup if it cannot be repaired"),
        HomeError::Identity(e) => {
            ErrorReply::new(ErrorKind::Corrupt, format!("cannot read identity.age: {e}"))
                .hint("restore identity.age from a backup")
        }
        other => ErrorReply::new(ErrorKind::Storage, other.to_string()).hint("run `haven doctor`"),
    }
}

/// The journal as the sync with the person's other devices reads and changes it: the
/// document, with the index (and its marks) kept in step.
impl crate::devices_sync::Journal for Unlocked {
    fn journal_marks(&mut self) -> &mut Marks {
        let journal = &self.home.journal;
        self.index
            .marks(|| (journal.tombstones(), journal.purged_at()))
    }

    fn changes_for(&mut self, their: &Marks) -> Vec<Changes> {
        let journal = &self.home.journal;
        self.index
            .changes_for(their, || (journal.tombstones(), journal.purged_at()))
    }

    fn plan(&mut self, changes: Changes) -> (Apply, usize) {
        let journal = &self.home.journal;
        self.index
            .plan(changes, || (journal.tombstones(), journal.purged_at()))
    }

    fn put(&mut self, entry: Entry) -> Result<(), String> {
        self.home
            .journal
            .put_entry(&entry)
            .map_err(|e| e.to_string())?;
        self.index.upsert(entry);
        Ok(())
    }

    fn delete(&mut self, tombstone: &Tombstone) -> Result<(), String> {
        self.home
            .journal
            .delete_entry(&tombstone.id, &tombstone.at)
            .map_err(|e| e.to_string())?;
        self.index.delete(tombstone);
        Ok(())
    }

    fn purge(&mut self, at: &str) -> Result<(), String> {
        self.home
            .purge_journal(Some(at))
            .map_err(|e| e.to_string())?;
        if let Some(marks) = self.index.marks_if_made() {
            marks.set_purged(at.to_string());
        }
        Ok(())
    }

    fn persist(&mut self) -> Result<(), String> {
        self.persist_journal().map_err(|e| e.message)
    }
}
