//! The two automerge documents, as typed wrappers: the network code can only name
//! [`CoupleDoc`], so nothing from [`JournalDoc`] can be handed to a peer by mistake.
//!
//! Items live directly under the root map with a prefix (`e/<id>` for entries, `a/<id>` for
//! agreements, `m/<id>` for members) rather than inside a nested `entries` map. Every
//! automerge document shares the root object, while two independently created nested maps
//! under the same key would conflict and hide one side's items: with prefixed root keys two
//! couple documents that grew apart (before pairing) still merge cleanly.
//!
//! A journal entry is one scalar: its JSON, under `e/<id>`. Measured here on 10,000 entries
//! of ~800 characters: bodies as automerge `Text` load in ~4 s; entries as maps of ten
//! scalar fields took ~0.5 s to load and ~0.75 s more to read back field by field; one
//! scalar per entry loads and reads in a fraction of that. The journal is written on one
//! device and an edit replaces the entry, so per-character or per-field merging buys
//! nothing. The couple document keeps structured maps: there two members write
//! concurrently, and a consent must merge beside a revision.

use automerge::transaction::Transactable;
use automerge::{
    AutoCommit, AutomergeError, ObjId, ObjType, ReadDoc, ScalarValue, ScalarValueRef, Value,
    ValueRef, ROOT,
};
use chrono::{DateTime, FixedOffset, NaiveDate};
use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::model::agreement::{
    is_agreement_id, LegacyAgreement, LegacyRecord, LegacyRevision, MemberId, SignedItem, Sources,
    Verb, REVISION_KEY, STATEMENT_KEY,
};
use crate::model::ask::{PendingAnswer, COMMIT_KEY, QUESTION_KEY, REVEAL_KEY};
use crate::model::journal::Entry;
use crate::model::notes::NOTE_KEY;
use crate::model::practice::SoothingPlan;

const ENTRY: &str = "e/";
/// From this many entries on, [`JournalDoc::entries`] parses them on several threads.
const PARALLEL_FROM: usize = 4096;
const AGREEMENT: &str = "a/";
const MEMBER: &str = "m/";
/// In the journal: this member's own signed agreement items (`o/r/…`, `o/s/…`) and the v1
/// snapshot (`o/l/<id>`). Private like the entries; see `model::agreement`.
const OWN: &str = "o/";
const SNAPSHOT: &str = "l/";
/// In the journal, beside this member's own items: answers committed and not yet revealed
/// (`o/ask/<commit id>`), and which entry was shared as which note (`o/shared/<entry id>`).
const PENDING_ANSWER: &str = "ask/";
const SHARED_ENTRY: &str = "shared/";
/// Signed items of the couple document other than agreements: notes, added questions,
/// commitments and reveals (see `model::notes`, `model::ask`).
pub const TOGETHER_KEYS: [&str; 4] = [NOTE_KEY, QUESTION_KEY, COMMIT_KEY, REVEAL_KEY];
/// Every kind of signed item this member publishes.
const SIGNED_KEYS: [&str; 6] = [
    REVISION_KEY,
    STATEMENT_KEY,
    NOTE_KEY,
    QUESTION_KEY,
    COMMIT_KEY,
    REVEAL_KEY,
];
const MIGRATED: &str = "o/agreements-v2";
/// In the journal: the soothing plan (`haven soothe`), one scalar of JSON.
const SOOTHING_PLAN: &str = "p/soothe";
/// In the journal: a deleted entry's id and when (`d/<id>` = RFC 3339), kept through
/// purges so the deletion reaches this person's other devices (`devices::journal_sync`).
const TOMBSTONE: &str = "d/";
/// In the journal: when it was last purged, so the person's other devices purge too.
const PURGED: &str = "p/purged";
/// In the couple document: each version of a member's signed device list,
/// `dl/<member>/<version, 20 digits>` = the list's JSON, so the partner can follow the
/// list from the version it knows to the newest one, each checked against the one before.
const DEVICE_LIST: &str = "dl/";
/// The most versions of one member's list read from the document (a person changes their
/// devices a few times a year; more is someone writing junk).
pub const MAX_DEVICE_LISTS: usize = 256;

pub type DocResult<T> = Result<T, AutomergeError>;

