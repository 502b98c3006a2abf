//! `haven leave`: ending the pairing as someone leaving a relationship needs it, in one
//! step. It unpairs (the session's goodbye tells the partner's laptop if it is connected),
//! forgets the relay and every key of the pairing, and gives this laptop a new Noise key,
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
        let (partner, wiped) = if paired || c.wipe {
            let unpaired = self.unpair(c.wipe)?;
            (unpaired.partner, unpaired.wiped)
        } else {
            (String::new(), false)
        };
        let paths = self.paths.clone();
        let u = self.unlocked()?;
        // No farewell kept: nothing on this laptop answers the former partner's key again.
        u.home.forget_partner(None).map_err(home_error)?;
        u.unpin_partner(None);
        let sealed_with = c
            .new_passphrase
            .as_ref()
            .map(|p| Passphrase::from(p.0.clone()))
            .unwrap_or(passphrase);
        u.home
            .renew_partner_key(&paths, &sealed_with)
            .map_err(|e| {
                let e = home_error(e);
                ErrorReply::new(
                    e.kind,
                    format!(
                        "unpaired, but this laptop's keys are not renewed yet: {}",
                        e.message
                    ),
                )
                .hint(
                    "free some space or fix the folder's permissions, then run `haven leave` again",
                )
            })?;
        let files = haven_shared::written_files::list(&paths, &u.home.identity)
            .into_iter()
            .filter(|f| std::path::Path::new(&f.path).exists())
            .collect();
        tracing::info!(wiped, told, "left the pairing: keys renewed");
        self.publish_link();
        Ok(Left {
            partner,
            told,
            wiped,
            relay: if paired { relay } else { None },
            passphrase_changed: c.new_passphrase.is_some(),
            files,
        })
    }
}
