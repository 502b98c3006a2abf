//! `haven journal …`: the private journal. Nothing here ever leaves the device.

pub mod delete;
pub mod edit;
pub mod list;
pub mod purge;
pub mod show;
pub mod thought_record;
pub mod write;

use clap::Subcommand;

use crate::error::CliResult;
use crate::Ctx;

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Write an entry: TEXT, `-` for stdin, or nothing to open $EDITOR on a template
    Write(write::Args),
    /// List entries, newest first
    List(list::Args),
    /// Show one entry (any unique prefix of its id)
    Show(show::Args),
    /// Edit an entry in $EDITOR, or change its fields with flags
    Edit(edit::Args),
    /// Delete an entry (then `purge` to erase it from the stored history)
    Delete(delete::Args),
    /// Rewrite the stored journal so deleted and edited text is gone from disk
    Purge,
}

pub fn run(cmd: Command, ctx: &mut Ctx) -> CliResult {
    match cmd {
        Command::Write(a) => write::run(a, ctx),
        Command::List(a) => list::run(a, ctx),
        Command::Show(a) => show::run(a, ctx),
        Command::Edit(a) => edit::run(a, ctx),
        Command::Delete(a) => delete::run(a, ctx),
        Command::Purge => purge::run(ctx),
    }
}

/// Keeps text from a failed editor session, encrypted to this home's own key, in
/// `recovery/`. Readable with `age -d -i identity.age FILE`.
pub fn keep_recovery(ctx: &mut Ctx, text: &str) -> CliResult<std::path::PathBuf> {
    use crate::client::unexpected;
    use crate::error::{io_error, CliError, Exit};
    use haven_shared::ipc::{Request, Response};
    use std::str::FromStr;
    let recipient = match ctx.client.call(Request::Recipient)? {
        Response::Recipient { recipient } => recipient,
        other => return Err(unexpected(&other)),
    };
    let recipient = age::x25519::Recipient::from_str(&recipient)
        .map_err(|e| CliError::new(Exit::Failure, format!("bad recipient from havend: {e}")))?;
    let sealed = age::encrypt(&recipient, text.as_bytes()).map_err(|e| {
        CliError::new(
            Exit::Failure,
            format!("cannot encrypt the recovery copy: {e}"),
        )
    })?;
    let dir = ctx.paths.recovery_dir();
    haven_shared::paths::private_dir(&dir)
        .map_err(|e| io_error("cannot create the recovery folder", e))?;
    let path = dir.join(format!(
        "edit-{}.age",
        chrono::Local::now().format("%Y%m%d-%H%M%S")
    ));
    haven_shared::paths::write_private_file(&path, &sealed)
        .map_err(|e| io_error("cannot write the recovery copy", e))?;
    Ok(path)
}
