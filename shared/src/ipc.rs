//! Requests and responses between `haven` and `havend`: one JSON object per line over the
//! Unix socket. Every request gets exactly one reply; errors carry a stable kind (scripts
//! match on it) and a message a person can act on.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;
use zeroize::Zeroize;

use crate::model::ask::{QuestionView, WeekView};
use crate::model::insights::Insights;
use crate::model::notes::NoteView;
use crate::model::waiting::Waiting;
use crate::model::{
    AgreementView, Entry, EntryChanges, ListQuery, NewEntry, NewPause, PauseEnd, SoothingPlan,
};

/// Bumped when a request or reply changes incompatibly.
pub const PROTOCOL_VERSION: u32 = 1;
/// The longest request line the daemon reads; longer ones are refused and the connection
/// closed (an entry body of a few MB is already a book).
pub const MAX_REQUEST_BYTES: usize = 8 * 1024 * 1024;

/// A string holding a secret: redacted in `Debug`, wiped on drop.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct SecretText(pub String);

impl Drop for SecretText {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretText(..)")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    Status,
    Unlock {
        passphrase: SecretText,
    },
    Lock,
    Shutdown,
    /// The public age recipient of this home (for encrypted recovery files).
    Recipient,
    JournalWrite {
        entry: NewEntry,
    },
    JournalList {
        query: ListQuery,
    },
    JournalShow {
        id: String,
    },
    JournalEdit {
        id: String,
        changes: EntryChanges,
    },
    JournalDelete {
        id: String,
    },
    JournalPurge,
    AgreePropose {
        title: String,
        text: String,
        review_on: Option<NaiveDate>,
    },
    AgreeList,
    AgreeShow {
        id: String,
    },
    AgreeAccept {
        id: String,
    },
    AgreeDecline {
        id: String,
    },
    AgreeRevise {
        id: String,
        text: String,
    },
    AgreeWithdraw {
        id: String,
        reason: Option<String>,
    },
    /// Entries from another journal app, with ids derived from their content: an entry
    /// whose id exists already is skipped, so importing a file twice adds nothing.
    JournalImport {
        entries: Vec<Entry>,
    },
    /// A consistent copy of haven.db in the home folder, for `haven backup`.
    CopyDatabase,
    /// The entries and agreements an export renders (the CLI does the rendering).
    Export {
        selection: ExportSelection,
        /// With a range: also the appreciations the partner sent in it (`--thanks`).
        #[serde(default)]
        thanks: bool,
    },
    /// `haven pair`: make a code and wait for the partner on the LAN (answered at once
    /// with the code; `PairWait` then waits for the partner).
    PairStart,
    PairWait {
        code: String,
    },
    /// `haven pair CODE`: find the laptop showing CODE and pair with it.
    PairJoin {
        code: SecretText,
    },
    Partner,
    /// A static `HOST:PORT` for networks that block multicast.
    PartnerAddress {
        address: String,
    },
    PartnerUnpair {
        wipe: bool,
    },
    /// `haven partner relay URL` (set) or `--remove` (`None`).
    PartnerRelay {
        url: Option<SecretText>,
    },
    /// The network half of `haven doctor`: mDNS, the interface, the listener, the partner.
    NetworkChecks,
    /// `haven pause`: keeps the unsent message in a new `pause` entry.
    PauseStart {
        pause: NewPause,
    },
    /// `haven pause done [ID]`: how it ended. Without an id, the one open pause.
    PauseDone {
        id: Option<String>,
        end: PauseEnd,
    },
    /// The soothing plan (`haven soothe`).
    Soothe,
    SootheSet {
        text: String,
    },
    /// `haven insights`: the figures of a range, from the index. `since` defaults to 12
    /// weeks ago, `until` to today.
    Insights {
        since: Option<NaiveDate>,
        until: Option<NaiveDate>,
    },
    /// `haven agree renew ID --review-on DATE`: the same terms with a new review date.
    AgreeRenew {
        id: String,
        review_on: NaiveDate,
    },
    /// `haven share ID`: copies one journal entry into the couple document as a note.
    Share {
        id: String,
    },
    /// `haven notes`: every note of the couple (marks them seen here).
    Notes,
    NoteShow {
        id: String,
    },
    NoteAnswer {
        id: String,
        text: String,
    },
    Thanks {
        text: String,
    },
    /// `haven ask`: this week's question and both answers so far.
    Ask,
    AskAnswer {
        text: String,
    },
    AskAdd {
        text: String,
    },
    AskList,
}

