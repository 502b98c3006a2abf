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
use std::collections::BTreeMap;

use ed25519_dalek::SigningKey;

use crate::model::agreement::{
    member_id_of, text_hash, Agreement, ConsentRecord, MemberId, Revision, Verb,
};
use crate::model::journal::Entry;

const ENTRY: &str = "e/";
const AGREEMENT: &str = "a/";
const MEMBER: &str = "m/";

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

    /// Removes an entry from the current state (its text stays in history until `purge`).
    pub fn delete_entry(&mut self, id: &str) -> DocResult<bool> {
        let key = format!("{ENTRY}{id}");
        if self.doc.get(ROOT, key.as_str())?.is_none() {
            return Ok(false);
        }
        self.doc.delete(ROOT, key.as_str())?;
        Ok(true)
    }

    /// Every readable entry; malformed ones are skipped and counted.
    pub fn entries(&self) -> DocResult<(Vec<Entry>, usize)> {
        let mut out = Vec::new();
        let mut skipped = 0;
        for item in self
            .doc
            .map_range(ROOT, ENTRY.to_string().."e0".to_string())
        {
            let parsed = match &item.value {
                ValueRef::Scalar(ScalarValueRef::Str(json)) => {
                    serde_json::from_str::<Entry>(json).ok()
                }
                _ => None,
            };
            match parsed {
                Some(e) if item.key.strip_prefix(ENTRY) == Some(e.id.as_str()) => out.push(e),
                _ => skipped += 1,
            }
        }
        Ok((out, skipped))
    }

    /// The same entries in a new document with no history: what `purge` writes, so deleted
    /// and overwritten text is gone from the stored log too.
    pub fn rebuilt(&self) -> DocResult<JournalDoc> {
        let mut fresh = JournalDoc::new();
        for entry in self.entries()?.0 {
            fresh.put_entry(&entry)?;
        }
        Ok(fresh)
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

    /// Writes a new agreement with its first revision and the proposer's signed consent.
    pub fn put_agreement(&mut self, a: &Agreement) -> DocResult<()> {
        let obj = self
            .doc
            .put_object(ROOT, format!("{AGREEMENT}{}", a.id), ObjType::Map)?;
        let d = &mut self.doc;
        d.put(&obj, "title", a.title.as_str())?;
        d.put(&obj, "created_at", a.created_at.to_rfc3339())?;
        d.put(&obj, "proposed_by", a.proposed_by.as_str())?;
        if let Some(day) = a.review_on {
            d.put(&obj, "review_on", day.format("%Y-%m-%d").to_string())?;
        }
        let revisions = d.put_object(&obj, "revisions", ObjType::List)?;
        for (i, r) in a.revisions.iter().enumerate() {
            let rev = d.insert_object(&revisions, i, ObjType::Map)?;
            write_revision(d, &rev, r)?;
        }
        for (verb, table) in [
            (Verb::Consent, &a.consents),
            (Verb::Decline, &a.declines),
            (Verb::Withdraw, &a.withdrawals),
        ] {
            let t = d.put_object(&obj, table_key(verb), ObjType::Map)?;
            for (member, record) in table {
                write_record(d, &t, member, record)?;
            }
        }
        Ok(())
    }

    fn agreement_obj(&self, id: &str) -> DocResult<Option<ObjId>> {
        get_obj(&self.doc, &ROOT, &format!("{AGREEMENT}{id}"), ObjType::Map)
    }

    /// Appends a revision. Concurrent revisions on two devices both stay in the list.
    pub fn add_revision(&mut self, id: &str, revision: &Revision) -> DocResult<bool> {
        let Some(obj) = self.agreement_obj(id)? else {
            return Ok(false);
        };
        let Some(list) = get_obj(&self.doc, &obj, "revisions", ObjType::List)? else {
            return Ok(false);
        };
        let end = self.doc.length(&list);
        let rev = self.doc.insert_object(&list, end, ObjType::Map)?;
        write_revision(&mut self.doc, &rev, revision)?;
        Ok(true)
    }

    /// Records a member's signed consent, decline or withdrawal.
    pub fn put_record(
        &mut self,
        id: &str,
        verb: Verb,
        member: &str,
        record: &ConsentRecord,
    ) -> DocResult<bool> {
        let Some(obj) = self.agreement_obj(id)? else {
            return Ok(false);
        };
        let table = match get_obj(&self.doc, &obj, table_key(verb), ObjType::Map)? {
            Some(t) => t,
            None => self.doc.put_object(&obj, table_key(verb), ObjType::Map)?,
        };
        write_record(&mut self.doc, &table, member, record)?;
        Ok(true)
    }

    /// Removes a member's record of `verb` (an accept clears one's own decline, say).
    pub fn remove_record(&mut self, id: &str, verb: Verb, member: &str) -> DocResult<()> {
        let Some(obj) = self.agreement_obj(id)? else {
            return Ok(());
        };
        if let Some(table) = get_obj(&self.doc, &obj, table_key(verb), ObjType::Map)? {
            if self.doc.get(&table, member)?.is_some() {
                self.doc.delete(&table, member)?;
            }
        }
        Ok(())
    }

    pub fn agreement(&self, id: &str) -> DocResult<Option<Agreement>> {
        match self.agreement_obj(id)? {
            Some(obj) => read_agreement(&self.doc, &obj, id.to_string()),
            None => Ok(None),
        }
    }

    /// Every readable agreement; malformed ones (a partner's buggy or hostile device) are
    /// skipped rather than failing the whole list.
    pub fn agreements(&self) -> DocResult<Vec<Agreement>> {
        let mut out = Vec::new();
        for item in self
            .doc
            .map_range(ROOT, AGREEMENT.to_string().."a0".to_string())
        {
            let id = item.key.trim_start_matches(AGREEMENT).to_string();
            if let Some(obj) = get_obj(&self.doc, &ROOT, item.key.as_ref(), ObjType::Map)? {
                if let Some(a) = read_agreement(&self.doc, &obj, id)? {
                    out.push(a);
                }
            }
        }
        Ok(out)
    }

    pub fn agreement_ids(&self) -> Vec<String> {
        self.doc
            .map_range(ROOT, AGREEMENT.to_string().."a0".to_string())
            .map(|item| item.key.trim_start_matches(AGREEMENT).to_string())
            .collect()
    }
}

