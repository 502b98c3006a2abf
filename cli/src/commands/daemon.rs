//! `haven daemon start|stop|status`.

use clap::Subcommand;
use haven_shared::ipc::Status;

use crate::error::{CliError, CliResult, Exit};
use crate::Ctx;

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Start havend in the background (commands also start it when needed)
    Start,
    /// Stop havend; the journal is locked
    Stop,
    /// Say whether havend is running
    Status,
}

pub fn run(cmd: Command, ctx: &mut Ctx) -> CliResult {
    match cmd {
        Command::Start => {
            if ctx.client.connect_existing()? {
                eprintln!("havend is already running.");
                return Ok(());
            }
            ctx.client.start_daemon()?;
            eprintln!("havend started.");
            Ok(())
        }
        Command::Stop => {
            if !ctx.client.connect_existing()? {
                eprintln!("havend is not running.");
                return Ok(());
            }
            ctx.client.stop()?;
            crate::client::wait_for_exit(&ctx.paths);
            eprintln!("havend stopped.");
            Ok(())
        }
        Command::Status => {
            if !ctx.client.connect_existing()? {
                return Err(CliError::new(Exit::Daemon, "havend is not running")
                    .hint("start it with `haven daemon start`"));
            }
            let s = ctx.client.call(Status {})?;
            let state = if s.locked { "locked" } else { "unlocked" };
            crate::output::emit(&format!(
                "havend is running (pid {}, {state}, version {})\n",
                s.pid, s.version
            ));
            Ok(())
        }
    }
}
