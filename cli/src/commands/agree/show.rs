//! `haven agree show ID`.

use haven_shared::ipc::AgreeShow;

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
    let agreement = ctx.client.call(AgreeShow { id: args.id })?.agreement;
    if args.json {
        output::json(&agreement);
    } else {
        output::emit(&output::agreement_full(&agreement));
    }
    Ok(())
}
