//! `haven journal show ID`.

use haven_shared::ipc::JournalShow;

use crate::error::CliResult;
use crate::{output, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The entry's id, or any unique prefix of it
    id: String,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let entry = ctx.client.call(JournalShow { id: args.id })?.entry;
    if args.json {
        output::json(&entry);
    } else {
        crate::pager::page(&output::entry_full(&entry));
    }
    Ok(())
}
