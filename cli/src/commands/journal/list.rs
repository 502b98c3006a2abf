//! `haven journal list`: newest first, filtered by tag, kind, words and date.

use haven_shared::ipc::{Entries, JournalList};
use haven_shared::model::{Kind, ListQuery};
use haven_shared::when;

use crate::error::CliResult;
use crate::{output, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Show at most N entries
    #[arg(short = 'n', long = "limit", value_name = "N")]
    limit: Option<usize>,
    /// Only entries with this tag
    #[arg(long)]
    tag: Option<String>,
    /// Only entries of this kind
    #[arg(long)]
    kind: Option<Kind>,
    /// Only entries containing all these words (any case)
    #[arg(long, value_name = "WORDS")]
    search: Option<String>,
    /// Only entries since a date: 2026-11-01, 3d, 2w, 6m, yesterday
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let since = args
        .since
        .as_deref()
        .map(|s| when::parse_since(s, when::now()))
        .transpose()?;
    let filtered =
        args.tag.is_some() || args.kind.is_some() || args.search.is_some() || since.is_some();
    let query = ListQuery {
        limit: args.limit,
        tag: args.tag,
        kind: args.kind,
        search: args.search,
        since,
        brief: !args.json,
    };
    let Entries { entries, total } = ctx.client.call(JournalList { query })?;
    if args.json {
        output::json(&entries);
        return Ok(());
    }
    if entries.is_empty() {
        if filtered {
            eprintln!("No entries match.");
        } else {
            eprintln!(
                "Nothing written yet. `haven journal write` starts an entry when you want one."
            );
        }
        return Ok(());
    }
    output::emit(&output::entry_rows(&entries));
    if total > entries.len() {
        eprintln!("({} of {total} shown; use -n to see more)", entries.len());
    }
    Ok(())
}
