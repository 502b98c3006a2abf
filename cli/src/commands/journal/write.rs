//! `haven journal write`: a new entry from the command line, stdin, or $EDITOR.

use std::io::Read;

use haven_shared::ipc::{Request, Response};
use haven_shared::model::{Kind, NewEntry};

use crate::client::unexpected;
use crate::editor::{self, Edited};
use crate::error::{CliError, CliResult};
use crate::{output, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The text; `-` reads stdin; omit it to write in $EDITOR
    text: Option<String>,
    /// note, trigger (a thought record), letter, needs or checkin
    #[arg(long, short, default_value = "note")]
    kind: Kind,
    #[arg(long, short)]
    title: Option<String>,
    /// A tag (repeat for more)
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// How you feel, 1 (low) to 5 (good)
    #[arg(long)]
    mood: Option<u8>,
    /// How strong the feeling is, 0 to 10
    #[arg(long)]
    intensity: Option<u8>,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let mut entry = NewEntry {
        kind: args.kind,
        title: args.title.unwrap_or_default(),
        body: String::new(),
        tags: args.tags,
        mood: args.mood,
        intensity: args.intensity,
    };
    // Check the flags before anything opens an editor.
    NewEntry {
        body: "x".into(),
        ..entry.clone()
    }
    .validated()?;
    entry.body = match args.text.as_deref() {
        Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| CliError::usage(format!("cannot read stdin: {e}")))?;
            text
        }
        Some(text) => text.to_string(),
        None => match editor::edit(args.kind.template(), |t| super::keep_recovery(ctx, t))? {
            Edited::Changed(text) => text,
            Edited::Unchanged => {
                return Err(CliError::usage("the entry is empty: nothing was saved"))
            }
        },
    };
    let entry = entry.validated()?;
    match ctx.client.call(Request::JournalWrite { entry })? {
        Response::Created { id } => {
            output::emit(&format!("{id}\n"));
            Ok(())
        }
        other => Err(unexpected(&other)),
    }
}
