//! `haven thanks TEXT`: a short, signed note of appreciation to the partner.

use haven_shared::ipc::Thanks;

use crate::error::CliResult;
use crate::{output, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// What you appreciate; `-` reads stdin
    text: String,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let text = crate::input::text_or_stdin(args.text)?;
    let note = ctx.client.call(Thanks { text })?.note;
    output::emit(&format!("{}\n", note.id));
    eprintln!("Thank you noted. {}", crate::delivery::sentence(ctx));
    Ok(())
}
