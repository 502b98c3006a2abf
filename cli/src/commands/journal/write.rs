//! `haven journal write`: a new entry from the command line, stdin, or $EDITOR.

use haven_shared::model::journal::{same_page, without_tips};
use haven_shared::model::record::editor_text;
use haven_shared::model::{Kind, NewEntry, ThoughtRecord};

use super::thought_record::{self, RecordArgs};
use crate::editor::{self, Edited};
use crate::error::{CliError, CliResult};
use crate::Ctx;

/// A record at least this strong is followed by a line of the soothing plan.
const SOOTHE_FROM: u8 = 7;

/// Closing the editor without writing is a choice, not a failure: nothing is saved, and
/// the command ends well.
const LEFT_EMPTY: &str = "Nothing saved: the page was left empty.";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The text; `-` reads stdin; omit it to write in $EDITOR
    text: Option<String>,
    /// note, trigger (a thought record), letter, needs, checkin, win or bring [default:
    /// note, or trigger with a thought record's flags]
    #[arg(long, short)]
    kind: Option<Kind>,
    /// The title [default: a thought record's situation]
    #[arg(long, short)]
    title: Option<String>,
    /// A tag (repeat for more)
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// How you feel, 1 (low) to 5 (good)
    #[arg(long)]
    mood: Option<u8>,
    /// How strong the feeling is, 0 to 10 (a thought record: before)
    #[arg(long)]
    intensity: Option<u8>,
    /// When it happened, if not now: "yesterday 21:00", "2026-11-02 20:00", "3d ago"
    #[arg(long, value_name = "WHEN", value_parser = crate::range::at)]
    at: Option<chrono::DateTime<chrono::FixedOffset>>,
    #[command(flatten)]
    record: RecordArgs,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let has_record = !args.record.is_empty();
    let kind = match args.kind {
        Some(Kind::Pause) => {
            return Err(CliError::usage(
                "a pause is started with `haven pause`, not written",
            ))
        }
        Some(kind) => kind,
        None if has_record => Kind::Trigger,
        None => Kind::Note,
    };
    let mut entry = NewEntry {
        kind,
        title: args.title.unwrap_or_default(),
        body: String::new(),
        tags: args.tags,
        mood: args.mood,
        intensity: args.intensity,
        record: has_record.then(|| args.record.record()),
        at: args.at,
        feelings: Vec::new(),
    };
    // Check the flags before anything opens an editor.
    NewEntry {
        body: "x".into(),
        ..entry.clone()
    }
    .validated()?;
    let written = match args.text.as_deref() {
        Some(text) => {
            entry.body = crate::input::text_or_stdin(text.to_string())?;
            true
        }
        None if has_record => true,
        None => from_editor(ctx, &mut entry)?,
    };
    if !written {
        eprintln!("{LEFT_EMPTY}");
        return Ok(());
    }
    let entry = entry.validated()?;
    let strong = entry.kind == Kind::Trigger && entry.intensity.is_some_and(|i| i >= SOOTHE_FROM);
    // Offered by the number the person chose, never by reading what they wrote; not when
    // the record already says how it ended.
    let very_hard = entry.kind == Kind::Trigger
        && entry
            .intensity
            .is_some_and(|i| i >= crate::soothing_plan::OFFER_FROM)
        && entry
            .record
            .as_ref()
            .is_none_or(|r| r.intensity_after.is_none());
    crate::commands::win::save(ctx, entry)?;
    if very_hard {
        eprintln!("{}", crate::soothing_plan::OFFER);
    }
    if strong {
        crate::soothing_plan::offer_one_line(ctx);
    }
    Ok(())
}

/// Fills `entry` from `$EDITOR`, on its kind's template; false when the page came back
/// empty or untouched (nothing is saved then, and that is fine).
fn from_editor(ctx: &mut Ctx, entry: &mut NewEntry) -> CliResult<bool> {
    if entry.kind == Kind::Trigger {
        let template = editor_text(&ThoughtRecord::default(), entry.intensity, "");
        let Some(parsed) = thought_record::edit(ctx, &template)? else {
            return Ok(false);
        };
        entry.record = Some(parsed.record);
        entry.intensity = parsed.intensity.or(entry.intensity);
        entry.body = parsed.body;
        return Ok(true);
    }
    let template = entry.kind.template();
    let untouched = without_tips(&template);
    let text = match editor::edit(&template, |t| crate::recovery::keep_recovery(ctx, t))? {
        Edited::Changed(text) => without_tips(&text),
        Edited::Unchanged => untouched.clone(),
    };
    if text.trim().is_empty() || same_page(&text, &untouched) {
        return Ok(false);
    }
    entry.body = text;
    Ok(true)
}
