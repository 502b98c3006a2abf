//! `haven win TEXT`: a small step worth noticing (`journal write --kind win`).

use haven_shared::ipc::JournalWrite;
use haven_shared::model::{Kind, NewEntry};

use crate::error::CliResult;
use crate::input::text_or_stdin;
use crate::{output, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// What went well, however small; `-` reads stdin
    text: String,
    /// A tag (repeat for more)
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// When it happened, if not now: "yesterday 21:00", "2026-11-02 20:00", "3d ago"
    #[arg(long, value_name = "WHEN", value_parser = crate::range::at)]
    at: Option<chrono::DateTime<chrono::FixedOffset>>,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let body = text_or_stdin(args.text)?;
    let entry = NewEntry {
        kind: Kind::Win,
        body,
        tags: args.tags,
        at: args.at,
        ..NewEntry::default()
    }
    .validated()?;
    let id = ctx.client.call(JournalWrite { entry })?.id;
    output::emit(&format!("{id}\n"));
    Ok(())
}
