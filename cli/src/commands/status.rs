//! `haven status`: running, locked, who, paired, and what is waiting for you.

use haven_shared::ipc::Status;
use haven_shared::model::waiting::{Waiting, WaitingKind};

use crate::error::CliResult;
use crate::{output, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print JSON: {locked, name, paired, partner, connected, ...}
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let status = ctx.client.call(Status {})?;
    if args.json {
        output::json(&status);
        return Ok(());
    }
    let mut text = String::new();
    if status.locked {
        text.push_str("locked      `haven unlock` to see your partner and agreements\n");
    } else {
        text.push_str(&format!(
            "unlocked    as {}\n",
            status.name.clone().unwrap_or_default()
        ));
        text.push_str(&format!(
            "journal     {}\n",
            haven_shared::plural::count(status.entries.unwrap_or(0) as u64, "entry", "entries")
        ));
        text.push_str(&format!("agreements  {}\n", status.agreements.unwrap_or(0)));
        match &status.device {
            Some(device) if status.device_restored => text.push_str(&format!(
                "device      {}, restored from a backup: not syncing (`haven doctor` says why)\n",
                output::visible(device)
            )),
            Some(device) if status.device_two_homes => text.push_str(&format!(
                "device      {}, running in two homes: not syncing (`haven doctor` says why)\n",
                output::visible(device)
            )),
            Some(device) => text.push_str(&format!(
                "device      {}, linked with {}\n",
                output::visible(device),
                haven_shared::plural::count(
                    status.other_devices as u64,
                    "other device",
                    "other devices"
                )
            )),
            None => {}
        }
        for p in &status.open_pauses {
            text.push_str(&format!(
                "pause       open since {}, {}: `haven pause done {}`\n",
                output::when(&p.started_at),
                if p.ends_at <= haven_shared::when::now() {
                    "its time is up".to_string()
                } else {
                    format!(
                        "until {}",
                        p.ends_at.with_timezone(&chrono::Local).format("%H:%M")
                    )
                },
                p.id.chars().take(10).collect::<String>()
            ));
        }
        text.push_str(&waiting_lines(&status.waiting));
    }
    // While locked the partner record is sealed: say nothing rather than "not paired".
    text.push_str(&match (&status.partner, status.connected) {
        _ if status.locked => String::new(),
        (Some(name), true) => format!("partner     {name}, connected\n"),
        (Some(name), false) => format!("partner     {name}, not connected\n"),
        (None, _) if status.paired => "partner     paired\n".to_string(),
        (None, _) => "partner     not paired\n".to_string(),
    });
    if let Some(at) = haven_shared::backup::last_backup(&ctx.paths) {
        text.push_str(&format!(
            "backup      last {}\n",
            haven_shared::backup::ago(at, haven_shared::when::now())
        ));
    }
    text.push_str(&format!(
        "daemon      pid {}, version {}\n",
        status.pid, status.version
    ));
    output::emit(&text);
    Ok(())
}

/// How many waiting items the text lists; `--json` has them all.
const SHOWN: usize = 10;

/// One line per waiting item with the command that shows it (a pause's end is already on
/// its own `pause` line).
fn waiting_lines(items: &[Waiting]) -> String {
    let items: Vec<&Waiting> = items
        .iter()
        .filter(|w| w.kind != WaitingKind::PauseEnded)
        .collect();
    let mut out = String::new();
    for (i, w) in items.iter().take(SHOWN).enumerate() {
        let label = if i == 0 { "waiting" } else { "" };
        out.push_str(&format!("{label:<12}{}: `{}`\n", w.what, w.command));
    }
    if items.len() > SHOWN {
        out.push_str(&format!(
            "{:<12}and {} more: `haven status --json` lists them all\n",
            "",
            items.len() - SHOWN
        ));
    }
    out
}
