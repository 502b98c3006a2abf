//! A question for the two of you, each week (`haven ask`), answered so that neither answer
//! can be shaped by the other's: commit, then reveal.
//!
//! `haven ask answer TEXT` publishes only a **commitment**: the SHA-256 of a random nonce,
//! the question and the answer, signed (`c/<id>/<signature>`). The answer and the nonce stay
//! in the private journal. Once this laptop sees exactly one verified commitment of the
//! partner's for the same week and question, it publishes the **reveal** (`v/<commit id>/…`:
//! the answer and the nonce, signed). The partner's laptop therefore holds only a hash until
//! it has committed its own answer, and a revealed answer counts only if it matches the
//! commitment made before. A member with two commitments for one week counts as not having
//! answered (so nobody can commit to several answers and reveal the one that fits).
//!
//! Neither side can force the other to reveal: a partner's device that never reveals
//! shows as "answered; their answer has not arrived". Which question a week asks: the one
//! the first commitment of that week names, else the rotation of the bundled questions and
//! those the couple added before the week began (so both laptops pick the same one).

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

use super::agreement::{
    display_member, sign_item, split_key, to_json, Keyring, MemberId, SignedItem,
};
use super::keyring::Signs;

pub const QUESTION_KEY: &str = "q/";
pub const COMMIT_KEY: &str = "c/";
pub const REVEAL_KEY: &str = "v/";
const QUESTION_DOMAIN: &str = "haven-question-v1\n";
const COMMIT_DOMAIN: &str = "haven-commit-v1\n";
const REVEAL_DOMAIN: &str = "haven-reveal-v1\n";
const ANSWER_DOMAIN: &[u8] = b"haven-answer-v1\n";
/// The longest question or answer, in bytes.
pub const MAX_ASK_TEXT: usize = 10_000;

/// Written for the practice: noticing what helps, saying needs aloud, choosing time
/// together. Never a test, never a score.
pub const BUNDLED: &[&str] = &[
    "What helped you feel secure with me this week?",
    "What is a need you have not said out loud yet?",
    "What is a small thing you would love us to do together this week?",
    "When did you feel close to me this week, even for a moment?",
    "What is one thing I did this week that you appreciated?",
    "What would help you feel calmer when we are apart?",
    "What is something you would like us to try the next time we disagree?",
    "What made you smile this week?",
];

/// A question the couple added (`haven ask add`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionBody {
    pub id: String,
    pub text: String,
    pub by: MemberId,
    pub at: DateTime<FixedOffset>,
}

/// A signed commitment to an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitBody {
    pub id: String,
    /// ISO week, `2026-W49`.
    pub week: String,
    /// `bundled-N`, or an added question's id.
    pub question: String,
    /// Hex SHA-256 of the nonce, the question and the answer.
    pub hash: String,
    pub by: MemberId,
    pub at: DateTime<FixedOffset>,
}

/// The answer and nonce behind a commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevealBody {
    /// The commitment's id.
    pub commit: String,
    pub answer: String,
    /// Hex, 32 bytes.
    pub nonce: String,
    pub by: MemberId,
    pub at: DateTime<FixedOffset>,
}

impl QuestionBody {
    pub fn sign(&self, key: &SigningKey) -> SignedItem {
        sign_item(key, QUESTION_KEY, QUESTION_DOMAIN, &self.id, to_json(self))
    }
}

impl CommitBody {
    pub fn sign(&self, key: &SigningKey) -> SignedItem {
        sign_item(key, COMMIT_KEY, COMMIT_DOMAIN, &self.id, to_json(self))
    }
}

impl RevealBody {
    pub fn sign(&self, key: &SigningKey) -> SignedItem {
        sign_item(key, REVEAL_KEY, REVEAL_DOMAIN, &self.commit, to_json(self))
    }
}

