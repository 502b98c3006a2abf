//! The person's own devices, on the core's side: linking a new device (`link`), the
//! sessions with the others (`sessions`, over `devices_sync`; the couple document's part
//! in `couple`), revoking one and leaving (`revoke`), and what `device list` and `status`
//! say (`listing`).

mod couple;
mod link;
mod listing;
mod marks;
mod revoke;
mod sessions;

pub(super) use listing::{other_devices, restored_check, this_device_name};
pub(super) use marks::two_homes_check;

use tokio::sync::watch;

use haven_shared::devices::{check_name, Device};
use haven_shared::ipc::{DevicesCall, ErrorKind, ErrorReply, ListDevices, Reply};
use haven_shared::model::agreement::member_id_of;
use haven_shared::when;

use super::Service;
use crate::contract::{DeviceOp, DevicesLink};
use crate::vault::{Unlocked, Vault};

/// The core's ends of the own-device contract.
pub struct DeviceLinks {
    pub link: watch::Sender<DevicesLink>,
    /// Bumped after every change to the journal or the couple document (and to the list
    /// or the secret), so each session pushes it at once.
    pub journal_changed: watch::Sender<u64>,
}

fn linking(message: impl Into<String>) -> ErrorReply {
    ErrorReply::new(ErrorKind::Pairing, message)
}

fn own_key(key: haven_shared::ed25519_dalek::VerifyingKey) -> String {
    hex::encode(key.as_bytes())
}

/// This device's id in the person's list (made from its key, as every device's is).
fn own_id(u: &Unlocked) -> String {
    member_id_of(&u.home.identity.verifying_key())
}

/// This device's entry in a first list: its keys, and a name the person can change later.
fn this_device(u: &Unlocked, name: &str) -> Device {
    Device {
        key: own_key(u.home.identity.verifying_key()),
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
        let reply = match call {
            DevicesCall::ListDevices(ListDevices {}) => {
                return Ok(listing::device_list(self.unlocked()?).into())
            }
            DevicesCall::DeviceRevoke(c) => revoke::revoke(self.unlocked()?, &c.name)?.into(),
            DevicesCall::DeviceLeave(_) => revoke::leave(self.unlocked()?)?.into(),
        };
        // The list changed: the sessions end or take it, with the new secret.
        self.publish_devices();
        self.journal_changed();
        Ok(reply)
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
                        link::joining_material(u)
                    } else {
                        link::link_material(u, name)
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
                    .and_then(|u| link::add_device(u, *device, &this_name));
                self.publish_devices();
                // The devices in session take the new list at once, so they admit the
                // new device when it calls.
                self.journal_changed();
                let _ = reply.send(result);
            }
            DeviceOp::Joined { package, reply } => {
                let result = self.unlocked().and_then(|u| link::join(u, *package));
                self.publish_devices();
                let _ = reply.send(result);
            }
            DeviceOp::Opened {
                session,
                device,
                address,
                reply,
            } => {
                let opened = match &mut self.vault {
                    Vault::Unlocked(u) => sessions::open(u, session, device, address),
                    Vault::Locked => None,
                };
                let _ = reply.send(opened);
            }
            DeviceOp::Received {
                session,
                message,
                reply,
            } => self.received(session, *message, reply),
            DeviceOp::Push { session, reply } => {
                let replies = match &mut self.vault {
                    Vault::Unlocked(u) => sessions::push(u, session),
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
            DeviceOp::Told { device } => {
                if let Vault::Unlocked(u) = &mut self.vault {
                    sessions::told(u, device);
                }
                // A device that left told one more of the others.
                self.publish_devices();
            }
            DeviceOp::Closed { session } => {
                if let Vault::Unlocked(u) = &mut self.vault {
                    u.devices.close(session);
                }
            }
        }
    }

    fn received(
        &mut self,
        session: u64,
        message: haven_shared::devices::journal_sync::DeviceMessage,
        reply: tokio::sync::oneshot::Sender<
            Result<
                (
                    Vec<haven_shared::devices::journal_sync::DeviceMessage>,
                    bool,
                ),
                String,
            >,
        >,
    ) {
        let result = match &mut self.vault {
            Vault::Unlocked(u) => sessions::receive(u, session, message),
            Vault::Locked => Err("locked".to_string()),
        };
        if let Ok(outcome) = &result {
            if outcome.link_changed {
                self.publish_devices();
            }
            if outcome.couple_changed {
                // On to the partner (from the paired device) and the other devices.
                self.couple_changed();
            }
            if outcome.journal_changed || outcome.link_changed {
                self.journal_changed();
            }
        }
        let _ = reply.send(result.map(|o| (o.replies, o.in_sync)));
    }

    /// Tells the own-device network side which devices to keep sessions with.
    pub(super) fn publish_devices(&mut self) {
        let link = match &mut self.vault {
            Vault::Unlocked(u) => {
                // Whose signatures count for this person follows their list.
                u.devices_changed();
                sessions::own_link(u)
            }
            Vault::Locked => DevicesLink::Off,
        };
        // Only a change is sent: each one restarts the advertisement and the browse, and
        // the core publishes on many occasions that change nothing here.
        self.own.link.send_if_modified(|current| {
            if *current == link {
                return false;
            }
            *current = link;
            true
        });
    }

    pub(super) fn journal_changed(&self) {
        self.own.journal_changed.send_modify(|v| *v += 1);
    }
}
