//! The decrypted journal, indexed in memory for the CLI's reads.
//!
//! Reading 10,000 entries out of automerge on every `list` would cost tens of
//! milliseconds; this index is built once at unlock and updated with each write, so
//! `list`, `--search` and `show` answer in well under a millisecond of daemon time. The
//! automerge document stays the source of truth; the index is derived and never stored.
//!
//! `--search` goes through a word index (`words`), built on the first search and kept up
//! to date by every change here.

mod words;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use words::Finder;

use haven_shared::devices::journal_sync::{plan, Apply, Changes, Marks, Tombstone};
use haven_shared::ipc::ListedEntry;
use haven_shared::model::{Entry, ListQuery};

/// The shortest id prefix shown in lists (a ULID's first 8 characters are its timestamp).
const MIN_SHORT_ID: usize = 8;

#[derive(Default)]
pub struct JournalIndex {
    /// The entries by slot; a removed entry's slot is empty until an entry reuses it.
    slots: Vec<Option<Entry>>,
    free: Vec<u32>,
    /// The occupied slots sorted by (created_at, id), oldest first.
    order: Vec<u32>,
    ids: BTreeMap<String, u32>,
    /// The slots of pauses not finished yet (`status` and `now` ask for them on every call,
    /// and a scan of 100,000 entries for the two or three open ones cost a millisecond).
    open: std::collections::BTreeSet<u32>,
    /// Built on the first search, kept up to date after.
    words: OnceLock<Finder>,
    /// What the sync with the person's other devices compares, made when a device first
    /// asks and kept up to date by every change here after.
    marks: Option<Marks>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Resolve {
    NotFound,
    Ambiguous(Vec<String>),
}

fn is_open_pause(e: &Entry) -> bool {
    e.pause.as_ref().is_some_and(|p| p.is_open())
}

impl JournalIndex {
    /// The index of a whole journal (at unlock). Built in bulk: the ids map from one sorted
    /// run and the order from one sort, a third of the time of adding entries one by one.
    pub fn build(mut entries: Vec<Entry>) -> JournalIndex {
        entries.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        entries.dedup_by(|a, b| a.id == b.id);
        let ids: BTreeMap<String, u32> = entries
            .iter()
            .enumerate()
            .map(|(slot, e)| (e.id.clone(), u32::try_from(slot).unwrap_or(u32::MAX)))
            .collect();
        let mut order: Vec<u32> = (0..ids.len())
            .filter_map(|s| u32::try_from(s).ok())
            .collect();
        order.sort_by(|&a, &b| {
            let (a, b) = (&entries[a as usize], &entries[b as usize]);
            (a.created_at, &a.id).cmp(&(b.created_at, &b.id))
        });
        let open = (0..entries.len())
            .filter(|&s| is_open_pause(&entries[s]))
            .filter_map(|s| u32::try_from(s).ok())
            .collect();
        JournalIndex {
            slots: entries.into_iter().map(Some).collect(),
            free: Vec::new(),
            order,
            ids,
            open,
            words: OnceLock::new(),
            marks: None,
        }
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    fn entry(&self, slot: u32) -> &Entry {
        // `order` and `ids` name only occupied slots.
        self.slots[slot as usize]
            .as_ref()
            .unwrap_or_else(|| unreachable!("slot {slot} is named but empty"))
    }

    /// Where an entry with this (created_at, id) is, or goes, in `order`.
    fn position(&self, entry: &Entry) -> Result<usize, usize> {
        self.order.binary_search_by(|&s| {
            let e = self.entry(s);
            (e.created_at, &e.id).cmp(&(entry.created_at, &entry.id))
        })
    }

    /// Stores `entry` in a free slot (not yet in `order`).
    fn occupy(&mut self, entry: Entry) -> u32 {
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(None);
                u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
            }
        };
        self.ids.insert(entry.id.clone(), slot);
        if is_open_pause(&entry) {
            self.open.insert(slot);
        }
        if let Some(words) = self.words.get_mut() {
            words.add(slot, &entry);
        }
        if let Some(marks) = &mut self.marks {
            marks.put(&entry);
        }
        self.slots[slot as usize] = Some(entry);
        slot
    }

