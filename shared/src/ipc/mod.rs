//! The contract between `haven` and `havend`: one JSON object per line over the Unix
//! socket, a hello each way first, then requests and their replies.
//!
//! Every call is a type of its own that names its reply type ([`Call`]), so the CLI cannot
//! take one reply for another and the daemon cannot answer a call with the wrong one: the
//! tables below are the whole contract, one domain a file. On the wire a request is
//! `{"op": NAME, ...its fields}` and a reply `{"Ok": {"type": NAME, ...}}` or
//! `{"Err": {kind, message, hint}}`; errors carry a stable kind (scripts match on it) and
//! a message a person can act on.
//!
//! The first line each way is a [`Hello`] with [`PROTOCOL_VERSION`]. A CLI and a daemon of
//! different protocols say so in one line instead of guessing from a parse failure, and
//! across versions only a stop is still understood, so `haven daemon stop` always works.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use zeroize::Zeroize;

pub mod agreements;
pub mod devices;
pub mod journal;
pub mod pairing;
pub mod partner;
pub mod practice;
pub mod session;
pub mod together;

pub use agreements::*;
pub use devices::*;
pub use journal::*;
pub use pairing::*;
pub use partner::*;
pub use practice::*;
pub use session::*;
pub use together::*;

/// Bumped when a request or reply changes incompatibly. 1: no hello; 2: the hello; 3: new
/// fields an older daemon would silently drop (`--why`, `--note`, `--at`, `--until`, a
/// pause's rewrite) and `look_back`.
pub const PROTOCOL_VERSION: u32 = 3;
/// The longest request line the daemon reads; longer ones are refused and the connection
/// closed (an entry body of a few MB is already a book).
pub const MAX_REQUEST_BYTES: usize = 8 * 1024 * 1024;

/// The first line each way: `{"hello":"haven","protocol":3,"version":"0.1.0"}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Hello {
    /// Always `haven`: a line that merely has a `protocol` field is not a hello.
    pub hello: HelloTag,
    pub protocol: u32,
    /// The program's version, to name in a message when the protocols differ.
    pub version: String,
}

/// The `hello` field's one value.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum HelloTag {
    Haven,
}

impl Hello {
    /// This program's hello.
    pub fn ours() -> Hello {
        Hello {
            hello: HelloTag::Haven,
            protocol: PROTOCOL_VERSION,
            version: crate::VERSION.to_string(),
        }
    }
}

/// The refusal a client gets from a daemon of another protocol (or when it sends a request
/// before its hello): what happened and what to do, in one line.
pub fn version_mismatch(daemon_version: &str, daemon_protocol: u32) -> ErrorReply {
    ErrorReply::new(
        ErrorKind::BadRequest,
        format!(
            "this haven cannot talk to havend {daemon_version} still running (protocol {daemon_protocol}; haven {} speaks {PROTOCOL_VERSION})",
            crate::VERSION
        ),
    )
    .hint("`haven daemon stop`, then run the command again")
}

/// One call of the contract: its request, and the one type of reply it gets.
pub trait Call: Into<Request> {
    type Reply: Into<Response> + TryFrom<Response, Error = Response>;
}

/// What a handler of call `C` returns: `C`'s own reply, or an error.
pub type Answer<C> = Result<<C as Call>::Reply, ErrorReply>;

/// Defines a domain's calls: the enum of its requests (each tagged on the wire by its
/// `op`), the reply type of each ([`Call`]), and how it becomes a [`Request`].
macro_rules! calls {
    ($(#[$doc:meta])* $domain:ident in $variant:ident { $($op:literal $call:ident => $reply:ty,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
        #[serde(tag = "op")]
        pub enum $domain {
            $(#[serde(rename = $op)] $call($call),)+
        }

        impl $domain {
            /// The `op` of each call, as on the wire.
            pub const OPS: &'static [&'static str] = &[$($op),+];

            /// The call's name as on the wire, for logs and errors: never its content.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Self::$call(_) => $op,)+
                }
            }
        }

        $(
            impl Call for $call {
                type Reply = $reply;
            }

            impl From<$call> for Request {
                fn from(call: $call) -> Request {
                    Request::$variant($domain::$call(call))
                }
            }
        )+
    };
}

calls! {
    /// The daemon itself; the only calls that work while locked.
    SessionCall in Session {
        "status" Status => StatusInfo,
        "unlock" Unlock => Unlocked,
        "lock" Lock => Done,
        "shutdown" Shutdown => Done,
        "copy_database" CopyDatabase => DatabaseCopy,
        "network_checks" NetworkChecks => Checks,
        "accept_older" AcceptOlder => Done,
        "note_written" NoteWritten => Done,
    }
}

