//! What `--search` goes through: each lowercased word of an entry's searchable text (split
//! at ASCII whitespace, which is fast), with the entries that hold it.
//!
//! A search word matches every indexed word that contains it, so the results are exactly
//! those of a case-insensitive substring search over the text: a search word holds no
//! whitespace of any kind, so it never spans two indexed words. The longest search word
//! goes first; once the entries left are few, their own text is read for the other words
//! rather than the whole vocabulary again.
//!
//! A journal whose words are too many to index well (an import of unique tokens: hashes,
//! base64) is searched by reading every entry's text instead, as before the index: slower
//! (tens of milliseconds at 100,000 entries), with no memory of its own. Built on the first
//! search rather than at unlock: 100,000 entries take about half a second to index, which
//! an unlock should not pay for a search that may never come.

use std::collections::HashMap;

use roaring::RoaringBitmap;

use haven_shared::model::Entry;

/// Past this many distinct words, or this many bytes of them, the journal is not indexed:
/// a real journal of ten years has a few hundred thousand at most (with punctuation).
const MAX_WORDS: usize = 500_000;
const MAX_WORD_BYTES: usize = 16 << 20;
/// A search narrowed to this many entries reads their text for its other words.
const READ_UP_TO: usize = 1024;

pub enum Finder {
    Words(WordIndex),
    /// Too many distinct words: every search reads the entries' text.
    Scan,
}

pub struct WordIndex {
    /// Each word with the slots of the entries that hold it: a roaring bitmap, two bytes
    /// a slot for a rare word and one bit a slot for a common one (a `Vec<u32>` took four
    /// bytes a slot, and up to twice that once grown).
    postings: HashMap<Box<str>, RoaringBitmap, foldhash::fast::RandomState>,
    /// The bytes of the words themselves.
    bytes: usize,
}

impl Finder {
    pub fn build(slots: &[Option<Entry>]) -> Finder {
        let mut finder = Finder::Words(WordIndex {
            postings: HashMap::default(),
            bytes: 0,
        });
        for (slot, entry) in slots.iter().enumerate() {
            if let (Some(entry), Ok(slot)) = (entry, u32::try_from(slot)) {
                finder.add(slot, entry);
                if matches!(finder, Finder::Scan) {
                    break;
                }
            }
        }
        finder
    }

    pub fn add(&mut self, slot: u32, entry: &Entry) {
        if let Finder::Words(index) = self {
            if !index.add(slot, entry) {
                tracing::info!(
                    words = index.postings.len(),
                    "the journal's words are too many to index: searches read every entry"
                );
                *self = Finder::Scan;
            }
        }
    }

    pub fn remove(&mut self, slot: u32, entry: &Entry) {
        if let Finder::Words(index) = self {
            index.remove(slot, entry);
        }
    }

    /// The slots whose text holds every one of `words` (lowercased, no whitespace).
    pub fn matching(&self, words: &[String], slots: &[Option<Entry>]) -> Slots {
        let mut words: Vec<&str> = words.iter().map(String::as_str).collect();
        words.sort_unstable_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        words.dedup();
        let index = match self {
            Finder::Words(index) => index,
            Finder::Scan => return read_all(&words, slots),
        };
        let Some((first, rest)) = words.split_first() else {
            return Slots::empty(slots.len());
        };
        let mut found = index.containing(first, slots.len());
        for (i, word) in rest.iter().enumerate() {
            if found.count() <= READ_UP_TO {
                found.retain(|slot| holds_all(slots, slot, &rest[i..]));
                break;
            }
            found.keep_only(&index.containing(word, slots.len()));
        }
        found
    }
}

/// Whether the entry in `slot` holds every one of `words` in its searchable text.
fn holds_all(slots: &[Option<Entry>], slot: u32, words: &[&str]) -> bool {
    slots
        .get(slot as usize)
        .and_then(Option::as_ref)
        .is_some_and(|e| {
            let text = e.search_text();
            words.iter().all(|w| text.contains(w))
        })
}

/// Every entry's text read for `words`: the search without an index.
fn read_all(words: &[&str], slots: &[Option<Entry>]) -> Slots {
    let mut found = Slots::empty(slots.len());
    for slot in (0..slots.len()).filter_map(|s| u32::try_from(s).ok()) {
        if holds_all(slots, slot, words) {
            found.insert(slot);
        }
    }
    found
}