/// This member's answer while it is committed and not yet revealed: private, in the
/// journal, under the commitment's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAnswer {
    pub commit: String,
    pub answer: String,
    pub nonce: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AskError {
    #[error("the answer is empty: write what you want to say")]
    Empty,
    #[error("it is too long ({0} bytes; at most {MAX_ASK_TEXT})")]
    TooLong(usize),
    #[error("you have already answered this week's question")]
    AlreadyAnswered,
}

fn checked(text: &str) -> Result<&str, AskError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AskError::Empty);
    }
    if text.len() > MAX_ASK_TEXT {
        return Err(AskError::TooLong(text.len()));
    }
    Ok(text)
}

/// `2026-W49` for the ISO week of `day`.
pub fn week_of(day: NaiveDate) -> String {
    let w = day.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// The Monday a week label starts on.
pub fn week_start(week: &str) -> Option<NaiveDate> {
    let (year, w) = week.split_once("-W")?;
    NaiveDate::from_isoywd_opt(year.parse().ok()?, w.parse().ok()?, chrono::Weekday::Mon)
}

fn answer_hash(nonce: &[u8], question: &str, answer: &str) -> String {
    let mut h = Sha256::new();
    h.update(ANSWER_DOMAIN);
    h.update(nonce);
    h.update(question.as_bytes());
    h.update(b"\n");
    h.update(answer.as_bytes());
    hex::encode(h.finalize())
}

pub fn sign_question(
    key: &impl Signs,
    id: &str,
    text: &str,
    at: DateTime<FixedOffset>,
) -> Result<SignedItem, AskError> {
    let body = QuestionBody {
        id: id.to_string(),
        text: checked(text)?.to_string(),
        by: key.member(),
        at,
    };
    Ok(body.sign(key.signing_key()))
}

/// A commitment to `answer` (published) and the pending answer (kept private).
pub fn commit(
    key: &impl Signs,
    id: &str,
    week: &str,
    question: &str,
    answer: &str,
    nonce: [u8; 32],
    at: DateTime<FixedOffset>,
) -> Result<(SignedItem, PendingAnswer), AskError> {
    let answer = checked(answer)?;
    let body = CommitBody {
        id: id.to_string(),
        week: week.to_string(),
        question: question.to_string(),
        hash: answer_hash(&nonce, question, answer),
        by: key.member(),
        at,
    };
    Ok((
        body.sign(key.signing_key()),
        PendingAnswer {
            commit: id.to_string(),
            answer: answer.to_string(),
            nonce: hex::encode(nonce),
        },
    ))
}

pub fn reveal(key: &impl Signs, pending: &PendingAnswer, at: DateTime<FixedOffset>) -> SignedItem {
    let body = RevealBody {
        commit: pending.commit.clone(),
        answer: pending.answer.clone(),
        nonce: pending.nonce.clone(),
        by: key.member(),
        at,
    };
    body.sign(key.signing_key())
}

/// A verified commitment, with its answer once a matching reveal arrived.
#[derive(Debug, Clone)]
pub struct Commit {
    pub body: CommitBody,
    pub answer: Option<String>,
    /// A reveal arrived that does not match the commitment.
    pub mismatch: bool,
}

/// Everything the couple document holds about the weekly question, verified.
#[derive(Debug, Default)]
pub struct AskBook {
    /// Added questions, oldest first.
    pub questions: Vec<QuestionBody>,
    /// Verified commitments by id.
    pub commits: BTreeMap<String, Commit>,
    /// Items whose signature does not verify, or malformed: ignored.
    pub ignored: usize,
}

fn items_in<'a>(
    items: &'a BTreeMap<String, String>,
    prefix: &'a str,
) -> impl Iterator<Item = (&'a str, &'a str, &'a str)> + 'a {
    let end = format!("{}0", prefix.trim_end_matches('/'));
    items
        .range(prefix.to_string()..end)
        .map(move |(k, v)| match split_key(k, prefix) {
            Some((id, sig)) => (id, sig, v.as_str()),
            None => ("", "", ""),
        })
}

/// `at`: when the signer dated it (a device revoked later still counts for it).
fn verified(
    keyring: &Keyring,
    (by, at): (&str, &DateTime<FixedOffset>),
    domain: &str,
    value: &str,
    sig: &str,
) -> bool {
    let message = [domain.as_bytes(), value.as_bytes()].concat();
    keyring.verifies_at(by, &message, sig, Some(at))
}

/// Builds the weekly-question state from `items`; only verified items count.
pub fn assemble(items: &BTreeMap<String, String>, keyring: &Keyring) -> AskBook {
    let mut book = AskBook::default();
    for (id, sig, value) in items_in(items, QUESTION_KEY) {
        match serde_json::from_str::<QuestionBody>(value) {
            Ok(q)
                if q.id == id
                    && q.text.len() <= MAX_ASK_TEXT
                    && verified(keyring, (&q.by, &q.at), QUESTION_DOMAIN, value, sig) =>
            {
                book.questions.push(q)
            }
            _ => book.ignored += 1,
        }
    }
    book.questions
        .sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    book.questions.dedup_by(|a, b| a.id == b.id);
    for (id, sig, value) in items_in(items, COMMIT_KEY) {
        match serde_json::from_str::<CommitBody>(value) {
            Ok(c)
                if c.id == id
                    && week_start(&c.week).is_some()
                    && c.question.len() <= 64
                    && verified(keyring, (&c.by, &c.at), COMMIT_DOMAIN, value, sig) =>
            {
                book.commits.entry(c.id.clone()).or_insert(Commit {
                    body: c,
                    answer: None,
                    mismatch: false,
                });
            }
            _ => book.ignored += 1,
        }
    }
    for (id, sig, value) in items_in(items, REVEAL_KEY) {
        let Ok(r) = serde_json::from_str::<RevealBody>(value) else {
            book.ignored += 1;
            continue;
        };
        let Some(c) = book.commits.get_mut(id) else {
            book.ignored += 1;
            continue;
        };
        if r.commit != id
            || r.answer.len() > MAX_ASK_TEXT
            || r.by != c.body.by
            || !verified(keyring, (&r.by, &r.at), REVEAL_DOMAIN, value, sig)
        {
            book.ignored += 1;
            continue;
        }
        let matches = hex::decode(&r.nonce)
            .is_ok_and(|n| answer_hash(&n, &c.body.question, &r.answer) == c.body.hash);
        if matches {
            c.answer = Some(r.answer);
            c.mismatch = false;
        } else if c.answer.is_none() {
            c.mismatch = true;
        }
    }
    book
}

/// One member's side of a week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Side {
    pub name: String,
    /// `not_answered`, `answered` (committed; the answer is hidden until both have
    /// answered, or has not arrived), `revealed`, `mismatch` (a reveal that does not match
    /// what was committed), `several` (more than one commitment: none counts).
    pub state: String,
    pub answered_at: Option<DateTime<FixedOffset>>,
    pub answer: Option<String>,
}

