//! `haven doctor`: what is wrong, and the command that fixes it.

use haven_shared::ipc::{AcceptOlder, Check, NetworkChecks, Status};

use crate::error::{CliError, CliResult, Exit};
use crate::{output, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print the checks as JSON
    #[arg(long)]
    json: bool,
    /// You put an older haven.db back on purpose: make it the newest copy, so Haven stops
    /// warning about it
    #[arg(long)]
    accept_older: bool,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let paths = ctx.paths.clone();
    if args.accept_older {
        if ctx.client.call(Status {})?.locked {
            ctx.client.unlock()?;
        }
        ctx.client.call(AcceptOlder {})?;
        eprintln!("This copy of haven.db is now the newest. Haven counts from here.");
        return Ok(());
    }
    let mut checks = Vec::new();
    if !paths.is_initialised() {
        checks.push(Check {
            name: "home".into(),
            ok: false,
            detail: format!("no Haven home at {}", paths.data_dir.display()),
            fix: Some("run `haven init --name NAME`".into()),
        });
    } else {
        checks.extend(haven_shared::health::checks(&paths));
        let daemon = daemon_check(ctx, &paths)?;
        let running = daemon.ok;
        checks.push(daemon);
        if running {
            match ctx
                .client
                .try_call(NetworkChecks {})
                .and_then(|r| r.map_err(CliError::from))
            {
                Ok(network) => checks.extend(network.checks),
                Err(e) => checks.push(Check {
                    name: "network".into(),
                    ok: false,
                    detail: format!("havend could not check the network: {}", e.message),
                    fix: e.hint,
                }),
            }
        }
    }
    if args.json {
        output::json(&checks);
    } else {
        output::emit(&table(&checks));
    }
    let failed = checks.iter().filter(|c| !c.ok).count();
    if failed > 0 {
        return Err(CliError::new(
            Exit::Failure,
            format!("{failed} check(s) failed; see the fixes above"),
        ));
    }
    Ok(())
}

/// Whether havend runs and answers, and in what state.
fn daemon_check(ctx: &mut Ctx, paths: &haven_shared::paths::Paths) -> CliResult<Check> {
    let running = match ctx.client.connect_existing() {
        Ok(running) => running,
        // A daemon that does not greet as Haven does is a failed check, not a failed doctor.
        Err(e) => {
            return Ok(Check {
                name: "daemon".into(),
                ok: false,
                detail: e.message,
                fix: e.hint,
            })
        }
    };
    Ok(if running {
        match ctx.client.try_call(Status {}) {
            Ok(Ok(s)) => Check {
                name: "daemon".into(),
                ok: true,
                detail: format!(
                    "havend {} is running (pid {}), {}",
                    s.version,
                    s.pid,
                    if s.locked {
                        "locked: run `haven unlock` to use the journal"
                    } else {
                        "unlocked"
                    }
                ),
                fix: None,
            },
            Ok(Err(e)) => Check {
                name: "daemon".into(),
                ok: false,
                detail: format!("havend answered: {}", e.message),
                fix: Some("restart it: `haven daemon stop && haven daemon start`".into()),
            },
            Err(e) => Check {
                name: "daemon".into(),
                ok: false,
                detail: e.message,
                fix: e.hint,
            },
        }
    } else {
        let stale = paths.socket().exists();
        Check {
            name: "daemon".into(),
            ok: false,
            detail: if stale {
                "havend is not running (a stale socket from a crash is left; it is replaced on start)".into()
            } else {
                "havend is not running".into()
            },
            fix: Some("run `haven daemon start` (any command also starts it)".into()),
        }
    })
}

fn table(checks: &[Check]) -> String {
    let mut text = String::new();
    for c in checks {
        text.push_str(&format!(
            "{} {:<26} {}\n",
            if c.ok { "ok  " } else { "FAIL" },
            c.name,
            c.detail
        ));
        if let Some(fix) = &c.fix {
            text.push_str(&format!("     {:<26} fix: {fix}\n", ""));
        }
    }
    text
}
