//! `haven journal show ID`.

use haven_shared::ipc::{Request, Response};

use crate::client::unexpected;
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
    match ctx.client.call(Request::JournalShow { id: args.id })? {
        Response::Entry { entry } if args.json => output::json(&entry),
        Response::Entry { entry } => output::emit(&output::entry_full(&entry)),
        other => return Err(unexpected(&other)),
    }
    Ok(())
}