calls! {
    /// Pairing, answered by the network side.
    PairingCall in Pairing {
        "pair_start" PairStart => PairCode,
        "pair_wait" PairWait => Paired,
        "pair_join" PairJoin => Paired,
    }
}

calls! {
    /// Linking the person's own devices, answered by the network side.
    LinkingCall in Linking {
        "link_start" LinkStart => LinkCode,
        "link_wait" LinkWait => LinkStep,
        "device_add" DeviceAdd => LinkOffer,
        "device_confirm" DeviceConfirm => Linked,
    }
}

calls! {
    /// The person's own devices.
    DevicesCall in Devices {
        "device_list" ListDevices => Devices,
        "device_revoke" DeviceRevoke => Revoked,
        "device_leave" DeviceLeave => DeviceLeft,
    }
}

calls! {
    /// The partner and the way to their laptop.
    PartnerCall in Partner {
        "partner" Partner => PartnerInfo,
        "partner_address" PartnerAddress => PartnerInfo,
        "partner_relay" PartnerRelay => PartnerInfo,
        "partner_unpair" PartnerUnpair => Unpaired,
        "leave" Leave => Left,
    }
}

calls! {
    /// The private journal.
    JournalCall in Journal {
        "recipient" Recipient => RecipientReply,
        "journal_write" JournalWrite => Created,
        "journal_list" JournalList => Entries,
        "journal_show" JournalShow => EntryReply,
        "journal_edit" JournalEdit => EntryReply,
        "journal_delete" JournalDelete => EntryReply,
        "journal_purge" JournalPurge => Purged,
        "journal_import" JournalImport => Imported,
        "export" Export => ExportData,
    }
}

calls! {
    /// The agreements book.
    AgreementCall in Agreements {
        "agree_propose" AgreePropose => Created,
        "agree_list" AgreeList => Agreements,
        "agree_show" AgreeShow => AgreementReply,
        "agree_accept" AgreeAccept => AgreementReply,
        "agree_decline" AgreeDecline => AgreementReply,
        "agree_revise" AgreeRevise => AgreementReply,
        "agree_withdraw" AgreeWithdraw => AgreementReply,
        "agree_renew" AgreeRenew => AgreementReply,
    }
}

calls! {
    /// The practice on one's own.
    PracticeCall in Practice {
        "pause_start" PauseStart => PauseStarted,
        "pause_done" PauseDone => EntryReply,
        "soothe" Soothe => PlanReply,
        "soothe_set" SootheSet => PlanReply,
        "insights" Insights => InsightsReply,
        "look_back" LookBack => LookBackReply,
    }
}

calls! {
    /// What the two share beside the agreements.
    TogetherCall in Together {
        "share" Share => Shared,
        "notes" Notes => NoteBoard,
        "note_show" NoteShow => NoteReply,
        "note_answer" NoteAnswer => NoteReply,
        "thanks" Thanks => NoteReply,
        "ask" Ask => WeekReply,
        "ask_answer" AskAnswer => WeekReply,
        "ask_add" AskAdd => Created,
        "ask_list" AskList => AskHistory,
    }
}

/// A request, by domain. On the wire only its `op` and fields show (the domain is not
/// written), so a request reads `{"op":"journal_show","id":"01j…"}`.
// A request is made once per call and moved a few times; the core's inbox boxes it.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Request {
    Session(SessionCall),
    Pairing(PairingCall),
    Linking(LinkingCall),
    Devices(DevicesCall),
    Partner(PartnerCall),
    Journal(JournalCall),
    Agreements(AgreementCall),
    Practice(PracticeCall),
    Together(TogetherCall),
}

impl<'de> Deserialize<'de> for Request {
    /// By the `op`, into its domain: a request with a bad field gets that domain's
    /// precise error ("missing field `id`"), an unknown `op` one line naming it.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Request, D::Error> {
        /// Only the `op`: every other field is skipped, not built.
        #[derive(Deserialize)]
        struct Op<'a> {
            #[serde(borrow)]
            op: std::borrow::Cow<'a, str>,
        }
        fn domain<T: DeserializeOwned, E: serde::de::Error>(
            raw: &str,
            wrap: fn(T) -> Request,
        ) -> Result<Request, E> {
            serde_json::from_str(raw).map(wrap).map_err(E::custom)
        }
        // The line is read twice (its `op`, then the domain's call), never into a tree.
        let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
        let raw = raw.get();
        let op = serde_json::from_str::<Op>(raw)
            .map_err(|_| D::Error::custom("a request is an object with an `op`"))?
            .op;
        if SessionCall::OPS.contains(&&*op) {
            domain(raw, Request::Session)
        } else if PairingCall::OPS.contains(&&*op) {
            domain(raw, Request::Pairing)
        } else if LinkingCall::OPS.contains(&&*op) {
            domain(raw, Request::Linking)
        } else if DevicesCall::OPS.contains(&&*op) {
            domain(raw, Request::Devices)
        } else if PartnerCall::OPS.contains(&&*op) {
            domain(raw, Request::Partner)
        } else if JournalCall::OPS.contains(&&*op) {
            domain(raw, Request::Journal)
        } else if AgreementCall::OPS.contains(&&*op) {
            domain(raw, Request::Agreements)
        } else if PracticeCall::OPS.contains(&&*op) {
            domain(raw, Request::Practice)
        } else if TogetherCall::OPS.contains(&&*op) {
            domain(raw, Request::Together)
        } else {
            Err(D::Error::custom(format!("unknown op {op:?}")))
        }
    }
}