/// A week's question and both answers, as `haven ask` and `ask list` show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekView {
    pub week: String,
    pub question_id: String,
    pub question: String,
    pub me: Side,
    pub partner: Option<Side>,
}

/// A question as `ask list --json` names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionView {
    pub id: String,
    pub text: String,
    /// Empty for the bundled ones.
    pub added_by: Option<String>,
}

impl AskBook {
    /// Every question by id: the bundled ones (`bundled-1`…), then the added ones.
    pub fn all_questions(&self, keyring: &Keyring) -> Vec<QuestionView> {
        let mut out: Vec<QuestionView> = BUNDLED
            .iter()
            .zip(1..)
            .map(|(t, n)| QuestionView {
                id: format!("bundled-{n}"),
                text: (*t).to_string(),
                added_by: None,
            })
            .collect();
        out.extend(self.questions.iter().map(|q| QuestionView {
            id: q.id.clone(),
            text: q.text.clone(),
            added_by: Some(display_member(keyring, &q.by)),
        }));
        out
    }

    fn question_text(&self, id: &str) -> String {
        if let Some(n) = id
            .strip_prefix("bundled-")
            .and_then(|n| n.parse::<usize>().ok())
        {
            if let Some(t) = n.checked_sub(1).and_then(|i| BUNDLED.get(i)) {
                return (*t).to_string();
            }
        }
        self.questions
            .iter()
            .find(|q| q.id == id)
            .map(|q| q.text.clone())
            .unwrap_or_else(|| "(a question this laptop has not received yet)".into())
    }