/// The private journal. Never leaves the device.
pub struct JournalDoc {
    doc: AutoCommit,
}

impl Default for JournalDoc {
    fn default() -> Self {
        JournalDoc::new()
    }
}

impl JournalDoc {
    pub fn new() -> JournalDoc {
        JournalDoc {
            doc: AutoCommit::new(),
        }
    }

    pub fn from_automerge(doc: AutoCommit) -> JournalDoc {
        JournalDoc { doc }
    }

    /// For persistence only.
    pub fn automerge_mut(&mut self) -> &mut AutoCommit {
        &mut self.doc
    }

    /// Writes a whole entry (new, or replacing an existing one) as one scalar.
    pub fn put_entry(&mut self, entry: &Entry) -> DocResult<()> {
        // Serialising an Entry (strings, numbers, dates) cannot fail.
        let json = serde_json::to_string(entry).map_err(|_| AutomergeError::Fail)?;
        self.doc.put(ROOT, format!("{ENTRY}{}", entry.id), json)
    }

    /// Removes an entry from the current state (its text stays in history until `purge`)
    /// and keeps a tombstone, dated `at`, so the deletion reaches the other devices.
    pub fn delete_entry(&mut self, id: &str, at: &str) -> DocResult<bool> {
        let key = format!("{ENTRY}{id}");
        let existed = self.doc.get(ROOT, key.as_str())?.is_some();
        if existed {
            self.doc.delete(ROOT, key.as_str())?;
        }
        if !self.is_deleted(id) {
            self.doc.put(ROOT, format!("{TOMBSTONE}{id}"), at)?;
        }
        Ok(existed)
    }

    /// Whether an entry with this id was deleted (ids are never reused).
    pub fn is_deleted(&self, id: &str) -> bool {
        matches!(self.doc.get(ROOT, format!("{TOMBSTONE}{id}")), Ok(Some(_)))
    }

    /// Every deletion kept: (id, when).
    pub fn tombstones(&self) -> Vec<crate::devices::journal_sync::Tombstone> {
        self.doc
            .map_range(ROOT, TOMBSTONE.to_string().."d0".to_string())
            .filter_map(|item| match &item.value {
                ValueRef::Scalar(ScalarValueRef::Str(at)) => {
                    Some(crate::devices::journal_sync::Tombstone {
                        id: item.key.trim_start_matches(TOMBSTONE).to_string(),
                        at: at.to_string(),
                    })
                }
                _ => None,
            })
            .collect()
    }

