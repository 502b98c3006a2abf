//! Agreements between the two partners, and the rule for when one counts as agreed.
//!
//! The couple document is written by two devices, and automerge authenticates neither: the
//! partner's device can write any key, delete any key, and bring back any value it once
//! saw. So nothing here trusts a field. An agreement is assembled, on every read, from
//! **signed items** alone:
//! - a **revision** ([`RevisionBody`]): the agreement id, a sequence number, the title, the
//!   text, the review date, its author and time, signed by the author. The terms a consent
//!   names are the hash of (title, text, review date), so a renamed title or a moved review
//!   date is a different revision that nobody consented to.
//! - a **statement** ([`StatementBody`]): consent, decline or withdrawal of one revision,
//!   with a per-member counter, signed by the member. Per member only the statement with the
//!   highest counter counts, so an old consent replayed never beats a later withdrawal.
//!
//! Items are content-addressed (the key holds the signature), so they can be deleted but
//! never shadowed or edited. What a deletion could hide, this member's own device brings
//! back: it keeps every item it signed in its private journal document and merges them into
//! every read (and republishes them to the couple document). A member's status is therefore
//! decided on their own laptop by their own signatures; the partner's device can show what
//! it likes on its own screen, and nothing else.
//!
//! Agreements written before signed items (format v1) are carried over by a one-time
//! migration on each device: see [`LegacyAgreement`].

use chrono::{DateTime, FixedOffset, NaiveDate};
use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

use super::error::ModelError;
pub use super::keyring::{member_id_of, DeviceSigner, Keyring, MemberId, Signs};

/// SHA-256 of a text, hex: what a v1 consent named.
pub fn text_hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Whether `id` is an agreement id as Haven makes them: a lowercase ULID (26 characters of
/// Crockford's base 32). Anything else in the couple document is malformed, never an
/// agreement, so a decoy key cannot shadow a real id.
pub fn is_agreement_id(id: &str) -> bool {
    super::is_valid_id(id)
}

/// What a signature commits a member to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verb {
    Consent,
    Decline,
    Withdraw,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Consent => "consent",
            Verb::Decline => "decline",
            Verb::Withdraw => "withdraw",
        }
    }
}

/// Key prefixes of signed items in the couple document: `r/<agreement>/<signature>` for a
/// revision, `s/<agreement>/<signature>` for a statement; the value is the signed JSON.
pub const REVISION_KEY: &str = "r/";
pub const STATEMENT_KEY: &str = "s/";
const REVISION_DOMAIN: &str = "haven-revision-v2\n";
const STATEMENT_DOMAIN: &str = "haven-statement-v2\n";

/// One version of an agreement's terms, as its author signed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevisionBody {
    pub agreement: String,
    /// 1 for the proposal, then one more than the latest revision its author saw.
    pub seq: u64,
    pub title: String,
    pub text: String,
    pub review_on: Option<NaiveDate>,
    pub by: MemberId,
    pub at: DateTime<FixedOffset>,
    /// A v1 revision re-signed by its author at the upgrade: its hash is the v1 one (of the
    /// text alone), so the consents given before the upgrade still name it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub legacy: bool,
}

impl RevisionBody {
    /// What consents name: the hash of the terms (title, text, review date).
    pub fn hash(&self) -> String {
        if self.legacy {
            return text_hash(&self.text);
        }
        let terms = serde_json::json!([self.title, self.text, self.review_on]);
        let mut h = Sha256::new();
        h.update(b"haven-terms-v2\n");
        h.update(terms.to_string().as_bytes());
        hex::encode(h.finalize())
    }
}

/// A member's consent, decline or withdrawal of one revision, as they signed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementBody {
    pub agreement: String,
    /// The hash of the revision's terms.
    pub revision: String,
    pub verb: Verb,
    pub by: MemberId,
    /// Per member, across all agreements: the newest statement is the highest. 0 is a
    /// statement from before the upgrade (v1), which any signed statement beats.
    pub counter: u64,
    pub at: DateTime<FixedOffset>,
    pub reason: Option<String>,
}

/// A signed item as stored: its key (which holds the signature) and its JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedItem {
    pub key: String,
    pub value: String,
}

pub(crate) fn sign_item(
    key: &SigningKey,
    prefix: &str,
    domain: &str,
    agreement: &str,
    json: String,
) -> SignedItem {
    let mut message = domain.as_bytes().to_vec();
    message.extend_from_slice(json.as_bytes());
    let sig = key.sign(&message);
    SignedItem {
        key: format!("{prefix}{agreement}/{}", hex::encode(sig.to_bytes())),
        value: json,
    }
}

// Serialising these (strings, numbers, dates) cannot fail.
#[allow(clippy::expect_used)]
pub(crate) fn to_json<T: Serialize>(body: &T) -> String {
    serde_json::to_string(body).expect("a plain struct serialises")
}

pub fn sign_revision(key: &SigningKey, body: &RevisionBody) -> SignedItem {
    sign_item(
        key,
        REVISION_KEY,
        REVISION_DOMAIN,
        &body.agreement,
        to_json(body),
    )
}

pub fn sign_statement(key: &SigningKey, body: &StatementBody) -> SignedItem {
    sign_item(
        key,
        STATEMENT_KEY,
        STATEMENT_DOMAIN,
        &body.agreement,
        to_json(body),
    )
}

/// The derived state of an agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Only some members consented to the latest terms.
    Proposed,
    /// Every member's newest statement consents to the latest terms.
    Active,
    /// Active, and its review date has come.
    DueForReview,
    /// The partner declined the latest terms.
    Declined,
    /// A member's newest statement withdraws.
    Withdrawn,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Proposed => "proposed",
            Status::Active => "active",
            Status::DueForReview => "due for review",
            Status::Declined => "declined",
            Status::Withdrawn => "withdrawn",
        }
    }
}