    /// The question of `week`: the one its first commitment names, else the rotation.
    pub fn question_of(&self, week: &str) -> String {
        if let Some(c) = self
            .commits
            .values()
            .filter(|c| c.body.week == week)
            .min_by(|a, b| (a.body.at, &a.body.id).cmp(&(b.body.at, &b.body.id)))
        {
            return c.body.question.clone();
        }
        let start = week_start(week).unwrap_or(NaiveDate::MIN);
        let mut ids: Vec<String> = (1..=BUNDLED.len())
            .map(|n| format!("bundled-{n}"))
            .collect();
        ids.extend(
            self.questions
                .iter()
                .filter(|q| q.at.date_naive() < start)
                .map(|q| q.id.clone()),
        );
        // Weeks since Monday 2024-01-01, so the rotation does not depend on the year.
        let epoch = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or(NaiveDate::MIN);
        let n =
            usize::try_from((start - epoch).num_weeks().rem_euclid(ids.len() as i64)).unwrap_or(0);
        ids.swap_remove(n)
    }

    /// The verified commitments of `member` for `week`.
    /// The week `haven ask` shows and `ask answer` answers, at `now` on this laptop.
    ///
    /// Usually this laptop's own week. But two partners in different time zones are in
    /// different weeks for up to a day around Monday midnight, and answers for different
    /// weeks never meet. So the partner's week counts too, read at `now` in the time zone
    /// of their latest commitment (its timestamp carries their UTC offset): when they are
    /// already in the next week and have answered it, this laptop shows that week; when
    /// they are still in the last week, have answered it and this member has not, it shows
    /// that one. Partners in one time zone always get their own week.
    pub fn current_week(
        &self,
        now: DateTime<FixedOffset>,
        me: &str,
        partner: Option<&str>,
    ) -> String {
        let mine = week_of(now.date_naive());
        let Some(partner) = partner else {
            return mine;
        };
        let Some(latest) = self
            .commits
            .values()
            .filter(|c| c.body.by == partner)
            .max_by_key(|c| c.body.at)
        else {
            return mine;
        };
        let theirs = week_of(now.with_timezone(latest.body.at.offset()).date_naive());
        if theirs == mine || self.commits_of(partner, &theirs).is_empty() {
            return mine;
        }
        let ahead = week_start(&theirs) > week_start(&mine);
        if ahead || self.commits_of(me, &theirs).is_empty() {
            theirs
        } else {
            mine
        }
    }

    pub fn commits_of(&self, member: &str, week: &str) -> Vec<&Commit> {
        self.commits
            .values()
            .filter(|c| c.body.by == member && c.body.week == week)
            .collect()
    }

    /// The week as this member sees it. `pending` holds this member's own answers not yet
    /// revealed (from the private journal).
    pub fn week(
        &self,
        week: &str,
        keyring: &Keyring,
        partner: Option<&str>,
        pending: &BTreeMap<String, PendingAnswer>,
    ) -> WeekView {
        let question_id = self.question_of(week);
        let me = keyring.me().unwrap_or_default();
        let side = |member: &str, own: bool| -> Side {
            let commits: Vec<&Commit> = self
                .commits_of(member, week)
                .into_iter()
                .filter(|c| c.body.question == question_id)
                .collect();
            let name = display_member(keyring, member);
            match commits.as_slice() {
                [] => Side {
                    name,
                    state: "not_answered".into(),
                    answered_at: None,
                    answer: None,
                },
                [c] => {
                    let own_answer = own
                        .then(|| pending.get(&c.body.id).map(|p| p.answer.clone()))
                        .flatten();
                    let (state, answer) = match (&c.answer, c.mismatch) {
                        (Some(a), _) => ("revealed", Some(a.clone())),
                        (None, true) => ("mismatch", own_answer),
                        (None, false) => ("answered", own_answer),
                    };
                    Side {
                        name,
                        state: state.into(),
                        answered_at: Some(c.body.at),
                        answer,
                    }
                }
                _ => Side {
                    name,
                    state: "several".into(),
                    answered_at: None,
                    answer: None,
                },
            }
        };
        WeekView {
            week: week.to_string(),
            question: self.question_text(&question_id),
            me: side(me, true),
            partner: partner.map(|p| side(p, false)),
            question_id,
        }
    }

