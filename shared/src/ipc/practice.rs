//! The practice on one's own: the pause before sending, the soothing plan, and what
//! changed over the weeks. Private, like the journal it is kept in.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::model::{AgreementView, Entry, NewPause, PauseEnd, SoothingPlan};

/// `haven pause`: keeps the unsent message in a new `pause` entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PauseStart {
    pub pause: NewPause,
}

/// `haven pause done [ID]`: how it ended. Without an id, the one open pause.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PauseDone {
    pub id: Option<String>,
    pub end: PauseEnd,
}

/// The soothing plan (`haven soothe`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Soothe {}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SootheSet {
    pub text: String,
}

/// `haven insights`: the figures of a range, from the index. `since` defaults to 12
/// weeks ago, `until` to today.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Insights {
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PauseStarted {
    pub entry: Entry,
    /// The agreements in force about texting and checking in (else every one in force).
    pub agreements: Vec<AgreementView>,
    /// One line of the soothing plan, if there is one.
    pub soothe: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PlanReply {
    pub plan: Option<SoothingPlan>,
}

/// `haven look-back`: what was written on this day a week, a month and a year ago.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct LookBack {}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LookBackReply {
    pub look_back: crate::model::look_back::LookBack,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InsightsReply {
    pub insights: crate::model::insights::Insights,
}
