//! `haven partner`: who the partner is and how the link is doing; `address` adds a static
//! address for networks that block multicast; `relay` sets the couple's own relay, for
//! when the laptops are on different networks; `unpair` ends the pairing from this side.

use haven_shared::ipc::{
    Partner, PartnerAddress, PartnerInfo, PartnerRelay, PartnerUnpair, SecretText, Unpaired,
};

use crate::error::CliResult;
use crate::{output, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Print JSON: {paired, name, connected, address, last_seen, last_synced, waiting, in_sync, heads, devices, ...}
    #[arg(long, global = true)]
    json: bool,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Also try the partner at HOST:PORT (for networks that block multicast)
    Address {
        /// e.g. 192.168.1.20:47000 (the partner's `havend --listen`)
        address: String,
    },
    /// Meet the partner through the couple's own relay when on different networks
    Relay {
        /// The `relay URL:` line `havend relay` printed on the relay machine
        #[arg(required_unless_present = "remove")]
        url: Option<String>,
        /// Stop using the relay (the LAN still works)
        #[arg(long, conflicts_with = "url")]
        remove: bool,
    },
    /// Stop syncing and forget the partner's keys (needs no consent from the other side)
    Unpair {
        /// Also delete this laptop's copy of the agreements
        #[arg(long)]
        wipe: bool,
    },
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let info = match args.command {
        None => ctx.client.call(Partner {})?,
        Some(Command::Address { address }) => ctx.client.call(PartnerAddress { address })?,
        Some(Command::Relay { url, remove }) => ctx.client.call(PartnerRelay {
            url: if remove { None } else { url.map(SecretText) },
        })?,
        Some(Command::Unpair { wipe }) => {
            let Unpaired {
                partner,
                wiped,
                already,
            } = ctx.client.call(PartnerUnpair { wipe })?;
            if already {
                output::emit("This laptop's copy of the agreements was deleted.\n");
                return Ok(());
            }
            output::emit(&format!(
                "Unpaired from {partner}: their keys are forgotten and nothing syncs any more.\n{}",
                if wiped {
                    "This laptop's copy of the agreements was deleted.\n"
                } else {
                    "The agreements stay on this laptop (`haven partner unpair --wipe` deletes them).\n"
                }
            ));
            return Ok(());
        }
    };
    if args.json {
        output::json(&info);
    } else {
        output::emit(&describe(&info));
    }
    Ok(())
}

/// "yes" only when the partner said their copy holds exactly the changes this one does;
/// the fingerprint lets two people check it on both screens.
fn in_sync_line(info: &PartnerInfo) -> String {
    let here = &info.heads;
    let partner = info.name.as_deref().unwrap_or("your partner");
    if info.in_sync {
        format!("in sync      yes: {here} here and on {partner}'s laptop\n")
    } else if info.connected {
        format!("in sync      not yet: changes are on their way ({here} here)\n")
    } else {
        format!("in sync      not known while not connected ({here} here)\n")
    }
}

fn describe(info: &PartnerInfo) -> String {
    if info.through_another_device {
        return format!(
            "partner      {}, paired on another of your devices: this one acts in the couple through it\n",
            crate::output::visible(info.name.as_deref().unwrap_or_default())
        );
    }
    if !info.paired {
        return "not paired   run `haven pair` here, then `haven pair CODE` on your partner's laptop\n".into();
    }
    let never = || "never".to_string();
    let mut text = format!(
        "partner      {}\nconnected    {}\n",
        info.name.clone().unwrap_or_default(),
        match (&info.connected, info.path.as_deref(), &info.address) {
            (true, Some("relayed"), _) => "yes, through the relay (relayed)".into(),
            (true, Some("direct"), _) => "yes, directly across networks (direct)".into(),
            (true, _, Some(a)) => format!("yes, at {a} (lan)"),
            (true, _, None) => "yes".into(),
            (false, _, _) => "no".into(),
        }
    );
    if info.connected {
        text.push_str(if info.post_quantum {
            "session      post-quantum (ML-KEM-768 and X25519)\n"
        } else {
            "session      X25519 only, until the post-quantum exchange is done\n"
        });
    }
    text.push_str(&format!(
        "last seen    {}\nlast synced  {}\nwaiting      {} change{}\n",
        info.last_seen
            .as_ref()
            .map(output::when)
            .unwrap_or_else(never),
        info.last_synced
            .as_ref()
            .map(output::when)
            .unwrap_or_else(never),
        info.waiting,
        if info.waiting == 1 { "" } else { "s" }
    ));
    text.push_str(&in_sync_line(info));
    if !info.devices.is_empty() {
        let names: Vec<String> = info
            .devices
            .iter()
            .map(|d| {
                let name = crate::output::visible(&d.name);
                if d.revoked {
                    format!("{name} (revoked)")
                } else {
                    name.into_owned()
                }
            })
            .collect();
        text.push_str(&format!(
            "devices      {}
",
            names.join(", ")
        ));
    }
    for a in &info.addresses {
        text.push_str(&format!("address      {a}\n"));
    }
    if let Some(r) = &info.relay {
        text.push_str(&format!("relay        {r}\n"));
    }
    if let Some(words) = &info.safety_words {
        text.push_str(&format!("safety words {words}\n"));
    }
    if let Some(problem) = &info.problem {
        text.push_str(&format!(
            "problem      {}\n",
            crate::output::visible(problem)
        ));
    }
    text
}