    pub fn upsert(&mut self, entry: Entry) {
        self.remove(&entry.id);
        let at = self.position(&entry).unwrap_or_else(|i| i);
        let slot = self.occupy(entry);
        self.order.insert(at, slot);
    }

    pub fn contains(&self, id: &str) -> bool {
        self.ids.contains_key(id)
    }

    /// Adds entries not yet in the index (an import, or the whole journal at unlock),
    /// sorting once rather than shifting the index for each.
    pub fn insert_many(&mut self, entries: Vec<Entry>) {
        for entry in entries {
            if !self.ids.contains_key(&entry.id) {
                let slot = self.occupy(entry);
                self.order.push(slot);
            }
        }
        let slots = &self.slots;
        let key = |s: &u32| {
            let e = slots[*s as usize].as_ref();
            e.map(|e| (e.created_at, e.id.as_str()))
        };
        self.order.sort_by(|a, b| key(a).cmp(&key(b)));
    }

    pub fn remove(&mut self, id: &str) -> Option<Entry> {
        let slot = self.ids.remove(id)?;
        let at = match self.position(self.slots.get(slot as usize)?.as_ref()?) {
            Ok(at) => Some(at),
            // Never expected (the order is kept sorted), but a slot left in the order
            // once emptied would be read as an entry.
            Err(_) => self.order.iter().position(|&s| s == slot),
        };
        if let Some(at) = at {
            self.order.remove(at);
        }
        let entry = self.slots.get_mut(slot as usize)?.take()?;
        self.open.remove(&slot);
        if let Some(words) = self.words.get_mut() {
            words.remove(slot, &entry);
        }
        self.free.push(slot);
        Some(entry)
    }

    /// Removes a deleted entry: unlike [`Self::remove`] (an entry about to be replaced),
    /// the deletion is marked for the person's other devices.
    pub fn delete(&mut self, tombstone: &Tombstone) -> Option<Entry> {
        let entry = self.remove(&tombstone.id);
        if let Some(marks) = &mut self.marks {
            marks.delete(tombstone);
        }
        entry
    }

    /// The marks the sync with the person's other devices compares; made now if no device
    /// asked before, from the entries here and the journal's `tombstones` and purge date.
    pub fn marks(
        &mut self,
        tombstones: impl FnOnce() -> (Vec<Tombstone>, Option<String>),
    ) -> &mut Marks {
        let slots = &self.slots;
        self.marks.get_or_insert_with(|| {
            let (deleted, purged) = tombstones();
            Marks::new(slots.iter().flatten(), deleted, purged)
        })
    }

    /// What a device holding `their` lacks of this journal (the marks made first if need
    /// be, as [`Self::marks`] does).
    pub fn changes_for(
        &mut self,
        their: &Marks,
        tombstones: impl FnOnce() -> (Vec<Tombstone>, Option<String>),
    ) -> Vec<Changes> {
        self.marks(tombstones);
        match &self.marks {
            Some(marks) => marks.changes_for(their, |id| self.get(id)),
            None => Vec::new(),
        }
    }

    /// What taking another device's `changes` would do here.
    pub fn plan(
        &mut self,
        changes: Changes,
        tombstones: impl FnOnce() -> (Vec<Tombstone>, Option<String>),
    ) -> (Apply, usize) {
        self.marks(tombstones);
        match &self.marks {
            Some(marks) => plan(marks, changes, |id| self.get(id)),
            None => (Apply::default(), 0),
        }
    }

    /// The marks, if a device asked for them since the unlock.
    pub fn marks_if_made(&mut self) -> Option<&mut Marks> {
        self.marks.as_mut()
    }

