//! `haven unlock`: send the passphrase to the daemon, which keeps the keys in memory.

use haven_shared::ipc::Status;

use crate::error::CliResult;
use crate::Ctx;

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: Args, ctx: &mut Ctx) -> CliResult {
    let status = ctx.client.call(Status {})?;
    if !status.locked {
        eprintln!("Already unlocked ({}).", status.name.unwrap_or_default());
        return Ok(());
    }
    let name = crate::output::visible(&ctx.client.unlock()?).into_owned();
    // An empty journal: the first time (or a fresh start), so not "back".
    let first = ctx
        .client
        .call(Status {})
        .is_ok_and(|s| s.entries == Some(0));
    if first {
        eprintln!("Unlocked. Welcome, {name}.");
    } else {
        eprintln!("Unlocked. Welcome back, {name}.");
    }
    Ok(())
}
