//! `haven checkin`: how I am, right now, in a few seconds: a mood, one or more named
//! feelings from a small vocabulary, a line of text, any of them (`journal write --kind
//! checkin`). With none of them it opens the check-in page in `$EDITOR`. `insights`
//! counts the feelings named.

use haven_shared::model::{Kind, NewEntry};

use crate::editor::{self, Edited};
use crate::error::CliResult;
use crate::{input, Ctx};

/// The vocabulary, as `--help` shows it; a test checks it against the model's list.
const VOCABULARY: &str = "\
Feelings, by energy and how they feel:
  high energy, unpleasant: anxious, angry, afraid, frustrated, jealous, overwhelmed,
                           panicked, restless, irritated, tense
  low energy, unpleasant:  sad, lonely, tired, hopeless, hurt, ashamed, disappointed,
                           empty, numb, guilty
  high energy, pleasant:   excited, hopeful, proud, joyful, grateful, energised,
                           playful, confident, loved, inspired
  low energy, pleasant:    calm, content, relieved, safe, peaceful, relaxed, secure,
                           connected, tender, rested";

#[derive(clap::Args, Debug)]
#[command(after_help = VOCABULARY)]
pub struct Args {
    /// A few words on how you are; `-` reads stdin
    text: Option<String>,
    /// How you feel overall, 1 (low) to 5 (good)
    #[arg(long)]
    mood: Option<u8>,
    /// A feeling, by name (repeat for more; the list is below)
    #[arg(long = "feeling", value_name = "WORD")]
    feelings: Vec<String>,
    /// When, if not now: "yesterday 21:00", "3d ago"
    #[arg(long, value_name = "WHEN", value_parser = crate::range::at)]
    at: Option<chrono::DateTime<chrono::FixedOffset>>,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let mut entry = NewEntry {
        kind: Kind::Checkin,
        mood: args.mood,
        feelings: args.feelings,
        at: args.at,
        ..NewEntry::default()
    };
    // The words are checked before anything opens an editor.
    NewEntry {
        body: "x".into(),
        ..entry.clone()
    }
    .validated()?;
    match args.text {
        Some(text) => entry.body = input::text_or_stdin(text)?,
        None if entry.mood.is_none() && entry.feelings.is_empty() => {
            let template = Kind::Checkin.template();
            match editor::edit(&template, |t| crate::recovery::keep_recovery(ctx, t))? {
                Edited::Changed(text)
                    if text.trim() != template.trim() && !text.trim().is_empty() =>
                {
                    entry.body = text;
                }
                _ => {
                    eprintln!("Nothing saved: the page was left empty.");
                    return Ok(());
                }
            }
        }
        None => {}
    }
    super::win::save(ctx, entry.validated()?)
}

#[cfg(test)]
mod tests {
    use super::VOCABULARY;
    use haven_shared::model::feelings::FEELINGS;

    #[test]
    fn the_help_lists_every_word_of_the_vocabulary_in_its_group() {
        for (group, words) in FEELINGS {
            let line = VOCABULARY
                .split(&format!("{}:", group.words()))
                .nth(1)
                .expect("the group is named");
            let section: String = line.split(" energy, ").next().unwrap_or_default().into();
            for w in words {
                assert!(section.contains(w), "{w} under {}", group.words());
            }
        }
    }
}