impl WordIndex {
    /// Adds `slot` to the posting of each word of `entry`; `false` once the words are too
    /// many. Only a word new to the journal allocates a posting.
    fn add(&mut self, slot: u32, entry: &Entry) -> bool {
        let text = entry.search_text();
        for word in text.split_ascii_whitespace() {
            let Some(posting) = self.postings.get_mut(word) else {
                self.postings
                    .insert(word.into(), RoaringBitmap::from_iter([slot]));
                self.bytes += word.len();
                if self.postings.len() > MAX_WORDS || self.bytes > MAX_WORD_BYTES {
                    return false;
                }
                continue;
            };
            posting.insert(slot);
        }
        true
    }

    fn remove(&mut self, slot: u32, entry: &Entry) {
        let text = entry.search_text();
        for word in text.split_ascii_whitespace() {
            if let Some(posting) = self.postings.get_mut(word) {
                posting.remove(slot);
                if posting.is_empty() {
                    self.postings.remove(word);
                    self.bytes = self.bytes.saturating_sub(word.len());
                }
            }
        }
    }

    /// The slots holding a word that contains `word`.
    fn containing(&self, word: &str, len: usize) -> Slots {
        let mut these = Slots::empty(len);
        for (indexed, posting) in &self.postings {
            if indexed.len() >= word.len() && indexed.contains(word) {
                posting.iter().for_each(|s| these.insert(s));
            }
        }
        these
    }
}

/// A set of slots.
pub struct Slots(Vec<u64>);

impl Slots {
    fn empty(len: usize) -> Slots {
        Slots(vec![0; len.div_ceil(64)])
    }

    fn insert(&mut self, slot: u32) {
        if let Some(w) = self.0.get_mut(slot as usize / 64) {
            *w |= 1 << (slot % 64);
        }
    }

    pub fn has(&self, slot: u32) -> bool {
        self.0
            .get(slot as usize / 64)
            .is_some_and(|w| w & (1 << (slot % 64)) != 0)
    }

    fn keep_only(&mut self, other: &Slots) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= b;
        }
    }

    fn count(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Keeps the slots for which `keep` holds.
    fn retain(&mut self, mut keep: impl FnMut(u32) -> bool) {
        for (i, w) in self.0.iter_mut().enumerate() {
            let mut bits = *w;
            while bits != 0 {
                let bit = bits.trailing_zeros();
                bits &= bits - 1;
                let slot = u32::try_from(i * 64)
                    .unwrap_or(u32::MAX)
                    .saturating_add(bit);
                if !keep(slot) {
                    *w &= !(1 << bit);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(body: &str) -> Entry {
        super::super::tests::entry("x", 0, body, &[])
    }

    /// An import of unique tokens stops the index at its bound and searches by reading
    /// the text, with the same results.
    #[test]
    fn too_many_words_fall_back_to_reading_the_text() {
        let slots: Vec<Option<Entry>> = (0..(MAX_WORDS / 1000 + 2))
            .map(|i| {
                let words: Vec<String> = (0..1000).map(|j| format!("w{i:x}z{j:x}y")).collect();
                Some(entry(&words.join(" ")))
            })
            .collect();
        let finder = Finder::build(&slots);
        assert!(matches!(finder, Finder::Scan));
        let found = finder.matching(&["w3z3e7y".to_string()], &slots);
        assert_eq!(found.count(), 1);
        assert!(found.has(3));
        let small = Finder::build(&slots[..3]);
        assert!(matches!(small, Finder::Words(_)));
        assert!(small.matching(&["w1z3e7y".to_string()], &slots[..3]).has(1));
    }

    /// Many entries holding the longest word, few holding it with the next: the others are
    /// read from the text, and the results are the same as through the index.
    #[test]
    fn few_entries_left_are_read_for_the_other_words() {
        let slots: Vec<Option<Entry>> = (0..3000)
            .map(|i| {
                Some(entry(&format!(
                    "lighthouse {} {}",
                    if i % 2 == 0 { "calm" } else { "storm" },
                    if i % 1000 == 0 { "rare" } else { "usual" }
                )))
            })
            .collect();
        let finder = Finder::build(&slots);
        let q = |words: &[&str]| {
            let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
            finder.matching(&words, &slots).count()
        };
        assert_eq!(q(&["lighthouse"]), 3000);
        assert_eq!(q(&["lighthouse", "calm"]), 1500);
        assert_eq!(q(&["rare", "calm", "lighthouse", "calm"]), 3);
        assert_eq!(q(&["rare", "storm"]), 0);
        assert_eq!(q(&["ligh", "ALM".to_lowercase().as_str()]), 1500);
    }
}
