//! The daemon's core: one request at a time against the vault, handed to the handler of
//! its domain (`session`, `partner`, `journal`, `agreements`, `practice`, `together`).
//!
//! Requests from every CLI connection are funnelled into this one place, on one thread,
//! so two CLIs writing at once are simply serialised: no locks around the documents and no
//! interleaved half-writes. A write is answered only after its sealed chunk is committed
//! to SQLite (WAL, synchronous=FULL).

use std::time::{Duration, Instant};

use haven_shared::ipc::{ErrorKind, ErrorReply, Reply, SessionCall};
use haven_shared::model::waiting::Waiting;
use haven_shared::model::ModelError;
use haven_shared::paths::Paths;

use crate::contract::CoreCall;
use crate::vault::{Unlocked, Vault};

pub mod agreements;
pub mod core;
pub mod devices;
pub mod export;
pub mod journal;
pub mod leave;
pub mod network_checks;
pub mod partner;
pub mod practice;
pub mod session;
pub mod together;
pub mod waiting;

pub use partner::PeerLinks;

pub struct Service {
    paths: Paths,
    vault: Vault,
    peer: PeerLinks,
    /// The own-device network side's ends.
    own: devices::DeviceLinks,
    /// Lock after this long without a request (status does not count); from config.toml.
    idle_lock: Option<Duration>,
    last_used: Instant,
    /// Why the last unlock refused `haven.db` as tampered with, for `haven doctor`.
    tampered: Option<String>,
    /// Where new waiting items go to become desktop notifications (see `notify`).
    notices: Option<tokio::sync::mpsc::UnboundedSender<Vec<Waiting>>>,
}

impl Service {
    pub fn new(
        paths: Paths,
        idle_lock: Option<Duration>,
        peer: PeerLinks,
        own: devices::DeviceLinks,
    ) -> Service {
        Service {
            paths,
            vault: Vault::Locked,
            peer,
            own,
            idle_lock,
            last_used: Instant::now(),
            tampered: None,
            notices: None,
        }
    }

    pub fn with_notices(
        mut self,
        notices: tokio::sync::mpsc::UnboundedSender<Vec<Waiting>>,
    ) -> Service {
        self.notices = Some(notices);
        self
    }

    /// Sends what became waiting since the last notice (from the partner, a review date
    /// reached, a pause ended) to the notifier. Called on every tick and after the
    /// partner's changes arrive.
    pub fn notice_new(&mut self) {
        let Vault::Unlocked(u) = &mut self.vault else {
            return;
        };
        let fresh = waiting::new_since_last_notice(u);
        if fresh.is_empty() {
            return;
        }
        tracing::info!(items = fresh.len(), "something new is waiting");
        if let Some(tx) = &self.notices {
            let _ = tx.send(fresh);
        }
    }

    /// Called on every tick: drops the keys once the journal has sat unused long enough.
    pub fn lock_if_idle(&mut self) {
        if let (Some(idle), Vault::Unlocked(_)) = (self.idle_lock, &self.vault) {
            if self.last_used.elapsed() >= idle {
                self.vault = Vault::Locked;
                self.publish_link();
                tracing::info!(idle_secs = idle.as_secs(), "locked after being idle");
            }
        }
    }

    /// After a panic while handling `what`: reload both documents from disk (only whole,
    /// committed writes are there), rebuild the index and start the partner's sync state
    /// afresh; if that fails too, lock. Never panics itself.
    pub fn recover(&mut self, what: &str) {
        tracing::error!(
            what,
            "an internal error while handling this; reloading the documents from disk"
        );
        let reloaded = match &mut self.vault {
            Vault::Locked => Ok(()),
            Vault::Unlocked(u) => {
                let mut result = u.home.reload(haven_shared::store::DocName::Journal);
                if result.is_ok() {
                    result = u.home.reload(haven_shared::store::DocName::Couple);
                }
                if result.is_ok() {
                    u.after_reload();
                }
                result
            }
        };
        if let Err(e) = reloaded {
            tracing::error!(error = %e, "could not reload the documents; locking");
            self.vault = Vault::Locked;
        }
        self.publish_link();
        self.couple_changed();
    }

    pub fn handle(&mut self, call: CoreCall) -> Reply {
        let counts_as_use = !matches!(call, CoreCall::Session(SessionCall::Status(_)));
        let heads_before = self.couple_heads();
        let journal_before = self.journal_heads();
        let reply = self.dispatch(call);
        if self.couple_heads() != heads_before {
            self.couple_changed();
        }
        if self.journal_heads() != journal_before {
            self.journal_changed();
        }
        // Idle time counts from when a request finished: an unlock spends a second in
        // scrypt, and must not be idle already when it returns.
        if counts_as_use {
            self.last_used = Instant::now();
        }
        reply
    }

    /// The couple document's persisted heads, to notice a change that the partner needs.
    fn couple_heads(&self) -> Option<Vec<automerge::ChangeHash>> {
        match &self.vault {
            Vault::Unlocked(u) => Some(u.home.couple_log.saved_heads().to_vec()),
            Vault::Locked => None,
        }
    }

    /// The journal's persisted heads, to notice a change the person's other devices need.
    fn journal_heads(&self) -> Option<Vec<automerge::ChangeHash>> {
        match &self.vault {
            Vault::Unlocked(u) => Some(u.home.journal_log.saved_heads().to_vec()),
            Vault::Locked => None,
        }
    }

    /// By domain: the daemon's own calls and the partner's work while locked (they say
    /// so where it matters); every other domain needs the keys, as its type says.
    fn dispatch(&mut self, call: CoreCall) -> Reply {
        match call {
            CoreCall::Session(c) => self.session(c),
            CoreCall::Devices(c) => self.devices(c),
            CoreCall::Partner(c) => self.partner(c),
            CoreCall::Journal(c) => journal::handle(self.unlocked()?, c),
            CoreCall::Agreements(c) => agreements::handle(self.unlocked()?, c),
            CoreCall::Practice(c) => practice::handle(self.unlocked()?, c),
            CoreCall::Together(c) => together::handle(self.unlocked()?, c),
        }
    }

    fn unlocked(&mut self) -> Result<&mut Unlocked, ErrorReply> {
        match &mut self.vault {
            Vault::Unlocked(u) => Ok(u),
            Vault::Locked => {
                Err(ErrorReply::new(ErrorKind::Locked, "Haven is locked")
                    .hint("run `haven unlock`"))
            }
        }
    }
}

fn invalid(e: ModelError) -> ErrorReply {
    ErrorReply::new(ErrorKind::InvalidInput, e.to_string())
}

pub(super) fn doc_error(e: impl std::fmt::Display) -> ErrorReply {
    ErrorReply::new(
        ErrorKind::Internal,
        format!("could not change the document: {e}"),
    )
}
