//! `haven leave`: ending the pairing as someone leaving a relationship needs it, in one
//! step. It unpairs (the session's goodbye tells the partner's laptop if it is connected),
//! forgets the relay and the pairing's secrets and keys, and gives this laptop a new Noise key,
//! so the former partner's laptop can neither reach it nor recognise it on a network: no
//! farewell is kept to answer it later, since answering would say "this is that laptop".
//! `identity.age` is sealed again, with a new passphrase when the person gives one (the
//! former partner may know the old one).
//!
//! What it cannot undo is said by the CLI: what the partner's laptop already holds, and
//! the backups and exports made before, which the old passphrase or nothing at all opens.

use haven_shared::crypto::Passphrase;
use haven_shared::ipc::{Leave, Left};

use super::Service;
use crate::vault::home_error;
use haven_shared::ipc::ErrorReply;

impl Service {
    /// The steps run in the order that matters most if one fails: the pairing ends, then
    /// the farewell and this laptop's Noise key go, then (`--wipe`) the agreements. The link
    /// is published on every path, so the daemon never keeps answering with a key it was
    /// about to drop; running `haven leave` again finishes what a failure left.
    pub(super) fn leave(&mut self, c: &Leave) -> Result<Left, ErrorReply> {
        self.unlocked()?;
        // Leaving is for the person at the keyboard, not for whoever finds it unlocked.
        let passphrase = Passphrase::from(c.passphrase.0.clone());
        haven_shared::home::read_identity(&self.paths, &passphrase).map_err(home_error)?;
        let told = self.peer.net.connected_address().is_some();
        let u = self.unlocked()?;
        let relay = u
            .partner()
            .and_then(|p| p.relay.as_deref())
            .and_then(|r| haven_shared::relay_url::RelayUrl::parse(r).ok())
            .map(|r| r.authority);
        let paired = u.partner().is_some() || u.partner_problem().is_some();
        let partner = if paired {
            self.unpair(false).map_err(|e| e.hint(AGAIN))?.partner
        } else {
            String::new()
        };
        let sealed_with = c
            .new_passphrase
            .as_ref()
            .map(|p| Passphrase::from(p.0.clone()))
            .unwrap_or(passphrase);
        let renewed = self.renew_keys(&sealed_with);
        self.publish_link();
        renewed?;
        let wiped = c.wipe
            && self
                .unpair(true)
                .map_err(|e| {
                    ErrorReply::new(
                        e.kind,
                        format!(
                            "left, with new keys, but this laptop's copy of the agreements \
                             is not deleted yet: {}",
                            e.message
                        ),
                    )
                    .hint(
                        "close whatever holds haven.db open (a backup?), then run \
                         `haven leave --wipe` again",
                    )
                })?
                .wiped;
        let paths = self.paths.clone();
        let u = self.unlocked()?;
        let files = haven_shared::written_files::list(&paths, &u.home.identity)
            .into_iter()
            .filter(|f| std::path::Path::new(&f.path).exists())
            .collect();
        tracing::info!(wiped, told, "left the pairing: keys renewed");
        Ok(Left {
            partner,
            told,
            wiped,
            relay: if paired { relay } else { None },
            passphrase_changed: c.new_passphrase.is_some(),
            files,
        })
    }

    /// Forgets the pairing's secrets and keys, the farewell too (nothing on this laptop
    /// answers the former partner's key again), and takes a new Noise key.
    fn renew_keys(&mut self, sealed_with: &Passphrase) -> Result<(), ErrorReply> {
        let paths = self.paths.clone();
        let u = self.unlocked()?;
        let not_renewed = |e| {
            let e = home_error(e);
            ErrorReply::new(
                e.kind,
                format!(
                    "unpaired, but this laptop's keys are not renewed yet: {}",
                    e.message
                ),
            )
            .hint(AGAIN)
        };
        // Here first, whatever the disk says: the link published next answers nobody.
        u.unpin_partner(None);
        if super::core::fail_for_tests("leave_forget") {
            return Err(not_renewed(haven_shared::home::HomeError::Io {
                path: paths.database(),
                source: std::io::Error::from(std::io::ErrorKind::StorageFull),
            }));
        }
        u.home.forget_partner(None).map_err(not_renewed)?;
        if super::core::fail_for_tests("leave_keys") {
            return Err(not_renewed(haven_shared::home::HomeError::Io {
                path: paths.identity(),
                source: std::io::Error::from(std::io::ErrorKind::StorageFull),
            }));
        }
        u.home
            .renew_partner_key(&paths, sealed_with)
            .map_err(not_renewed)
    }
}

const AGAIN: &str = "free some space or fix the folder's permissions, then run `haven leave` again";