    /// Weeks anyone answered, newest first.
    pub fn weeks(&self) -> Vec<String> {
        let mut weeks: Vec<String> = self.commits.values().map(|c| c.body.week.clone()).collect();
        weeks.sort_by(|a, b| b.cmp(a));
        weeks.dedup();
        weeks
    }

    /// This member's pending answers whose reveal is due: the partner has exactly one
    /// verified commitment to the same week and question.
    pub fn due_reveals<'p>(
        &self,
        keyring: &Keyring,
        partner: &str,
        pending: &'p BTreeMap<String, PendingAnswer>,
    ) -> Vec<&'p PendingAnswer> {
        let me = keyring.me().unwrap_or_default();
        pending
            .values()
            .filter(|p| {
                let Some(mine) = self.commits.get(&p.commit) else {
                    return false;
                };
                if mine.body.by != me || mine.answer.is_some() {
                    return false;
                }
                let theirs: Vec<&Commit> = self
                    .commits_of(partner, &mine.body.week)
                    .into_iter()
                    .filter(|c| c.body.question == mine.body.question)
                    .collect();
                theirs.len() == 1
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::agreement::member_id_of;
    use ed25519_dalek::SigningKey;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn at(day: u32) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(&format!("2026-11-{day:02}T10:00:00+01:00")).expect("time")
    }

    fn ring(me: u8, other: u8) -> Keyring {
        Keyring::new()
            .with("me", key(me).verifying_key())
            .with("other", key(other).verifying_key())
    }

    fn put(items: &mut BTreeMap<String, String>, item: &SignedItem) {
        items.insert(item.key.clone(), item.value.clone());
    }

    #[test]
    fn weeks_have_labels_and_a_stable_question() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 2).expect("d");
        assert_eq!(week_of(day), "2026-W49");
        assert_eq!(
            week_start("2026-W49"),
            NaiveDate::from_ymd_opt(2026, 11, 30)
        );
        assert_eq!(week_start("nope"), None);
        assert_eq!(week_start("2026-W99"), None);
        let book = AskBook::default();
        assert_eq!(book.question_of("2026-W49"), book.question_of("2026-W49"));
        assert_ne!(book.question_of("2026-W49"), book.question_of("2026-W50"));
    }

    /// The property the issue asks for: until Sam commits, Maya's answer is only a hash on
    /// his side; once both committed, both reveal and both answers show on both laptops.
    #[test]
    fn partners_in_different_time_zones_answer_the_same_week() {
        let (maya, sam) = (key(1), key(2));
        let (maya_id, sam_id) = (
            member_id_of(&maya.verifying_key()),
            member_id_of(&sam.verifying_key()),
        );
        let time = |s: &str| DateTime::parse_from_rfc3339(s).expect("time");
        // Sunday 23:00 in Lisbon is already Monday 08:00 in Tokyo.
        let lisbon_sunday = time("2026-12-06T23:00:00+00:00");
        let tokyo_monday = time("2026-12-07T08:00:00+09:00");
        assert_eq!(week_of(lisbon_sunday.date_naive()), "2026-W49");
        assert_eq!(week_of(tokyo_monday.date_naive()), "2026-W50");
        let mut shared = BTreeMap::new();
        let empty = AskBook::default();
        assert_eq!(
            empty.current_week(lisbon_sunday, &maya_id, Some(&sam_id)),
            "2026-W49",
            "nobody answered: one's own week"
        );
        // Sam in Tokyo answers his new week; Maya, still on Sunday, is shown his week.
        let q50 = empty.question_of("2026-W50");
        let (c, _) = commit(
            &sam,
            "01jc0mm1t0000000000000000a",
            "2026-W50",
            &q50,
            "tea",
            [1; 32],
            tokyo_monday,
        )
        .expect("c");
        put(&mut shared, &c);
        let book = assemble(&shared, &ring(1, 2));
        assert_eq!(
            book.current_week(lisbon_sunday, &maya_id, Some(&sam_id)),
            "2026-W50"
        );
        assert_eq!(book.current_week(lisbon_sunday, &maya_id, None), "2026-W49");
        // The other way round: Maya in Lisbon answered her week on Sunday; Sam, already on
        // Monday in Tokyo and not having answered it, is shown her week.
        let mut shared = BTreeMap::new();
        let q49 = empty.question_of("2026-W49");
        let (c, _) = commit(
            &maya,
            "01jc0mm1t0000000000000000b",
            "2026-W49",
            &q49,
            "walk",
            [2; 32],
            lisbon_sunday,
        )
        .expect("c");
        put(&mut shared, &c);
        let book = assemble(&shared, &ring(2, 1));
        assert_eq!(
            book.current_week(tokyo_monday, &sam_id, Some(&maya_id)),
            "2026-W49"
        );
        // Once Sam has answered it too, his own new week.
        let (c, _) = commit(
            &sam,
            "01jc0mm1t0000000000000000c",
            "2026-W49",
            &q49,
            "tea",
            [3; 32],
            tokyo_monday,
        )
        .expect("c");
        put(&mut shared, &c);
        let book = assemble(&shared, &ring(2, 1));
        assert_eq!(
            book.current_week(tokyo_monday, &sam_id, Some(&maya_id)),
            "2026-W50"
        );
        // In one time zone, always one's own week, whatever was answered before.
        let lisbon_monday = time("2026-12-07T09:00:00+00:00");
        assert_eq!(
            book.current_week(lisbon_monday, &sam_id, Some(&maya_id)),
            "2026-W50"
        );
    }

    #[test]
    fn an_answer_is_revealed_only_after_both_committed() {
        let (maya, sam) = (key(1), key(2));
        let sam_id = member_id_of(&sam.verifying_key());
        let maya_id = member_id_of(&maya.verifying_key());
        let week = "2026-W45";
        let mut shared = BTreeMap::new();
        let q = AskBook::default().question_of(week);
        let (c, maya_pending) = commit(
            &maya,
            "01jc0mm1t00000000000000001",
            week,
            &q,
            "our walk",
            [7; 32],
            at(3),
        )
        .expect("c");
        put(&mut shared, &c);
        assert!(
            !c.value.contains("our walk"),
            "a commitment holds a hash only"
        );
        let maya_own: BTreeMap<String, PendingAnswer> =
            [(maya_pending.commit.clone(), maya_pending.clone())].into();
        // Maya's laptop: no reveal due while Sam has not committed.
        let book = assemble(&shared, &ring(1, 2));
        assert!(book.due_reveals(&ring(1, 2), &sam_id, &maya_own).is_empty());
        let seen_by_sam = book.week(week, &ring(2, 1), Some(&maya_id), &BTreeMap::new());
        // (Sam's keyring has him first.)
        let sam_book = assemble(&shared, &ring(2, 1));
        let sam_view = sam_book.week(week, &ring(2, 1), Some(&maya_id), &BTreeMap::new());
        assert_eq!(sam_view.partner.as_ref().expect("p").state, "answered");
        assert_eq!(sam_view.partner.as_ref().expect("p").answer, None);
        assert_eq!(seen_by_sam.question_id, q);
        // Sam commits; now Maya's reveal is due.
        let (sc, sam_pending) = commit(
            &sam,
            "01jc0mm1t00000000000000002",
            week,
            &q,
            "the film",
            [9; 32],
            at(4),
        )
        .expect("c");
        put(&mut shared, &sc);
        let book = assemble(&shared, &ring(1, 2));
        let due = book.due_reveals(&ring(1, 2), &sam_id, &maya_own);
        assert_eq!(due.len(), 1);
        put(&mut shared, &reveal(&maya, due[0], at(4)));
        put(&mut shared, &reveal(&sam, &sam_pending, at(4)));
        let view = assemble(&shared, &ring(1, 2)).week(week, &ring(1, 2), Some(&sam_id), &maya_own);
        assert_eq!(view.me.answer.as_deref(), Some("our walk"));
        assert_eq!(
            view.partner.as_ref().expect("p").answer.as_deref(),
            Some("the film")
        );
        assert_eq!(view.partner.as_ref().expect("p").state, "revealed");
    }

    #[test]
    fn a_reveal_that_does_not_match_or_a_second_commitment_never_counts() {
        let (maya, sam) = (key(1), key(2));
        let sam_id = member_id_of(&sam.verifying_key());
        let week = "2026-W45";
        let q = AskBook::default().question_of(week);
        let mut shared = BTreeMap::new();
        let (sc, mut pending) = commit(
            &sam,
            "01jc0mm1t00000000000000002",
            week,
            &q,
            "honest",
            [9; 32],
            at(4),
        )
        .expect("c");
        put(&mut shared, &sc);
        pending.answer = "shaped after reading hers".into();
        put(&mut shared, &reveal(&sam, &pending, at(5)));
        let view =
            assemble(&shared, &ring(1, 2)).week(week, &ring(1, 2), Some(&sam_id), &BTreeMap::new());
        let p = view.partner.expect("p");
        assert_eq!(p.state, "mismatch");
        assert_eq!(p.answer, None);
        // A second commitment by Sam for the same week: neither counts, no reveal is due.
        let (sc2, _) = commit(
            &sam,
            "01jc0mm1t00000000000000003",
            week,
            &q,
            "other",
            [3; 32],
            at(4),
        )
        .expect("c");
        put(&mut shared, &sc2);
        let (mc, mp) = commit(
            &maya,
            "01jc0mm1t00000000000000004",
            week,
            &q,
            "mine",
            [1; 32],
            at(4),
        )
        .expect("c");
        put(&mut shared, &mc);
        let own = [(mp.commit.clone(), mp)].into();
        let book = assemble(&shared, &ring(1, 2));
        assert!(book.due_reveals(&ring(1, 2), &sam_id, &own).is_empty());
        assert_eq!(
            book.week(week, &ring(1, 2), Some(&sam_id), &own)
                .partner
                .expect("p")
                .state,
            "several"
        );
        // A reveal of an answer over the size limit is ignored, even with a matching hash.
        let huge = "x".repeat(MAX_ASK_TEXT + 1);
        let body = CommitBody {
            id: "01jc0mm1t0000000000000000h".into(),
            week: "2026-W40".into(),
            question: q.clone(),
            hash: answer_hash(&[4; 32], &q, &huge),
            by: sam_id.clone(),
            at: at(4),
        };
        put(&mut shared, &body.sign(&sam));
        let big = RevealBody {
            commit: body.id.clone(),
            answer: huge,
            nonce: hex::encode([4; 32]),
            by: sam_id.clone(),
            at: at(5),
        };
        put(&mut shared, &big.sign(&sam));
        let book = assemble(&shared, &ring(1, 2));
        assert_eq!(book.commits[&body.id].answer, None);
        assert!(book.ignored >= 1);
        shared.remove(&body.sign(&sam).key);
        shared.remove(&big.sign(&sam).key);
        // A commitment signed by a stranger is ignored.
        let (stranger, _) = commit(
            &key(7),
            "01jc0mm1t00000000000000005",
            week,
            &q,
            "x",
            [1; 32],
            at(4),
        )
        .expect("c");
        put(&mut shared, &stranger);
        assert_eq!(assemble(&shared, &ring(1, 2)).commits.len(), 3);
    }
}
