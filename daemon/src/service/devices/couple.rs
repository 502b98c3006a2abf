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
/// has not been told in this session: the card, from the paired device only (cards are
/// never passed on), or, from any other, that this device is not paired, which withdraws a
/// card it gave before.
pub(super) fn card(u: &mut Unlocked, session: u64) -> Option<DeviceMessage> {
    let card = match u.partner() {
        Some(p) if u.partner_problem().is_none() => Some(PartnerCard {
            name: p.name.clone(),
            member_id: p.member_id.clone(),
            signing_key: p.signing_key.clone(),
            devices: p.devices.clone(),
            from: super::own_id(u),
        }),
        _ => None,
    };
    if !u.devices.card_due(session, card.as_ref()) {
        return None;
    }
    Some(match card {
        Some(card) => DeviceMessage::Partner { card },
        None => DeviceMessage::NoPartner,
    })
}

/// The partner as the paired device (`device`, the one in session) tells it. A device
/// paired itself keeps its own pairing; otherwise the card is kept (and replaces an older
/// one), and whose signatures count follows. A card from a device that is not the one it
/// names as paired is left aside, as is one that does not hold together: neither ends the
/// session.
pub(super) fn take_card(u: &mut Unlocked, device: &str, card: PartnerCard) -> Result<(), String> {
    if card.from != device {
        tracing::warn!(
            "left aside a partner card passed on by a device that is not the paired one"
        );
        return Ok(());
    }
    if let Err(e) = card.check() {
        tracing::warn!(error = %e, "left aside who the partner is, as another device said it");
        return Ok(());
    }
    if u.partner().is_some() {
        return Ok(());
    }
    replace_card(u, Some(card))
}

/// `device` says it is not paired: a card it gave is withdrawn.
pub(super) fn withdraw_card(u: &mut Unlocked, device: &str) -> Result<(), String> {
    let given = u
        .devices
        .own
        .as_ref()
        .and_then(|o| o.partner.as_ref())
        .is_some_and(|c| c.from == device);
    if !given {
        return Ok(());
    }
    tracing::info!("the paired device is paired no more: forgot who the partner was");
    replace_card(u, None)
}

fn replace_card(u: &mut Unlocked, card: Option<PartnerCard>) -> Result<(), String> {
    let Some(own) = u.devices.own.as_mut() else {
        return Ok(());
    };
    if own.partner == card {
        return Ok(());
    }
    let mut updated = own.clone();
    let taken = card.is_some();
    updated.partner = card;
    u.home
        .save_own_devices(&updated)
        .map_err(|e| format!("cannot save who the partner is: {e}"))?;
    *own = updated;
    u.devices_changed();
    if taken {
        tracing::info!("took who the partner is from the person's paired device");
    }
    Ok(())
}
