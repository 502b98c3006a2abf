//! The core's side of catching a device that runs in two homes (`devices::copies`): the
//! mark this device shows, the marks it gives and checks, and what happens to a copy.
//!
//! Every mark is saved before the message that depends on it goes out: a mark given is
//! remembered before it is sent, a mark received is kept before "kept" is said. So a crash
//! anywhere leaves both sides agreeing on a mark the other may still show.

use haven_shared::devices::copies::{self, Shown};
use haven_shared::devices::journal_sync::DeviceMessage;
use haven_shared::when;

use crate::vault::Unlocked;

/// What a marks message did.
pub(super) struct Marked {
    pub replies: Vec<DeviceMessage>,
    /// This device learned it runs in two homes: it stops syncing (the link follows).
    pub copied: bool,
}

fn save(u: &mut Unlocked, what: &str) -> Result<(), String> {
    let Some(own) = u.devices.own.clone() else {
        return Err("this device is not linked".into());
    };
    u.home
        .save_own_devices(&own)
        .map_err(|e| format!("cannot save {what}: {e}"))
}

/// This device runs in two homes: it stops syncing with the person's other devices, and
/// says so once.
fn copied(u: &mut Unlocked, how: &str) -> Result<(), String> {
    let Some(own) = u.devices.own.as_mut() else {
        return Ok(());
    };
    if own.copied.is_some() {
        return Ok(());
    }
    own.copied = Some(when::now().to_rfc3339());
    save(u, "that this device runs in two homes")?;
    tracing::error!(
        how,
        "this device runs in two homes (its home folder was copied and both copies ran): it no longer syncs with this person's other devices (see `haven doctor`)"
    );
    Ok(())
}

/// The newest mark `device` gave this one.
fn own_held(u: &Unlocked, device: &str) -> Option<String> {
    u.devices
        .own
        .as_ref()
        .and_then(|o| o.seen.get(device))
        .and_then(|s| s.held.clone())
}

/// After the other's `Hello`: the mark it gave this device, shown back.
pub(super) fn show(u: &Unlocked, device: &str) -> DeviceMessage {
    DeviceMessage::Mark {
        shown: own_held(u, device),
    }
}

/// One marks message from `device`.
pub(super) fn receive(
    u: &mut Unlocked,
    device: &str,
    message: DeviceMessage,
) -> Result<Marked, String> {
    let mut marked = Marked {
        replies: Vec::new(),
        copied: false,
    };
    let own = u.devices.own.as_mut().ok_or("this device is not linked")?;
    match message {
        DeviceMessage::Mark { shown } => {
            let seen = own.seen.entry(device.to_string()).or_default();
            match seen.given.check(shown.as_deref()) {
                Shown::Same => {
                    // The mark on its way again (not saved twice), or a new one, saved first.
                    let before = seen.given.clone();
                    let mark = seen.given.give();
                    if seen.given != before {
                        save(u, "a new mark")?;
                    }
                    marked.replies.push(DeviceMessage::NewMark { mark });
                }
                Shown::Older => {
                    own.copies.insert(device.to_string());
                    save(u, "that a device runs in two homes")?;
                    tracing::warn!(
                        %device,
                        "one of this person's devices runs in two homes (it showed an older mark than a copy of it kept): refusing both copies until it is revoked"
                    );
                    marked.replies.push(DeviceMessage::TwoHomes);
                }
                Shown::NotMine => {
                    // The other holds a mark this device never gave: another copy of this
                    // device gave it.
                    copied(u, "it was shown a mark that another copy of it gave")?;
                    marked.copied = true;
                }
            }
        }
        DeviceMessage::NewMark { mark } => {
            if mark.len() > 64 {
                return Err("a mark longer than Haven makes them".into());
            }
            let seen = own.seen.entry(device.to_string()).or_default();
            if copies::replaces(seen.held.as_deref(), &mark) {
                seen.held = Some(mark.clone());
                save(u, "the mark another device gave")?;
            }
            // "Kept" only for the mark held now (not for an older one still on its way).
            let held = own_held(u, device);
            if held.as_deref() == Some(mark.as_str()) {
                marked.replies.push(DeviceMessage::MarkKept { mark });
            }
        }
        DeviceMessage::MarkKept { mark } => {
            let seen = own.seen.entry(device.to_string()).or_default();
            if seen.given.kept(&mark) {
                save(u, "that a mark was kept")?;
                tracing::info!(%device, "the other device keeps a new mark");
            }
        }
        DeviceMessage::TwoHomes => {
            copied(u, "another of this person's devices said so")?;
            marked.copied = true;
        }
        _ => return Err("not a marks message".into()),
    }
    Ok(marked)
}

/// `haven doctor`'s word on a device running in two homes: this one, as another device
/// said, or one of the others, as this one found.
pub(in crate::service) fn two_homes_check(u: &Unlocked) -> Option<haven_shared::ipc::Check> {
    let own = u.devices.own.as_ref()?;
    let list = own.list.open().ok()?;
    let fix = |name: &str| {
        format!(
            "from one of your other devices, revoke it (`haven device revoke {name}`); then link each computer you keep again from a new home (`haven --home NEW_DIR init --join`). Each copy keeps the journal it holds"
        )
    };
    if let Some(at) = &own.copied {
        let name = super::this_device_name(u).unwrap_or_else(|| "this device".into());
        return Some(haven_shared::ipc::Check {
            name: "devices".into(),
            ok: false,
            detail: format!(
                "{name} runs in two homes (found {}): this home folder was copied and both copies ran, so your devices refuse both and this one no longer syncs with them",
                at.get(..10).unwrap_or(at)
            ),
            fix: Some(fix(&name)),
        });
    }
    let names: Vec<String> = own
        .copies
        .iter()
        .filter_map(|id| list.find(id))
        .filter(|d| d.is_active())
        .map(|d| d.name.clone())
        .collect();
    let first = names.first()?;
    Some(haven_shared::ipc::Check {
        name: "devices".into(),
        ok: false,
        detail: format!(
            "{} runs in two homes: a copy of its home folder ran beside it, so this device refuses both copies",
            names.join(", ")
        ),
        fix: Some(fix(first)),
    })
}
