//! `haven win TEXT`: a small step worth noticing (`journal write --kind win`).

use haven_shared::ipc::JournalWrite;
use haven_shared::model::{Kind, NewEntry};

use crate::error::CliResult;
use crate::input::text_or_stdin;
use crate::{output, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// What went well, however small; `-` reads stdin
    pub text: String,
    /// A tag (repeat for more)
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// When it happened, if not now: "yesterday 21:00", "2026-11-02 20:00", "3d ago"
    #[arg(long, value_name = "WHEN", value_parser = crate::range::at)]
    pub at: Option<chrono::DateTime<chrono::FixedOffset>>,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    write_short(ctx, Kind::Win, args)
}

/// A one-line entry of `kind` from the command line (`win`, `bring`); prints its id.
pub fn write_short(ctx: &mut Ctx, kind: Kind, args: Args) -> CliResult {
    let body = text_or_stdin(args.text)?;
    let entry = NewEntry {
        kind,
        body,
        tags: args.tags,
        at: args.at,
        ..NewEntry::default()
    }
    .validated()?;
    save(ctx, entry)
}

/// Writes a checked entry and prints its id (`journal write`, `win`, `bring`, `checkin`).
pub fn save(ctx: &mut Ctx, entry: NewEntry) -> CliResult {
    let id = ctx
        .client
        .call(JournalWrite {
            entry: Box::new(entry),
        })?
        .id;
    output::emit(&format!("{id}\n"));
    Ok(())
}