/// Which entries `haven export` takes: one by id, or a range (a session brief).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum ExportSelection {
    Entry { id: String },
    Range { query: ListQuery },
}

impl Request {
    /// The request's name as on the wire (`op`), for logs and errors: never its content.
    pub fn name(&self) -> &'static str {
        match self {
            Request::Status => "status",
            Request::Unlock { .. } => "unlock",
            Request::Lock => "lock",
            Request::Shutdown => "shutdown",
            Request::Recipient => "recipient",
            Request::JournalWrite { .. } => "journal_write",
            Request::JournalList { .. } => "journal_list",
            Request::JournalShow { .. } => "journal_show",
            Request::JournalEdit { .. } => "journal_edit",
            Request::JournalDelete { .. } => "journal_delete",
            Request::JournalPurge => "journal_purge",
            Request::AgreePropose { .. } => "agree_propose",
            Request::AgreeList => "agree_list",
            Request::AgreeShow { .. } => "agree_show",
            Request::AgreeAccept { .. } => "agree_accept",
            Request::AgreeDecline { .. } => "agree_decline",
            Request::AgreeRevise { .. } => "agree_revise",
            Request::AgreeWithdraw { .. } => "agree_withdraw",
            Request::JournalImport { .. } => "journal_import",
            Request::CopyDatabase => "copy_database",
            Request::Export { .. } => "export",
            Request::PairStart => "pair_start",
            Request::PairWait { .. } => "pair_wait",
            Request::PairJoin { .. } => "pair_join",
            Request::Partner => "partner",
            Request::PartnerAddress { .. } => "partner_address",
            Request::PartnerRelay { .. } => "partner_relay",
            Request::PartnerUnpair { .. } => "partner_unpair",
            Request::NetworkChecks => "network_checks",
            Request::PauseStart { .. } => "pause_start",
            Request::PauseDone { .. } => "pause_done",
            Request::Soothe => "soothe",
            Request::SootheSet { .. } => "soothe_set",
            Request::Insights { .. } => "insights",
            Request::AgreeRenew { .. } => "agree_renew",
            Request::Share { .. } => "share",
            Request::Notes => "notes",
            Request::NoteShow { .. } => "note_show",
            Request::NoteAnswer { .. } => "note_answer",
            Request::Thanks { .. } => "thanks",
            Request::Ask => "ask",
            Request::AskAnswer { .. } => "ask_answer",
            Request::AskAdd { .. } => "ask_add",
            Request::AskList => "ask_list",
        }
    }

    /// Whether the request needs the keys (everything but status and housekeeping).
    pub fn needs_unlock(&self) -> bool {
        !matches!(
            self,
            Request::Status
                | Request::Unlock { .. }
                | Request::Lock
                | Request::Shutdown
                | Request::CopyDatabase
                | Request::NetworkChecks
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Response {
    Status(StatusInfo),
    Done,
    Unlocked {
        name: String,
    },
    Created {
        id: String,
    },
    Entry {
        entry: Entry,
    },
    Entries {
        entries: Vec<ListedEntry>,
        total: usize,
    },
    Agreement {
        agreement: AgreementView,
    },
    Agreements {
        agreements: Vec<AgreementView>,
        /// Items in the couple document that are not well-formed: ignored, never shown.
        #[serde(default)]
        ignored: usize,
    },
    Purged {
        entries: usize,
        bytes_before: u64,
        bytes_after: u64,
    },
    Recipient {
        recipient: String,
    },
    Export(ExportData),
    Imported {
        added: usize,
        existing: usize,
    },
    /// Where the daemon wrote the copy (the CLI reads then removes it).
    DatabaseCopy {
        path: std::path::PathBuf,
    },
    PairCode {
        code: String,
        expires_in_secs: u64,
    },
    Paired {
        partner: String,
        /// The same words print on both laptops; different words mean someone in between.
        safety_words: String,
    },
    Partner(PartnerInfo),
    Unpaired {
        partner: String,
        wiped: bool,
    },
    Checks {
        checks: Vec<Check>,
    },
    PauseStarted {
        entry: Entry,
        /// The agreements in force about texting and checking in (else every one in force).
        agreements: Vec<AgreementView>,
        /// One line of the soothing plan, if there is one.
        soothe: Option<String>,
    },
    Soothe {
        plan: Option<SoothingPlan>,
    },
    Insights {
        insights: Insights,
    },
    /// A note just shared (`already`: the entry had been shared before; nothing new).
    Shared {
        note: NoteView,
        already: bool,
    },
    Notes {
        notes: Vec<NoteView>,
        /// Notes whose signature does not verify: shown apart, never as the partner's.
        unverified: Vec<NoteView>,
        /// Items that are not notes, or too large: ignored.
        ignored: usize,
    },
    Note {
        note: NoteView,
        /// The notes that answer it, oldest first.
        answers: Vec<NoteView>,
    },
    Ask {
        week: WeekView,
    },
    AskList {
        /// Weeks anyone answered, newest first.
        weeks: Vec<WeekView>,
        questions: Vec<QuestionView>,
    },
}

/// `haven partner`: who the partner is and how the link is doing.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct PartnerInfo {
    pub paired: bool,
    pub name: Option<String>,
    pub member_id: Option<String>,
    pub connected: bool,
    /// The partner's address while connected (else the last one known).
    pub address: Option<String>,
    pub last_seen: Option<chrono::DateTime<chrono::FixedOffset>>,
    pub last_synced: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Local changes the partner is not known to have yet.
    pub waiting: usize,
    /// Static addresses from `haven partner address`.
    pub addresses: Vec<String>,
    /// Words derived from both devices' keys: the same on both laptops.
    pub safety_words: Option<String>,
    /// How the session reaches the partner while connected: `lan`, `direct` or `relayed`.
    pub path: Option<String>,
    /// The couple's relay (`HOST:PORT`), if set; never its token.
    pub relay: Option<String>,
}

/// What an export shows: entries oldest first, and the agreements in force.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExportData {
    pub entries: Vec<Entry>,
    /// Active and due-for-review agreements (empty for a single-entry export).
    pub agreements: Vec<AgreementView>,
    pub name: String,
    /// What changed over the range (a session brief only).
    #[serde(default)]
    pub insights: Option<Insights>,
    /// The partner's verified appreciations in the range, oldest first (`--thanks`).
    #[serde(default)]
    pub thanks: Vec<NoteView>,
}