/// A revision whose signature verified (or a v1 revision from this device's snapshot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub body: RevisionBody,
    pub hash: String,
}

/// An agreement assembled from verified items only.
#[derive(Debug, Clone)]
pub struct Agreement {
    pub id: String,
    /// Oldest first, by (seq, time, hash); the last one is the latest.
    pub revisions: Vec<Revision>,
    /// Each member's newest verified statement.
    pub newest: BTreeMap<MemberId, StatementBody>,
    /// Items about this agreement that did not verify: shown, never counted.
    pub unverified: Vec<String>,
}

/// Why an agreement verb could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum VerbError {
    #[error(
        "you wrote the latest text of this agreement: revise or withdraw it instead of declining"
    )]
    OwnRevision,
    #[error("the text is the same as the current one")]
    SameText,
    #[error("the review date {0} is not in the future: give a date after today")]
    PastReview(NaiveDate),
    #[error("the review date is already {0}")]
    SameReview(NaiveDate),
}

impl Agreement {
    pub fn latest(&self) -> Option<&Revision> {
        self.revisions.last()
    }

    /// The member's newest statement, if it is `verb` (and, unless withdrawing, about the
    /// latest terms).
    fn newest_is(&self, member: &str, verb: Verb) -> Option<&StatementBody> {
        let latest = self.latest()?;
        self.newest
            .get(member)
            .filter(|s| s.verb == verb && (verb == Verb::Withdraw || s.revision == latest.hash))
    }

    /// The consent rule of DESIGN.md, over each member's newest signed statement.
    pub fn status(&self, keyring: &Keyring, today: NaiveDate) -> Status {
        let Some(latest) = self.latest() else {
            return Status::Proposed;
        };
        let members = || keyring.member_ids();
        if members().any(|m| self.newest_is(m, Verb::Withdraw).is_some()) {
            return Status::Withdrawn;
        }
        if members()
            .filter(|m| **m != latest.body.by)
            .any(|m| self.newest_is(m, Verb::Decline).is_some())
        {
            return Status::Declined;
        }
        let all_consented =
            keyring.len() >= 2 && members().all(|m| self.newest_is(m, Verb::Consent).is_some());
        match (all_consented, latest.body.review_on) {
            (true, Some(day)) if today >= day => Status::DueForReview,
            (true, _) => Status::Active,
            (false, _) => Status::Proposed,
        }
    }

    /// A new revision of the latest terms with `text`, consented to by its author.
    /// `why` (what changed, and why) is signed in the author's consent.
    pub fn revise(
        &self,
        key: &impl Signs,
        text: &str,
        why: Option<String>,
        counter: u64,
        now: DateTime<FixedOffset>,
    ) -> Result<Vec<SignedItem>, VerbError> {
        let Some(latest) = self.latest() else {
            return Err(VerbError::SameText);
        };
        if latest.body.text == text {
            return Err(VerbError::SameText);
        }
        let terms = (text, latest.body.review_on);
        Ok(self.next_revision(latest, key, terms, why, counter, now))
    }

    /// The revision after `latest` with these terms (text, review date), and its author's
    /// consent carrying `why`.
    fn next_revision(
        &self,
        latest: &Revision,
        key: &impl Signs,
        (text, review_on): (&str, Option<NaiveDate>),
        why: Option<String>,
        counter: u64,
        now: DateTime<FixedOffset>,
    ) -> Vec<SignedItem> {
        let body = RevisionBody {
            agreement: self.id.clone(),
            seq: latest.body.seq + 1,
            title: latest.body.title.clone(),
            text: text.to_string(),
            review_on,
            by: key.member(),
            at: now,
            legacy: false,
        };
        let consent = statement(
            key,
            &self.id,
            &body.hash(),
            Verb::Consent,
            counter,
            now,
            why,
        );
        vec![sign_revision(key.signing_key(), &body), consent]
    }

    /// The same terms with a new review date (`agree renew`): a new revision, consented to
    /// by its author, that the partner consents to again. `note` (how it has worked for
    /// us) is signed in the author's consent.
    pub fn renew(
        &self,
        key: &impl Signs,
        review_on: NaiveDate,
        note: Option<String>,
        counter: u64,
        now: DateTime<FixedOffset>,
    ) -> Result<Vec<SignedItem>, VerbError> {
        let Some(latest) = self.latest() else {
            return Err(VerbError::SameText);
        };
        if review_on <= now.date_naive() {
            return Err(VerbError::PastReview(review_on));
        }
        if latest.body.review_on == Some(review_on) {
            return Err(VerbError::SameReview(review_on));
        }
        let terms = (latest.body.text.as_str(), Some(review_on));
        Ok(self.next_revision(latest, key, terms, note, counter, now))
    }

    /// This member's consent, decline or withdrawal of the latest terms.
    pub fn respond(
        &self,
        key: &impl Signs,
        verb: Verb,
        reason: Option<String>,
        counter: u64,
        now: DateTime<FixedOffset>,
    ) -> Result<SignedItem, VerbError> {
        let Some(latest) = self.latest() else {
            return Err(VerbError::SameText);
        };
        if verb == Verb::Decline && latest.body.by == key.member() {
            return Err(VerbError::OwnRevision);
        }
        Ok(statement(
            key,
            &self.id,
            &latest.hash,
            verb,
            counter,
            now,
            reason,
        ))
    }

