//! The decrypted journal, indexed in memory for the CLI's reads.
//!
//! Reading 10,000 entries out of automerge on every `list` would cost tens of
//! milliseconds; this index is built once at unlock and updated with each write, so
//! `list`, `--search` and `show` answer in well under a millisecond of daemon time. The
//! automerge document stays the source of truth; the index is derived and never stored.

use std::collections::BTreeSet;

use haven_shared::ipc::ListedEntry;
use haven_shared::model::{Entry, ListQuery};

/// The shortest id prefix shown in lists (a ULID's first 8 characters are its timestamp).
const MIN_SHORT_ID: usize = 8;

struct Indexed {
    entry: Entry,
    /// Lowercased title, body and tags, for case-insensitive search.
    text: String,
}

#[derive(Default)]
pub struct JournalIndex {
    /// Sorted by (created_at, id), oldest first.
    entries: Vec<Indexed>,
    ids: BTreeSet<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Resolve {
    NotFound,
    Ambiguous(Vec<String>),
}

impl JournalIndex {
    pub fn build(mut entries: Vec<Entry>) -> JournalIndex {
        entries.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        let ids = entries.iter().map(|e| e.id.clone()).collect();
        let entries = entries
            .into_iter()
            .map(|entry| Indexed {
                text: entry.search_text(),
                entry,
            })
            .collect();
        JournalIndex { entries, ids }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    fn position(&self, entry: &Entry) -> Result<usize, usize> {
        self.entries.binary_search_by(|i| {
            (i.entry.created_at, &i.entry.id).cmp(&(entry.created_at, &entry.id))
        })
    }

    pub fn upsert(&mut self, entry: Entry) {
        self.remove(&entry.id);
        let at = self.position(&entry).unwrap_or_else(|i| i);
        self.ids.insert(entry.id.clone());
        self.entries.insert(
            at,
            Indexed {
                text: entry.search_text(),
                entry,
            },
        );
    }

    pub fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    /// Adds entries not yet in the index (an import), sorting once rather than shifting
    /// the index for each.
    pub fn insert_many(&mut self, entries: Vec<Entry>) {
        for entry in entries {
            if self.ids.insert(entry.id.clone()) {
                self.entries.push(Indexed {
                    text: entry.search_text(),
                    entry,
                });
            }
        }
        self.entries.sort_by(|a, b| {
            (a.entry.created_at, &a.entry.id).cmp(&(b.entry.created_at, &b.entry.id))
        });
    }

    pub fn remove(&mut self, id: &str) -> Option<Entry> {
        if !self.ids.remove(id) {
            return None;
        }
        let at = self.entries.iter().position(|i| i.entry.id == id)?;
        Some(self.entries.remove(at).entry)
    }

    /// Finds the one entry whose id starts with `prefix` (case-insensitive), as git does.
    pub fn resolve(&self, prefix: &str) -> Result<&Entry, Resolve> {
        let prefix = prefix.trim().to_ascii_lowercase();
        if prefix.is_empty() {
            return Err(Resolve::NotFound);
        }
        let matches: Vec<&String> = self
            .ids
            .range(prefix.clone()..)
            .take_while(|id| id.starts_with(&prefix))
            .take(6)
            .collect();
        match matches.as_slice() {
            [] => Err(Resolve::NotFound),
            [one] => self.get(one).ok_or(Resolve::NotFound),
            many => Err(Resolve::Ambiguous(
                many.iter().take(5).map(|s| s.to_string()).collect(),
            )),
        }
    }

    pub fn get(&self, id: &str) -> Option<&Entry> {
        // The index is small enough that a scan from the newest end is fast and simple.
        self.entries
            .iter()
            .rev()
            .map(|i| &i.entry)
            .find(|e| e.id == id)
    }

    /// Pauses not finished yet, oldest first.
    pub fn open_pauses(&self) -> Vec<&Entry> {
        self.entries
            .iter()
            .map(|i| &i.entry)
            .filter(|e| e.pause.as_ref().is_some_and(|p| p.is_open()))
            .collect()
    }

    /// Entries written on `day` or later (by the day as written), oldest first.
    pub fn written_since(&self, day: chrono::NaiveDate) -> impl Iterator<Item = &Entry> {
        let start = self
            .entries
            .partition_point(|i| i.entry.created_at.date_naive() < day);
        self.entries[start..].iter().map(|i| &i.entry)
    }

    /// Newest first, filtered; returns the page and how many matched in all.
    pub fn query(&self, q: &ListQuery) -> (Vec<ListedEntry>, usize) {
        let words: Vec<String> = q
            .search
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        let tag = q
            .tag
            .as_deref()
            .map(|t| t.trim_start_matches(['#', '@']).to_lowercase());
        let limit = q.limit.unwrap_or(usize::MAX);
        let mut page = Vec::new();
        let mut total = 0;
        for item in self.entries.iter().rev() {
            let e = &item.entry;
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
            if !Entry::matches_words(&item.text, &words) {
                continue;
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
            .next_back();
        let after = self.ids.range::<str, _>((Excluded(id), Unbounded)).next();
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

    fn entry(id: &str, minutes: i64, body: &str, tags: &[&str]) -> Entry {
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
