//! The core's side of the sessions with the person's other devices: who may have one,
//! what each says first, and what their messages do. The journal's part is
//! `devices_sync`; the device list and the secret, saved with the home, are taken here.

use std::sync::Arc;
use zeroize::Zeroizing;

use haven_shared::devices::journal_sync::DeviceMessage;
use haven_shared::devices::{DeviceListError, SignedDeviceList, Update};
use haven_shared::partner_record::Key32;
use haven_shared::when;

use super::own_key;
use crate::contract::{DevicesLink, OtherDevice, OwnLink};
use crate::devices_sync::DevicesSync;
use crate::vault::Unlocked;

/// What a message did: the answers, whether the journal or the couple document changed,
/// whether the two hold the same journal now, and whether the list or the secret changed
/// (the link follows).
pub(super) struct Outcome {
    pub replies: Vec<DeviceMessage>,
    pub journal_changed: bool,
    pub couple_changed: bool,
    pub in_sync: bool,
    pub link_changed: bool,
}

/// Whether this device took itself out of the person's devices (`device leave`).
pub(super) fn has_left(u: &Unlocked) -> bool {
    let me = own_key(u.home.identity.verifying_key());
    u.devices
        .own
        .as_ref()
        .and_then(|o| o.list.open().ok())
        .and_then(|l| l.devices.into_iter().find(|d| d.key == me))
        .and_then(|d| d.revoked)
        .is_some_and(|r| r.by == super::own_id(u))
}

/// A session with `device` came up: what to say first, and whether to close after it
/// (a device that left only tells the others so). `None`: not one of the person's.
pub(super) fn open(
    u: &mut Unlocked,
    session: u64,
    device: String,
    address: Option<String>,
) -> Option<(Vec<DeviceMessage>, bool)> {
    let me = own_key(u.home.identity.verifying_key());
    let leaving = has_left(u);
    let own = u.devices.own.as_mut()?;
    let list = own.list.open().ok()?;
    let known = list
        .find(&device)
        .is_some_and(|d| d.is_active() && d.key != me);
    if !known {
        return None;
    }
    let seen = own.seen.entry(device.clone()).or_default();
    seen.last_seen = Some(when::now().to_rfc3339());
    if address.is_some() {
        seen.address = address;
    }
    let own = own.clone();
    if let Err(e) = u.home.save_own_devices(&own) {
        tracing::warn!(error = %e, "cannot save when a device was last seen");
    }
    if leaving {
        let list = own.list.clone();
        return Some((vec![DeviceMessage::List { list }], true));
    }
    let copy = own.copies.contains(&device);
    u.devices.open(session, device);
    if copy {
        // Refused, both copies: it is told why, and whatever it says next ends the session.
        return Some((vec![DeviceMessage::TwoHomes], false));
    }
    Some((vec![DevicesSync::hello(u, Some(&own))], false))
}

/// After `device leave`: `device` took the list that says so, and is not called again.
pub(super) fn told(u: &mut Unlocked, device: String) {
    let Some(own) = u.devices.own.as_mut() else {
        return;
    };
    if !own.told_left.insert(device) {
        return;
    }
    let own = own.clone();
    if let Err(e) = u.home.save_own_devices(&own) {
        tracing::warn!(error = %e, "cannot save which devices were told this one left");
    }
}

/// A message from the device in `session`.
pub(super) fn receive(
    u: &mut Unlocked,
    session: u64,
    message: DeviceMessage,
) -> Result<Outcome, String> {
    if !session_linked(u, session) {
        return Err("that device is no longer one of this person's".into());
    }
    let mut outcome = Outcome {
        replies: Vec::new(),
        journal_changed: false,
        couple_changed: false,
        in_sync: false,
        link_changed: false,
    };
    // The other gives and shows marks: it is shown the one it gave.
    let show_mark = matches!(message, DeviceMessage::Hello { marks: true, .. });
    let device = u.devices.device_of(session).unwrap_or_default().to_string();
    match message {
        m @ (DeviceMessage::Mark { .. }
        | DeviceMessage::NewMark { .. }
        | DeviceMessage::MarkKept { .. }
        | DeviceMessage::TwoHomes) => {
            let marked = super::marks::receive(u, &device, m)?;
            outcome.replies = marked.replies;
            outcome.link_changed = marked.copied;
        }
        DeviceMessage::Couple { sync } => {
            outcome.couple_changed = super::couple::receive(u, session, &sync)?;
        }
        DeviceMessage::Partner { card } => super::couple::take_card(u, &device, card)?,
        DeviceMessage::NoPartner => super::couple::withdraw_card(u, &device)?,
        DeviceMessage::List { list } => {
            outcome.link_changed = take_list(u, session, &list)?;
            let version = u.devices.own.as_ref().and_then(|o| o.list.open().ok());
            if let Some(list) = version {
                outcome.replies.push(DeviceMessage::ListTaken {
                    version: list.version,
                });
            }
        }
        // Only a device that left waits for it (`own_devices::session`).
        DeviceMessage::ListTaken { .. } => {}
        DeviceMessage::Secret { generation, secret } => {
            outcome.link_changed = take_secret(u, session, generation, secret)
        }
        message => {
            let mut devices = std::mem::take(&mut u.devices);
            let taken = devices.receive(session, message, u);
            u.devices = devices;
            let taken = taken?;
            outcome.replies = taken.replies;
            outcome.journal_changed = taken.changed;
        }
    }
    outcome.replies.extend(catch_up(u, session));
    // Who the partner is, to a device that syncs the couple document, when it changed.
    outcome.replies.extend(super::couple::card(u, session));
    if show_mark {
        outcome.replies.push(super::marks::show(u, &device));
    }
    outcome.replies.extend(super::couple::next(u, session));
    let devices = std::mem::take(&mut u.devices);
    outcome.in_sync = devices.in_sync(session, u);
    u.devices = devices;
    Ok(outcome)
}