    /// The view shown by `agree list/show`, their `--json`, and the brief.
    pub fn view(&self, keyring: &Keyring, today: NaiveDate) -> AgreementView {
        let name = |m: &str| display_member(keyring, m);
        let in_force = |verb| {
            keyring
                .member_ids()
                .filter_map(|m| self.newest_is(m, verb).map(|s| (name(m), s)))
                .collect::<Vec<_>>()
        };
        let withdrawn = in_force(Verb::Withdraw)
            .into_iter()
            .next()
            .map(|(by, s)| Withdrawal {
                by,
                at: s.at,
                reason: s.reason.clone(),
            });
        let first = self.revisions.first().map(|r| &r.body);
        let latest = self.latest().map(|r| &r.body);
        AgreementView {
            id: self.id.clone(),
            title: latest.map(|r| r.title.clone()).unwrap_or_default(),
            text: latest.map(|r| r.text.clone()).unwrap_or_default(),
            status: self.status(keyring, today),
            proposed_by: first.map(|r| name(&r.by)).unwrap_or_default(),
            created_at: first.map_or_else(crate::when::now, |r| r.at),
            review_on: latest.and_then(|r| r.review_on),
            consents: in_force(Verb::Consent)
                .into_iter()
                .map(|(n, s)| (n, s.at))
                .collect(),
            declined_by: in_force(Verb::Decline)
                .into_iter()
                .map(|(n, _)| n)
                .collect(),
            withdrawn,
            revisions: self
                .revisions
                .iter()
                .map(|r| RevisionView {
                    title: r.body.title.clone(),
                    text: r.body.text.clone(),
                    by: name(&r.body.by),
                    at: r.body.at,
                    hash: r.hash.clone(),
                    review_on: r.body.review_on,
                })
                .collect(),
            unverified: self.unverified.clone(),
            reasons: self.reasons(keyring),
            last_said: self.newest.values().map(|s| s.at).max(),
        }
    }

    /// The words each member signed with their newest statement, while they still speak
    /// of the latest terms (or of a withdrawal, which ends them all).
    fn reasons(&self, keyring: &Keyring) -> Vec<Reason> {
        let Some(latest) = self.latest() else {
            return Vec::new();
        };
        let renewal = self.revisions.iter().rev().nth(1).is_some_and(|before| {
            before.body.text == latest.body.text && before.body.title == latest.body.title
        });
        keyring
            .member_ids()
            .filter_map(|m| {
                let s = self.newest.get(m)?;
                let text = s.reason.clone().filter(|r| !r.trim().is_empty())?;
                let said = match s.verb {
                    Verb::Withdraw => Said::Withdrew,
                    _ if s.revision != latest.hash => return None,
                    Verb::Decline => Said::Declined,
                    Verb::Consent if latest.body.by != *m => Said::Accepted,
                    Verb::Consent if renewal => Said::Renewed,
                    Verb::Consent => Said::Revised,
                };
                Some(Reason {
                    by: display_member(keyring, m),
                    said,
                    text,
                    at: s.at,
                })
            })
            .collect()
    }
}

/// A new agreement: its first revision and the proposer's consent.
#[allow(clippy::too_many_arguments)]
pub fn propose(
    key: &impl Signs,
    id: &str,
    title: &str,
    text: &str,
    review_on: Option<NaiveDate>,
    counter: u64,
    now: DateTime<FixedOffset>,
) -> Vec<SignedItem> {
    let body = RevisionBody {
        agreement: id.to_string(),
        seq: 1,
        title: title.to_string(),
        text: text.to_string(),
        review_on,
        by: key.member(),
        at: now,
        legacy: false,
    };
    let consent = statement(key, id, &body.hash(), Verb::Consent, counter, now, None);
    vec![sign_revision(key.signing_key(), &body), consent]
}

fn statement(
    key: &impl Signs,
    agreement: &str,
    revision: &str,
    verb: Verb,
    counter: u64,
    at: DateTime<FixedOffset>,
    reason: Option<String>,
) -> SignedItem {
    sign_statement(
        key.signing_key(),
        &StatementBody {
            agreement: agreement.to_string(),
            revision: revision.to_string(),
            verb,
            by: key.member(),
            counter,
            at,
            reason,
        },
    )
}

pub(crate) fn display_member(keyring: &Keyring, member: &str) -> String {
    keyring
        .name(member)
        .map(str::to_string)
        .unwrap_or_else(|| format!("unknown member {member}"))
}

/// An agreement in the v1 format (before signed items): maps the partner could write.
/// Read only for the upgrade: each device keeps a private snapshot of the v1 revisions it
/// held when it upgraded (so they stay readable, as far as v1 ever trusted them, and
/// nothing written in that format later counts), turns its own v1 consents, declines and
/// withdrawals into signed statements, and re-signs the revisions it wrote. A partner's v1
/// record counts only as statement 0, beaten by any signed statement of theirs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyAgreement {
    pub id: String,
    pub title: String,
    pub created_at: DateTime<FixedOffset>,
    pub proposed_by: MemberId,
    pub review_on: Option<NaiveDate>,
    pub revisions: Vec<LegacyRevision>,
    #[serde(default)]
    pub records: Vec<LegacyRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyRevision {
    pub text: String,
    pub by: MemberId,
    pub at: DateTime<FixedOffset>,
}

/// A v1 consent, decline or withdrawal: signed over (id, text hash, verb, time) only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyRecord {
    pub member: MemberId,
    pub verb: Verb,
    pub hash: String,
    pub at: DateTime<FixedOffset>,
    pub sig: String,
    pub reason: Option<String>,
}

impl LegacyRecord {
    fn message(&self, agreement: &str) -> Vec<u8> {
        format!(
            "haven-agreement-v1\n{agreement}\n{}\n{}\n{}",
            self.hash,
            self.verb.as_str(),
            self.at.to_rfc3339()
        )
        .into_bytes()
    }
}

