//! `haven journal list`: newest first, filtered by tag, kind, words and date.

use haven_shared::ipc::{Entries, JournalList};
use haven_shared::model::{Kind, ListQuery};

use crate::error::CliResult;
use crate::range::Range;
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
    /// Only entries since a date: 2026-11-01, 3d, 2w, 6m, yesterday, last week
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Only entries before a date (a day is included whole): 2026-11-30, last month
    #[arg(long, value_name = "DATE")]
    until: Option<String>,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let range = Range::parse(args.since.as_deref(), args.until.as_deref())?;
    let filtered = args.tag.is_some()
        || args.kind.is_some()
        || args.search.is_some()
        || range.since.is_some()
        || range.until.is_some();
    let query = ListQuery {
        limit: args.limit,
        tag: args.tag,
        kind: args.kind,
        search: args.search,
        since: range.since,
        until: range.until,
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
    crate::pager::page(&output::entry_rows(&entries));
    if total > entries.len() {
        eprintln!("({} of {total} shown; use -n to see more)", entries.len());
    }
    Ok(())
}
