//! The person's own devices, on the core's side: the signed list, linking a new device
//! (`haven init --join` and `haven device add`), `haven device list`, and the journal's
//! sessions with the other devices (`devices_sync`).

use std::sync::Arc;
use tokio::sync::watch;
use zeroize::Zeroizing;

use haven_shared::devices::journal_sync::fingerprint;
use haven_shared::devices::{
    check_name, Device, DeviceList, LinkPackage, OwnDevices, Seen, SignedDeviceList,
};
use haven_shared::ipc::{
    DeviceInfo, Devices, DevicesCall, ErrorKind, ErrorReply, ListDevices, Reply,
};
use haven_shared::model::agreement::member_id_of;
use haven_shared::partner_record::Key32;
use haven_shared::when;

use super::Service;
use crate::contract::{DeviceOp, DevicesLink, Intro, Material, OtherDevice, OwnLink};
use crate::devices_sync::{DevicesSync, Journal};
use crate::vault::{home_error, Unlocked, Vault};

/// The core's ends of the own-device contract.
pub struct DeviceLinks {
    pub link: watch::Sender<DevicesLink>,
    /// Bumped after every change to the journal, so each session pushes it at once.
    pub journal_changed: watch::Sender<u64>,
}

fn linking(message: impl Into<String>) -> ErrorReply {
    ErrorReply::new(ErrorKind::Pairing, message)
}

/// This device's entry in a first list: its keys, and a name the person can change later.
fn this_device(u: &Unlocked, name: &str) -> Device {
    Device {
        key: hex::encode(u.home.identity.verifying_key().as_bytes()),
        noise_key: hex::encode(u.home.identity.noise_public()),
        name: name.to_string(),
        added: when::now().to_rfc3339(),
        added_by: None,
        revoked: None,
    }
}

/// The name a first device takes when it links another and was not given one: the
/// computer's name if it makes a good one, else "first device".
fn default_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().chars().take(64).collect::<String>())
        .filter(|h| check_name(h).is_ok())
        .unwrap_or_else(|| "first device".to_string())
}

impl Service {
    pub(super) fn devices(&mut self, call: DevicesCall) -> Reply {
        match call {
            DevicesCall::ListDevices(ListDevices {}) => Ok(device_list(self.unlocked()?).into()),
        }
    }

    pub fn device_op(&mut self, op: DeviceOp) {
        match op {
            DeviceOp::LinkMaterial {
                joining,
                name,
                reply,
            } => {
                let material = self.unlocked().and_then(|u| {
                    if joining {
                        joining_material(u)
                    } else {
                        link_material(u, name)
                    }
                });
                let _ = reply.send(material);
            }
            DeviceOp::AddDevice {
                device,
                this_name,
                reply,
            } => {
                let result = self
                    .unlocked()
                    .and_then(|u| add_device(u, *device, &this_name));
                self.publish_devices();
                let _ = reply.send(result);
            }
            DeviceOp::Joined { package, reply } => {
                let result = self.unlocked().and_then(|u| join(u, *package));
                self.publish_devices();
                let _ = reply.send(result);
            }
            DeviceOp::Opened {
                session,
                device,
                address,
                reply,
            } => {
                let _ = reply.send(self.open_session(session, device, address));
            }
            DeviceOp::Received {
                session,
                message,
                reply,
            } => {
                let result = match &mut self.vault {
                    Vault::Unlocked(u) => receive(u, session, *message),
                    Vault::Locked => Err("locked".to_string()),
                };
                if let Ok((_, true, _)) = &result {
                    self.journal_changed();
                }
                let _ = reply.send(result.map(|(replies, _, in_sync)| (replies, in_sync)));
            }
            DeviceOp::Push { session, reply } => {
                let replies = match &mut self.vault {
                    Vault::Unlocked(u) => {
                        let mut devices = std::mem::take(&mut u.devices);
                        let replies = devices.push(session, &mut **u);
                        u.devices = devices;
                        replies
                    }
                    Vault::Locked => Vec::new(),
                };
                let _ = reply.send(replies);
            }
            DeviceOp::Count(reply) => {
                let count = match &self.vault {
                    Vault::Unlocked(u) => u.index.len(),
                    Vault::Locked => 0,
                };
                let _ = reply.send(count);
            }
            DeviceOp::Closed { session } => {
                if let Vault::Unlocked(u) = &mut self.vault {
                    u.devices.close(session);
                }
            }
        }
    }

    /// Tells the own-device network side which devices to keep sessions with.
    pub(super) fn publish_devices(&mut self) {
        let link = match &self.vault {
            Vault::Unlocked(u) => own_link(u),
            Vault::Locked => DevicesLink::Off,
        };
        self.own.link.send_replace(link);
    }

    pub(super) fn journal_changed(&self) {
        self.own.journal_changed.send_modify(|v| *v += 1);
    }