/// An entry in a listing, with the shortest id prefix that is unique in the journal.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ListedEntry {
    #[serde(flatten)]
    pub entry: Entry,
    pub short_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StatusInfo {
    pub locked: bool,
    /// The member's name (known only while unlocked: it is stored encrypted).
    pub name: Option<String>,
    pub paired: bool,
    pub partner: Option<String>,
    pub connected: bool,
    pub entries: Option<usize>,
    pub agreements: Option<usize>,
    pub pid: u32,
    pub version: String,
    /// The daemon's resident memory, in bytes (from /proc/self/statm).
    pub memory_bytes: Option<u64>,
    /// Pauses not finished yet (known while unlocked), oldest first.
    #[serde(default)]
    pub open_pauses: Vec<OpenPause>,
    /// What is waiting for this person (from the partner, a review date, a pause's end),
    /// oldest first; known while unlocked.
    #[serde(default)]
    pub waiting: Vec<Waiting>,
}

/// A pause still open, for `haven status`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OpenPause {
    pub id: String,
    pub started_at: chrono::DateTime<chrono::FixedOffset>,
    pub ends_at: chrono::DateTime<chrono::FixedOffset>,
}

/// One line of `haven doctor` (see `health`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
    pub fix: Option<String>,
}

/// Stable error kinds (scripts can match on them).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Locked,
    WrongPassphrase,
    NotFound,
    Ambiguous,
    InvalidInput,
    DiskFull,
    Corrupt,
    ForeignIdentity,
    /// `haven.db` holds rows the home's key did not write, or lacks rows it did.
    Tampered,
    Storage,
    BadRequest,
    TooLarge,
    /// Pairing failed: a wrong code, no laptop showing the code, a timeout, already paired.
    Pairing,
    Internal,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ErrorReply {
    pub kind: ErrorKind,
    pub message: String,
    pub hint: Option<String>,
}

