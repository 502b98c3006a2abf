//! `haven agree list`.

use haven_shared::ipc::{AgreeList, Agreements};

use crate::error::CliResult;
use crate::{output, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print JSON
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let Agreements {
        agreements,
        ignored,
    } = ctx.client.call(AgreeList {})?;
    if args.json {
        output::json(&agreements);
        return Ok(());
    }
    if ignored > 0 {
        eprintln!(
            "({ignored} malformed item(s) in the shared document were ignored; `haven doctor` says more)"
        );
    }
    if agreements.is_empty() {
        eprintln!("No agreements yet. Propose one: haven agree propose --template daily-check-in");
    } else {
        output::emit(
            &agreements
                .iter()
                .map(output::agreement_row)
                .collect::<String>(),
        );
    }
    Ok(())
}
