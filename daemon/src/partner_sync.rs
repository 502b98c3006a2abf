//! One owner for the couple document's sync with the partner, as samod's
//! `PeerDocConnection` owns one peer's: the automerge sync state, which session it belongs
//! to, and what is saved after the partner's message. The session loop
//! (`peer::session`) only moves bytes; the protocol itself, with the guard every byte from
//! the partner passes first, is `couple_sync::CoupleSync`.
//!
//! Only the newest session syncs. When the path changes (LAN to iroh and back) the old
//! session may still be winding down: what it generates or hands in must not touch the new
//! session's state, or automerge believes the partner got what went to a dead connection.

use automerge::sync;

use haven_shared::couple_sync::{CoupleSync, Standing};
use haven_shared::documents::CoupleDoc;
use haven_shared::home::{HomeError, OpenHome};
use haven_shared::partner_record::Partner;

#[derive(Default)]
pub struct PartnerSync {
    state: sync::State,
    /// The session `state` belongs to (see `peer::Registry::admit`); 0 before any.
    session: u64,
}

impl PartnerSync {
    /// A session came up and takes over, from the state saved on disk, so a reconnection
    /// sends only what is new. An unreadable saved state costs a fuller first sync.
    pub fn start(&mut self, session: u64, saved: Result<Option<Vec<u8>>, HomeError>) {
        self.state = match saved {
            Ok(Some(bytes)) => sync::State::decode(&bytes).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "the saved sync state is unreadable; starting afresh");
                sync::State::new()
            }),
            Ok(None) => sync::State::new(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the sync state; starting afresh");
                sync::State::new()
            }
        };
        self.session = session;
    }

    /// Forgets what the partner is known to have: another partner, or the documents were
    /// reloaded after a failure.
    pub fn reset(&mut self) {
        self.state = sync::State::new();
    }

    pub fn is_current(&self, session: u64) -> bool {
        self.session == session
    }

    /// The next message for the partner on `session`, if it is the current one and there
    /// is anything to say.
    pub fn next(&mut self, session: u64, doc: &mut CoupleDoc) -> Option<Vec<u8>> {
        if !self.is_current(session) {
            return None;
        }
        CoupleSync::new(doc, &mut self.state).next_message()
    }

    /// Takes a message from the partner and saves what it changed before the session may
    /// answer: the couple document's new changes, when the partner last synced, and the
    /// sync state, in one commit. `Ok(true)`: the document changed.
    pub fn receive(
        &mut self,
        session: u64,
        home: &mut OpenHome,
        partner: &mut Partner,
        bytes: &[u8],
    ) -> Result<bool, String> {
        if !self.is_current(session) {
            return Err("a newer session with the partner took over".into());
        }
        let changed = CoupleSync::new(&mut home.couple, &mut self.state)
            .receive(bytes)
            .map_err(|e| e.to_string())?;
        if changed {
            // In memory only once it is stored.
            let mut synced = partner.clone();
            synced.last_synced = Some(haven_shared::when::now());
            home.save_received(&synced, &self.state.encode())
                .map_err(|e| e.to_string())?;
            *partner = synced;
        } else if let Err(e) = home.save_sync_state(&self.state.encode()) {
            tracing::warn!(error = %e, "could not save the sync state; the next sync sends more");
        }
        Ok(changed)
    }

    /// Local changes the partner is not known to have yet.
    pub fn waiting(&mut self, doc: &mut CoupleDoc) -> usize {
        CoupleSync::new(doc, &mut self.state).waiting()
    }

    /// Where the two copies stand, as far as the current session knows.
    pub fn standing(&mut self, doc: &mut CoupleDoc) -> Standing {
        CoupleSync::new(doc, &mut self.state).standing()
    }
}
