//! The couple document among the person's own devices: the same automerge sync as with
//! the partner (`couple_sync`, every byte through its guard first), on the session the
//! journal already has, and who the partner is, from the device that paired with them.
//!
//! Only the paired device talks to the partner; another device's answers reach the
//! partner through it. The partner counts them because they are signed by a device the
//! person's list names (`model::keyring`), which the partner follows in the couple
//! document (`devices::list::follow`).

use haven_shared::couple_sync::CoupleSync;
use haven_shared::devices::journal_sync::{DeviceMessage, PartnerCard};

use crate::vault::Unlocked;

/// The largest sync message taken from another device, hex (the guard checks the bytes
/// again, as it does the partner's).
const MAX_HEX: usize = 64 * 1024 * 1024;

/// A couple sync message from the device in `session`, merged and saved. True when the
/// couple document changed (the partner's session and the other devices push it on).
pub(super) fn receive(u: &mut Unlocked, session: u64, sync: &str) -> Result<bool, String> {
    if sync.len() > MAX_HEX {
        return Err("a couple sync message larger than Haven accepts".into());
    }
    let bytes = hex::decode(sync).map_err(|_| "a couple sync message that is not hex")?;
    let state = u
        .devices
        .couple_state(session)
        .ok_or("couple sync from a device that did not say it syncs it")?;
    let mut state = std::mem::take(state);
    let received = CoupleSync::new(&mut u.home.couple, &mut state).receive(&bytes);
    if let Some(kept) = u.devices.couple_state(session) {
        *kept = state;
    }
    let changed = received.map_err(|e| format!("a couple sync message refused: {e}"))?;
    if changed {
        // A failed write reloads the document from disk (`persist_couple`): the sync
        // starts afresh, so nothing counts as shared that is not stored.
        if let Err(e) = u.home.persist_couple() {
            if let Some(kept) = u.devices.couple_state(session) {
                *kept = automerge::sync::State::new();
            }
            return Err(format!("cannot save the couple document: {e}"));
        }
    }
    Ok(changed)
}

/// What the device in `session` lacks of the couple document, if it syncs it.
pub(super) fn next(u: &mut Unlocked, session: u64) -> Option<DeviceMessage> {
    let state = u.devices.couple_state(session)?;
    let mut state = std::mem::take(state);
    let message = CoupleSync::new(&mut u.home.couple, &mut state).next_message();
    if let Some(kept) = u.devices.couple_state(session) {
        *kept = state;
    }
    message.map(|m| DeviceMessage::Couple {
        sync: hex::encode(m),
    })
}

/// Who the partner is, for the device in `session` (it syncs the couple document) when it
/// has not been told in this session: from this device's pairing, or as another of the
/// person's devices told this one.
pub(super) fn card(u: &mut Unlocked, session: u64) -> Option<DeviceMessage> {
    if u.partner_problem().is_some() {
        return None;
    }
    let card = u.partner_card()?;
    u.devices
        .card_due(session, &card)
        .then_some(DeviceMessage::Partner { card })
}

/// The partner as another of the person's devices knows them. A device paired itself
/// keeps its own pairing; otherwise the card is kept (and replaces an older one), and
/// whose signatures count follows. True when it changed.
pub(super) fn take_card(u: &mut Unlocked, card: PartnerCard) -> Result<bool, String> {
    card.check()?;
    if u.partner().is_some() {
        return Ok(false);
    }
    let Some(own) = u.devices.own.as_mut() else {
        return Ok(false);
    };
    if own.partner.as_ref() == Some(&card) {
        return Ok(false);
    }
    let mut updated = own.clone();
    updated.partner = Some(card);
    u.home
        .save_own_devices(&updated)
        .map_err(|e| format!("cannot save who the partner is: {e}"))?;
    *own = updated;
    u.devices_changed();
    tracing::info!("took who the partner is from another of this person's devices");
    Ok(true)
}