impl ErrorReply {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ErrorReply {
        ErrorReply {
            kind,
            message: message.into(),
            hint: None,
        }
    }
    pub fn hint(mut self, hint: impl Into<String>) -> ErrorReply {
        self.hint = Some(hint.into());
        self
    }
}

pub type Reply = Result<Response, ErrorReply>;

/// Serialises a message as one line (with the trailing newline).
pub fn encode_line<T: Serialize>(message: &T) -> Vec<u8> {
    // Serialising these plain data types cannot fail.
    let mut line = serde_json::to_vec(message).unwrap_or_else(|_| b"{}".to_vec());
    line.push(b'\n');
    line
}

pub fn decode_line<T: for<'de> Deserialize<'de>>(line: &[u8]) -> Result<T, serde_json::Error> {
    serde_json::from_slice(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    #[test]
    fn requests_round_trip_as_one_line() {
        let requests = vec![
            Request::Status,
            Request::Unlock {
                passphrase: SecretText("p".into()),
            },
            Request::JournalWrite {
                entry: NewEntry {
                    kind: Kind::Trigger,
                    body: "b\nc".into(),
                    tags: vec!["t".into()],
                    ..Default::default()
                },
            },
            Request::JournalList {
                query: ListQuery {
                    limit: Some(3),
                    ..Default::default()
                },
            },
            Request::AgreeWithdraw {
                id: "x".into(),
                reason: Some("r".into()),
            },
            Request::PairStart,
            Request::PairJoin {
                code: SecretText("7-harbor-violet".into()),
            },
            Request::PartnerUnpair { wipe: true },
            Request::NetworkChecks,
        ];
        for r in requests {
            let line = encode_line(&r);
            assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1);
            let back: Request = decode_line(&line).expect("decode");
            assert_eq!(back, r);
        }
    }

    #[test]
    fn replies_round_trip() {
        let replies: Vec<Reply> = vec![
            Ok(Response::Created { id: "01j".into() }),
            // Every response with a list or a struct inside: an internally tagged enum
            // cannot carry a bare sequence, so each must be a struct variant.
            Ok(Response::Checks {
                checks: vec![Check {
                    name: "mDNS".into(),
                    ok: true,
                    detail: "on eth0".into(),
                    fix: None,
                }],
            }),
            Ok(Response::Partner(PartnerInfo {
                paired: true,
                name: Some("Sam".into()),
                waiting: 2,
                ..Default::default()
            })),
            Ok(Response::Paired {
                partner: "Sam".into(),
                safety_words: "a b c d".into(),
            }),
            Err(ErrorReply::new(ErrorKind::NotFound, "no entry 0x")
                .hint("run `haven journal list`")),
        ];
        for r in replies {
            let back: Reply = decode_line(&encode_line(&r)).expect("decode");
            assert_eq!(back, r);
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bad in [
            &b"{"[..],
            b"null",
            b"{\"op\":\"nope\"}",
            b"\xff\xfe",
            b"{\"op\":\"journal_show\"}",
        ] {
            assert!(decode_line::<Request>(bad).is_err());
        }
    }

    #[test]
    fn a_passphrase_never_shows_in_debug_output() {
        let r = Request::Unlock {
            passphrase: SecretText("hunter2".into()),
        };
        assert!(!format!("{r:?}").contains("hunter2"));
    }
}
