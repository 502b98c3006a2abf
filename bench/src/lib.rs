//! A deterministic 10-year journal: the data every benchmark runs on.
//!
//! Entries of ~800 characters drawn from a fixed word list with a tiny PRNG, one every
//! ~8.8 hours over ten years, with kinds, tags, moods and intensities, so Haven and jrnl
//! are measured on exactly the same text.

use chrono::{DateTime, Duration, FixedOffset};
use haven_shared::model::{Did, Entry, Kind, PauseRecord, ThoughtRecord};

const HELPED: [&str; 4] = ["a walk", "calling a friend", "tea", "breathing slowly"];

const WORDS: &[&str] = &[
    "felt",
    "anxious",
    "when",
    "the",
    "phone",
    "stayed",
    "silent",
    "and",
    "I",
    "told",
    "myself",
    "story",
    "that",
    "he",
    "she",
    "was",
    "losing",
    "interest",
    "needed",
    "reassurance",
    "walked",
    "by",
    "river",
    "breathed",
    "slowly",
    "noticed",
    "my",
    "chest",
    "tight",
    "wrote",
    "a",
    "letter",
    "to",
    "younger",
    "self",
    "it",
    "helped",
    "call",
    "friend",
    "evening",
    "work",
    "deadline",
    "sleep",
    "morning",
    "coffee",
    "therapy",
    "session",
    "boundary",
    "check-in",
    "text",
    "calm",
    "safe",
    "secure",
    "base",
    "protest",
    "self-soothing",
    "kind",
    "gentle",
    "again",
    "today",
    "yesterday",
    "week",
    "partner",
    "listened",
    "repair",
    "after",
    "conflict",
    "time-out",
];

const TAGS: &[&str] = &[
    "work", "phone", "family", "sleep", "therapy", "weekend", "body", "friends",
];

/// xorshift64*: small, deterministic, good enough for text.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Text of about `chars` characters.
pub fn text(rng: &mut Rng, chars: usize) -> String {
    let mut out = String::with_capacity(chars + 16);
    while out.len() < chars {
        if !out.is_empty() {
            out.push(if rng.below(12) == 0 { '\n' } else { ' ' });
        }
        out.push_str(WORDS[rng.below(WORDS.len())]);
    }
    out
}

/// `n` entries, the oldest ten years before `end`.
pub fn journal(n: usize, end: DateTime<FixedOffset>) -> Vec<Entry> {
    journal_sized(n, end, 800)
}

/// [`journal`] with bodies of about `body_chars` characters (a journal of many small
/// entries, for the million-entry check).
pub fn journal_sized(n: usize, end: DateTime<FixedOffset>, body_chars: usize) -> Vec<Entry> {
    let mut rng = Rng::new(0x4856_454E);
    let span = Duration::days(3650);
    (0..n)
        .map(|i| {
            let at = end - span + span / n as i32 * i as i32;
            let kind = Kind::ALL[rng.below(Kind::ALL.len())];
            let tags = (0..rng.below(3))
                .map(|_| TAGS[rng.below(TAGS.len())].to_string())
                .collect::<Vec<_>>();
            let mut tags_unique = tags.clone();
            tags_unique.dedup();
            Entry {
                id: format!("{:026}", i).replace(' ', "0"),
                kind,
                title: text(&mut rng, 24),
                body: {
                    let mut body = text(&mut rng, body_chars);
                    // A rare word in one entry of 250, for a selective search.
                    if i % 250 == 7 {
                        body.push_str(" lighthouse");
                    }
                    body
                },
                tags: tags_unique,
                mood: Some(1 + rng.below(5) as u8),
                intensity: (kind == Kind::Trigger).then(|| rng.below(11) as u8),
                created_at: at,
                updated_at: at,
                // Triggers are thought records and pauses have their fields, so
                // `insights` has the figures a real journal gives it.
                record: (kind == Kind::Trigger).then(|| {
                    Box::new(ThoughtRecord {
                        situation: Some(text(&mut rng, 80)),
                        did: vec![Did::ALL[rng.below(Did::ALL.len())]],
                        helped: Some(HELPED[rng.below(HELPED.len())].to_string()),
                        intensity_after: Some(rng.below(11) as u8),
                        ..ThoughtRecord::default()
                    })
                }),
                pause: (kind == Kind::Pause).then(|| {
                    Box::new(PauseRecord {
                        urge_before: Some(rng.below(11) as u8),
                        urge_after: Some(rng.below(11) as u8),
                        sent: Some(rng.below(2) == 0),
                        minutes: 20,
                        finished_at: Some(at),
                        ..PauseRecord::default()
                    })
                }),
                feelings: Vec::new(),
            }
        })
        .collect()
}

/// This process's resident memory now, in bytes (what the benchmarks report as memory).
pub fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}
