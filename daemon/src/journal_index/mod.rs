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
    /// Built on the first search, kept up to date after.
    words: OnceLock<Finder>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Resolve {
    NotFound,
    Ambiguous(Vec<String>),
}

impl JournalIndex {
    pub fn build(entries: Vec<Entry>) -> JournalIndex {
        let mut index = JournalIndex::default();
        index.insert_many(entries);
        index
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
        if let Some(words) = self.words.get_mut() {
            words.add(slot, &entry);
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
        if let Some(words) = self.words.get_mut() {
            words.remove(slot, &entry);
        }
        self.free.push(slot);
        Some(entry)
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

    /// Every entry, oldest first.
    fn oldest_first(&self) -> impl DoubleEndedIterator<Item = &Entry> {
        self.order.iter().map(|&s| self.entry(s))
    }

    /// Pauses not finished yet, oldest first.
    pub fn open_pauses(&self) -> Vec<&Entry> {
        self.oldest_first()
            .filter(|e| e.pause.as_ref().is_some_and(|p| p.is_open()))
            .collect()
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
        let mut page = Vec::new();
        let mut total = 0;
        for &slot in self.order.iter().rev() {
            // First the bit, which touches no entry: a search over a million entries
            // then reads only those that match.
            if found.as_ref().is_some_and(|f| !f.has(slot)) {
                continue;
            }
            let e = self.entry(slot);
            if let Some(since) = q.since {
                if e.created_at < since {
                    // Sorted by time: everything further is older still.
                    break;
                }
            }
            if q.until.is_some_and(|u| e.created_at >= u) || q.kind.is_some_and(|k| k != e.kind) {
                continue;
            }
            if let Some(tag) = &tag {
                if !e.tags.iter().any(|t| t.to_lowercase() == *tag) {
                    continue;
                }
            }
            total += 1;
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
