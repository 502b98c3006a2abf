//! Agreements between the two partners, and the rule for when one counts as agreed.
//!
//! Status is derived on every read, never stored, from three facts: the latest revision's
//! text, who consented to *which text* (a consent names the SHA-256 of the revision text),
//! and whether each consent carries a valid Ed25519 signature by a member's pinned key.
//! Automerge does not authenticate authors, so a partner's device could write a consent in
//! the other member's name; the signature makes that count for nothing. Because consent
//! names a hash, a revision made concurrently with an acceptance can never leave the
//! agreement active on text one partner never saw.

use chrono::{DateTime, FixedOffset, NaiveDate};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

use super::journal::ModelError;

/// A member of the couple: the first 16 hex digits of the SHA-256 of their signing key, so
/// an id cannot be claimed with another key.
pub type MemberId = String;

pub fn member_id_of(key: &VerifyingKey) -> MemberId {
    hex::encode(&Sha256::digest(key.as_bytes())[..8])
}

/// SHA-256 of a revision's text, hex: what a consent names.
pub fn text_hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// One version of an agreement's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    pub text: String,
    pub by: MemberId,
    pub at: DateTime<FixedOffset>,
}

impl Revision {
    pub fn hash(&self) -> String {
        text_hash(&self.text)
    }
}

/// What a signature commits a member to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verb {
    Consent,
    Decline,
    Withdraw,
}

impl Verb {
    fn as_str(self) -> &'static str {
        match self {
            Verb::Consent => "consent",
            Verb::Decline => "decline",
            Verb::Withdraw => "withdraw",
        }
    }
}

/// A signed consent, decline or withdrawal, as stored in the couple document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    /// Hash of the revision text this is about.
    pub hash: String,
    pub at: DateTime<FixedOffset>,
    /// Hex Ed25519 signature over [`statement`].
    pub sig: String,
    pub reason: Option<String>,
}

/// The exact bytes a member signs: agreement id, revision hash, verb and time.
pub fn statement(
    agreement_id: &str,
    hash: &str,
    verb: Verb,
    at: &DateTime<FixedOffset>,
) -> Vec<u8> {
    format!(
        "haven-agreement-v1\n{agreement_id}\n{hash}\n{}\n{}",
        verb.as_str(),
        at.to_rfc3339()
    )
    .into_bytes()
}

impl ConsentRecord {
    pub fn sign(
        key: &SigningKey,
        agreement_id: &str,
        hash: &str,
        verb: Verb,
        at: DateTime<FixedOffset>,
        reason: Option<String>,
    ) -> ConsentRecord {
        let sig = key.sign(&statement(agreement_id, hash, verb, &at));
        ConsentRecord {
            hash: hash.to_string(),
            at,
            sig: hex::encode(sig.to_bytes()),
            reason,
        }
    }

    fn verifies(&self, key: &VerifyingKey, agreement_id: &str, verb: Verb) -> bool {
        let Ok(bytes) = hex::decode(&self.sig) else {
            return false;
        };
        let Ok(sig) = Signature::from_slice(&bytes) else {
            return false;
        };
        key.verify(&statement(agreement_id, &self.hash, verb, &self.at), &sig)
            .is_ok()
    }
}

/// The members whose signatures this device trusts: its own key, and the partner's key as
/// pinned at pairing. Never built from the couple document, which a partner can write.
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    members: BTreeMap<MemberId, (String, VerifyingKey)>,
}

impl Keyring {
    pub fn new() -> Keyring {
        Keyring::default()
    }
    pub fn with(mut self, name: &str, key: VerifyingKey) -> Keyring {
        self.add(name, key);
        self
    }
    pub fn add(&mut self, name: &str, key: VerifyingKey) -> MemberId {
        let id = member_id_of(&key);
        self.members.insert(id.clone(), (name.to_string(), key));
        id
    }
    pub fn len(&self) -> usize {
        self.members.len()
    }
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
    pub fn name(&self, member: &str) -> Option<&str> {
        self.members.get(member).map(|(n, _)| n.as_str())
    }
    fn key(&self, member: &str) -> Option<&VerifyingKey> {
        self.members.get(member).map(|(_, k)| k)
    }
}

/// The derived state of an agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Only some members consented to the latest text.
    Proposed,
    /// Every member consented to the latest text.
    Active,
    /// Active, and its review date has come.
    DueForReview,
    /// The partner declined the latest text.
    Declined,
    /// A member withdrew consent.
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

/// An agreement as read from the couple document (signatures not yet checked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreement {
    pub id: String,
    pub title: String,
    pub created_at: DateTime<FixedOffset>,
    pub proposed_by: MemberId,
    pub review_on: Option<NaiveDate>,
    /// In document order; the last one is the latest.
    pub revisions: Vec<Revision>,
    pub consents: BTreeMap<MemberId, ConsentRecord>,
    pub declines: BTreeMap<MemberId, ConsentRecord>,
    pub withdrawals: BTreeMap<MemberId, ConsentRecord>,
}