impl LegacyAgreement {
    /// The v1 revisions as revision bodies (sequence = position, terms = the agreement's
    /// title and review date, hash = v1's hash of the text).
    pub fn revision_bodies(&self) -> Vec<RevisionBody> {
        self.revisions
            .iter()
            .zip(1..)
            .map(|(r, seq)| RevisionBody {
                agreement: self.id.clone(),
                seq,
                title: self.title.clone(),
                text: r.text.clone(),
                review_on: self.review_on,
                by: r.by.clone(),
                at: r.at,
                legacy: true,
            })
            .collect()
    }

    /// This member's own v1 records that verify, oldest first (withdrawals last on a tie).
    pub fn own_records(&self, keyring: &Keyring) -> Vec<&LegacyRecord> {
        let Some(me) = keyring.me() else {
            return Vec::new();
        };
        let mut mine: Vec<&LegacyRecord> = self
            .records
            .iter()
            .filter(|r| {
                r.member == me && keyring.verifies_at(me, &r.message(&self.id), &r.sig, Some(&r.at))
            })
            .collect();
        mine.sort_by_key(|r| (r.at, r.verb));
        mine
    }
}

/// Everything the couple document and this device's private store hold about agreements,
/// before verification.
#[derive(Debug, Default)]
pub struct Sources {
    /// Signed items by key: the couple document's, with this device's own merged in.
    pub items: BTreeMap<String, String>,
    /// v1 agreements as this device snapshotted them at its upgrade.
    pub snapshots: BTreeMap<String, LegacyAgreement>,
    /// v1 agreements as the couple document holds them now (only their records are used).
    pub legacy: BTreeMap<String, LegacyAgreement>,
    /// Keys in the agreement ranges that are not well-formed.
    pub malformed: Vec<String>,
}

/// The agreements, assembled and verified.
#[derive(Debug, Default)]
pub struct Book {
    /// By id.
    pub agreements: BTreeMap<String, Agreement>,
    /// How many items were malformed (bad keys, bad JSON, wrong id): ignored.
    pub malformed: usize,
    /// The highest statement counter seen per member.
    pub counters: BTreeMap<MemberId, u64>,
}

impl Book {
    /// The next counter for `member`'s statement.
    pub fn next_counter(&self, member: &str) -> u64 {
        // A counter at the top (only a forged statement gets there) is not a panic.
        self.counters
            .get(member)
            .copied()
            .unwrap_or(0)
            .saturating_add(1)
    }

    /// An agreement by exact id, else by unique prefix.
    pub fn resolve(&self, prefix: &str) -> Result<&Agreement, Vec<String>> {
        super::resolve_prefix(&self.agreements, prefix)
    }
}