impl Request {
    /// The request's name as on the wire (`op`), for logs and errors: never its content.
    pub fn name(&self) -> &'static str {
        match self {
            Request::Session(c) => c.name(),
            Request::Pairing(c) => c.name(),
            Request::Linking(c) => c.name(),
            Request::Devices(c) => c.name(),
            Request::Partner(c) => c.name(),
            Request::Journal(c) => c.name(),
            Request::Agreements(c) => c.name(),
            Request::Practice(c) => c.name(),
            Request::Together(c) => c.name(),
        }
    }

    /// Whether the request needs the keys: everything but the daemon's own calls.
    pub fn needs_unlock(&self) -> bool {
        !matches!(self, Request::Session(_))
    }
}

/// Defines the replies: each a type of its own, tagged on the wire by its `type`.
macro_rules! replies {
    ($($variant:ident($reply:ty),)+) => {
        /// A successful reply, whatever the call.
        #[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
        #[serde(tag = "type", rename_all = "snake_case")]
        pub enum Response {
            $($variant($reply),)+
        }

        impl Response {
            /// The reply's name (its variant), for an error that must not print its content.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Response::$variant(_) => stringify!($variant),)+
                }
            }
        }

        $(
            impl From<$reply> for Response {
                fn from(reply: $reply) -> Response {
                    Response::$variant(reply)
                }
            }

            impl TryFrom<Response> for $reply {
                type Error = Response;
                fn try_from(response: Response) -> Result<$reply, Response> {
                    match response {
                        Response::$variant(reply) => Ok(reply),
                        other => Err(other),
                    }
                }
            }
        )+
    };
}