impl Agreement {
    pub fn latest(&self) -> Option<&Revision> {
        self.revisions.last()
    }

    /// The member's record of `verb` if it is signed by their pinned key and names the
    /// latest revision; anything else does not count.
    fn counts(&self, keyring: &Keyring, member: &str, verb: Verb) -> Option<&ConsentRecord> {
        let latest = self.latest()?.hash();
        let table = match verb {
            Verb::Consent => &self.consents,
            Verb::Decline => &self.declines,
            Verb::Withdraw => &self.withdrawals,
        };
        let record = table.get(member)?;
        let key = keyring.key(member)?;
        (record.hash == latest && record.verifies(key, &self.id, verb)).then_some(record)
    }

    /// The consent rule of DESIGN.md.
    pub fn status(&self, keyring: &Keyring, today: NaiveDate) -> Status {
        let Some(latest) = self.latest() else {
            return Status::Proposed;
        };
        let any = |verb: Verb, skip: Option<&str>| {
            keyring
                .members
                .keys()
                .filter(|m| Some(m.as_str()) != skip)
                .any(|m| self.counts(keyring, m, verb).is_some())
        };
        if any(Verb::Withdraw, None) {
            return Status::Withdrawn;
        }
        if any(Verb::Decline, Some(&latest.by)) {
            return Status::Declined;
        }
        let all_consented = keyring.len() >= 2
            && keyring
                .members
                .keys()
                .all(|m| self.counts(keyring, m, Verb::Consent).is_some());
        match (all_consented, self.review_on) {
            (true, Some(day)) if today >= day => Status::DueForReview,
            (true, _) => Status::Active,
            (false, _) => Status::Proposed,
        }
    }

    /// Records whose signature does not verify against the pinned key, or whose member is
    /// unknown: shown to the user, never counted.
    pub fn unverified(&self, keyring: &Keyring) -> Vec<String> {
        let mut out = Vec::new();
        for (verb, table) in [
            (Verb::Consent, &self.consents),
            (Verb::Decline, &self.declines),
            (Verb::Withdraw, &self.withdrawals),
        ] {
            for (member, record) in table {
                let ok = keyring
                    .key(member)
                    .is_some_and(|k| record.verifies(k, &self.id, verb));
                if !ok {
                    out.push(format!(
                        "a {} in the name of {} has no valid signature and does not count",
                        verb.as_str(),
                        display_member(keyring, member)
                    ));
                }
            }
        }
        out
    }

    /// The view shown by `agree list/show` and their `--json`.
    pub fn view(&self, keyring: &Keyring, today: NaiveDate) -> AgreementView {
        let name = |m: &str| display_member(keyring, m);
        let in_force = |verb| {
            keyring
                .members
                .keys()
                .filter_map(|m| self.counts(keyring, m, verb).map(|r| (name(m), r)))
                .collect::<Vec<_>>()
        };
        let withdrawn = in_force(Verb::Withdraw)
            .into_iter()
            .next()
            .map(|(by, r)| Withdrawal {
                by,
                at: r.at,
                reason: r.reason.clone(),
            });
        AgreementView {
            id: self.id.clone(),
            title: self.title.clone(),
            text: self.latest().map(|r| r.text.clone()).unwrap_or_default(),
            status: self.status(keyring, today),
            proposed_by: name(&self.proposed_by),
            created_at: self.created_at,
            review_on: self.review_on,
            consents: in_force(Verb::Consent)
                .into_iter()
                .map(|(n, r)| (n, r.at))
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
                    text: r.text.clone(),
                    by: name(&r.by),
                    at: r.at,
                    hash: r.hash(),
                })
                .collect(),
            unverified: self.unverified(keyring),
        }
    }
}

