//! `haven device`: your own devices. `add CODE` links the new device showing CODE (after
//! you compare the words on both screens); `list` shows each device, when it was last in
//! session with this one, and whether the two hold the same journal; `revoke NAME` takes
//! a lost or sold device out (it gets nothing new); `leave` takes this one out.

use haven_shared::ipc::{
    DeviceAdd, DeviceConfirm, DeviceInfo, DeviceLeave, DeviceLeft, DeviceRevoke, Devices,
    LinkOffer, Linked, ListDevices, Revoked, SecretText,
};

use crate::error::{CliError, CliResult};
use crate::{input, output, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Link the new device that shows CODE (`haven init --join` shows it)
    Add {
        /// The code the new device shows, e.g. 7-harbor-violet
        code: String,
        /// Link without asking whether the words match (for scripts)
        #[arg(long)]
        yes: bool,
        /// What to call this device, the first time it links another
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
    },
    /// Your devices, and whether each holds the same journal as this one
    List {
        /// Print JSON: a list of {id, name, this_device, added, last_seen, path, in_sync, heads}
        #[arg(long)]
        json: bool,
    },
    /// Take a lost, sold or broken device out of your devices: it gets nothing new
    Revoke {
        /// The device's name, as `haven device list` shows it
        name: String,
        /// Revoke without asking (for scripts)
        #[arg(long)]
        yes: bool,
    },
    /// Take this device out of your devices (it keeps the journal as it is now)
    Leave {
        /// Leave without asking (for scripts)
        #[arg(long)]
        yes: bool,
    },
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    match args.command {
        Command::Add { code, yes, name } => add(ctx, code, yes, name),
        Command::Revoke { name, yes } => revoke(ctx, name, yes),
        Command::Leave { yes } => leave(ctx, yes),
        Command::List { json } => {
            let Devices { devices } = ctx.client.call(ListDevices {})?;
            if json {
                output::json(&devices);
            } else {
                output::emit(&rows(&devices));
            }
            Ok(())
        }
    }
}

fn add(ctx: &mut Ctx, code: String, yes: bool, name: Option<String>) -> CliResult {
    let LinkOffer {
        token,
        device,
        safety_words,
    } = ctx.client.call(DeviceAdd {
        code: SecretText(code),
        name,
    })?;
    let device = output::visible(&device).into_owned();
    let confirmed = yes || {
        if !crate::passphrase::has_terminal() {
            let _ = ctx.client.call(DeviceConfirm {
                token,
                confirmed: false,
            });
            return Err(CliError::usage(
                "linking needs a yes: the new device will read your whole journal",
            )
            .hint("run it in a terminal to compare the words, or add --yes"));
        }
        input::yes(&format!(
            "{device} shows these words:\n\n    {safety_words}\n\n\
             Do they match the words on {device}'s screen? It will read your whole journal. [y/N] "
        ))?
    };
    let Linked {
        device, entries, ..
    } = ctx.client.call(DeviceConfirm { token, confirmed })?;
    let device = output::visible(&device);
    output::emit(&format!(
        "Linked {device}. It holds your journal now ({}), and the two keep it the same whenever they are on the same network.\n",
        haven_shared::plural::count(entries as u64, "entry", "entries")
    ));
    Ok(())
}

/// A yes on a terminal, or `--yes`; without either, one line saying so.
fn agreed(yes: bool, what: &str, question: &str) -> CliResult<bool> {
    if yes {
        return Ok(true);
    }
    if !crate::passphrase::has_terminal() {
        return Err(CliError::usage(format!("{what} needs a yes"))
            .hint("run it in a terminal to be asked, or add --yes"));
    }
    input::yes(question)
}

fn revoke(ctx: &mut Ctx, name: String, yes: bool) -> CliResult {
    let shown = output::visible(&name).into_owned();
    if !agreed(
        yes,
        "revoking",
        &format!(
            "Revoke {shown}? From now on it gets nothing new from your devices. What it already holds, it keeps. [y/N] "
        ),
    )? {
        // Keeping a device is a choice, not a failure.
        eprintln!("Nothing changed: {shown} is still one of your devices.");
        return Ok(());
    }
    let Revoked { device, others } = ctx.client.call(DeviceRevoke { name })?;
    let device = output::visible(&device);
    output::emit(&format!(
        "Revoked {device}. From now on it gets nothing new: no entry, no change, no key; your devices refuse it and took a new shared secret it does not know.\n\
         What {device} already holds, it keeps: the journal as it was when it last synced, readable by whoever has it and your passphrase.\n"
    ));
    match others {
        0 => {}
        1 => output::emit("Your other device learns it the next time it meets this one.\n"),
        n => output::emit(&format!(
            "Your {n} other devices learn it the next time they meet this one.\n"
        )),
    }
    Ok(())
}

fn leave(ctx: &mut Ctx, yes: bool) -> CliResult {
    if !agreed(
        yes,
        "leaving",
        "Take this device out of your devices? It keeps the journal as it is now, and nothing new arrives. [y/N] ",
    )? {
        eprintln!("Nothing changed: this device is still one of yours.");
        return Ok(());
    }
    let DeviceLeft { others } = ctx.client.call(DeviceLeave {})?;
    output::emit(&format!(
        "This device left your devices. It keeps the journal as it is now; nothing new arrives.\n{}",
        if others > 0 {
            "Your other devices are told the next time they meet this one on the network.\n"
        } else {
            ""
        }
    ));
    Ok(())
}

/// One line a device: its name, when added, when last seen, and whether in sync.
fn rows(devices: &[DeviceInfo]) -> String {
    let width = devices
        .iter()
        .map(|d| output::visible(&d.name).chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut text = format!(
        "{:width$}  {:10}  {:18}  IN SYNC\n",
        "NAME", "ADDED", "SEEN"
    );
    for d in devices {
        let added = d.added.get(..10).unwrap_or(&d.added);
        let seen = if d.this_device {
            "this device".to_string()
        } else if d.revoked.is_some() {
            "revoked".to_string()
        } else if d.path.is_some() {
            "now, on the LAN".to_string()
        } else {
            match &d.last_seen {
                Some(at) => at.get(..16).unwrap_or(at).replace('T', " "),
                None => "not yet".to_string(),
            }
        };
        let sync = match (&d.heads, d.in_sync, d.path.is_some() || d.this_device) {
            (Some(h), true, _) => format!("yes: {h}"),
            (Some(h), false, true) => format!("not yet: {h} there"),
            (_, _, _) if d.revoked.is_some() => "—".to_string(),
            _ => "not known while apart".to_string(),
        };
        text.push_str(&format!(
            "{:width$}  {added:10}  {seen:18}  {sync}\n",
            output::visible(&d.name)
        ));
    }
    text
}
