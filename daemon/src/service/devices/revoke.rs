//! `haven device revoke NAME` and `haven device leave`: a device taken out of the person's
//! list. The list's next version says so, signed here; a revocation also replaces the
//! secret the devices share, since the revoked device knew it. The other devices take both
//! at their next message from this one; the revoked device gets neither, nor anything else.

use haven_shared::devices::{DeviceList, SignedDeviceList};
use haven_shared::ipc::{DeviceLeft, ErrorKind, ErrorReply, Revoked};
use haven_shared::when;

use super::{linking, own_id, own_key};
use crate::vault::{home_error, Unlocked};

fn not_linked() -> ErrorReply {
    ErrorReply::new(ErrorKind::NotFound, "no other device is linked to this one")
        .hint("link one with `haven init --join` on it and `haven device add CODE` here")
}

/// This device's key and id and the person's list, if this device is still one of theirs.
fn still_linked(u: &Unlocked) -> Result<(String, String, DeviceList), ErrorReply> {
    let me = own_key(u.home.identity.verifying_key());
    let own = u.devices.own.as_ref().ok_or_else(not_linked)?;
    let list = own
        .list
        .open()
        .map_err(|e| linking(format!("this device's own list is damaged: {e}")))?;
    if !list.active().any(|d| d.key == me) {
        return Err(linking(
            "this device already left your devices (or was revoked)",
        ));
    }
    Ok((me, own_id(u), list))
}

/// Revokes the device named `name`, from this one.
pub(super) fn revoke(u: &mut Unlocked, name: &str) -> Result<Revoked, ErrorReply> {
    let (me, my_id, list) =
        still_linked(u).map_err(|e| e.hint("revoke from one of your devices still linked"))?;
    let target = list.active().find(|d| d.name == name).ok_or_else(|| {
        ErrorReply::new(
            ErrorKind::NotFound,
            format!("no linked device is named {name:?}"),
        )
        .hint("see your devices with `haven device list`")
    })?;
    if target.key == me {
        return Err(
            ErrorReply::new(ErrorKind::InvalidInput, format!("{name} is this device"))
                .hint("to take this device out of your devices, run `haven device leave`"),
        );
    }
    let next = list.with_revoked(&target.id(), &my_id, &when::now().to_rfc3339());
    let mut updated = u.devices.own.clone().ok_or_else(not_linked)?;
    updated.list = SignedDeviceList::sign(&next, u.home.identity.signing_key());
    updated.rotate();
    u.home.save_own_devices(&updated).map_err(home_error)?;
    u.devices.own = Some(updated);
    tracing::info!(
        device = name,
        "a device was revoked; the devices' secret was replaced"
    );
    Ok(Revoked {
        device: name.to_string(),
        others: next.active().filter(|d| d.key != me).count(),
    })
}

/// Takes this device out of the person's devices. It keeps the journal as it is; the
/// others are told when they next meet it.
pub(super) fn leave(u: &mut Unlocked) -> Result<DeviceLeft, ErrorReply> {
    let (_, my_id, list) = still_linked(u)?;
    let next = list.with_revoked(&my_id, &my_id, &when::now().to_rfc3339());
    let mut updated = u.devices.own.clone().ok_or_else(not_linked)?;
    updated.list = SignedDeviceList::sign(&next, u.home.identity.signing_key());
    updated.told_left.clear();
    u.home.save_own_devices(&updated).map_err(home_error)?;
    u.devices.own = Some(updated);
    tracing::info!("this device left the person's devices");
    Ok(DeviceLeft {
        others: next.active().count(),
    })
}