    fn open_session(
        &mut self,
        session: u64,
        device: String,
        address: Option<String>,
    ) -> Option<Vec<haven_shared::devices::journal_sync::DeviceMessage>> {
        let Vault::Unlocked(u) = &mut self.vault else {
            return None;
        };
        let own = u.devices.own.as_mut()?;
        let list = own.list.open().ok()?;
        let known = list
            .find(&device)
            .is_some_and(|d| d.is_active() && d.key != own_key(u.home.identity.verifying_key()));
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
        u.devices.open(session, device);
        Some(vec![DevicesSync::hello(&mut **u)])
    }
}

fn own_key(key: haven_shared::ed25519_dalek::VerifyingKey) -> String {
    hex::encode(key.as_bytes())
}

/// What linking needs from this device. A device joining (`init --join`) is named by its
/// home; one already holding the journal by its list entry, or `name`, or its computer's
/// name.
fn link_material(u: &Unlocked, name: Option<String>) -> Result<Material, ErrorReply> {
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
fn joining_material(u: &Unlocked) -> Result<Material, ErrorReply> {
    if u.devices.own.is_some() {
        return Err(linking("this device is linked already")
            .hint("see your devices with `haven device list`"));
    }
    if u.partner().is_some() {
        return Err(linking(
            "this laptop is paired with a partner, so it cannot join another person's devices",
        ));
    }
    link_material(u, Some(u.name.clone()))
}

/// On a device holding the journal: `device` joins the person's list, signed here.
fn add_device(
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
        .devices
        .iter()
        .find(|d| d.key == me)
        .map(Device::id)
        .ok_or_else(|| linking("this device is not in its own list"))?;
    let next = list.with_added(device, &my_id);
    let signed = SignedDeviceList::sign(&next, u.home.identity.signing_key());
    let mut own = u.devices.own.clone().unwrap_or(OwnDevices {
        list: signed.clone(),
        secret: secret.clone(),
        member_name: u.name.clone(),
        seen: Default::default(),
    });
    own.list = signed.clone();
    u.home.save_own_devices(&own).map_err(home_error)?;
    u.devices.own = Some(own.clone());
    tracing::info!(devices = next.active().count(), "a device was linked");
    Ok(LinkPackage {
        list: signed,
        secret,
        member_name: own.member_name,
    })
}

/// On the new device: keep what the other device sent, once it checks out.
fn join(u: &mut Unlocked, package: LinkPackage) -> Result<(), ErrorReply> {
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
    let own = OwnDevices {
        list: package.list,
        secret: package.secret,
        member_name: name.to_string(),
        seen: Default::default(),
    };
    u.home.save_own_devices(&own).map_err(home_error)?;
    u.name = own.member_name.clone();
    u.devices.own = Some(own);
    Ok(())
}

type Received = (
    Vec<haven_shared::devices::journal_sync::DeviceMessage>,
    bool,
    bool,
);

/// A device's message: the answers, whether the journal changed, and whether the two now
/// hold the same journal.
fn receive(
    u: &mut Unlocked,
    session: u64,
    message: haven_shared::devices::journal_sync::DeviceMessage,
) -> Result<Received, String> {
    let mut devices = std::mem::take(&mut u.devices);
    let result = devices.receive(session, message, u);
    let in_sync = devices.in_sync(session, u);
    u.devices = devices;
    result.map(|t| (t.replies, t.changed, in_sync))
}

/// Which devices the network side keeps sessions with: the others in the list.
fn own_link(u: &Unlocked) -> DevicesLink {
    let Some(own) = &u.devices.own else {
        return DevicesLink::Off;
    };
    let Ok(list) = own.list.open() else {
        return DevicesLink::Off;
    };
    let me = own_key(u.home.identity.verifying_key());
    if !list.active().any(|d| d.key == me) {
        return DevicesLink::Off;
    }
    let others: Vec<OtherDevice> = list
        .active()
        .filter(|d| d.key != me)
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
        psk: Key32::new(*own.psk()),
        discovery: Key32::new(*own.discovery()),
        others,
    }))
}

/// This device's name in the person's list, once another device was linked.
pub(super) fn this_device_name(u: &Unlocked) -> Option<String> {
    let me = own_key(u.home.identity.verifying_key());
    let list = u.devices.own.as_ref()?.list.open().ok()?;
    list.devices
        .into_iter()
        .find(|d| d.key == me)
        .map(|d| d.name)
}

/// How many of the person's other devices are linked (not revoked).
pub(super) fn other_devices(u: &Unlocked) -> usize {
    let me = own_key(u.home.identity.verifying_key());
    u.devices
        .own
        .as_ref()
        .and_then(|o| o.list.open().ok())
        .map_or(0, |l| l.active().filter(|d| d.key != me).count())
}

/// `haven device list`: this device alone until another is linked.
fn device_list(u: &mut Unlocked) -> Devices {
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
