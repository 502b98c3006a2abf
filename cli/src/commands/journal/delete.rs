//! `haven journal delete ID`.

use haven_shared::ipc::{Request, Response};

use crate::client::unexpected;
use crate::error::CliResult;
use crate::Ctx;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The entry's id, or any unique prefix of it
    id: String,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    match ctx.client.call(Request::JournalDelete { id: args.id })? {
        Response::Entry { entry } => {
            eprintln!(
                "Deleted {} ({}).",
                entry.id,
                crate::output::visible(entry.headline())
            );
            eprintln!("It is gone from your journal; `haven journal purge` also erases it from the stored history.");
            Ok(())
        }
        other => Err(unexpected(&other)),
    }
}