    /// When the journal was last purged, if ever since purges were dated.
    pub fn purged_at(&self) -> Option<String> {
        match self.doc.get(ROOT, PURGED) {
            Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
                ScalarValue::Str(at) => Some(at.to_string()),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn set_purged_at(&mut self, at: &str) -> DocResult<()> {
        self.doc.put(ROOT, PURGED, at)
    }

    /// Every readable entry; malformed ones are skipped and counted.
    ///
    /// Parsing is most of the time this takes (0.25 s for 100,000 entries on one core), so
    /// a long journal is parsed on every core, each taking one run of the entries.
    pub fn entries(&self) -> DocResult<(Vec<Entry>, usize)> {
        let mut stored = Vec::new();
        let mut skipped = 0;
        for item in self
            .doc
            .map_range(ROOT, ENTRY.to_string().."e0".to_string())
        {
            match item.value {
                ValueRef::Scalar(ScalarValueRef::Str(json)) => stored.push((item.key, json)),
                _ => skipped += 1,
            }
        }
        let parse = |run: &[(Cow<str>, Cow<str>)]| -> Vec<Option<Entry>> {
            run.iter()
                .map(|(key, json)| {
                    serde_json::from_str::<Entry>(json)
                        .ok()
                        .filter(|e| key.strip_prefix(ENTRY) == Some(e.id.as_str()))
                })
                .collect()
        };
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        let runs: Vec<&[(Cow<str>, Cow<str>)]> = if stored.len() < PARALLEL_FROM || cores < 2 {
            vec![&stored[..]]
        } else {
            stored.chunks(stored.len().div_ceil(cores)).collect()
        };
        let parsed: Vec<Vec<Option<Entry>>> = std::thread::scope(|scope| {
            let (first, rest) = runs
                .split_first()
                .map_or((&[][..], &[][..]), |(f, r)| (*f, r));
            // A run whose thread cannot start is parsed here instead.
            let started: Vec<_> = rest
                .iter()
                .map(|run| {
                    std::thread::Builder::new()
                        .spawn_scoped(scope, || parse(run))
                        .map_err(|_| *run)
                })
                .collect();
            let mut parsed = vec![parse(first)];
            for run in started {
                parsed.push(match run {
                    // A panic in a parse is a bug; it goes on as it would have here.
                    Ok(thread) => thread
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                    Err(run) => parse(run),
                });
            }
            parsed
        });
        let mut out = Vec::with_capacity(stored.len());
        for entry in parsed.into_iter().flatten() {
            match entry {
                Some(e) => out.push(e),
                None => skipped += 1,
            }
        }
        Ok((out, skipped))
    }

    /// The same entries (and this member's own agreement items, the soothing plan, the
    /// tombstones and the purge date) in a new document with no history: what `purge` writes, so deleted and overwritten text is gone from the
    /// stored log too.
    pub fn rebuilt(&self) -> DocResult<JournalDoc> {
        let mut fresh = JournalDoc::new();
        for entry in self.entries()?.0 {
            fresh.put_entry(&entry)?;
        }
        for (key, value) in self.own_range() {
            fresh.doc.put(ROOT, format!("{OWN}{key}"), value)?;
        }
        if self.agreements_migrated()? {
            fresh.mark_agreements_migrated()?;
        }
        if let Some(plan) = self.soothing_plan()? {
            fresh.put_soothing_plan(&plan)?;
        }
        for t in self.tombstones() {
            fresh.doc.put(ROOT, format!("{TOMBSTONE}{}", t.id), t.at)?;
        }
        if let Some(at) = self.purged_at() {
            fresh.set_purged_at(&at)?;
        }
        Ok(fresh)
    }

    /// The soothing plan, if one was written (a malformed one reads as none).
    pub fn soothing_plan(&self) -> DocResult<Option<SoothingPlan>> {
        Ok(match self.doc.get(ROOT, SOOTHING_PLAN)? {
            Some((Value::Scalar(s), _)) => match s.as_ref() {
                ScalarValue::Str(json) => serde_json::from_str(json).ok(),
                _ => None,
            },
            _ => None,
        })
    }

    pub fn put_soothing_plan(&mut self, plan: &SoothingPlan) -> DocResult<()> {
        let json = serde_json::to_string(plan).map_err(|_| AutomergeError::Fail)?;
        self.doc.put(ROOT, SOOTHING_PLAN, json)
    }

    fn own_range(&self) -> Vec<(String, String)> {
        self.doc
            .map_range(ROOT, OWN.to_string().."o0".to_string())
            .filter_map(|item| match &item.value {
                ValueRef::Scalar(ScalarValueRef::Str(v)) => {
                    Some((item.key.trim_start_matches(OWN).to_string(), v.to_string()))
                }
                _ => None,
            })
            .collect()
    }

    /// Every item this member signed (agreements, notes, questions, answers), by its
    /// couple-document key: this device's authoritative copy, merged into every read and
    /// republished when missing.
    pub fn own_items(&self) -> BTreeMap<String, String> {
        self.own_range()
            .into_iter()
            .filter(|(k, _)| SIGNED_KEYS.iter().any(|p| k.starts_with(p)))
            .collect()
    }

    /// This member's committed answers not yet revealed, by commitment id.
    pub fn pending_answers(&self) -> BTreeMap<String, PendingAnswer> {
        self.own_range()
            .into_iter()
            .filter_map(|(k, v)| {
                let id = k.strip_prefix(PENDING_ANSWER)?;
                let p: PendingAnswer = serde_json::from_str(&v).ok()?;
                (p.commit == id).then(|| (p.commit.clone(), p))
            })
            .collect()
    }

    pub fn put_pending_answer(&mut self, p: &PendingAnswer) -> DocResult<()> {
        let json = serde_json::to_string(p).map_err(|_| AutomergeError::Fail)?;
        self.doc
            .put(ROOT, format!("{OWN}{PENDING_ANSWER}{}", p.commit), json)
    }

    /// The note an entry was shared as, if it was.
    pub fn shared_as(&self, entry: &str) -> DocResult<Option<String>> {
        Ok(
            match self.doc.get(ROOT, format!("{OWN}{SHARED_ENTRY}{entry}"))? {
                Some((Value::Scalar(s), _)) => match s.as_ref() {
                    ScalarValue::Str(id) => Some(id.to_string()),
                    _ => None,
                },
                _ => None,
            },
        )
    }

    pub fn put_shared_as(&mut self, entry: &str, note: &str) -> DocResult<()> {
        self.doc
            .put(ROOT, format!("{OWN}{SHARED_ENTRY}{entry}"), note)
    }

    pub fn put_own_item(&mut self, item: &SignedItem) -> DocResult<()> {
        self.doc
            .put(ROOT, format!("{OWN}{}", item.key), item.value.as_str())
    }

    /// The v1 agreements as this device held them when it upgraded.
    pub fn legacy_snapshots(&self) -> BTreeMap<String, LegacyAgreement> {
        self.own_range()
            .into_iter()
            .filter_map(|(k, v)| {
                let id = k.strip_prefix(SNAPSHOT)?;
                let a: LegacyAgreement = serde_json::from_str(&v).ok()?;
                (a.id == id).then_some((a.id.clone(), a))
            })
            .collect()
    }

    pub fn put_legacy_snapshot(&mut self, a: &LegacyAgreement) -> DocResult<()> {
        let json = serde_json::to_string(a).map_err(|_| AutomergeError::Fail)?;
        self.doc.put(ROOT, format!("{OWN}{SNAPSHOT}{}", a.id), json)
    }

    /// Whether this device has carried its v1 agreements over to signed items.
    pub fn agreements_migrated(&self) -> DocResult<bool> {
        Ok(self.doc.get(ROOT, MIGRATED)?.is_some())
    }

    pub fn mark_agreements_migrated(&mut self) -> DocResult<()> {
        self.doc.put(ROOT, MIGRATED, 2)
    }

    /// Forgets every agreement item and snapshot (`partner unpair --wipe`).
    pub fn clear_own(&mut self) -> DocResult<()> {
        for (key, _) in self.own_range() {
            self.doc.delete(ROOT, format!("{OWN}{key}"))?;
        }
        Ok(())
    }
}

fn get_str(doc: &AutoCommit, obj: &ObjId, key: &str) -> DocResult<Option<String>> {
    Ok(match doc.get(obj, key)? {
        Some((Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        },
        _ => None,
    })
}

fn get_time(doc: &AutoCommit, obj: &ObjId, key: &str) -> DocResult<Option<DateTime<FixedOffset>>> {
    Ok(get_str(doc, obj, key)?.and_then(|s| DateTime::parse_from_rfc3339(&s).ok()))
}

fn get_obj(doc: &AutoCommit, obj: &ObjId, key: &str, ty: ObjType) -> DocResult<Option<ObjId>> {
    Ok(match doc.get(obj, key)? {
        Some((Value::Object(t), id)) if t == ty => Some(id),
        _ => None,
    })
}

/// The couple document: members and agreements. The only document that is ever synced.
pub struct CoupleDoc {
    doc: AutoCommit,
}

impl Default for CoupleDoc {
    fn default() -> Self {
        CoupleDoc::new()
    }
}

/// A member as the couple document describes them (informational: trust comes from keys
/// pinned locally, see `model::agreement::Keyring`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    pub id: MemberId,
    pub name: String,
    pub signing_key: String,
}

impl CoupleDoc {
    pub fn new() -> CoupleDoc {
        CoupleDoc {
            doc: AutoCommit::new(),
        }
    }

    pub fn from_automerge(doc: AutoCommit) -> CoupleDoc {
        CoupleDoc { doc }
    }

    pub fn automerge_mut(&mut self) -> &mut AutoCommit {
        &mut self.doc
    }

    pub fn put_member(&mut self, member: &MemberRecord) -> DocResult<()> {
        let obj = self
            .doc
            .put_object(ROOT, format!("{MEMBER}{}", member.id), ObjType::Map)?;
        self.doc.put(&obj, "name", member.name.as_str())?;
        self.doc
            .put(&obj, "signing_key", member.signing_key.as_str())?;
        Ok(())
    }

    pub fn members(&self) -> DocResult<Vec<MemberRecord>> {
        let mut out = Vec::new();
        for item in self
            .doc
            .map_range(ROOT, MEMBER.to_string().."m0".to_string())
        {
            let id = item.key.trim_start_matches(MEMBER).to_string();
            if let Some(obj) = get_obj(&self.doc, &ROOT, item.key.as_ref(), ObjType::Map)? {
                if let (Some(name), Some(signing_key)) = (
                    get_str(&self.doc, &obj, "name")?,
                    get_str(&self.doc, &obj, "signing_key")?,
                ) {
                    out.push(MemberRecord {
                        id,
                        name,
                        signing_key,
                    });
                }
            }
        }
        Ok(out)
    }

    /// Names `member`'s iroh key (hex) in its member record. Unsigned on purpose: only the
    /// member's own laptop and the partner's write this document, and a laptop reads only
    /// the partner's record this way, which the partner may set as it likes anyway.
    pub fn put_endpoint(&mut self, member: &str, endpoint: &str) -> DocResult<bool> {
        let Some(obj) = get_obj(&self.doc, &ROOT, &format!("{MEMBER}{member}"), ObjType::Map)?
        else {
            return Ok(false);
        };
        if get_str(&self.doc, &obj, "endpoint")?.as_deref() == Some(endpoint) {
            return Ok(false);
        }
        self.doc.put(&obj, "endpoint", endpoint)?;
        Ok(true)
    }

    /// The iroh key `member` named, if well formed.
    pub fn endpoint_of(&self, member: &str) -> Option<[u8; 32]> {
        let obj = get_obj(&self.doc, &ROOT, &format!("{MEMBER}{member}"), ObjType::Map).ok()??;
        let text = get_str(&self.doc, &obj, "endpoint").ok()??;
        let bytes = hex::decode(text).ok()?;
        <[u8; 32]>::try_from(bytes).ok()
    }

    /// Writes one signed item (a revision or a statement) under its own key.
    pub fn put_item(&mut self, item: &SignedItem) -> DocResult<()> {
        self.doc.put(ROOT, item.key.as_str(), item.value.as_str())
    }

    /// Whether the document holds exactly this item.
    pub fn has_item(&self, item: &SignedItem) -> DocResult<bool> {
        Ok(get_str(&self.doc, &ROOT, &item.key)?.as_deref() == Some(item.value.as_str()))
    }

    /// Everything about agreements, unverified: signed items, v1 agreements, and the keys
    /// that are neither (counted, never shown).
    pub fn sources(&self) -> DocResult<Sources> {
        let mut sources = Sources::default();
        for prefix in [REVISION_KEY, STATEMENT_KEY] {
            let end = format!("{}0", prefix.trim_end_matches('/'));
            for item in self.doc.map_range(ROOT, prefix.to_string()..end) {
                match &item.value {
                    ValueRef::Scalar(ScalarValueRef::Str(v)) => {
                        sources.items.insert(item.key.to_string(), v.to_string());
                    }
                    _ => sources.malformed.push(item.key.to_string()),
                }
            }
        }
        for item in self
            .doc
            .map_range(ROOT, AGREEMENT.to_string().."a0".to_string())
        {
            let id = item.key.trim_start_matches(AGREEMENT);
            let legacy = match get_obj(&self.doc, &ROOT, item.key.as_ref(), ObjType::Map)? {
                Some(obj) if is_agreement_id(id) => read_legacy(&self.doc, &obj, id.to_string())?,
                _ => None,
            };
            match legacy {
                Some(a) => {
                    sources.legacy.insert(a.id.clone(), a);
                }
                None => sources.malformed.push(item.key.to_string()),
            }
        }
        Ok(sources)
    }

    /// The signed items beside agreements (notes, questions, commitments, reveals),
    /// unverified. A value that is not a string is not an item and is left out.
    pub fn together_items(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for prefix in TOGETHER_KEYS {
            let end = format!("{}0", prefix.trim_end_matches('/'));
            for item in self.doc.map_range(ROOT, prefix.to_string()..end) {
                if let ValueRef::Scalar(ScalarValueRef::Str(v)) = &item.value {
                    out.insert(item.key.to_string(), v.to_string());
                }
            }
        }
        out
    }

    /// Publishes one version of `member`'s signed device list (its JSON); false when the
    /// document already holds exactly that.
    pub fn put_device_list(&mut self, member: &str, version: u64, json: &str) -> DocResult<bool> {
        let key = format!("{DEVICE_LIST}{member}/{version:020}");
        if get_str(&self.doc, &ROOT, &key)?.as_deref() == Some(json) {
            return Ok(false);
        }
        self.doc.put(ROOT, key, json)?;
        Ok(true)
    }

    /// The versions of `member`'s device list after version `after` the document holds,
    /// unchecked, oldest first (at most [`MAX_DEVICE_LISTS`]; a value that is not text is
    /// left out).
    pub fn device_lists(&self, member: &str, after: u64) -> Vec<String> {
        let start = format!("{DEVICE_LIST}{member}/{:020}", after.saturating_add(1));
        let end = format!("{DEVICE_LIST}{member}0");
        self.doc
            .map_range(ROOT, start..end)
            .filter_map(|item| match &item.value {
                ValueRef::Scalar(ScalarValueRef::Str(v)) => Some(v.to_string()),
                _ => None,
            })
            .take(MAX_DEVICE_LISTS)
            .collect()
    }

    /// How many agreements the document names (cheap: for `status`): distinct ids of
    /// signed revisions and of v1 agreements.
    pub fn agreement_count(&self) -> usize {
        let mut ids = std::collections::BTreeSet::new();
        for item in self
            .doc
            .map_range(ROOT, REVISION_KEY.to_string().."r0".to_string())
        {
            if let Some((id, _)) = item.key.trim_start_matches(REVISION_KEY).split_once('/') {
                ids.insert(id.to_string());
            }
        }
        for item in self
            .doc
            .map_range(ROOT, AGREEMENT.to_string().."a0".to_string())
        {
            ids.insert(item.key.trim_start_matches(AGREEMENT).to_string());
        }
        ids.len()
    }
}

fn table_key(verb: Verb) -> &'static str {
    match verb {
        Verb::Consent => "consents",
        Verb::Decline => "declines",
        Verb::Withdraw => "withdrawals",
    }
}

/// A v1 agreement object (see `LegacyAgreement`); `None` when it is not one.
fn read_legacy(doc: &AutoCommit, obj: &ObjId, id: String) -> DocResult<Option<LegacyAgreement>> {
    let (Some(title), Some(created_at), Some(proposed_by), Some(list)) = (
        get_str(doc, obj, "title")?,
        get_time(doc, obj, "created_at")?,
        get_str(doc, obj, "proposed_by")?,
        get_obj(doc, obj, "revisions", ObjType::List)?,
    ) else {
        return Ok(None);
    };
    let mut revisions = Vec::new();
    for i in 0..doc.length(&list) {
        let Some((Value::Object(ObjType::Map), rev)) = doc.get(&list, i)? else {
            continue;
        };
        if let (Some(text), Some(by), Some(at)) = (
            get_str(doc, &rev, "text")?,
            get_str(doc, &rev, "by")?,
            get_time(doc, &rev, "at")?,
        ) {
            revisions.push(LegacyRevision { text, by, at });
        }
    }
    if revisions.is_empty() {
        return Ok(None);
    }
    let mut records = Vec::new();
    for verb in [Verb::Consent, Verb::Decline, Verb::Withdraw] {
        let Some(table) = get_obj(doc, obj, table_key(verb), ObjType::Map)? else {
            continue;
        };
        for member in doc.keys(&table) {
            let Some(rec) = get_obj(doc, &table, &member, ObjType::Map)? else {
                continue;
            };
            if let (Some(hash), Some(at), Some(sig)) = (
                get_str(doc, &rec, "hash")?,
                get_time(doc, &rec, "at")?,
                get_str(doc, &rec, "sig")?,
            ) {
                records.push(LegacyRecord {
                    member,
                    verb,
                    hash,
                    at,
                    sig,
                    reason: get_str(doc, &rec, "reason")?,
                });
            }
        }
    }
    Ok(Some(LegacyAgreement {
        review_on: get_str(doc, obj, "review_on")?
            .and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok()),
        id,
        title,
        created_at,
        proposed_by,
        revisions,
        records,
    }))
}

#[cfg(test)]
mod tests;
