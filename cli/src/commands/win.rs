//! `haven win TEXT`: a small step worth noticing (`journal write --kind win`).

use std::io::Read;

use haven_shared::ipc::{Request, Response};
use haven_shared::model::{Kind, NewEntry};

use crate::client::unexpected;
use crate::error::{CliError, CliResult};
use crate::{output, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// What went well, however small; `-` reads stdin
    text: String,
    /// A tag (repeat for more)
    #[arg(long = "tag")]
    tags: Vec<String>,
}

/// The text argument, or stdin when it is `-`.
pub fn text_or_stdin(text: String) -> CliResult<String> {
    if text != "-" {
        return Ok(text);
    }
    let mut read = String::new();
    std::io::stdin()
        .read_to_string(&mut read)
        .map_err(|e| CliError::usage(format!("cannot read stdin: {e}")))?;
    Ok(read)
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let body = text_or_stdin(args.text)?;
    let entry = NewEntry {
        kind: Kind::Win,
        body,
        tags: args.tags,
        ..NewEntry::default()
    }
    .validated()?;
    match ctx.client.call(Request::JournalWrite { entry })? {
        Response::Created { id } => {
            output::emit(&format!("{id}\n"));
            Ok(())
        }
        other => Err(unexpected(&other)),
    }
}
