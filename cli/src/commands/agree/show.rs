//! `haven agree show ID`.

use haven_shared::ipc::{Request, Response};

use crate::client::unexpected;
use crate::error::CliResult;
use crate::{output, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The agreement's id, or any unique prefix of it
    id: String,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    match ctx.client.call(Request::AgreeShow { id: args.id })? {
        Response::Agreement { agreement } if args.json => output::json(&agreement),
        Response::Agreement { agreement } => output::emit(&output::agreement_full(&agreement)),
        other => return Err(unexpected(&other)),
    }
    Ok(())
}
