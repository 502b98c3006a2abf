//! `haven journal edit ID`: the text in $EDITOR, or fields with flags.

use haven_shared::ipc::{EntryReply, JournalEdit, JournalShow};
use haven_shared::model::record::{self, editor_text};
use haven_shared::model::{Entry, EntryChanges, Kind, ThoughtRecord};

use super::thought_record::{self, RecordArgs};
use crate::editor::{self, Edited};
use crate::error::{CliError, CliResult};
use crate::Ctx;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The entry's id, or any unique prefix of it
    id: String,
    /// Replace the text (instead of opening $EDITOR)
    #[arg(long)]
    text: Option<String>,
    /// Replace the title
    #[arg(long)]
    title: Option<String>,
    /// Change the kind: note, trigger, letter, needs, checkin, win or bring (a note made
    /// a trigger opens as a thought record, its text under "Situation")
    #[arg(long)]
    kind: Option<Kind>,
    /// Replace the tags (repeat for more)
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// How you feel, 1 (low) to 5 (good)
    #[arg(long)]
    mood: Option<u8>,
    /// How strong the feeling was, 0 to 10 (a thought record: before)
    #[arg(long)]
    intensity: Option<u8>,
    #[command(flatten)]
    record: RecordArgs,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let mut changes = EntryChanges {
        kind: args.kind,
        title: args.title,
        body: args.text,
        tags: (!args.tags.is_empty()).then_some(args.tags),
        mood: args.mood.map(Some),
        intensity: args.intensity.map(Some),
        record: (!args.record.is_empty()).then(|| args.record.changes()),
        whole_record: None,
    }
    .validated()?;
    // `--kind trigger` alone on a note (an import, say) opens it as a thought record.
    let becoming_record = changes.kind == Some(Kind::Trigger)
        && EntryChanges {
            kind: None,
            ..changes.clone()
        }
        .is_empty();
    if changes.is_empty() || becoming_record {
        let entry = ctx
            .client
            .call(JournalShow {
                id: args.id.clone(),
            })?
            .entry;
        if !in_editor(ctx, &entry, &mut changes)? {
            eprintln!("No changes.");
            return Ok(());
        }
        changes = changes.validated()?;
    }
    let EntryReply { entry } = ctx.client.call(JournalEdit {
        id: args.id,
        changes: Box::new(changes),
    })?;
    eprintln!("Saved {}.", entry.id);
    Ok(())
}

/// Opens the entry in $EDITOR: a thought record as its headings, anything else as its
/// text. Returns whether anything was changed.
fn in_editor(ctx: &mut Ctx, entry: &Entry, changes: &mut EntryChanges) -> CliResult<bool> {
    if entry.kind != Kind::Trigger && changes.kind == Some(Kind::Trigger) {
        // Its text becomes the situation, to keep as it is or to sort under the headings.
        let record = ThoughtRecord {
            situation: Some(entry.body.trim_end().to_string()).filter(|s| !s.is_empty()),
            ..ThoughtRecord::default()
        };
        let text = editor_text(&record, entry.intensity, "");
        let parsed = match thought_record::edit(ctx, &text)? {
            Some(parsed) => parsed,
            // Saved as it opened: the text under "Situation" is the record.
            None => record::parse(&text).map_err(|p| CliError::usage(p.to_string()))?,
        };
        changes.whole_record = Some(parsed.record);
        changes.intensity = Some(parsed.intensity.or(entry.intensity));
        changes.body = Some(parsed.body);
        return Ok(true);
    }
    if entry.kind == Kind::Trigger {
        // A record written before records had fields opens with its headings read.
        let text = match &entry.record {
            Some(record) => editor_text(record, entry.intensity, &entry.body),
            None => match record::parse(&entry.body) {
                Ok(p) => editor_text(&p.record, p.intensity.or(entry.intensity), &p.body),
                Err(_) => editor_text(&Default::default(), entry.intensity, &entry.body),
            },
        };
        let Some(parsed) = thought_record::edit(ctx, &text)? else {
            return Ok(false);
        };
        changes.whole_record = Some(parsed.record);
        changes.intensity = Some(parsed.intensity);
        changes.body = Some(parsed.body);
        return Ok(true);
    }
    match editor::edit(&entry.body, |t| crate::recovery::keep_recovery(ctx, t))? {
        Edited::Unchanged => Ok(false),
        Edited::Changed(body) => {
            changes.body = Some(body);
            Ok(true)
        }
    }
}
