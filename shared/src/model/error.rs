//! What can be wrong with a value a person gave, and the checks of the practice's scales.
//!
//! A leaf of the model: entries, thought records, pauses and agreements all report through
//! `ModelError`, and none of them has to import another to do so.

/// What went wrong with a value a user gave.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ModelError {
    #[error("the entry is empty: write some text")]
    EmptyEntry,
    #[error("mood must be between 1 and 5, not {0}")]
    Mood(u8),
    #[error("intensity must be between 0 and 10, not {0}")]
    Intensity(u8),
    #[error("unknown kind {0:?}: use note, trigger, letter, needs, checkin, win or bring")]
    UnknownKind(String),
    #[error("unknown --did {0:?}: use reassurance, protest, soothing, asked or other")]
    UnknownDid(String),
    #[error("unknown --story-kind {0:?}: use mind_reading, losing_interest, too_much, abandonment, catastrophising or fortune_telling")]
    UnknownStory(String),
    #[error("the urge must be between 0 and 10, not {0}")]
    Urge(u8),
    #[error("a pause lasts from 1 minute to 12 hours, not {0} minutes")]
    PauseLength(u32),
    #[error("the soothing plan is empty: write at least one thing that helps")]
    EmptyPlan,
    #[error("an entry cannot become a pause: start one with `haven pause`")]
    NotAPause,
    #[error("{0} belongs to a thought record: use --kind trigger")]
    NotARecord(&'static str),
    #[error("a tag cannot be empty or contain spaces: {0:?}")]
    BadTag(String),
    #[error("an agreement needs a title")]
    EmptyTitle,
    #[error("an agreement needs text saying what you agree to")]
    EmptyAgreement,
    #[error("the words are {0} characters long: keep them to 1000 at most (a few sentences; a longer letter fits in `haven share`)")]
    ReasonTooLong(usize),
    #[error("unknown template {0:?}: use one of {1}")]
    UnknownTemplate(String, String),
    #[error(transparent)]
    At(#[from] crate::when::AtError),
    #[error("the rewrite is empty: give the needs statement you sent, or --sent or --not-sent")]
    EmptyRewrite,
    #[error("{0:?} is not a feeling Haven knows: did you mean {1:?}? (`haven checkin --help` lists them)")]
    UnknownFeeling(String, &'static str),
    #[error("the search is {0} characters long: keep it to 1000 at most")]
    SearchTooLong(usize),
    #[error("the search has {0} words: keep it to 32 at most (every word must match)")]
    SearchTooManyWords(usize),
    #[error(
        "{0:?} is not a Haven id (26 letters and digits, as `haven journal list --json` shows)"
    )]
    BadId(String),
}

pub fn check_mood(mood: Option<u8>) -> Result<(), ModelError> {
    match mood {
        Some(m) if !(1..=5).contains(&m) => Err(ModelError::Mood(m)),
        _ => Ok(()),
    }
}

pub fn check_intensity(intensity: Option<u8>) -> Result<(), ModelError> {
    match intensity {
        Some(i) if i > 10 => Err(ModelError::Intensity(i)),
        _ => Ok(()),
    }
}
