//! Linking, on the core's side: what this device offers, adding a new device to the
//! person's signed list, and keeping what a device already linked sent.

use zeroize::Zeroizing;

use haven_shared::devices::{
    check_name, Device, DeviceList, LinkPackage, OwnDevices, SignedDeviceList,
};
use haven_shared::ipc::ErrorReply;
use haven_shared::model::agreement::member_id_of;
use haven_shared::partner_record::Key32;
use haven_shared::when;

use super::{default_name, linking, own_key, this_device};
use crate::contract::{Intro, Material};
use crate::vault::{home_error, Unlocked};

/// What linking needs from this device. A device joining (`init --join`) is named by its
/// home; one already holding the journal by its list entry, or `name`, or its computer's
/// name.
pub(super) fn link_material(u: &Unlocked, name: Option<String>) -> Result<Material, ErrorReply> {
    let me = own_key(u.home.identity.verifying_key());
    let listed = u
        .devices
        .own
        .as_ref()
        .and_then(|o| o.list.open().ok())
        .and_then(|l| l.devices.into_iter().find(|d| d.key == me))
        .map(|d| d.name);
    let name = listed
        .or(name)
        .filter(|n| check_name(n).is_ok())
        .unwrap_or_else(default_name);
    Ok(Material {
        intro: Intro {
            name,
            member_id: member_id_of(&u.home.identity.verifying_key()),
            signing_key: me,
        },
        noise_static: Zeroizing::new(*u.home.identity.noise_static()),
        noise_public: u.home.identity.noise_public(),
    })
}

/// What `init --join` offers: this device, named by its home, if it can still join.
pub(super) fn joining_material(u: &Unlocked) -> Result<Material, ErrorReply> {
    if let Some(own) = &u.devices.own {
        let me = own_key(u.home.identity.verifying_key());
        let active = own
            .list
            .open()
            .is_ok_and(|l| l.active().any(|d| d.key == me));
        return Err(if active {
            linking("this device is linked already")
                .hint("see your devices with `haven device list`")
        } else {
            linking("this device left your devices, or was revoked")
                .hint("to link it again, make a new home on it: `haven --home NEW_DIR init --join`")
        });
    }
    if u.partner().is_some() {
        return Err(linking(
            "this laptop is paired with a partner, so it cannot join another person's devices",
        ));
    }
    link_material(u, Some(u.name.clone()))
}

/// On a device holding the journal: `device` joins the person's list, signed here.
pub(super) fn add_device(
    u: &mut Unlocked,
    mut device: Device,
    this_name: &str,
) -> Result<LinkPackage, ErrorReply> {
    check_name(&device.name).map_err(linking)?;
    if let Some(p) = u.partner() {
        if p.noise_key == device.noise_key || p.signing_key == device.key {
            return Err(linking(
                "that is your partner's laptop: a device of yours links only to your own devices",
            ));
        }
    }
    let me = own_key(u.home.identity.verifying_key());
    let (list, secret) = match &u.devices.own {
        Some(own) => (
            own.list
                .open()
                .map_err(|e| linking(format!("this device's own list is damaged: {e}")))?,
            own.secret.clone(),
        ),
        None => {
            check_name(this_name).map_err(linking)?;
            (
                DeviceList::first(this_device(u, this_name)),
                Key32::new(haven_shared::crypto::random_bytes::<32>()),
            )
        }
    };
    if list
        .devices
        .iter()
        .any(|d| d.key == device.key || d.noise_key == device.noise_key)
    {
        return Err(linking(format!(
            "{} was linked before; on it, run `haven init --join` in a new home",
            device.name
        )));
    }
    if list.active().any(|d| d.name == device.name) {
        return Err(linking(format!(
            "a device named {:?} is linked already",
            device.name
        ))
        .hint("on the new device, run `haven init --join` again with another --name"));
    }
    device.added = when::now().to_rfc3339();
    device.revoked = None;
    let my_id = list
        .active()
        .find(|d| d.key == me)
        .map(Device::id)
        .ok_or_else(|| {
            linking("this device left your devices, or was revoked, so it cannot link another")
                .hint("link the new device from one of your devices still linked")
        })?;
    let next = list.with_added(device, &my_id);
    let signed = SignedDeviceList::sign(&next, u.home.identity.signing_key());
    let mut own = u
        .devices
        .own
        .clone()
        .unwrap_or_else(|| OwnDevices::new(signed.clone(), secret.clone(), 0, u.name.clone()));
    own.list = signed.clone();
    u.home.save_own_devices(&own).map_err(home_error)?;
    u.devices.own = Some(own.clone());
    tracing::info!(devices = next.active().count(), "a device was linked");
    Ok(LinkPackage {
        list: signed,
        secret,
        generation: own.generation,
        member_name: own.member_name,
    })
}

/// On the new device: keep what the other device sent, once it checks out.
pub(super) fn join(u: &mut Unlocked, package: LinkPackage) -> Result<(), ErrorReply> {
    if u.devices.own.is_some() {
        return Err(linking("this device is linked already"));
    }
    if u.partner().is_some() {
        return Err(linking(
            "this laptop is paired with a partner, so it cannot join another person's devices",
        ));
    }
    let list = package
        .list
        .open()
        .map_err(|e| linking(format!("the other device sent a bad list: {e}")))?;
    let me = own_key(u.home.identity.verifying_key());
    let noise = hex::encode(u.home.identity.noise_public());
    if !list.active().any(|d| d.key == me && d.noise_key == noise) {
        return Err(linking("the other device's list does not name this device"));
    }
    let name = package.member_name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(linking("the other device sent no name"));
    }
    let own = OwnDevices::new(
        package.list,
        package.secret,
        package.generation,
        name.to_string(),
    );
    u.home.save_own_devices(&own).map_err(home_error)?;
    u.name = own.member_name.clone();
    u.devices.own = Some(own);
    Ok(())
}
