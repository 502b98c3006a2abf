//! What `haven device list` and `haven status` say of the person's devices.

use haven_shared::devices::journal_sync::fingerprint;
use haven_shared::devices::{DeviceList, Seen};
use haven_shared::ipc::{DeviceInfo, Devices};

use super::{default_name, own_key, this_device};
use crate::devices_sync::Journal;
use crate::vault::Unlocked;

/// This device's name in the person's list, once another device was linked.
pub(in crate::service) fn this_device_name(u: &Unlocked) -> Option<String> {
    let me = own_key(u.home.identity.verifying_key());
    let list = u.devices.own.as_ref()?.list.open().ok()?;
    list.devices
        .into_iter()
        .find(|d| d.key == me)
        .map(|d| d.name)
}

/// `haven doctor`'s word on a home restored from a backup that was one of the person's
/// devices: it does not sync as that device, and what to do.
pub(in crate::service) fn restored_check(u: &Unlocked) -> Option<haven_shared::ipc::Check> {
    let at = u.devices.own.as_ref()?.restored.clone()?;
    let name = this_device_name(u).unwrap_or_else(|| "this device".into());
    Some(haven_shared::ipc::Check {
        name: "devices".into(),
        ok: false,
        detail: format!(
            "this home was restored from a backup ({}) of {name}, one of your devices: it does not sync with your other devices, since {name} may still exist and two homes must never act as one device",
            at.get(..10).unwrap_or(&at)
        ),
        fix: Some(format!(
            "if {name} is lost, revoke it from one of your other devices (`haven device revoke {name}`); then link this computer again from a new home (`haven --home NEW_DIR init --join`), which gets the journal from your other devices; this restored home keeps what the backup held"
        )),
    })
}

/// How many of the person's other devices are linked (not revoked).
pub(in crate::service) fn other_devices(u: &Unlocked) -> usize {
    if u.devices
        .own
        .as_ref()
        .is_some_and(|o| o.restored.is_some() || o.copied.is_some())
    {
        return 0;
    }
    let me = own_key(u.home.identity.verifying_key());
    u.devices
        .own
        .as_ref()
        .and_then(|o| o.list.open().ok())
        .map_or(0, |l| l.active().filter(|d| d.key != me).count())
}

/// `haven device list`: this device alone until another is linked.
pub(super) fn device_list(u: &mut Unlocked) -> Devices {
    let me = own_key(u.home.identity.verifying_key());
    let ours = u.journal_marks().fingerprint();
    let digest = u.journal_marks().digest();
    let (list, seen) = match u
        .devices
        .own
        .as_ref()
        .and_then(|o| o.list.open().ok().map(|l| (l, o.seen.clone())))
    {
        Some(x) => x,
        // Not named yet: the name it would take at its first link.
        None => (
            DeviceList::first(this_device(u, &default_name())),
            Default::default(),
        ),
    };
    let devices = list
        .devices
        .iter()
        .map(|d| {
            let this = d.key == me;
            let session = u.devices.session_with(&d.id());
            let their = session.flatten().map(str::to_string);
            let s: Seen = seen.get(&d.id()).cloned().unwrap_or_default();
            DeviceInfo {
                id: d.id(),
                name: d.name.clone(),
                this_device: this,
                added: d.added.clone(),
                last_seen: if this { None } else { s.last_seen },
                path: session.filter(|_| !this).map(|_| "lan".to_string()),
                in_sync: this || their.as_deref() == Some(digest.as_str()),
                heads: if this {
                    Some(ours.clone())
                } else {
                    their.as_deref().map(fingerprint)
                },
                revoked: d.revoked.as_ref().map(|r| r.at.clone()),
            }
        })
        .collect();
    Devices { devices }
}
