//! `haven journal delete ID [--yes]`: asks first on a terminal, since a letter or a record
//! deleted by a slip of the keyboard cannot be brought back once purged.

use std::io::IsTerminal;

use haven_shared::ipc::{JournalDelete, JournalShow};

use crate::error::{CliError, CliResult};
use crate::{output, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The entry's id, or any unique prefix of it
    id: String,
    /// Delete without asking (for scripts)
    #[arg(long)]
    yes: bool,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let mut id = args.id;
    if !args.yes {
        let entry = ctx.client.call(JournalShow { id }).map(|r| r.entry)?;
        if !confirm(&entry.kind.to_string(), entry.headline())? {
            eprintln!("Kept.");
            return Ok(());
        }
        id = entry.id;
    }
    let entry = ctx.client.call(JournalDelete { id })?.entry;
    eprintln!(
        "Deleted {} ({}).",
        entry.id,
        output::visible(entry.headline())
    );
    eprintln!("It is gone from your journal; `haven journal purge` also erases it from the stored history.");
    Ok(())
}

/// Asks on the terminal; true for a yes. Without a terminal, `--yes` is needed.
fn confirm(kind: &str, headline: &str) -> CliResult<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::usage("deleting needs a yes")
            .hint("run it in a terminal to be asked, or add --yes"));
    }
    crate::input::yes(&format!(
        "This {kind} entry:\n\n  {}\n\nIt leaves your journal; `haven journal purge` would also erase it from the stored history. Delete it? [y/N] ",
        output::one_line(&output::visible(headline), 70)
    ))
}
