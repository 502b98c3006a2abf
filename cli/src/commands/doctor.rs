//! `haven doctor`: what is wrong, and the command that fixes it.

use haven_shared::ipc::{Check, Request, Response};

use crate::error::{CliError, CliResult, Exit};
use crate::{output, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print the checks as JSON
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let paths = ctx.paths.clone();
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
        let daemon = if ctx.client.connect_existing()? {
            match ctx.client.send(&Request::Status)? {
                Ok(Response::Status(s)) => Check {
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
                other => Check {
                    name: "daemon".into(),
                    ok: false,
                    detail: format!("havend answered oddly: {other:?}"),
                    fix: Some("restart it: `haven daemon stop && haven daemon start`".into()),
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
        };
        let running = daemon.ok;
        checks.push(daemon);
        if running {
            match ctx.client.send(&Request::NetworkChecks)? {
                Ok(Response::Checks { checks: network }) => checks.extend(network),
                other => checks.push(Check {
                    name: "network".into(),
                    ok: false,
                    detail: format!("havend could not check the network: {other:?}"),
                    fix: Some("update haven and havend to the same version".into()),
                }),
            }
        }
    }
    if args.json {
        output::json(&checks);
    } else {
        let mut text = String::new();
        for c in &checks {
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
        output::emit(&text);
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