    /// An entry by its exact id.
    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.ids.get(id).map(|&slot| self.entry(slot))
    }

    /// Finds the one entry whose id starts with `prefix` (case-insensitive), as git does.
    pub fn resolve(&self, prefix: &str) -> Result<&Entry, Resolve> {
        let prefix = prefix.trim().to_ascii_lowercase();
        if prefix.is_empty() {
            return Err(Resolve::NotFound);
        }
        let matches: Vec<(&String, &u32)> = self
            .ids
            .range(prefix.clone()..)
            .take_while(|(id, _)| id.starts_with(&prefix))
            .take(6)
            .collect();
        match matches.as_slice() {
            [] => Err(Resolve::NotFound),
            [(_, slot)] => Ok(self.entry(**slot)),
            many => Err(Resolve::Ambiguous(
                many.iter().take(5).map(|(id, _)| id.to_string()).collect(),
            )),
        }
    }

    /// Pauses not finished yet, oldest first.
    pub fn open_pauses(&self) -> Vec<&Entry> {
        let mut open: Vec<&Entry> = self.open.iter().map(|&s| self.entry(s)).collect();
        open.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        open
    }

    /// Entries written on `day` or later (by the day as written), oldest first.
    pub fn written_since(&self, day: chrono::NaiveDate) -> impl Iterator<Item = &Entry> {
        let start = self
            .order
            .partition_point(|&s| self.entry(s).created_at.date_naive() < day);
        self.order[start..].iter().map(|&s| self.entry(s))
    }

    /// Newest first, filtered; returns the page and how many matched in all.
    pub fn query(&self, q: &ListQuery) -> (Vec<ListedEntry>, usize) {
        let words: Vec<String> = q
            .search
            .as_deref()
            .unwrap_or("")
            .to_lowercase()
            .split_whitespace()
            .map(String::from)
            .collect();
        let found = (!words.is_empty()).then(|| {
            self.words
                .get_or_init(|| Finder::build(&self.slots))
                .matching(&words, &self.slots)
        });
        let tag = q
            .tag
            .as_deref()
            .map(|t| t.trim_start_matches(['#', '@']).to_lowercase());
        let limit = q.limit.unwrap_or(usize::MAX);
        // The order is by time: `--since` and `--until` are a range of it, found by halving.
        let from = q.since.map_or(0, |since| {
            self.order
                .partition_point(|&s| self.entry(s).created_at < since)
        });
        let to = q.until.map_or(self.order.len(), |until| {
            self.order
                .partition_point(|&s| self.entry(s).created_at < until)
        });
        let range = self.order.get(from..to.max(from)).unwrap_or_default();
        // With nothing else to filter on, the page is the range's newest entries and the
        // total its length: `list -n 10` reads ten entries of a hundred thousand.
        let unfiltered = found.is_none() && tag.is_none() && q.kind.is_none();
        let mut page = Vec::new();
        let mut total = if unfiltered { range.len() } else { 0 };
        for &slot in range.iter().rev() {
            if unfiltered && page.len() >= limit {
                break;
            }
            // First the bit, which touches no entry: a search over a million entries
            // then reads only those that match.
            if found.as_ref().is_some_and(|f| !f.has(slot)) {
                continue;
            }
            let e = self.entry(slot);
            if q.kind.is_some_and(|k| k != e.kind) {
                continue;
            }
            if let Some(tag) = &tag {
                if !e.tags.iter().any(|t| t.to_lowercase() == *tag) {
                    continue;
                }
            }
            if !unfiltered {
                total += 1;
            }
            if page.len() < limit {
                let mut entry = e.clone();
                if q.brief {
                    entry.body = entry.headline().chars().take(120).collect();
                }
                page.push(ListedEntry {
                    short_id: self.short_id(&e.id),
                    entry,
                });
            }
        }
        (page, total)
    }

    /// The shortest prefix of `id` (at least 8 characters) that no other id shares.
    pub fn short_id(&self, id: &str) -> String {
        let common = |other: Option<&String>| {
            other.map_or(0, |o| {
                o.chars()
                    .zip(id.chars())
                    .take_while(|(a, b)| a == b)
                    .count()
            })
        };
        use std::ops::Bound::{Excluded, Unbounded};
        let before = self
            .ids
            .range::<str, _>((Unbounded, Excluded(id)))
            .next_back()
            .map(|(k, _)| k);
        let after = self
            .ids
            .range::<str, _>((Excluded(id), Unbounded))
            .next()
            .map(|(k, _)| k);
        // Counted in characters: an id from an imported file is checked, but a slice
        // must never land inside a character whatever the id holds.
        let len = (common(before).max(common(after)) + 1)
            .max(MIN_SHORT_ID)
            .min(id.chars().count());
        id.chars().take(len).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Duration};
    use haven_shared::model::Kind;

    /// An entry written `minutes` after a fixed moment (the word index's tests use it too).
    pub(super) fn entry(id: &str, minutes: i64, body: &str, tags: &[&str]) -> Entry {
        let t = DateTime::parse_from_rfc3339("2026-11-01T10:00:00+01:00").expect("t")
            + Duration::minutes(minutes);
        Entry {
            id: id.into(),
            kind: if tags.contains(&"t") {
                Kind::Trigger
            } else {
                Kind::Note
            },
            title: String::new(),
            body: body.into(),
            tags: tags.iter().map(|s| s.to_string()).collect(),
            mood: None,
            intensity: None,
            created_at: t,
            updated_at: t,
            record: None,
            pause: None,
            feelings: Vec::new(),
        }
    }

    proptest::proptest! {
        /// The bulk build at unlock gives the same index as entries added one at a time:
        /// the same order (ties in time broken by id), every id resolving, a write after
        /// it landing in its place.
        #[test]
        fn a_bulk_build_is_the_same_as_adding_one_by_one(
            written in proptest::collection::vec((0u8..40, 0i64..6), 0..40),
        ) {
            let entries: Vec<Entry> = written
                .iter()
                .map(|(id, minute)| entry(&format!("id{id:02}"), *minute, "x", &[]))
                .collect();
            let mut one_by_one = JournalIndex::default();
            let mut latest = BTreeMap::new();
            for e in &entries {
                latest.insert(e.id.clone(), e.clone());
            }
            for e in latest.values() {
                one_by_one.upsert(e.clone());
            }
            let mut bulk = JournalIndex::build(latest.values().rev().cloned().collect());
            let all = ListQuery::default();
            let ids = |idx: &JournalIndex| -> Vec<String> {
                idx.query(&all).0.into_iter().map(|e| e.entry.id).collect()
            };
            proptest::prop_assert_eq!(ids(&bulk), ids(&one_by_one));
            proptest::prop_assert_eq!(bulk.len(), latest.len());
            for id in latest.keys() {
                proptest::prop_assert_eq!(bulk.resolve(id).map(|e| e.id.clone()), Ok(id.clone()));
            }
            bulk.upsert(entry("id99", 3, "x", &[]));
            one_by_one.upsert(entry("id99", 3, "x", &[]));
            proptest::prop_assert_eq!(ids(&bulk), ids(&one_by_one));
        }
    }

    proptest::proptest! {
        /// `list`'s filters and page, against a plain filter of every entry: the time
        /// range found by halving and the total taken from its length give the same page
        /// and the same count as reading each entry.
        #[test]
        fn a_page_and_its_total_are_those_of_a_plain_filter(
            written in proptest::collection::vec((0u8..30, 0i64..20, 0usize..4), 0..40),
            since in proptest::option::of(0i64..22),
            until in proptest::option::of(0i64..22),
            tag in proptest::option::of(0usize..4),
            trigger in proptest::option::of(proptest::bool::ANY),
            limit in proptest::option::of(0usize..6),
        ) {
            const TAGS: [&[&str]; 4] = [&[], &["work"], &["t"], &["work", "t"]];
            let mut idx = JournalIndex::default();
            let mut kept = BTreeMap::new();
            for (id, minute, tags) in written {
                let e = entry(&format!("id{id:02}"), minute, "x", TAGS[tags]);
                kept.insert(e.id.clone(), e.clone());
                idx.upsert(e);
            }
            let at = |m: i64| entry("", m, "", &[]).created_at;
            let tag = tag.map(|t| ["work", "t", "home", "WORK"][t]);
            let kind = trigger.map(|t| if t { Kind::Trigger } else { Kind::Note });
            let q = ListQuery {
                since: since.map(at),
                until: until.map(at),
                tag: tag.map(String::from),
                kind,
                limit,
                ..Default::default()
            };
            let mut expected: Vec<&Entry> = kept
                .values()
                .filter(|e| q.since.is_none_or(|s| e.created_at >= s))
                .filter(|e| q.until.is_none_or(|u| e.created_at < u))
                .filter(|e| kind.is_none_or(|k| e.kind == k))
                .filter(|e| tag.is_none_or(|t| e.tags.iter().any(|x| x.eq_ignore_ascii_case(t))))
                .collect();
            expected.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
            let total = expected.len();
            let page: Vec<String> = expected
                .into_iter()
                .take(limit.unwrap_or(usize::MAX))
                .map(|e| e.id.clone())
                .collect();
            let (got, got_total) = idx.query(&q);
            let got: Vec<String> = got.into_iter().map(|e| e.entry.id).collect();
            proptest::prop_assert_eq!((got, got_total), (page, total));
        }
    }

    #[test]
    fn open_pauses_follow_every_write_edit_and_delete() {
        let pause = |id: &str, minute: i64, finished: bool| {
            let mut e = entry(id, minute, "wait", &[]);
            e.pause = Some(Box::new(haven_shared::model::PauseRecord {
                minutes: 20,
                finished_at: finished.then_some(e.created_at),
                ..Default::default()
            }));
            e
        };
        let ids = |idx: &JournalIndex| -> Vec<String> {
            idx.open_pauses().iter().map(|e| e.id.clone()).collect()
        };
        let mut idx = JournalIndex::build(vec![
            pause("c", 5, false),
            pause("a", 1, false),
            pause("b", 3, true),
            entry("d", 0, "not a pause", &[]),
        ]);
        assert_eq!(ids(&idx), ["a", "c"], "open ones, oldest first");
        idx.upsert(pause("b", 3, false));
        idx.upsert(pause("a", 1, true));
        assert_eq!(ids(&idx), ["b", "c"]);
        idx.remove("c");
        assert_eq!(ids(&idx), ["b"]);
        idx.upsert(pause("e", 0, false));
        assert_eq!(ids(&idx), ["e", "b"]);
        idx.insert_many(vec![pause("f", 9, false)]);
        assert_eq!(ids(&idx), ["e", "b", "f"]);
    }

    #[test]
    fn prefixes_resolve_like_git() {
        let idx = JournalIndex::build(vec![
            entry("01aaa1", 0, "x", &[]),
            entry("01aab2", 1, "y", &[]),
            entry("02ccc", 2, "z", &[]),
        ]);
        assert_eq!(idx.resolve("02").map(|e| e.id.as_str()), Ok("02ccc"));
        assert_eq!(idx.resolve("01AAB").map(|e| e.id.as_str()), Ok("01aab2"));
        assert!(matches!(idx.resolve("01aa"), Err(Resolve::Ambiguous(v)) if v.len() == 2));
        assert_eq!(idx.resolve("03").err(), Some(Resolve::NotFound));
        assert_eq!(idx.resolve("").err(), Some(Resolve::NotFound));
    }

    #[test]
    fn queries_filter_and_page_newest_first() {
        let mut idx = JournalIndex::build(vec![
            entry("a", 0, "Felt Anxious at work", &["work"]),
            entry("b", 10, "calm evening", &["home"]),
            entry("c", 20, "anxious again, WORK deadline", &["work", "t"]),
        ]);
        let q = |search: Option<&str>, tag: Option<&str>, limit| ListQuery {
            search: search.map(String::from),
            tag: tag.map(String::from),
            limit,
            ..Default::default()
        };
        let ids = |r: (Vec<ListedEntry>, usize)| {
            (r.0.into_iter().map(|e| e.entry.id).collect::<Vec<_>>(), r.1)
        };
        assert_eq!(
            ids(idx.query(&q(Some("anxious work"), None, None))),
            (vec!["c".into(), "a".into()], 2)
        );
        assert_eq!(
            ids(idx.query(&q(None, Some("#home"), None))),
            (vec!["b".into()], 1)
        );
        assert_eq!(
            ids(idx.query(&q(None, None, Some(1)))),
            (vec!["c".into()], 3)
        );
        let since = ListQuery {
            since: Some(entry("x", 5, "", &[]).created_at),
            ..Default::default()
        };
        assert_eq!(ids(idx.query(&since)).1, 2);
        idx.remove("c");
        assert_eq!(
            ids(idx.query(&q(Some("anxious"), None, None))).0,
            vec!["a".to_string()]
        );
        idx.upsert(entry("a", 30, "edited", &[]));
        assert_eq!(
            ids(idx.query(&q(None, None, Some(1)))).0,
            vec!["a".to_string()]
        );
    }

    /// The word index finds exactly what a case-insensitive substring search over each
    /// entry's text finds, through writes, edits and deletions, and never a deleted entry.
    mod against_a_scan {
        use super::*;
        use proptest::prelude::*;

        const WORDS: &[&str] = &[
            "Anxious",
            "anxiously",
            "calm",
            "ΣΟΦΊΑ",
            "σοφία",
            "don't",
            "river.",
            "self-soothing",
            "work",
            "WORKED",
            "naïve",
            "🙂",
            "a",
            "no\u{a0}break",
            "tab\tbed",
        ];

        #[derive(Debug, Clone)]
        enum Op {
            Write(usize, Vec<usize>),
            Delete(usize),
            Search(Vec<String>),
        }

        fn op() -> impl Strategy<Value = Op> {
            let text = proptest::collection::vec(0..WORDS.len(), 0..6);
            let query = proptest::collection::vec(
                (0..WORDS.len(), 0usize..4, 1usize..6).prop_map(|(w, from, len)| {
                    let chars: Vec<char> = WORDS[w].chars().collect();
                    let from = from.min(chars.len().saturating_sub(1));
                    let to = (from + len).min(chars.len());
                    chars[from..to].iter().collect::<String>().to_uppercase()
                }),
                1..3,
            );
            prop_oneof![
                (0usize..8, text).prop_map(|(id, t)| Op::Write(id, t)),
                (0usize..8).prop_map(Op::Delete),
                query.prop_map(Op::Search),
            ]
        }

        proptest! {
            #[test]
            fn same_results_as_a_substring_scan(ops in proptest::collection::vec(op(), 1..40)) {
                let mut idx = JournalIndex::build(Vec::new());
                let mut kept: BTreeMap<String, String> = BTreeMap::new();
                for (n, op) in ops.into_iter().enumerate() {
                    match op {
                        Op::Write(id, words) => {
                            let body: Vec<&str> = words.iter().map(|&w| WORDS[w]).collect();
                            let body = body.join(" ");
                            let id = format!("id{id}");
                            idx.upsert(entry(&id, n as i64, &body, &[]));
                            kept.insert(id, body.to_lowercase());
                        }
                        Op::Delete(id) => {
                            let id = format!("id{id}");
                            prop_assert_eq!(idx.remove(&id).is_some(), kept.remove(&id).is_some());
                        }
                        Op::Search(words) => {
                            let q = ListQuery { search: Some(words.join(" ")), ..Default::default() };
                            let mut found: Vec<String> =
                                idx.query(&q).0.into_iter().map(|e| e.entry.id).collect();
                            found.sort();
                            // As `--search` reads it: split at any whitespace.
                            let lower: Vec<String> = words
                                .join(" ")
                                .to_lowercase()
                                .split_whitespace()
                                .map(String::from)
                                .collect();
                            let expected: Vec<String> = kept
                                .iter()
                                .filter(|(_, text)| lower.iter().all(|w| text.contains(w.as_str())))
                                .map(|(id, _)| id.clone())
                                .collect();
                            prop_assert_eq!(found, expected);
                        }
                    }
                    prop_assert_eq!(idx.len(), kept.len());
                }
            }
        }
    }

    #[test]
    fn short_ids_are_unique_and_at_least_eight_long() {
        let idx = JournalIndex::build(vec![
            entry("01jdaaaaaaaa1", 0, "x", &[]),
            entry("01jdaaaaaaab2", 1, "x", &[]),
            entry("01zzzzzzzzzz3", 2, "x", &[]),
        ]);
        assert_eq!(idx.short_id("01jdaaaaaaaa1"), "01jdaaaaaaaa");
        assert_eq!(idx.short_id("01zzzzzzzzzz3"), "01zzzzzz");
    }
}