/// What the device in `session` lacks now: journal changes, a newer list or secret.
pub(super) fn push(u: &mut Unlocked, session: u64) -> Vec<DeviceMessage> {
    // A device revoked a moment ago may still be in session until the network side
    // hears of it: it gets nothing.
    if !session_linked(u, session) {
        return Vec::new();
    }
    let mut devices = std::mem::take(&mut u.devices);
    let mut replies = devices.push(session, u);
    u.devices = devices;
    replies.extend(catch_up(u, session));
    replies.extend(super::couple::card(u, session));
    replies.extend(super::couple::next(u, session));
    replies
}

/// Whether the device in `session` is still active in the person's list.
fn session_linked(u: &Unlocked, session: u64) -> bool {
    match (&u.devices.own, u.devices.device_of(session)) {
        (Some(own), Some(device)) => crate::devices_sync::still_linked(own, device),
        _ => false,
    }
}

fn catch_up(u: &mut Unlocked, session: u64) -> Vec<DeviceMessage> {
    match &u.devices.own {
        Some(own) => {
            let own = own.clone();
            u.devices.catch_up(session, &own)
        }
        None => Vec::new(),
    }
}

/// A device list from the device in `session`: kept if it follows from ours (a device
/// added, revoked, or left). One that does not ends the session.
fn take_list(u: &mut Unlocked, session: u64, list: &SignedDeviceList) -> Result<bool, String> {
    let own = u.devices.own.as_mut().ok_or("this device is not linked")?;
    let known = own
        .list
        .open()
        .map_err(|e| format!("this device's own list is damaged: {e}"))?;
    match list.update_of(&known) {
        Ok(Update::Newer(newer)) => {
            own.list = list.clone();
            let own = own.clone();
            u.home
                .save_own_devices(&own)
                .map_err(|e| format!("cannot save the device list: {e}"))?;
            u.devices.holds(session, newer.version, 0);
            let revoked: Vec<&str> = newer
                .devices
                .iter()
                .filter(|d| {
                    d.revoked.is_some() && known.find(&d.id()).is_some_and(|k| k.is_active())
                })
                .map(|d| d.name.as_str())
                .collect();
            tracing::info!(
                version = newer.version,
                ?revoked,
                "took a newer list of this person's devices"
            );
            Ok(true)
        }
        Ok(Update::Same) => Ok(false),
        // Ours is newer: it goes to that device with the next message.
        Err(DeviceListError::Stale { .. }) => Ok(false),
        Err(e) => {
            tracing::warn!(error = %e, "refused a device list from another device");
            Err(format!(
                "the other device sent a device list this one refuses: {e}"
            ))
        }
    }
}

/// A newer secret from the device in `session` (one of the person's devices was revoked).
fn take_secret(u: &mut Unlocked, session: u64, generation: u32, secret: Key32) -> bool {
    let Some(own) = u.devices.own.as_mut() else {
        return false;
    };
    if !own.take_secret(generation, secret) {
        return false;
    }
    let own = own.clone();
    if let Err(e) = u.home.save_own_devices(&own) {
        tracing::warn!(error = %e, "cannot save the devices' new secret");
    }
    u.devices.holds(session, 0, generation);
    tracing::info!(generation, "took the devices' new secret");
    true
}

/// Which devices the network side keeps sessions with: the others in the list; after
/// `device leave`, those not yet told.
pub(super) fn own_link(u: &Unlocked) -> DevicesLink {
    let Some(own) = &u.devices.own else {
        return DevicesLink::Off;
    };
    let Ok(list) = own.list.open() else {
        return DevicesLink::Off;
    };
    if own.restored.is_some() || own.copied.is_some() {
        return DevicesLink::Off;
    }
    let me = own_key(u.home.identity.verifying_key());
    let leaving = has_left(u);
    if !leaving && !list.active().any(|d| d.key == me) {
        return DevicesLink::Off;
    }
    let others: Vec<OtherDevice> = list
        .active()
        .filter(|d| d.key != me)
        .filter(|d| !leaving || !own.told_left.contains(&d.id()))
        .filter_map(|d| {
            let mut noise = [0u8; 32];
            hex::decode_to_slice(&d.noise_key, &mut noise).ok()?;
            Some(OtherDevice {
                id: d.id(),
                name: d.name.clone(),
                noise_public: noise,
                address: own.seen.get(&d.id()).and_then(|s| s.address.clone()),
            })
        })
        .collect();
    if others.is_empty() {
        return DevicesLink::Off;
    }
    DevicesLink::On(Arc::new(OwnLink {
        own_static: Zeroizing::new(*u.home.identity.noise_static()),
        own_public: u.home.identity.noise_public(),
        psks: own
            .psks()
            .into_iter()
            .map(|(g, k)| (g, Key32::new(*k)))
            .collect(),
        discovery: own
            .discoveries()
            .into_iter()
            .map(|k| Key32::new(*k))
            .collect(),
        others,
    }))
}
