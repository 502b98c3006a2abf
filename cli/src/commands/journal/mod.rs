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