/// Splits `r/<id>/<sig>` into (id, sig) when both are well-formed.
pub(crate) fn split_key<'a>(key: &'a str, prefix: &str) -> Option<(&'a str, &'a str)> {
    let (id, sig) = key.strip_prefix(prefix)?.split_once('/')?;
    (is_agreement_id(id) && sig.len() == 128 && sig.bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some((id, sig))
}

/// Builds the agreements from `sources`: only items whose signatures verify against
/// `keyring` count; per member only the newest statement.
pub fn assemble(sources: &Sources, keyring: &Keyring) -> Book {
    let mut found = Found {
        malformed: sources.malformed.len(),
        ..Found::default()
    };
    for (key, value) in &sources.items {
        if let Some((id, sig)) = split_key(key, REVISION_KEY) {
            found.revision(id, sig, value, keyring);
        } else if let Some((id, sig)) = split_key(key, STATEMENT_KEY) {
            found.statement(id, sig, value, keyring);
        } else {
            found.malformed += 1;
        }
    }
    found.v1(sources, keyring);
    found.into_book()
}

/// What [`assemble`] collects before it builds the book: verified revisions and statements
/// by agreement, and what did not verify.
#[derive(Default)]
struct Found {
    malformed: usize,
    revisions: BTreeMap<String, BTreeMap<(u64, String, String), Revision>>,
    statements: BTreeMap<String, Vec<StatementBody>>,
    unverified: BTreeMap<String, Vec<String>>,
}

impl Found {
    fn note(&mut self, id: &str, what: String) {
        self.unverified
            .entry(id.to_string())
            .or_default()
            .push(what);
    }

    fn revision(&mut self, id: &str, sig: &str, value: &str, keyring: &Keyring) {
        let Ok(body) = serde_json::from_str::<RevisionBody>(value) else {
            self.malformed += 1;
            return;
        };
        let message = [REVISION_DOMAIN.as_bytes(), value.as_bytes()].concat();
        if body.agreement != id || !keyring.verifies_at(&body.by, &message, sig, Some(&body.at)) {
            self.note(
                id,
                format!(
                    "a revision in the name of {} has no valid signature and does not count",
                    display_member(keyring, &body.by)
                ),
            );
            return;
        }
        let hash = body.hash();
        self.revisions.entry(id.to_string()).or_default().insert(
            (body.seq, hash.clone(), body.by.clone()),
            Revision { body, hash },
        );
    }

    fn statement(&mut self, id: &str, sig: &str, value: &str, keyring: &Keyring) {
        let Ok(body) = serde_json::from_str::<StatementBody>(value) else {
            self.malformed += 1;
            return;
        };
        let message = [STATEMENT_DOMAIN.as_bytes(), value.as_bytes()].concat();
        if body.agreement != id
            || body.counter == 0
            || !keyring.verifies_at(&body.by, &message, sig, Some(&body.at))
        {
            self.note(
                id,
                format!(
                    "a {} in the name of {} has no valid signature and does not count",
                    body.verb.as_str(),
                    display_member(keyring, &body.by)
                ),
            );
            return;
        }
        self.statements
            .entry(id.to_string())
            .or_default()
            .push(body);
    }

    /// What a home from before signed statements holds: v1 revisions from this device's
    /// own snapshot (a re-signed copy of the same one wins), and the partner's v1 records
    /// as statement 0 (never this member's own: this device turned those into signed
    /// statements at the upgrade).
    fn v1(&mut self, sources: &Sources, keyring: &Keyring) {
        for (id, snapshot) in &sources.snapshots {
            let entry = self.revisions.entry(id.clone()).or_default();
            for body in snapshot.revision_bodies() {
                let hash = body.hash();
                entry
                    .entry((body.seq, hash.clone(), body.by.clone()))
                    .or_insert(Revision { body, hash });
            }
        }
        for (id, legacy) in &sources.legacy {
            for record in &legacy.records {
                if Some(record.member.as_str()) == keyring.me() {
                    continue;
                }
                if !keyring.verifies_at(
                    &record.member,
                    &record.message(id),
                    &record.sig,
                    Some(&record.at),
                ) {
                    self.note(
                        id,
                        format!(
                            "a {} in the name of {} has no valid signature and does not count",
                            record.verb.as_str(),
                            display_member(keyring, &record.member)
                        ),
                    );
                    continue;
                }
                self.statements
                    .entry(id.clone())
                    .or_default()
                    .push(StatementBody {
                        agreement: id.clone(),
                        revision: record.hash.clone(),
                        verb: record.verb,
                        by: record.member.clone(),
                        counter: 0,
                        at: record.at,
                        reason: record.reason.clone(),
                    });
            }
        }
    }

    /// Per agreement its revisions in order and, per member, only the newest statement.
    fn into_book(mut self) -> Book {
        let mut book = Book {
            malformed: self.malformed,
            ..Book::default()
        };
        for (id, revs) in self.revisions {
            let mut revs: Vec<Revision> = revs.into_values().collect();
            revs.sort_by(|a, b| {
                (a.body.seq, a.body.at, &a.hash).cmp(&(b.body.seq, b.body.at, &b.hash))
            });
            let mut newest: BTreeMap<MemberId, StatementBody> = BTreeMap::new();
            for s in self.statements.remove(&id).unwrap_or_default() {
                let counter = book.counters.entry(s.by.clone()).or_insert(0);
                *counter = (*counter).max(s.counter);
                let beats = newest
                    .get(&s.by)
                    .is_none_or(|n| (s.counter, s.verb, s.at) > (n.counter, n.verb, n.at));
                if beats {
                    newest.insert(s.by.clone(), s);
                }
            }
            let unverified = self.unverified.remove(&id).unwrap_or_default();
            book.agreements.insert(
                id.clone(),
                Agreement {
                    id,
                    revisions: revs,
                    newest,
                    unverified,
                },
            );
        }
        // Statements about an agreement with no verified revision still move the counters.
        for s in self.statements.into_values().flatten() {
            let counter = book.counters.entry(s.by.clone()).or_insert(0);
            *counter = (*counter).max(s.counter);
        }
        book
    }
}

/// An agreement as users and scripts see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgreementView {
    pub id: String,
    pub title: String,
    /// The latest revision's text.
    pub text: String,
    pub status: Status,
    pub proposed_by: String,
    pub created_at: DateTime<FixedOffset>,
    pub review_on: Option<NaiveDate>,
    /// Member name → when they consented to the latest terms (valid signatures only).
    pub consents: BTreeMap<String, DateTime<FixedOffset>>,
    pub declined_by: Vec<String>,
    pub withdrawn: Option<Withdrawal>,
    pub revisions: Vec<RevisionView>,
    pub unverified: Vec<String>,
    /// Why a member declined, withdrew or revised, or how a renewed agreement has worked:
    /// words signed with their statement.
    #[serde(default)]
    pub reasons: Vec<Reason>,
    /// When a member last signed something about it (an accept, a decline, a
    /// withdrawal): what dates a no in a brief.
    #[serde(default)]
    pub last_said: Option<DateTime<FixedOffset>>,
}

/// Words a member signed with their newest statement on an agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub by: String,
    pub said: Said,
    pub text: String,
    pub at: DateTime<FixedOffset>,
}

/// What the statement that carries a [`Reason`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Said {
    Declined,
    Withdrew,
    Revised,
    Renewed,
    Accepted,
}

/// The longest reason a statement carries: a few sentences, not a letter (a letter
/// belongs in a shared note).
pub const MAX_REASON_CHARS: usize = 1000;

