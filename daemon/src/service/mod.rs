//! The daemon's core: one request at a time against the vault.
//!
//! Requests from every CLI connection are funnelled into this one place, on one thread,
//! so two CLIs writing at once are simply serialised: no locks around the documents and no
//! interleaved half-writes. A write is answered only after its sealed chunk is committed
//! to SQLite (WAL, synchronous=FULL).

use chrono::Local;
use secrecy::SecretString;
use std::time::{Duration, Instant};

use haven_shared::ed25519_dalek::SigningKey;
use haven_shared::ipc::{
    ErrorKind, ErrorReply, ExportData, ExportSelection, Reply, Request, Response, StatusInfo,
};
use haven_shared::model::agreement::{self, Agreement, Book, SignedItem, VerbError};
use haven_shared::model::waiting::Waiting;
use haven_shared::model::{new_id, Entry, EntryChanges, ModelError};
use haven_shared::model::{AgreementView, ListQuery, Status, Verb};
use haven_shared::paths::Paths;
use haven_shared::store::Store;
use haven_shared::when;

use crate::journal_index::Resolve;
use crate::vault::{home_error, Unlocked, Vault};

pub mod core;
pub mod partner;
pub mod practice;
pub mod together;

pub use partner::PeerLinks;

pub struct Service {
    paths: Paths,
    vault: Vault,
    peer: PeerLinks,
    /// Lock after this long without a request (status does not count); from config.toml.
    idle_lock: Option<Duration>,
    last_used: Instant,
    /// Why the last unlock refused `haven.db` as tampered with, for `haven doctor`.
    tampered: Option<String>,
    /// Where new waiting items go to become desktop notifications (see `notify`).
    notices: Option<tokio::sync::mpsc::UnboundedSender<Vec<Waiting>>>,
}

