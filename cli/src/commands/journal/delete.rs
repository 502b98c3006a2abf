//! `haven journal delete ID`.

use haven_shared::ipc::JournalDelete;

use crate::error::CliResult;
use crate::Ctx;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The entry's id, or any unique prefix of it
    id: String,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let entry = ctx.client.call(JournalDelete { id: args.id })?.entry;
    eprintln!(
        "Deleted {} ({}).",
        entry.id,
        crate::output::visible(entry.headline())
    );
    eprintln!("It is gone from your journal; `haven journal purge` also erases it from the stored history.");
    Ok(())
}