/// A reason as it is signed: trimmed, `None` when empty, refused when too long.
pub fn checked_reason(reason: Option<String>) -> Result<Option<String>, ModelError> {
    let Some(text) = reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
    else {
        return Ok(None);
    };
    let n = text.chars().count();
    if n > MAX_REASON_CHARS {
        return Err(ModelError::ReasonTooLong(n));
    }
    Ok(Some(text))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionView {
    #[serde(default)]
    pub title: String,
    pub text: String,
    pub by: String,
    pub at: DateTime<FixedOffset>,
    pub hash: String,
    #[serde(default)]
    pub review_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withdrawal {
    pub by: String,
    pub at: DateTime<FixedOffset>,
    pub reason: Option<String>,
}

/// Starting texts for common boundaries (`haven agree propose --template NAME`).
pub const TEMPLATES: &[(&str, &str, &str)] = &[
    (
        "daily-check-in",
        "A daily check-in",
        "We each send one quick check-in text a day, even on busy days. A short one is enough; \
         it is a sign of care, not a report.",
    ),
    (
        "heads-up",
        "A heads-up before going offline",
        "Before either of us goes offline for more than a few hours (a flight, a long meeting, a \
         day without the phone), we send a heads-up saying roughly when we will be back.",
    ),
    (
        "time-out",
        "A time-out when flooded",
        "When either of us feels flooded in a conflict, we may call a time-out of at least 20 \
         minutes. Whoever calls it says when they will come back, and comes back then.",
    ),
    (
        "repair",
        "A repair ritual after conflict",
        "Within a day after a conflict we sit down together: each says what they felt and what \
         they needed, each names one thing they would do differently, and we end with a hug if \
         we both want one.",
    ),
];

/// The title and text of a template by name.
pub fn template(name: &str) -> Result<(&'static str, &'static str), ModelError> {
    TEMPLATES
        .iter()
        .find(|(n, _, _)| n.eq_ignore_ascii_case(name.trim()))
        .map(|(_, title, text)| (*title, *text))
        .ok_or_else(|| {
            let names: Vec<&str> = TEMPLATES.iter().map(|(n, _, _)| *n).collect();
            ModelError::UnknownTemplate(name.to_string(), names.join(", "))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::keyring::DeviceKey;

    pub(crate) fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn at(minute: u32) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(&format!("2026-11-01T10:{:02}:00+01:00", minute % 60))
            .expect("time")
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("day")
    }

    const ID: &str = "01jcheckyn0000000000000000";

    struct Couple {
        maya: SigningKey,
        sam: SigningKey,
        ring: Keyring,
        sources: Sources,
        counter: u64,
    }

    impl Couple {
        fn new(text: &str) -> Couple {
            let (maya, sam) = (key(1), key(2));
            let ring = Keyring::new()
                .with("Maya", maya.verifying_key())
                .with("Sam", sam.verifying_key());
            let mut c = Couple {
                maya,
                sam,
                ring,
                sources: Sources::default(),
                counter: 0,
            };
            let n = c.next();
            let items = propose(&c.maya, ID, "Check-in", text, None, n, at(0));
            c.add(items);
            c
        }
        fn next(&mut self) -> u64 {
            self.counter += 1;
            self.counter
        }
        fn add(&mut self, items: Vec<SignedItem>) {
            for i in items {
                self.sources.items.insert(i.key, i.value);
            }
        }
        fn book(&self) -> Book {
            assemble(&self.sources, &self.ring)
        }
        fn agreement(&self) -> Agreement {
            self.book().agreements.remove(ID).expect("the agreement")
        }
        fn status(&self) -> Status {
            self.agreement().status(&self.ring, day("2026-11-10"))
        }
        fn respond(&mut self, sam: bool, verb: Verb) -> SignedItem {
            let k = if sam {
                self.sam.clone()
            } else {
                self.maya.clone()
            };
            let n = self.next();
            let item = self
                .agreement()
                .respond(&k, verb, None, n, at(n as u32))
                .expect("respond");
            self.add(vec![item.clone()]);
            item
        }
    }

    #[test]
    fn both_consents_to_the_latest_terms_make_it_active() {
        let mut c = Couple::new("one text a day");
        assert_eq!(c.status(), Status::Proposed);
        c.respond(true, Verb::Consent);
        assert_eq!(c.status(), Status::Active);
        let alone = Keyring::new().with("Maya", c.maya.verifying_key());
        assert_eq!(
            assemble(&c.sources, &alone).agreements[ID].status(&alone, day("2026-11-10")),
            Status::Proposed,
            "alone, an agreement is only proposed"
        );
    }

    #[test]
    fn a_consent_to_older_terms_does_not_count() {
        let mut c = Couple::new("one text a day");
        c.respond(true, Verb::Consent);
        let n = c.next();
        let revised = c
            .agreement()
            .revise(&c.maya, "two texts a day", None, n, at(5))
            .expect("revise");
        c.add(revised);
        assert_eq!(c.status(), Status::Proposed);
        assert_eq!(c.agreement().revisions.len(), 2);
        c.respond(true, Verb::Consent);
        assert_eq!(c.status(), Status::Active);
    }

    /// Maya's second device consents in her name with its own key: it counts once her
    /// device list (with the desk in it) is known, and not before; after the desk was
    /// revoked, only what it dated before the revocation counts.
    #[test]
    fn a_consent_from_another_device_of_the_member_counts_through_her_list() {
        let mut c = Couple::new("one text a day");
        let desk = DeviceSigner {
            key: key(3),
            member: member_id_of(&c.maya.verifying_key()),
        };
        // Sam revises, so Maya's consent is needed again; her desk gives it.
        let n = c.next();
        let revised = c
            .agreement()
            .revise(&c.sam, "two texts a day", None, n, at(5))
            .expect("revise");
        c.add(revised);
        let n = c.next();
        let consent = c
            .agreement()
            .respond(&desk, Verb::Consent, None, n, at(10))
            .expect("respond");
        c.add(vec![consent]);
        assert_eq!(
            c.status(),
            Status::Proposed,
            "an unknown key counts for nobody"
        );
        let maya = desk.member.clone();
        let listed = |revoked: Option<&str>| {
            vec![
                DeviceKey {
                    key: c.maya.verifying_key(),
                    revoked: None,
                },
                DeviceKey {
                    key: desk.key.verifying_key(),
                    revoked: revoked.map(|r| DateTime::parse_from_rfc3339(r).expect("date")),
                },
            ]
        };
        assert!(c.ring.set_devices(&maya, listed(None)));
        assert_eq!(c.status(), Status::Active);
        // Revoked after it consented: the consent stands.
        c.ring
            .set_devices(&maya, listed(Some("2026-11-01T10:30:00+01:00")));
        assert_eq!(c.status(), Status::Active);
        // Revoked before the date it put on it: refused.
        c.ring
            .set_devices(&maya, listed(Some("2026-11-01T10:05:00+01:00")));
        assert_eq!(c.status(), Status::Proposed);
    }

    /// The review's first attack: Sam's device deletes Maya's withdrawal and puts back her
    /// earlier consent. With the newest statement counting, and Maya's device holding its
    /// own items, her laptop still shows it withdrawn.
    #[test]
    fn a_replayed_old_consent_never_beats_a_later_withdrawal() {
        let mut c = Couple::new("one text a day");
        let old_consent = c
            .sources
            .items
            .iter()
            .find(|(k, _)| k.starts_with(STATEMENT_KEY))
            .map(|(k, v)| (k.clone(), v.clone()))
            .expect("consent");
        c.respond(true, Verb::Consent);
        assert_eq!(c.status(), Status::Active);
        let withdrawal = c.respond(false, Verb::Withdraw);
        assert_eq!(c.status(), Status::Withdrawn);
        // The partner deletes the withdrawal and replays the consent.
        c.sources.items.remove(&withdrawal.key);
        c.sources
            .items
            .insert(old_consent.0.clone(), old_consent.1.clone());
        assert_eq!(
            c.status(),
            Status::Active,
            "the couple document alone is fooled"
        );
        // Maya's own device merges in what it signed: withdrawn again.
        c.sources.items.insert(withdrawal.key, withdrawal.value);
        assert_eq!(c.status(), Status::Withdrawn);
    }

    /// The review's third attack: unsigned or re-signed fields. A title, a review date or an
    /// author changed by the partner is a revision signed by the partner: it names the
    /// partner as author and needs Maya's consent.
    #[test]
    fn renames_moved_dates_and_borrowed_authorship_never_count() {
        let mut c = Couple::new("one text a day");
        c.respond(true, Verb::Consent);
        let maya_id = member_id_of(&c.maya.verifying_key());
        let latest = c.agreement().latest().expect("latest").body.clone();
        // Sam's device rewrites Maya's revision with a new title, still "by Maya", signed by Sam.
        let forged = sign_revision(
            &c.sam,
            &RevisionBody {
                title: "Hourly texts".into(),
                seq: 2,
                ..latest.clone()
            },
        );
        c.add(vec![forged]);
        let a = c.agreement();
        assert_eq!(
            a.revisions.len(),
            1,
            "a revision Maya did not sign is not hers"
        );
        assert_eq!(a.latest().expect("l").body.title, "Check-in");
        assert_eq!(a.unverified.len(), 1);
        // The same with Sam's own name on it: a new revision, proposed, not active.
        let sam_id = member_id_of(&c.sam.verifying_key());
        let moved = sign_revision(
            &c.sam,
            &RevisionBody {
                review_on: Some(day("2030-01-01")),
                seq: 2,
                by: sam_id.clone(),
                ..latest
            },
        );
        c.add(vec![moved]);
        let a = c.agreement();
        assert_eq!(a.latest().expect("l").body.by, sam_id);
        assert_ne!(a.latest().expect("l").body.by, maya_id);
        assert_eq!(a.status(&c.ring, day("2026-11-10")), Status::Proposed);
        // Maya may decline it: the author is Sam, by signature.
        c.respond(false, Verb::Decline);
        assert_eq!(c.status(), Status::Declined);
    }

    #[test]
    fn forged_statements_never_count_and_are_shown() {
        let mut c = Couple::new("one text a day");
        let hash = c.agreement().latest().expect("l").hash.clone();
        let sam_id = member_id_of(&c.sam.verifying_key());
        // Maya's device signs a consent "by Sam" with Maya's key.
        let forged = sign_statement(
            &c.maya,
            &StatementBody {
                agreement: ID.into(),
                revision: hash.clone(),
                verb: Verb::Consent,
                by: sam_id.clone(),
                counter: 9,
                at: at(3),
                reason: None,
            },
        );
        c.add(vec![forged]);
        assert_eq!(c.status(), Status::Proposed);
        assert_eq!(c.agreement().unverified.len(), 1);
        // A statement moved to another agreement's key does not verify either.
        let mut other = c.respond(true, Verb::Consent);
        c.sources.items.remove(&other.key);
        other.key = other.key.replace(ID, "01jxther00000000000000000a");
        c.sources.items.insert(other.key, other.value);
        assert_eq!(c.status(), Status::Proposed);
        // A key nobody pinned.
        let mallory = key(3);
        let m = sign_statement(
            &mallory,
            &StatementBody {
                agreement: ID.into(),
                revision: hash,
                verb: Verb::Consent,
                by: member_id_of(&mallory.verifying_key()),
                counter: 1,
                at: at(3),
                reason: None,
            },
        );
        c.add(vec![m]);
        assert_eq!(c.status(), Status::Proposed);
    }

    /// The review's second attack: a decoy key `a/<id>z` made every prefix ambiguous.
    #[test]
    fn an_exact_id_always_resolves_and_malformed_keys_are_counted() {
        let mut c = Couple::new("one text a day");
        let real = c.sources.items.keys().next().expect("k").clone();
        let (_, sig) = real.rsplit_once('/').expect("sig");
        c.sources
            .items
            .insert(format!("r/{ID}z/{sig}"), "{}".into());
        c.sources
            .items
            .insert(format!("r/{ID}/nothex"), "{}".into());
        let decoy = "01jcheckyn0000000000000001";
        c.add(propose(&c.sam.clone(), decoy, "Decoy", "x", None, 1, at(1)));
        let book = c.book();
        assert_eq!(book.malformed, 2);
        assert_eq!(book.resolve(ID).expect("exact").id, ID);
        assert_eq!(book.resolve(&ID.to_uppercase()).expect("any case").id, ID);
        assert_eq!(book.resolve("01jcheckyn").expect_err("ambiguous").len(), 2);
        assert!(book.resolve("").is_err());
        assert!(!is_agreement_id(&format!("{ID}z")));
        assert!(!is_agreement_id("01jcheckyn000000000000000é"));
    }

    #[test]
    fn withdrawal_and_decline_win_over_consent_and_due_dates_come() {
        let mut c = Couple::new("one text a day");
        c.respond(true, Verb::Decline);
        assert_eq!(c.status(), Status::Declined);
        c.respond(true, Verb::Consent);
        assert_eq!(c.status(), Status::Active);
        c.respond(true, Verb::Withdraw);
        assert_eq!(c.status(), Status::Withdrawn);
        // Maya's own newer statements cannot undo Sam's withdrawal.
        c.respond(false, Verb::Consent);
        assert_eq!(c.status(), Status::Withdrawn);
        assert!(
            c.agreement()
                .respond(&c.maya, Verb::Decline, None, 99, at(9))
                .is_err(),
            "one cannot decline one's own text"
        );
        let mut due = Couple::new("talk on Sundays");
        let items = propose(
            &due.maya,
            "01jsvnday00000000000000000",
            "Sunday",
            "talk",
            Some(day("2026-11-10")),
            50,
            at(0),
        );
        due.add(items);
        let n = due.next();
        let a = due
            .book()
            .agreements
            .remove("01jsvnday00000000000000000")
            .expect("a");
        due.add(vec![a
            .respond(&due.sam, Verb::Consent, None, n, at(1))
            .expect("r")]);
        let a = due
            .book()
            .agreements
            .remove("01jsvnday00000000000000000")
            .expect("a");
        assert_eq!(a.status(&due.ring, day("2026-11-10")), Status::DueForReview);
        assert_eq!(a.status(&due.ring, day("2026-11-09")), Status::Active);
    }

    proptest::proptest! {
        /// Random interleavings of both members' statements, delivered in random order with
        /// random deletions by Sam's side, never make the agreement active on Maya's laptop
        /// unless both newest statements are consents of the latest revision; and Maya's
        /// laptop (which keeps her own items) always agrees with a complete delivery on her
        /// own newest statement.
        #[test]
        fn deletions_and_reorderings_never_fake_consent(
            script in proptest::collection::vec((proptest::bool::ANY, 0u8..4), 1..12),
            deletions in proptest::collection::vec(proptest::bool::ANY, 24),
        ) {
            let mut c = Couple::new("one text a day");
            let mut maya_own: BTreeMap<String, String> = c.sources.items.clone();
            let mut all: Vec<SignedItem> = Vec::new();
            let mut newest: BTreeMap<bool, (Verb, String)> = BTreeMap::new();
            newest.insert(false, (Verb::Consent, c.agreement().latest().expect("l").hash.clone()));
            for (sam, action) in script {
                let n = c.next();
                let a = c.agreement();
                let k = if sam { c.sam.clone() } else { c.maya.clone() };
                let items = match action {
                    0 => a.respond(&k, Verb::Consent, None, n, at(n as u32)).map(|i| vec![i]),
                    1 => a.respond(&k, Verb::Decline, None, n, at(n as u32)).map(|i| vec![i]),
                    2 => a.respond(&k, Verb::Withdraw, None, n, at(n as u32)).map(|i| vec![i]),
                    _ => a.revise(&k, &format!("text {n}"), None, n, at(n as u32)),
                };
                let Ok(items) = items else { continue };
                for i in &items {
                    if let Ok(s) = serde_json::from_str::<StatementBody>(&i.value) {
                        newest.insert(sam, (s.verb, s.revision));
                    }
                    if !sam {
                        maya_own.insert(i.key.clone(), i.value.clone());
                    }
                }
                c.add(items.clone());
                all.extend(items);
            }
            let full = c.agreement();
            // What Maya's laptop sees: the couple document after Sam's deletions, plus her own.
            let mut seen = Sources::default();
            for (i, item) in all.iter().enumerate().rev() {
                if !deletions[i % deletions.len()] {
                    seen.items.insert(item.key.clone(), item.value.clone());
                }
            }
            for (k, v) in c.sources.items.iter().take(2) {
                seen.items.insert(k.clone(), v.clone());
            }
            seen.items.extend(maya_own);
            let mine = assemble(&seen, &c.ring).agreements.remove(ID).expect("a");
            let latest = mine.latest().expect("l").hash.clone();
            if mine.status(&c.ring, day("2026-11-10")) == Status::Active {
                let both = mine.newest.values().filter(|s| s.verb == Verb::Consent && s.revision == latest).count();
                proptest::prop_assert_eq!(both, 2);
            }
            let me = member_id_of(&c.maya.verifying_key());
            proptest::prop_assert_eq!(mine.newest.get(&me), full.newest.get(&me), "Maya's own newest statement survives any deletion");
        }
    }

    #[test]
    fn a_renewal_needs_both_consents_again_and_a_future_date() {
        let mut c = Couple::new("one text a day");
        c.respond(true, Verb::Consent);
        assert_eq!(c.status(), Status::Active);
        let n = c.next();
        let past = c
            .agreement()
            .renew(&c.maya, day("2026-10-01"), None, n, at(7));
        assert!(matches!(past, Err(VerbError::PastReview(_))));
        let items = c
            .agreement()
            .renew(&c.maya, day("2027-05-01"), None, n, at(7))
            .expect("renew");
        c.add(items);
        let a = c.agreement();
        assert_eq!(
            a.latest().expect("l").body.review_on,
            Some(day("2027-05-01"))
        );
        assert_eq!(a.latest().expect("l").body.text, "one text a day");
        assert_eq!(c.status(), Status::Proposed, "Sam consents again");
        c.respond(true, Verb::Consent);
        assert_eq!(c.status(), Status::Active);
        let again = c
            .agreement()
            .renew(&c.maya, day("2027-05-01"), None, 99, at(8));
        assert!(matches!(again, Err(VerbError::SameReview(_))));
    }

    #[test]
    fn templates_are_found_by_name() {
        assert!(template("daily-check-in").is_ok());
        assert!(template("Repair").is_ok());
        assert!(matches!(
            template("nope"),
            Err(ModelError::UnknownTemplate(..))
        ));
    }
}
