//! `haven journal edit ID`: the body in $EDITOR, or fields with flags.

use haven_shared::ipc::{Request, Response};
use haven_shared::model::{EntryChanges, Kind};

use crate::client::unexpected;
use crate::editor::{self, Edited};
use crate::error::CliResult;
use crate::Ctx;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The entry's id, or any unique prefix of it
    id: String,
    /// Replace the text (instead of opening $EDITOR)
    #[arg(long)]
    text: Option<String>,
    #[arg(long)]
    title: Option<String>,
    #[arg(long)]
    kind: Option<Kind>,
    /// Replace the tags (repeat for more)
    #[arg(long = "tag")]
    tags: Vec<String>,
    #[arg(long)]
    mood: Option<u8>,
    #[arg(long)]
    intensity: Option<u8>,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let mut changes = EntryChanges {
        kind: args.kind,
        title: args.title,
        body: args.text,
        tags: (!args.tags.is_empty()).then_some(args.tags),
        mood: args.mood.map(Some),
        intensity: args.intensity.map(Some),
    }
    .validated()?;
    if changes.is_empty() {
        let entry = match ctx.client.call(Request::JournalShow {
            id: args.id.clone(),
        })? {
            Response::Entry { entry } => entry,
            other => return Err(unexpected(&other)),
        };
        match editor::edit(&entry.body, |t| super::keep_recovery(ctx, t))? {
            Edited::Unchanged => {
                eprintln!("No changes.");
                return Ok(());
            }
            Edited::Changed(body) => changes.body = Some(body),
        }
        changes = changes.validated()?;
    }
    match ctx.client.call(Request::JournalEdit {
        id: args.id,
        changes,
    })? {
        Response::Entry { entry } => {
            eprintln!("Saved {}.", entry.id);
            Ok(())
        }
        other => Err(unexpected(&other)),
    }
}
