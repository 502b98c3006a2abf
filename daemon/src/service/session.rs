//! The daemon's own calls: status, unlock, lock, stop, the database copy for a backup,
//! and the network half of `haven doctor`. They work while locked.
//!
//! `Vault::unlock` decrypts and loads; what the practice does once the documents are in
//! memory (carrying old agreements over, putting back missing statements, revealing an
//! answer, reading the seen marks) happens here, in [`after_unlock`].

use secrecy::SecretString;

use haven_shared::ipc::{
    Checks, DatabaseCopy, Done, ErrorKind, ErrorReply, NoteWritten, Reply, SessionCall, StatusInfo,
    Unlocked,
};
use haven_shared::store::Store;

use super::{together, waiting, Service};
use crate::vault::{self, home_error, Vault};

impl Service {
    pub(super) fn session(&mut self, call: SessionCall) -> Reply {
        match call {
            SessionCall::Status(_) => Ok(self.status().into()),
            SessionCall::Unlock(c) => self
                .unlock(SecretString::from(c.passphrase.0.clone()))
                .map(Into::into),
            SessionCall::Lock(_) => {
                self.vault = Vault::Locked;
                self.publish_link();
                crate::lifecycle::give_back_freed_memory();
                tracing::info!("locked");
                Ok(Done {}.into())
            }
            SessionCall::Shutdown(_) => {
                // Sessions say goodbye to the partner (and log what they sent) on the way out.
                self.peer.link.send_replace(crate::contract::Link::Off);
                Ok(Done {}.into())
            }
            SessionCall::CopyDatabase(_) => self.copy_database().map(Into::into),
            SessionCall::AcceptOlder(_) => self.accept_older().map(Into::into),
            SessionCall::NoteWritten(c) => self.note_written(&c).map(Into::into),
            SessionCall::NetworkChecks(_) => Ok(Checks {
                checks: self.network_checks(),
            }
            .into()),
        }
    }

    fn note_written(&mut self, c: &NoteWritten) -> Result<Done, ErrorReply> {
        let paths = self.paths.clone();
        let u = self.unlocked()?;
        haven_shared::written_files::note(&paths, &u.home.identity, c.kind, &c.path).map_err(
            |e| {
                ErrorReply::new(
                    ErrorKind::InvalidInput,
                    format!("cannot note the file written: {e}"),
                )
            },
        )?;
        Ok(Done {})
    }

    fn accept_older(&mut self) -> Result<Done, ErrorReply> {
        let u = self.unlocked()?;
        let Some(was) = u.home.store.rollback().cloned() else {
            return Err(ErrorReply::new(
                ErrorKind::NotFound,
                "haven.db is the newest copy this laptop has seen; there is nothing to accept",
            ));
        };
        u.home
            .store
            .accept_older()
            .map_err(|e| home_error(e.into()))?;
        tracing::warn!(
            found = was.found,
            newest = was.newest,
            "an older haven.db was accepted as the newest copy"
        );
        Ok(Done {})
    }

    fn copy_database(&self) -> Result<DatabaseCopy, ErrorReply> {
        let path = self
            .paths
            .data_dir
            .join(format!(".backup-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let result = match &self.vault {
            Vault::Unlocked(u) => u.home.store.copy_to(&path),
            Vault::Locked => Store::open(&self.paths.database()).and_then(|s| s.copy_to(&path)),
        };
        result.map_err(|e| home_error(e.into()))?;
        Ok(DatabaseCopy { path })
    }

    fn unlock(&mut self, passphrase: SecretString) -> Result<Unlocked, ErrorReply> {
        if let Vault::Unlocked(u) = &self.vault {
            return Ok(Unlocked {
                name: u.name.clone(),
                warnings: vault::generation_warnings(u),
            });
        }
        let unlocked = Vault::unlock(&self.paths, &passphrase)
            .and_then(|mut u| after_unlock(&mut u).map(|()| u))
            .inspect_err(|e| {
                if e.kind == ErrorKind::Tampered {
                    self.tampered = Some(e.message.clone());
                }
            })?;
        self.tampered = None;
        let name = unlocked.name.clone();
        let warnings = vault::generation_warnings(&unlocked);
        self.vault = Vault::Unlocked(Box::new(unlocked));
        self.publish_link();
        crate::lifecycle::give_back_freed_memory();
        Ok(Unlocked { name, warnings })
    }

    fn status(&mut self) -> StatusInfo {
        let waiting = match &mut self.vault {
            Vault::Unlocked(u) => waiting::waiting(u),
            Vault::Locked => Vec::new(),
        };
        let unlocked = match &self.vault {
            Vault::Unlocked(u) => Some(u),
            Vault::Locked => None,
        };
        StatusInfo {
            locked: unlocked.is_none(),
            name: unlocked.map(|u| u.name.clone()),
            paired: unlocked.is_some_and(|u| u.partner().is_some()),
            partner: unlocked.and_then(|u| u.partner().map(|p| p.name.clone())),
            connected: self.peer.net.connected_address().is_some(),
            entries: unlocked.map(|u| u.index.len()),
            agreements: unlocked.map(|u| u.home.couple.agreement_count()),
            pid: std::process::id(),
            version: haven_shared::VERSION.to_string(),
            memory_bytes: resident_memory(),
            open_pauses: unlocked
                .map(|u| waiting::open_pauses(u))
                .unwrap_or_default(),
            waiting,
            device: unlocked.and_then(|u| super::devices::this_device_name(u)),
            other_devices: unlocked.map_or(0, |u| super::devices::other_devices(u)),
            device_restored: unlocked.is_some_and(|u| super::devices::restored_check(u).is_some()),
            device_two_homes: unlocked
                .and_then(|u| u.devices.own.as_ref())
                .is_some_and(|o| o.copied.is_some()),
        }
    }
}

/// What the practice does once the documents are loaded: agreements from before signed
/// statements are carried over once; anything of this member's that went missing from the
/// couple document is put back; an answer to the weekly question that may go now is
/// revealed; the seen marks are read.
fn after_unlock(u: &mut vault::Unlocked) -> Result<(), ErrorReply> {
    let migrated = u.migrate_agreements()?;
    if migrated > 0 {
        tracing::info!(
            agreements = migrated,
            "carried v1 agreements over to signed statements"
        );
    }
    match u.home.republish_own() {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            items = n,
            "put back agreement items of ours that were missing from the couple document"
        ),
        Err(e) => {
            tracing::warn!(error = %e, "could not put back our agreement items; will try again")
        }
    }
    u.follow_partner_devices();
    together::reveal_due(u);
    waiting::load_seen(u);
    Ok(())
}

/// Resident set size of this process.
fn resident_memory() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok()?)
}