/// Why an agreement verb could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum VerbError {
    #[error("no agreement {0}")]
    NotFound(String),
    #[error(
        "you wrote the latest text of this agreement: revise or withdraw it instead of declining"
    )]
    OwnRevision,
    #[error("the text is the same as the current one")]
    SameText,
    #[error(transparent)]
    Doc(#[from] AutomergeError),
}

/// The verbs people use on agreements. Each writes only the acting member's own records,
/// signed with their key; the status rule in `model::agreement` does the rest.
impl CoupleDoc {
    pub fn propose(
        &mut self,
        key: &SigningKey,
        id: &str,
        title: &str,
        text: &str,
        review_on: Option<NaiveDate>,
        now: DateTime<FixedOffset>,
    ) -> DocResult<Agreement> {
        let me = member_id_of(&key.verifying_key());
        let mut consents = BTreeMap::new();
        consents.insert(
            me.clone(),
            ConsentRecord::sign(key, id, &text_hash(text), Verb::Consent, now, None),
        );
        let agreement = Agreement {
            id: id.to_string(),
            title: title.to_string(),
            created_at: now,
            proposed_by: me.clone(),
            review_on,
            revisions: vec![Revision {
                text: text.to_string(),
                by: me,
                at: now,
            }],
            consents,
            declines: BTreeMap::new(),
            withdrawals: BTreeMap::new(),
        };
        self.put_agreement(&agreement)?;
        Ok(agreement)
    }