fn display_member(keyring: &Keyring, member: &str) -> String {
    keyring
        .name(member)
        .map(str::to_string)
        .unwrap_or_else(|| format!("unknown member {member}"))
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
    /// Member name → when they consented to the latest text (valid signatures only).
    pub consents: BTreeMap<String, DateTime<FixedOffset>>,
    pub declined_by: Vec<String>,
    pub withdrawn: Option<Withdrawal>,
    pub revisions: Vec<RevisionView>,
    pub unverified: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionView {
    pub text: String,
    pub by: String,
    pub at: DateTime<FixedOffset>,
    pub hash: String,
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

    pub(crate) fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).expect("time")
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("day")
    }

    fn proposal(by: &SigningKey, text: &str) -> Agreement {
        let id = "a1".to_string();
        let member = member_id_of(&by.verifying_key());
        let t = at("2026-11-01T10:00:00+01:00");
        let mut consents = BTreeMap::new();
        consents.insert(
            member.clone(),
            ConsentRecord::sign(by, &id, &text_hash(text), Verb::Consent, t, None),
        );
        Agreement {
            id,
            title: "check-in".into(),
            created_at: t,
            proposed_by: member.clone(),
            review_on: None,
            revisions: vec![Revision {
                text: text.into(),
                by: member,
                at: t,
            }],
            consents,
            declines: BTreeMap::new(),
            withdrawals: BTreeMap::new(),
        }
    }

    fn sign_into(a: &mut Agreement, k: &SigningKey, verb: Verb) {
        let hash = a.latest().expect("rev").hash();
        let rec = ConsentRecord::sign(k, &a.id, &hash, verb, at("2026-11-02T10:00:00+01:00"), None);
        let table = match verb {
            Verb::Consent => &mut a.consents,
            Verb::Decline => &mut a.declines,
            Verb::Withdraw => &mut a.withdrawals,
        };
        table.insert(member_id_of(&k.verifying_key()), rec);
    }

    #[test]
    fn both_consents_to_the_latest_text_make_it_active() {
        let (maya, sam) = (key(1), key(2));
        let ring = Keyring::new()
            .with("Maya", maya.verifying_key())
            .with("Sam", sam.verifying_key());
        let mut a = proposal(&maya, "one text a day");
        let today = day("2026-11-10");
        assert_eq!(a.status(&ring, today), Status::Proposed);
        sign_into(&mut a, &sam, Verb::Consent);
        assert_eq!(a.status(&ring, today), Status::Active);
        a.review_on = Some(day("2026-11-10"));
        assert_eq!(a.status(&ring, today), Status::DueForReview);
        assert_eq!(a.status(&ring, day("2026-11-09")), Status::Active);
    }

    #[test]
    fn alone_an_agreement_is_only_proposed() {
        let maya = key(1);
        let ring = Keyring::new().with("Maya", maya.verifying_key());
        assert_eq!(
            proposal(&maya, "x").status(&ring, day("2026-11-10")),
            Status::Proposed
        );
    }

    #[test]
    fn a_consent_to_older_text_does_not_count() {
        let (maya, sam) = (key(1), key(2));
        let ring = Keyring::new()
            .with("Maya", maya.verifying_key())
            .with("Sam", sam.verifying_key());
        let mut a = proposal(&maya, "one text a day");
        sign_into(&mut a, &sam, Verb::Consent);
        a.revisions.push(Revision {
            text: "two texts a day".into(),
            by: member_id_of(&maya.verifying_key()),
            at: at("2026-11-03T10:00:00+01:00"),
        });
        sign_into(&mut a, &maya, Verb::Consent);
        assert_eq!(a.status(&ring, day("2026-11-10")), Status::Proposed);
    }

    #[test]
    fn forged_or_unknown_signatures_never_count() {
        let (maya, sam, mallory) = (key(1), key(2), key(3));
        let ring = Keyring::new()
            .with("Maya", maya.verifying_key())
            .with("Sam", sam.verifying_key());
        let mut a = proposal(&maya, "one text a day");
        // Maya's device writes a consent in Sam's name, signed with Maya's key.
        let hash = a.latest().expect("rev").hash();
        let forged = ConsentRecord::sign(
            &maya,
            &a.id,
            &hash,
            Verb::Consent,
            at("2026-11-02T10:00:00Z"),
            None,
        );
        a.consents
            .insert(member_id_of(&sam.verifying_key()), forged);
        assert_eq!(a.status(&ring, day("2026-11-10")), Status::Proposed);
        assert_eq!(a.unverified(&ring).len(), 1);
        // A bare, unsigned consent.
        let mut bare = a.consents[&member_id_of(&sam.verifying_key())].clone();
        bare.sig = String::new();
        a.consents.insert(member_id_of(&sam.verifying_key()), bare);
        assert_eq!(a.status(&ring, day("2026-11-10")), Status::Proposed);
        // A signature that verifies, from a key nobody pinned.
        sign_into(&mut a, &mallory, Verb::Consent);
        assert_eq!(a.status(&ring, day("2026-11-10")), Status::Proposed);
        // A signature moved onto another verb does not verify either.
        let mut moved = proposal(&maya, "one text a day");
        let mut consent = moved.consents[&member_id_of(&maya.verifying_key())].clone();
        consent.reason = None;
        moved
            .withdrawals
            .insert(member_id_of(&maya.verifying_key()), consent);
        assert_ne!(moved.status(&ring, day("2026-11-10")), Status::Withdrawn);
    }

    #[test]
    fn withdrawal_and_decline_win_over_consent() {
        let (maya, sam) = (key(1), key(2));
        let ring = Keyring::new()
            .with("Maya", maya.verifying_key())
            .with("Sam", sam.verifying_key());
        let mut a = proposal(&maya, "one text a day");
        sign_into(&mut a, &sam, Verb::Consent);
        let mut declined = a.clone();
        sign_into(&mut a, &maya, Verb::Withdraw);
        assert_eq!(a.status(&ring, day("2026-11-10")), Status::Withdrawn);
        declined
            .consents
            .remove(&member_id_of(&sam.verifying_key()));
        sign_into(&mut declined, &sam, Verb::Decline);
        assert_eq!(declined.status(&ring, day("2026-11-10")), Status::Declined);
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