impl Service {
    pub fn new(paths: Paths, idle_lock: Option<Duration>, peer: PeerLinks) -> Service {
        Service {
            paths,
            vault: Vault::Locked,
            peer,
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
        let fresh = together::new_since_last_notice(u);
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
                    rebuild_index(u);
                    u.sync = automerge::sync::State::new();
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

    pub fn handle(&mut self, request: Request) -> Reply {
        let counts_as_use = !matches!(request, Request::Status);
        let heads_before = self.couple_heads();
        let reply = self.dispatch(request);
        if self.couple_heads() != heads_before {
            self.couple_changed();
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

    fn dispatch(&mut self, request: Request) -> Reply {
        match request {
            Request::Status => Ok(Response::Status(self.status())),
            Request::Unlock { passphrase } => self.unlock(SecretString::from(passphrase.0.clone())),
            Request::CopyDatabase => {
                let path = self
                    .paths
                    .data_dir
                    .join(format!(".backup-{}.db", std::process::id()));
                let _ = std::fs::remove_file(&path);
                let result = match &self.vault {
                    Vault::Unlocked(u) => u.home.store.copy_to(&path),
                    Vault::Locked => {
                        Store::open(&self.paths.database()).and_then(|s| s.copy_to(&path))
                    }
                };
                result.map_err(|e| home_error(e.into()))?;
                Ok(Response::DatabaseCopy { path })
            }
            Request::Lock => {
                self.vault = Vault::Locked;
                self.publish_link();
                crate::lifecycle::give_back_freed_memory();
                tracing::info!("locked");
                Ok(Response::Done)
            }
            Request::Shutdown => {
                // Sessions say goodbye to the partner (and log what they sent) on the way out.
                self.peer.link.send_replace(crate::peer::Link::Off);
                Ok(Response::Done)
            }
            Request::Partner => self.partner_info(),
            Request::PartnerAddress { address } => self.partner_address(&address),
            Request::PartnerRelay { url } => self.partner_relay(url.as_ref().map(|u| u.0.as_str())),
            Request::PartnerUnpair { wipe } => self.unpair(wipe),
            Request::NetworkChecks => Ok(Response::Checks {
                checks: self.network_checks(),
            }),
            other => {
                let u = self.unlocked()?;
                handle_unlocked(u, other)
            }
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

    fn unlock(&mut self, passphrase: SecretString) -> Reply {
        if let Vault::Unlocked(u) = &self.vault {
            return Ok(Response::Unlocked {
                name: u.name.clone(),
            });
        }
        let unlocked = Vault::unlock(&self.paths, &passphrase).inspect_err(|e| {
            if e.kind == ErrorKind::Tampered {
                self.tampered = Some(e.message.clone());
            }
        })?;
        self.tampered = None;
        let name = unlocked.name.clone();
        self.vault = Vault::Unlocked(Box::new(unlocked));
        self.publish_link();
        crate::lifecycle::give_back_freed_memory();
        Ok(Response::Unlocked { name })
    }

    fn status(&mut self) -> StatusInfo {
        let waiting = match &mut self.vault {
            Vault::Unlocked(u) => together::waiting(u),
            Vault::Locked => Vec::new(),
        };
        let unlocked = match &self.vault {
            Vault::Unlocked(u) => Some(u),
            Vault::Locked => None,
        };
        StatusInfo {
            locked: unlocked.is_none(),
            name: unlocked.map(|u| u.name.clone()),
            paired: unlocked.is_some_and(|u| u.partner.is_some()),
            partner: unlocked.and_then(|u| u.partner.as_ref().map(|p| p.name.clone())),
            connected: self.peer.connected_address().is_some(),
            entries: unlocked.map(|u| u.index.len()),
            agreements: unlocked.map(|u| u.home.couple.agreement_count()),
            pid: std::process::id(),
            version: haven_shared::VERSION.to_string(),
            memory_bytes: resident_memory(),
            open_pauses: unlocked
                .map(|u| practice::open_pauses(u))
                .unwrap_or_default(),
            waiting,
        }
    }
}

fn invalid(e: ModelError) -> ErrorReply {
    ErrorReply::new(ErrorKind::InvalidInput, e.to_string())
}

fn invalid_entry(at: chrono::DateTime<chrono::FixedOffset>, e: ModelError) -> ErrorReply {
    ErrorReply::new(
        ErrorKind::InvalidInput,
        format!(
            "the entry of {} cannot be imported: {e}; nothing was imported",
            at.to_rfc3339()
        ),
    )
}

pub(super) fn resolve<'a>(u: &'a Unlocked, prefix: &str) -> Result<&'a Entry, ErrorReply> {
    u.index.resolve(prefix).map_err(|e| match e {
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

/// Every agreement, assembled from verified items (this member's own merged in).
fn book(u: &Unlocked) -> Result<Book, ErrorReply> {
    let sources = u.home.agreement_sources().map_err(home_error)?;
    Ok(agreement::assemble(&sources, &u.keyring))
}

/// An agreement by exact id (always wins) or unique prefix.
fn resolve_agreement<'b>(book: &'b Book, prefix: &str) -> Result<&'b Agreement, ErrorReply> {
    book.resolve(prefix).map_err(|ids| match ids.as_slice() {
        [] => ErrorReply::new(
            ErrorKind::NotFound,
            format!("no agreement matches {:?}", prefix.trim()),
        )
        .hint("see the ids with `haven agree list`"),
        many => ErrorReply::new(
            ErrorKind::Ambiguous,
            format!(
                "{:?} matches several agreements ({})",
                prefix.trim(),
                many.join(", ")
            ),
        )
        .hint("type more of the id"),
    })
}

fn verb_error(e: VerbError) -> ErrorReply {
    ErrorReply::new(ErrorKind::InvalidInput, e.to_string())
}

pub(super) fn doc_error(e: impl std::fmt::Display) -> ErrorReply {
    ErrorReply::new(
        ErrorKind::Internal,
        format!("could not change the document: {e}"),
    )
}

/// Applies one signed verb to an agreement (by id or prefix), publishes what it signed,
/// and shows the result.
fn agreement_verb(
    u: &mut Unlocked,
    prefix: &str,
    verb: impl FnOnce(&Agreement, &SigningKey, u64) -> Result<Vec<SignedItem>, VerbError>,
) -> Reply {
    let book = book(u)?;
    let agreement = resolve_agreement(&book, prefix)?;
    let key = u.home.identity.signing_key().clone();
    let counter = book.next_counter(&u.home.identity.member_id());
    let items = verb(agreement, &key, counter).map_err(verb_error)?;
    let id = agreement.id.clone();
    publish(u, &items)?;
    agreement_reply(u, &id)
}

pub(super) fn publish(u: &mut Unlocked, items: &[SignedItem]) -> Result<(), ErrorReply> {
    u.home.publish_items(items).map_err(|e| {
        rebuild_index(u);
        home_error(e)
    })
}

fn agreement_reply(u: &Unlocked, id: &str) -> Reply {
    agreement_reply_from(u, &book(u)?, id)
}

/// The agreement `id` as shown, from a book already assembled.
fn agreement_reply_from(u: &Unlocked, book: &Book, id: &str) -> Reply {
    let today = Local::now().date_naive();
    let agreement = book
        .agreements
        .get(id)
        .ok_or_else(|| ErrorReply::new(ErrorKind::NotFound, format!("no agreement {id}")))?;
    Ok(Response::Agreement {
        agreement: agreement.view(&u.keyring, today),
    })
}

fn handle_unlocked(u: &mut Unlocked, request: Request) -> Reply {
    let now = when::now();
    match request {
        Request::Recipient => Ok(Response::Recipient {
            recipient: u.home.identity.recipient().to_string(),
        }),
        Request::JournalWrite { entry } => {
            let entry = entry
                .validated()
                .map_err(invalid)?
                .into_entry(new_id(), now);
            u.home.journal.put_entry(&entry).map_err(doc_error)?;
            persist_journal(u)?;
            let id = entry.id.clone();
            u.index.upsert(entry);
            Ok(Response::Created { id })
        }
        Request::JournalList { query } => {
            let (entries, total) = u.index.query(&query);
            Ok(Response::Entries { entries, total })
        }
        Request::JournalShow { id } => Ok(Response::Entry {
            entry: resolve(u, &id)?.clone(),
        }),
        Request::JournalEdit { id, changes } => {
            let changes: EntryChanges = changes.validated().map_err(invalid)?;
            let mut entry = resolve(u, &id)?.clone();
            if !changes.apply(&mut entry).map_err(invalid)? {
                return Ok(Response::Entry { entry });
            }
            entry.updated_at = now;
            u.home.journal.put_entry(&entry).map_err(doc_error)?;
            persist_journal(u)?;
            u.index.upsert(entry.clone());
            Ok(Response::Entry { entry })
        }
        Request::JournalDelete { id } => {
            let entry = resolve(u, &id)?.clone();
            u.home.journal.delete_entry(&entry.id).map_err(doc_error)?;
            persist_journal(u)?;
            u.index.remove(&entry.id);
            Ok(Response::Entry { entry })
        }
        Request::JournalPurge => {
            let (_, bytes_before) = u
                .home
                .store
                .usage(haven_shared::store::DocName::Journal)
                .unwrap_or_default();
            u.home.purge_journal().map_err(home_error)?;
            let (_, bytes_after) = u
                .home
                .store
                .usage(haven_shared::store::DocName::Journal)
                .unwrap_or_default();
            tracing::info!(entries = u.index.len(), "journal purged");
            Ok(Response::Purged {
                entries: u.index.len(),
                bytes_before,
                bytes_after,
            })
        }
        Request::AgreePropose {
            title,
            text,
            review_on,
        } => {
            if title.trim().is_empty() {
                return Err(invalid(ModelError::EmptyTitle));
            }
            if text.trim().is_empty() {
                return Err(invalid(ModelError::EmptyAgreement));
            }
            let id = new_id();
            let key = u.home.identity.signing_key().clone();
            let counter = book(u)?.next_counter(&u.home.identity.member_id());
            let items = agreement::propose(
                &key,
                &id,
                title.trim(),
                text.trim(),
                review_on,
                counter,
                now,
            );
            publish(u, &items)?;
            Ok(Response::Created { id })
        }
        Request::AgreeList => {
            let book = book(u)?;
            together::mark_seen(u, Some(&book), None, None, |_| true);
            Ok(Response::Agreements {
                agreements: agreement_views(u, &book),
                ignored: book.malformed,
            })
        }
        Request::AgreeShow { id } => {
            let book = book(u)?;
            let id = resolve_agreement(&book, &id)?.id.clone();
            together::seen_agreement(u, &book, &id);
            agreement_reply_from(u, &book, &id)
        }
        Request::AgreeAccept { id } => agreement_verb(u, &id, |a, k, n| {
            a.respond(k, Verb::Consent, None, n, now).map(|i| vec![i])
        }),
        Request::AgreeDecline { id } => agreement_verb(u, &id, |a, k, n| {
            a.respond(k, Verb::Decline, None, n, now).map(|i| vec![i])
        }),
        Request::AgreeRevise { id, text } => {
            if text.trim().is_empty() {
                return Err(invalid(ModelError::EmptyAgreement));
            }
            agreement_verb(u, &id, |a, k, n| a.revise(k, text.trim(), n, now))
        }
        Request::AgreeWithdraw { id, reason } => agreement_verb(u, &id, |a, k, n| {
            a.respond(k, Verb::Withdraw, reason, n, now)
                .map(|i| vec![i])
        }),
        Request::JournalImport { entries } => {
            // Validate the whole batch before writing any of it.
            let mut fresh = Vec::new();
            let mut existing = 0;
            for entry in entries {
                let at = entry.created_at;
                let entry = entry.validated().map_err(|e| invalid_entry(at, e))?;
                if u.index.contains(&entry.id) {
                    existing += 1;
                    continue;
                }
                fresh.push(entry);
            }
            for entry in &fresh {
                u.home.journal.put_entry(entry).map_err(doc_error)?;
            }
            persist_journal(u)?;
            let added = fresh.len();
            u.index.insert_many(fresh);
            Ok(Response::Imported { added, existing })
        }
        Request::PauseStart { pause } => practice::start_pause(u, pause),
        Request::PauseDone { id, end } => practice::finish_pause(u, id, end),
        Request::Soothe => practice::soothe(u),
        Request::SootheSet { text } => practice::set_soothe(u, text),
        Request::Insights { since, until } => practice::insights(u, since, until),
        Request::AgreeRenew { id, review_on } => {
            agreement_verb(u, &id, |a, k, n| a.renew(k, review_on, n, now))
        }
        Request::Share { id } => together::share(u, &id),
        Request::Notes => together::notes(u),
        Request::NoteShow { id } => together::note_show(u, &id),
        Request::NoteAnswer { id, text } => together::answer_note(u, &id, &text),
        Request::Thanks { text } => together::thanks(u, &text),
        Request::Ask => together::ask(u),
        Request::AskAnswer { text } => together::ask_answer(u, &text),
        Request::AskAdd { text } => together::ask_add(u, &text),
        Request::AskList => together::ask_list(u),
        Request::Export { selection, thanks } => {
            let mut received = Vec::new();
            let (entries, agreements, insights) = match selection {
                ExportSelection::Entry { id } => (vec![resolve(u, &id)?.clone()], Vec::new(), None),
                ExportSelection::Range { query } => {
                    if thanks {
                        received = together::thanks_received(u, query.since);
                    }
                    let query = ListQuery {
                        limit: None,
                        brief: false,
                        ..query
                    };
                    let mut entries: Vec<Entry> = u
                        .index
                        .query(&query)
                        .0
                        .into_iter()
                        .map(|l| l.entry)
                        .collect();
                    entries.reverse();
                    let today = Local::now().date_naive();
                    let since = query.since.map_or_else(
                        || entries.first().map_or(today, |e| e.created_at.date_naive()),
                        |t| t.date_naive(),
                    );
                    // What changed covers every entry of the range, whatever the filters.
                    let since = since.min(today);
                    let insights = haven_shared::model::insights::compute(
                        u.index.written_since(
                            since
                                .checked_sub_signed(chrono::Duration::days(2))
                                .unwrap_or(since),
                        ),
                        since,
                        today,
                    );
                    (entries, in_force_agreements(u)?, Some(insights))
                }
            };
            Ok(Response::Export(ExportData {
                entries,
                agreements,
                name: u.name.clone(),
                insights,
                thanks: received,
            }))
        }
        Request::Status
        | Request::Unlock { .. }
        | Request::Lock
        | Request::Shutdown
        | Request::CopyDatabase
        | Request::Partner
        | Request::PartnerAddress { .. }
        | Request::PartnerRelay { .. }
        | Request::PartnerUnpair { .. }
        | Request::NetworkChecks
        | Request::PairStart
        | Request::PairWait { .. }
        | Request::PairJoin { .. } => {
            Err(ErrorReply::new(ErrorKind::Internal, "handled elsewhere"))
        }
    }
}

/// Every agreement as users see it (status derived now), oldest first.
fn agreement_views(u: &Unlocked, book: &Book) -> Vec<AgreementView> {
    let today = Local::now().date_naive();
    let mut views: Vec<AgreementView> = book
        .agreements
        .values()
        .map(|a| a.view(&u.keyring, today))
        .collect();
    views.sort_by_key(|a| a.created_at);
    views
}

/// Active and due-for-review agreements, for a session brief.
fn in_force_agreements(u: &Unlocked) -> Result<Vec<AgreementView>, ErrorReply> {
    let mut views = agreement_views(u, &book(u)?);
    views.retain(|v| matches!(v.status, Status::Active | Status::DueForReview));
    Ok(views)
}

/// Persists the journal; on failure the home reloaded it from disk, so the index is
/// rebuilt to match what is stored.
fn persist_journal(u: &mut Unlocked) -> Result<(), ErrorReply> {
    u.home.persist_journal().map_err(|e| {
        rebuild_index(u);
        home_error(e)
    })
}

fn rebuild_index(u: &mut Unlocked) {
    if let Ok((entries, _)) = u.home.journal.entries() {
        u.index = crate::journal_index::JournalIndex::build(entries);
    }
}

/// Resident set size of this process.
fn resident_memory() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok()?)
}
