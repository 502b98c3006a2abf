//! Locked or unlocked: whether the keys and the decrypted documents are in memory.
//!
//! The daemon starts locked. Unlocking costs one scrypt (~0.7 s) and one load of each
//! document; locking drops everything, and every secret type zeroizes itself on drop.

use haven_shared::home::{self, HomeError, OpenHome};
use haven_shared::ipc::{ErrorKind, ErrorReply};
use haven_shared::model::Keyring;
use haven_shared::partner::Partner;
use haven_shared::paths::Paths;

use crate::journal_index::JournalIndex;

/// Everything that exists only while unlocked.
pub struct Unlocked {
    pub home: OpenHome,
    pub index: JournalIndex,
    /// The signing keys whose consents count: this member's own (and, once paired, the
    /// partner's pinned key).
    pub keyring: Keyring,
    pub name: String,
    /// The paired partner, pinned at pairing.
    pub partner: Option<Partner>,
    /// Why the partner's rows in `haven.db` do not verify, if they do not: someone with
    /// the disk wrote them. Then there is no partner to dial or sync with until
    /// `unpair` (or a new pairing) clears them.
    pub partner_problem: Option<String>,
    /// After an unpair: a hash of the former partner's Noise key, to tell it when it calls.
    pub farewell: Option<haven_shared::partner::FormerPartner>,
    /// The automerge sync state of the current (or last) session with the partner.
    pub sync: automerge::sync::State,
    /// Which session `sync` belongs to. When the path changes (LAN to iroh and back) the
    /// old session may still be winding down: what it generates or hands in must not
    /// touch the new session's state, or automerge believes the partner got what went
    /// to a dead connection.
    pub sync_session: u64,
    /// What this person has looked at of the partner's items (see `model::waiting`).
    pub seen: std::collections::BTreeSet<String>,
    /// Waiting items a notification already went out for (or that were there at unlock).
    pub notified: std::collections::BTreeSet<String>,
    /// No seen marks were stored yet: the first look marks everything there is as seen.
    pub seen_baseline_due: bool,
    /// Freshly unlocked: the first look takes what is waiting as already notified.
    pub notice_baseline_due: bool,
    /// The partner's part of what is waiting, for these couple heads and this day.
    pub waiting_cache: Option<(
        Vec<automerge::ChangeHash>,
        chrono::NaiveDate,
        Vec<haven_shared::model::waiting::Waiting>,
    )>,
}

pub enum Vault {
    Locked,
    Unlocked(Box<Unlocked>),
}

impl Vault {
    pub fn unlock(
        paths: &Paths,
        passphrase: &secrecy::SecretString,
    ) -> Result<Unlocked, ErrorReply> {
        let started = std::time::Instant::now();
        let identity = home::read_identity(paths, passphrase).map_err(home_error)?;
        let scrypt = started.elapsed();
        let home = home::open_with(paths, identity, passphrase).map_err(home_error)?;
        let (entries, skipped) = home.journal.entries().map_err(|e| home_error(e.into()))?;
        if skipped > 0 {
            tracing::warn!(
                skipped,
                "journal entries that could not be read were skipped"
            );
        }
        let index = JournalIndex::build(entries);
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
            "unlocked"
        );
        let farewell = home.farewell().unwrap_or_default();
        let mut unlocked = Unlocked {
            home,
            index,
            keyring: Keyring::new(),
            name,
            partner,
            partner_problem,
            farewell,
            sync: automerge::sync::State::new(),
            sync_session: 0,
            seen: Default::default(),
            notified: Default::default(),
            seen_baseline_due: false,
            notice_baseline_due: true,
            waiting_cache: None,
        };
        unlocked.keyring = crate::service::partner::keyring(&unlocked);
        // Agreements from before signed items are carried over once; then anything of this
        // member's that went missing from the couple document is put back.
        match unlocked.home.migrate_agreements(&unlocked.keyring) {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                agreements = n,
                "carried v1 agreements over to signed statements"
            ),
            Err(e) => return Err(home_error(e)),
        }
        match unlocked.home.republish_own() {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                items = n,
                "put back agreement items of ours that were missing from the couple document"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "could not put back our agreement items; will try again")
            }
        }
        crate::service::together::reveal_due(&mut unlocked);
        crate::service::together::load_seen(&mut unlocked);
        Ok(unlocked)
    }
}

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
