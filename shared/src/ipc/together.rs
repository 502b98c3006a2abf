//! What the two share beside the agreements: notes copied from the journal on purpose,
//! appreciations, and the weekly question answered privately and revealed together.

use serde::{Deserialize, Serialize};

use crate::model::ask::{QuestionView, WeekView};
use crate::model::notes::NoteView;

/// `haven share ID`: copies one journal entry into the couple document as a note.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Share {
    pub id: String,
}

/// `haven notes`: every note of the couple (marks them seen here).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Notes {}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct NoteShow {
    pub id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct NoteAnswer {
    pub id: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Thanks {
    pub text: String,
}

/// `haven ask`: this week's question and both answers so far.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Ask {}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AskAnswer {
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AskAdd {
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct AskList {}

/// A note just shared (`already`: the entry had been shared before; nothing new).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Shared {
    pub note: NoteView,
    pub already: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct NoteBoard {
    pub notes: Vec<NoteView>,
    /// Notes whose signature does not verify: shown apart, never as the partner's.
    pub unverified: Vec<NoteView>,
    /// Items that are not notes, or too large: ignored.
    pub ignored: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct NoteReply {
    pub note: NoteView,
    /// The notes that answer it, oldest first.
    pub answers: Vec<NoteView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct WeekReply {
    pub week: WeekView,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AskHistory {
    /// Weeks anyone answered, newest first.
    pub weeks: Vec<WeekView>,
    pub questions: Vec<QuestionView>,
}
