//! `haven device revoke NAME` and `haven device leave`: a device taken out of the person's
//! list. The list's next version says so, signed here; a revocation also replaces the
//! secret the devices share, since the revoked device knew it. The other devices take both
//! at their next message from this one; the revoked device gets neither, nor anything else.

use haven_shared::devices::SignedDeviceList;
use haven_shared::ipc::{DeviceLeft, ErrorKind, ErrorReply, Revoked};
use haven_shared::when;

use super::{linking, own_id, own_key};
use crate::vault::{home_error, Unlocked};

fn not_linked() -> ErrorReply {
    ErrorReply::new(ErrorKind::NotFound, "no other device is linked to this one")
        .hint("link one with `haven init --join` on it and `haven device add CODE` here")
}

/// Revokes the device named `name`, from this one.
pub(super) fn revoke(u: &mut Unlocked, name: &str) -> Result<Revoked, ErrorReply> {
    let me = own_key(u.home.identity.verifying_key());
    let my_id = own_id(u);
    let own = u.devices.own.as_mut().ok_or_else(not_linked)?;
    let list = own
        .list
        .open()
        .map_err(|e| linking(format!("this device's own list is damaged: {e}")))?;
    if !list.active().any(|d| d.key == me) {
        return Err(linking(
            "this device is no longer one of your devices, so it cannot revoke one",
        )
        .hint("revoke from one of your devices still linked"));
    }
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
    let mut updated = own.clone();
    updated.list = SignedDeviceList::sign(&next, u.home.identity.signing_key());
    updated.rotate();
    u.home.save_own_devices(&updated).map_err(home_error)?;
    *own = updated;
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
    let me = own_key(u.home.identity.verifying_key());
    let my_id = own_id(u);
    let own = u.devices.own.as_mut().ok_or_else(not_linked)?;
    let list = own
        .list
        .open()
        .map_err(|e| linking(format!("this device's own list is damaged: {e}")))?;
    if !list.active().any(|d| d.key == me) {
        return Err(linking(
            "this device already left your devices (or was revoked)",
        ));
    }
    let next = list.with_revoked(&my_id, &my_id, &when::now().to_rfc3339());
    let mut updated = own.clone();
    updated.list = SignedDeviceList::sign(&next, u.home.identity.signing_key());
    updated.told_left.clear();
    u.home.save_own_devices(&updated).map_err(home_error)?;
    *own = updated;
    tracing::info!("this device left the person's devices");
    Ok(DeviceLeft {
        others: next.active().count(),
    })
}
