//! The agreements book shared with the partner: proposing, answering, revising,
//! withdrawing and renewing. Each answer is a statement signed by this member's key.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::model::AgreementView;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AgreePropose {
    pub title: String,
    pub text: String,
    pub review_on: Option<NaiveDate>,
}

/// Every agreement (marks them seen here).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct AgreeList {}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AgreeShow {
    pub id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AgreeAccept {
    pub id: String,
}

/// A decline, with what I'd like instead (signed with it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AgreeDecline {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// New terms, with why they changed (signed in the author's consent).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AgreeRevise {
    pub id: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AgreeWithdraw {
    pub id: String,
    pub reason: Option<String>,
}

/// `haven agree renew ID --review-on DATE`: the same terms with a new review date, and
/// how the agreement has worked for us (signed in the author's consent).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AgreeRenew {
    pub id: String,
    pub review_on: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One agreement as it stands after the call.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AgreementReply {
    pub agreement: AgreementView,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Agreements {
    pub agreements: Vec<AgreementView>,
    /// Items in the couple document that are not well-formed: ignored, never shown.
    #[serde(default)]
    pub ignored: usize,
}
