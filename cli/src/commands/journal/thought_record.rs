//! The thought record's flags, and its round trip through `$EDITOR`.
//!
//! In the editor each field is a `## ` heading. When a number cannot be read (`eight`
//! under an intensity, a word `--did` does not know), the editor opens again on the same
//! text with the problem on a `# Haven:` line at the top; saving without fixing it keeps
//! the text encrypted in `recovery/` and stops, so nothing written is ever lost.

use haven_shared::model::record::{self, ParsedRecord, PROBLEM_MARK};
use haven_shared::model::{Did, RecordChanges, Story, ThoughtRecord};

use crate::editor::{self, Edited};
use crate::error::{CliError, CliResult, Exit};
use crate::Ctx;

fn intensity(s: &str) -> Result<u8, String> {
    match s.trim().parse::<u8>() {
        Ok(n) if n <= 10 => Ok(n),
        _ => Err(format!("{s:?} is not a number from 0 to 10")),
    }
}

/// `--situation`, `--story`, … : a thought record in one line.
#[derive(clap::Args, Debug, Default)]
#[command(next_help_heading = "Thought record (a trigger entry)")]
pub struct RecordArgs {
    /// What happened
    #[arg(long, value_name = "TEXT")]
    pub situation: Option<String>,
    /// The story I told myself
    #[arg(long, value_name = "TEXT")]
    pub story: Option<String>,
    /// Which usual story it was: mind_reading, losing_interest, too_much, abandonment,
    /// catastrophising or fortune_telling (repeat for more)
    #[arg(long = "story-kind", value_name = "KIND")]
    pub story_kind: Vec<Story>,
    /// What else could be true?
    #[arg(long, value_name = "TEXT")]
    pub other_story: Option<String>,
    /// What I felt
    #[arg(long, value_name = "TEXT")]
    pub feeling: Option<String>,
    /// What I needed
    #[arg(long, value_name = "TEXT")]
    pub need: Option<String>,
    /// What I did: reassurance, protest, soothing, asked (for what I needed) or other
    /// (repeat for more)
    #[arg(long = "did", value_name = "WHAT")]
    pub did: Vec<Did>,
    /// What helped
    #[arg(long, value_name = "TEXT")]
    pub helped: Option<String>,
    /// How strong it was once it had passed, 0 to 10
    #[arg(long = "after", value_name = "N", value_parser = intensity)]
    pub after: Option<u8>,
}

impl RecordArgs {
    pub fn changes(&self) -> RecordChanges {
        RecordChanges {
            situation: self.situation.clone(),
            story: self.story.clone(),
            stories: (!self.story_kind.is_empty()).then(|| self.story_kind.clone()),
            other_story: self.other_story.clone(),
            feeling: self.feeling.clone(),
            need: self.need.clone(),
            did: (!self.did.is_empty()).then(|| self.did.clone()),
            helped: self.helped.clone(),
            intensity_after: self.after,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.changes().is_empty()
    }

    pub fn record(&self) -> ThoughtRecord {
        ThoughtRecord {
            situation: self.situation.clone(),
            story: self.story.clone(),
            stories: self.story_kind.clone(),
            other_story: self.other_story.clone(),
            feeling: self.feeling.clone(),
            need: self.need.clone(),
            did: self.did.clone(),
            helped: self.helped.clone(),
            intensity_after: self.after,
        }
    }
}

/// Opens the record's editor form until it reads back. `None`: the person saved nothing
/// (the text came back as it went in).
pub fn edit(ctx: &mut Ctx, initial: &str) -> CliResult<Option<ParsedRecord>> {
    let mut text = initial.to_string();
    let mut problem: Option<record::RecordProblem> = None;
    for _ in 0..MAX_ROUNDS {
        let edited = editor::edit(&text, |t| crate::recovery::keep_recovery(ctx, t))?;
        let changed = match (edited, problem.take()) {
            (Edited::Changed(t), _) => t,
            (Edited::Unchanged, None) => return Ok(None),
            (Edited::Unchanged, Some(problem)) => return Err(not_saved(ctx, &problem, &text)),
        };
        match record::parse(&changed) {
            Ok(parsed) => return Ok(Some(parsed)),
            Err(p) => {
                let body: String = changed
                    .lines()
                    .filter(|l| !l.starts_with(PROBLEM_MARK))
                    .map(|l| format!("{l}\n"))
                    .collect();
                text = format!("{PROBLEM_MARK}{p}. Fix it and save; this line goes away.\n{body}");
                problem = Some(p);
            }
        }
    }
    // An editor that keeps changing the text without fixing it (a script, say) must not
    // loop for ever.
    let problem = problem.map(|p| p.to_string()).unwrap_or_default();
    Err(not_saved(ctx, &problem, &text))
}

/// Keeps the text encrypted in `recovery/` and says where; an error if even that fails.
fn not_saved(ctx: &mut Ctx, problem: &dyn std::fmt::Display, text: &str) -> CliError {
    let kept = match crate::recovery::keep_recovery(ctx, text) {
        Ok(kept) => kept,
        Err(e) => return e,
    };
    CliError::new(
        Exit::Usage,
        format!(
            "the record was not saved: {problem}; your text is kept encrypted in {}",
            kept.display()
        ),
    )
    .hint(format!(
        "read it back with: age -d -i identity.age {}",
        kept.display()
    ))
}

/// How many times the editor opens on a record that does not read back.
const MAX_ROUNDS: usize = 5;
