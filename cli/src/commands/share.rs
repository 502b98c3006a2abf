//! `haven share ID [--yes]`: copy one journal entry to the partner's laptop as a note.
//!
//! It asks first, and says plainly what it means: the partner's laptop keeps the copy and
//! it cannot be taken back from there. Only the kind, title and text travel; tags, mood,
//! intensity and every other entry stay private. Sharing the same entry again sends nothing.

use std::io::IsTerminal;

use haven_shared::ipc::{JournalShow, Partner, Share, Shared};
use haven_shared::model::notes::shared_from;

use crate::error::{CliError, CliResult};
use crate::{output, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The journal entry's id, or any unique prefix of it
    id: String,
    /// Share without asking (for scripts)
    #[arg(long)]
    yes: bool,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let partner = ctx.client.call(Partner {})?;
    if !partner.paired {
        return Err(CliError::new(
            crate::error::Exit::NotFound,
            "this laptop is not paired with a partner: a shared note has nobody to go to",
        )
        .hint("pair with `haven pair` on one laptop and `haven pair CODE` on the other"));
    }
    let partner = partner.name.unwrap_or_else(|| "your partner".into());
    let entry = ctx.client.call(JournalShow { id: args.id })?.entry;
    let (kind, title, text) = shared_from(&entry).map_err(|e| CliError::usage(e.to_string()))?;
    if !args.yes && !confirm(&partner, kind.as_str(), &title, &text)? {
        // Not sharing is a choice, not a failure.
        eprintln!("Kept private.");
        return Ok(());
    }
    let Shared { note, already } = ctx.client.call(Share { id: entry.id })?;
    output::emit(&format!("{}\n", note.id));
    if already {
        eprintln!("This entry was shared before, as this note; nothing new was sent.");
    } else {
        eprintln!("Shared. {}", crate::delivery::sentence(ctx));
    }
    Ok(())
}

/// Asks on the terminal; true for a yes.
fn confirm(partner: &str, kind: &str, title: &str, text: &str) -> CliResult<bool> {
    let partner = output::visible(partner);
    if !std::io::stdin().is_terminal() {
        return Err(CliError::usage(
            "sharing needs a yes: the partner's laptop keeps what is shared",
        )
        .hint("run it in a terminal to be asked, or add --yes"));
    }
    let mut shown = format!("This copies one {kind} entry to {partner}'s laptop:\n\n");
    if !title.is_empty() {
        shown.push_str(&format!("  {}\n", output::one_line(title, 70)));
    }
    let lines: Vec<&str> = text.lines().collect();
    for line in lines.iter().take(6) {
        shown.push_str(&format!("  {}\n", output::one_line(line, 70)));
    }
    if lines.len() > 6 {
        shown.push_str(&format!("  … ({} more lines)\n", lines.len() - 6));
    }
    shown.push_str(&format!(
        "\n{partner}'s laptop keeps it: once it has arrived, it cannot be taken back from there.\n\
         Its tags, mood and intensity, and every other entry, stay on this laptop.\n\
         Share it? [y/N] "
    ));
    crate::input::yes(&output::visible(&shown))
}