replies! {
    Status(StatusInfo),
    Done(Done),
    Unlocked(Unlocked),
    Created(Created),
    Entry(EntryReply),
    Entries(Entries),
    Agreement(AgreementReply),
    Agreements(Agreements),
    Purged(Purged),
    Recipient(RecipientReply),
    Export(ExportData),
    Imported(Imported),
    DatabaseCopy(DatabaseCopy),
    PairCode(PairCode),
    Paired(Paired),
    LinkCode(LinkCode),
    LinkStep(LinkStep),
    LinkOffer(LinkOffer),
    Linked(Linked),
    Devices(Devices),
    Revoked(Revoked),
    DeviceLeft(DeviceLeft),
    Partner(PartnerInfo),
    Unpaired(Unpaired),
    Left(Left),
    Checks(Checks),
    PauseStarted(PauseStarted),
    Soothe(PlanReply),
    Insights(InsightsReply),
    LookBack(LookBackReply),
    Shared(Shared),
    Notes(NoteBoard),
    Note(NoteReply),
    Ask(WeekReply),
    AskList(AskHistory),
}

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
        let requests: Vec<Request> = vec![
            Status {}.into(),
            Unlock {
                passphrase: SecretText("p".into()),
            }
            .into(),
            JournalWrite {
                entry: Box::new(NewEntryFixture::trigger()),
            }
            .into(),
            JournalList {
                query: crate::model::ListQuery {
                    limit: Some(3),
                    ..Default::default()
                },
            }
            .into(),
            AgreeWithdraw {
                id: "x".into(),
                reason: Some("r".into()),
            }
            .into(),
            PairStart {}.into(),
            PairJoin {
                code: SecretText("7-harbor-violet".into()),
            }
            .into(),
            PartnerUnpair { wipe: true }.into(),
            NetworkChecks {}.into(),
            AskList {}.into(),
            Insights::default().into(),
        ];
        for r in requests {
            let line = encode_line(&r);
            assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1);
            let back: Request = decode_line(&line).expect("decode");
            assert_eq!(back, r);
        }
    }

    struct NewEntryFixture;
    impl NewEntryFixture {
        fn trigger() -> crate::model::NewEntry {
            crate::model::NewEntry {
                kind: Kind::Trigger,
                body: "b\nc".into(),
                tags: vec!["t".into()],
                ..Default::default()
            }
        }
    }

    /// The wire is what protocol 1 had, op by op: only the hello is new. A request or a
    /// reply written by hand (as the robustness tests and scripts do) still reads.
    #[test]
    fn the_wire_shape_is_pinned() {
        let cases: Vec<(Request, &str)> = vec![
            (Status {}.into(), r#"{"op":"status"}"#),
            (
                JournalShow { id: "01j".into() }.into(),
                r#"{"op":"journal_show","id":"01j"}"#,
            ),
            (
                PartnerUnpair { wipe: false }.into(),
                r#"{"op":"partner_unpair","wipe":false}"#,
            ),
            (
                AgreeRenew {
                    id: "a".into(),
                    review_on: chrono::NaiveDate::from_ymd_opt(2027, 1, 2).expect("date"),
                    note: None,
                }
                .into(),
                r#"{"op":"agree_renew","id":"a","review_on":"2027-01-02"}"#,
            ),
        ];
        for (request, wire) in cases {
            assert_eq!(serde_json::to_string(&request).expect("encode"), wire);
            assert_eq!(
                decode_line::<Request>(wire.as_bytes()).expect("decode"),
                request
            );
        }
        let done: Reply = Ok(Done {}.into());
        assert_eq!(
            serde_json::to_string(&done).expect("encode"),
            r#"{"Ok":{"type":"done"}}"#
        );
        let created: Reply = Ok(Created { id: "x".into() }.into());
        assert_eq!(
            serde_json::to_string(&created).expect("encode"),
            r#"{"Ok":{"type":"created","id":"x"}}"#
        );
        assert_eq!(
            serde_json::to_string(&Hello::ours()).expect("encode"),
            format!(
                r#"{{"hello":"haven","protocol":{PROTOCOL_VERSION},"version":"{}"}}"#,
                crate::VERSION
            )
        );
    }

    /// Every op belongs to exactly one domain, so the decoder's choice is never a guess.
    #[test]
    fn no_op_is_in_two_domains() {
        let all: Vec<&str> = [
            SessionCall::OPS,
            PairingCall::OPS,
            PartnerCall::OPS,
            JournalCall::OPS,
            AgreementCall::OPS,
            PracticeCall::OPS,
            TogetherCall::OPS,
        ]
        .concat();
        let mut unique = all.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), all.len());
        assert_eq!(all.len(), 48);
    }

    #[test]
    fn a_reply_of_another_type_is_handed_back_not_taken() {
        let reply: Response = Created { id: "x".into() }.into();
        let taken = <JournalShow as Call>::Reply::try_from(reply.clone());
        assert_eq!(taken, Err(reply));
        let entries = Entries {
            entries: Vec::new(),
            total: 0,
        };
        let back = <JournalList as Call>::Reply::try_from(Response::from(entries.clone()));
        assert_eq!(back, Ok(entries));
    }

    #[test]
    fn replies_round_trip() {
        let replies: Vec<Reply> = vec![
            Ok(Created { id: "01j".into() }.into()),
            Ok(Checks {
                checks: vec![Check {
                    name: "mDNS".into(),
                    ok: true,
                    detail: "on eth0".into(),
                    fix: None,
                }],
            }
            .into()),
            Ok(PartnerInfo {
                paired: true,
                name: Some("Sam".into()),
                waiting: 2,
                ..Default::default()
            }
            .into()),
            Ok(Paired {
                partner: "Sam".into(),
                safety_words: "a b c d".into(),
            }
            .into()),
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
            b"[1,2,3]",
            b"{\"op\":\"nope\"}",
            b"{\"op\":7}",
            b"\xff\xfe",
            b"{\"op\":\"journal_show\"}",
        ] {
            assert!(decode_line::<Request>(bad).is_err());
        }
        let missing = decode_line::<Request>(br#"{"op":"journal_show"}"#)
            .expect_err("no id")
            .to_string();
        assert!(missing.contains("missing field `id`"), "{missing}");
        let unknown = decode_line::<Request>(br#"{"op":"nope"}"#)
            .expect_err("no such op")
            .to_string();
        assert!(unknown.contains("unknown op \"nope\""), "{unknown}");
    }

    #[test]
    fn a_request_is_not_a_hello_and_a_hello_is_not_a_request() {
        assert!(decode_line::<Hello>(br#"{"op":"status"}"#).is_err());
        assert!(decode_line::<Hello>(br#"{"hello":"other","protocol":2,"version":"x"}"#).is_err());
        assert!(decode_line::<Request>(&encode_line(&Hello::ours())).is_err());
        let back: Hello = decode_line(&encode_line(&Hello::ours())).expect("decode");
        assert_eq!(back, Hello::ours());
    }

    #[test]
    fn a_passphrase_never_shows_in_debug_output() {
        let r: Request = Unlock {
            passphrase: SecretText("hunter2".into()),
        }
        .into();
        assert!(!format!("{r:?}").contains("hunter2"));
    }
}