    /// A new text, consented to by its author (and only by them).
    pub fn revise(
        &mut self,
        key: &SigningKey,
        id: &str,
        text: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<(), VerbError> {
        let current = self
            .agreement(id)?
            .ok_or_else(|| VerbError::NotFound(id.to_string()))?;
        if current.latest().is_some_and(|r| r.text == text) {
            return Err(VerbError::SameText);
        }
        let me = member_id_of(&key.verifying_key());
        self.add_revision(
            id,
            &Revision {
                text: text.to_string(),
                by: me.clone(),
                at: now,
            },
        )?;
        self.sign_latest(key, id, text, Verb::Consent, now, None)?;
        self.remove_record(id, Verb::Withdraw, &me)?;
        self.remove_record(id, Verb::Decline, &me)?;
        Ok(())
    }

    /// Consent to the latest text; clears one's own decline or withdrawal.
    pub fn accept(
        &mut self,
        key: &SigningKey,
        id: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<(), VerbError> {
        let text = self.latest_text(id)?;
        let me = member_id_of(&key.verifying_key());
        self.sign_latest(key, id, &text, Verb::Consent, now, None)?;
        self.remove_record(id, Verb::Decline, &me)?;
        self.remove_record(id, Verb::Withdraw, &me)?;
        Ok(())
    }

    /// Decline the partner's latest text.
    pub fn decline(
        &mut self,
        key: &SigningKey,
        id: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<(), VerbError> {
        let agreement = self
            .agreement(id)?
            .ok_or_else(|| VerbError::NotFound(id.to_string()))?;
        let me = member_id_of(&key.verifying_key());
        let latest = agreement
            .latest()
            .ok_or_else(|| VerbError::NotFound(id.to_string()))?;
        if latest.by == me {
            return Err(VerbError::OwnRevision);
        }
        self.sign_latest(key, id, &latest.text.clone(), Verb::Decline, now, None)?;
        self.remove_record(id, Verb::Consent, &me)?;
        Ok(())
    }

    /// Withdraw consent. Always allowed, needs nobody's agreement.
    pub fn withdraw(
        &mut self,
        key: &SigningKey,
        id: &str,
        reason: Option<String>,
        now: DateTime<FixedOffset>,
    ) -> Result<(), VerbError> {
        let text = self.latest_text(id)?;
        let me = member_id_of(&key.verifying_key());
        self.sign_latest(key, id, &text, Verb::Withdraw, now, reason)?;
        self.remove_record(id, Verb::Consent, &me)?;
        Ok(())
    }

    fn latest_text(&self, id: &str) -> Result<String, VerbError> {
        self.agreement(id)?
            .and_then(|a| a.latest().map(|r| r.text.clone()))
            .ok_or_else(|| VerbError::NotFound(id.to_string()))
    }

    fn sign_latest(
        &mut self,
        key: &SigningKey,
        id: &str,
        text: &str,
        verb: Verb,
        now: DateTime<FixedOffset>,
        reason: Option<String>,
    ) -> Result<(), VerbError> {
        let me = member_id_of(&key.verifying_key());
        let record = ConsentRecord::sign(key, id, &text_hash(text), verb, now, reason);
        if !self.put_record(id, verb, &me, &record)? {
            return Err(VerbError::NotFound(id.to_string()));
        }
        Ok(())
    }
}

fn table_key(verb: Verb) -> &'static str {
    match verb {
        Verb::Consent => "consents",
        Verb::Decline => "declines",
        Verb::Withdraw => "withdrawals",
    }
}

fn write_revision(d: &mut AutoCommit, obj: &ObjId, r: &Revision) -> DocResult<()> {
    d.put(obj, "text", r.text.as_str())?;
    d.put(obj, "by", r.by.as_str())?;
    d.put(obj, "at", r.at.to_rfc3339())?;
    Ok(())
}

fn write_record(
    d: &mut AutoCommit,
    table: &ObjId,
    member: &str,
    r: &ConsentRecord,
) -> DocResult<()> {
    let obj = d.put_object(table, member, ObjType::Map)?;
    d.put(&obj, "hash", r.hash.as_str())?;
    d.put(&obj, "at", r.at.to_rfc3339())?;
    d.put(&obj, "sig", r.sig.as_str())?;
    if let Some(reason) = &r.reason {
        d.put(&obj, "reason", reason.as_str())?;
    }
    Ok(())
}

fn read_records(
    doc: &AutoCommit,
    obj: &ObjId,
    verb: Verb,
) -> DocResult<BTreeMap<MemberId, ConsentRecord>> {
    let mut out = BTreeMap::new();
    let Some(table) = get_obj(doc, obj, table_key(verb), ObjType::Map)? else {
        return Ok(out);
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
            out.insert(
                member,
                ConsentRecord {
                    hash,
                    at,
                    sig,
                    reason: get_str(doc, &rec, "reason")?,
                },
            );
        }
    }
    Ok(out)
}

fn read_agreement(doc: &AutoCommit, obj: &ObjId, id: String) -> DocResult<Option<Agreement>> {
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
            revisions.push(Revision { text, by, at });
        }
    }
    if revisions.is_empty() {
        return Ok(None);
    }
    Ok(Some(Agreement {
        review_on: get_str(doc, obj, "review_on")?
            .and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok()),
        consents: read_records(doc, obj, Verb::Consent)?,
        declines: read_records(doc, obj, Verb::Decline)?,
        withdrawals: read_records(doc, obj, Verb::Withdraw)?,
        id,
        title,
        created_at,
        proposed_by,
        revisions,
    }))
}

#[cfg(test)]
mod tests;
