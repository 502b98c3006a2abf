//! Journal entries: the kinds, their editor templates, and what makes an entry valid.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What went wrong with a value a user gave.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ModelError {
    #[error("the entry is empty: write some text")]
    EmptyEntry,
    #[error("mood must be between 1 and 5, not {0}")]
    Mood(u8),
    #[error("intensity must be between 0 and 10, not {0}")]
    Intensity(u8),
    #[error("unknown kind {0:?}: use note, trigger, letter, needs or checkin")]
    UnknownKind(String),
    #[error("a tag cannot be empty or contain spaces: {0:?}")]
    BadTag(String),
    #[error("an agreement needs a title")]
    EmptyTitle,
    #[error("an agreement needs text saying what you agree to")]
    EmptyAgreement,
    #[error("unknown template {0:?}: use one of {1}")]
    UnknownTemplate(String, String),
    #[error(
        "{0:?} is not a Haven id (26 letters and digits, as `haven journal list --json` shows)"
    )]
    BadId(String),
}

/// The kinds of entry the practice uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    #[default]
    Note,
    /// A thought record: situation, story, feeling, need, what I did, what helped.
    Trigger,
    /// A letter, often to one's younger self.
    Letter,
    /// "I feel … when … I need …"
    Needs,
    /// A short check-in on how one is doing.
    Checkin,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Note,
        Kind::Trigger,
        Kind::Letter,
        Kind::Needs,
        Kind::Checkin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Note => "note",
            Kind::Trigger => "trigger",
            Kind::Letter => "letter",
            Kind::Needs => "needs",
            Kind::Checkin => "checkin",
        }
    }

    /// The text `$EDITOR` opens with for a new entry of this kind.
    pub fn template(self) -> &'static str {
        match self {
            Kind::Note => "",
            Kind::Trigger => {
                "## Situation\n\n\n## The story I told myself\n\n\n## Feeling and intensity (0-10)\n\n\n\
                 ## What I needed\n\n\n## What I did (reassurance-seeking, protest, self-soothing)\n\n\n\
                 ## What helped\n\n"
            }
            Kind::Letter => "Dear younger me,\n\n\n",
            Kind::Needs => "I feel \nwhen \nI need \n",
            Kind::Checkin => "## How I feel right now\n\n\n## What I need today\n\n",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ModelError::UnknownKind(s.to_string()))
    }
}

/// One journal entry, as shown to the user and in `--json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub kind: Kind,
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    pub mood: Option<u8>,
    pub intensity: Option<u8>,
    pub created_at: DateTime<FixedOffset>,
    pub updated_at: DateTime<FixedOffset>,
}

/// What `haven journal write` sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NewEntry {
    pub kind: Kind,
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    pub mood: Option<u8>,
    pub intensity: Option<u8>,
}

/// What `haven journal edit` changes; `None` leaves a field as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EntryChanges {
    pub kind: Option<Kind>,
    pub title: Option<String>,
    pub body: Option<String>,
    pub tags: Option<Vec<String>>,
    pub mood: Option<Option<u8>>,
    pub intensity: Option<Option<u8>>,
}

/// Filters for `haven journal list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ListQuery {
    pub limit: Option<usize>,
    pub tag: Option<String>,
    pub kind: Option<Kind>,
    /// Words that must all appear (case-insensitive) in the title, body or tags.
    pub search: Option<String>,
    pub since: Option<DateTime<FixedOffset>>,
    /// Cut bodies to their first line: a table shows one line per entry, and a search
    /// matching thousands of entries should not ship megabytes of text over the socket.
    #[serde(default)]
    pub brief: bool,
}

pub fn check_mood(mood: Option<u8>) -> Result<(), ModelError> {
    match mood {
        Some(m) if !(1..=5).contains(&m) => Err(ModelError::Mood(m)),
        _ => Ok(()),
    }
}

pub fn check_intensity(intensity: Option<u8>) -> Result<(), ModelError> {
    match intensity {
        Some(i) if i > 10 => Err(ModelError::Intensity(i)),
        _ => Ok(()),
    }
}

/// Trims tags, drops a leading `#` or `@` (as jrnl writes them) and refuses blank ones.
pub fn normalise_tags(tags: &[String]) -> Result<Vec<String>, ModelError> {
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for tag in tags {
        let t = tag.trim().trim_start_matches(['#', '@']);
        if t.is_empty() || t.chars().any(char::is_whitespace) {
            return Err(ModelError::BadTag(tag.clone()));
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    Ok(out)
}

impl NewEntry {
    /// The stored entry this becomes, with its id and the time it was written.
    pub fn into_entry(self, id: String, at: DateTime<FixedOffset>) -> Entry {
        Entry {
            id,
            kind: self.kind,
            title: self.title,
            body: self.body,
            tags: self.tags,
            mood: self.mood,
            intensity: self.intensity,
            created_at: at,
            updated_at: at,
        }
    }
}

impl Entry {
    /// Checks an entry made elsewhere (an import) by the rules of a new one, normalising
    /// its title and tags; its id and times are kept.
    pub fn validated(self) -> Result<Entry, ModelError> {
        let (id, created_at, updated_at) = (self.id, self.created_at, self.updated_at);
        if !super::is_valid_id(&id) {
            return Err(ModelError::BadId(id));
        }
        let new = NewEntry {
            kind: self.kind,
            title: self.title,
            body: self.body,
            tags: self.tags,
            mood: self.mood,
            intensity: self.intensity,
        }
        .validated()?;
        Ok(Entry {
            updated_at,
            ..new.into_entry(id, created_at)
        })
    }
}

impl NewEntry {
    /// Checks the ranges and normalises tags; an entry with no text is refused.
    pub fn validated(mut self) -> Result<NewEntry, ModelError> {
        if self.body.trim().is_empty() {
            return Err(ModelError::EmptyEntry);
        }
        check_mood(self.mood)?;
        check_intensity(self.intensity)?;
        self.tags = normalise_tags(&self.tags)?;
        self.title = self.title.trim().to_string();
        Ok(self)
    }
}

impl EntryChanges {
    pub fn validated(mut self) -> Result<EntryChanges, ModelError> {
        if let Some(body) = &self.body {
            if body.trim().is_empty() {
                return Err(ModelError::EmptyEntry);
            }
        }
        check_mood(self.mood.flatten())?;
        check_intensity(self.intensity.flatten())?;
        if let Some(tags) = &self.tags {
            self.tags = Some(normalise_tags(tags)?);
        }
        Ok(self)
    }

    pub fn is_empty(&self) -> bool {
        *self == EntryChanges::default()
    }

    /// Applies the changes; returns whether anything differs.
    pub fn apply(&self, entry: &mut Entry) -> bool {
        let before = entry.clone();
        if let Some(k) = self.kind {
            entry.kind = k;
        }
        if let Some(t) = &self.title {
            entry.title = t.trim().to_string();
        }
        if let Some(b) = &self.body {
            entry.body = b.clone();
        }
        if let Some(t) = &self.tags {
            entry.tags = t.clone();
        }
        if let Some(m) = self.mood {
            entry.mood = m;
        }
        if let Some(i) = self.intensity {
            entry.intensity = i;
        }
        *entry != before
    }
}

impl Entry {
    /// True when every word of `words` (already lowercased) is in the title, body or tags.
    pub fn matches_words(haystack_lower: &str, words: &[String]) -> bool {
        words.iter().all(|w| haystack_lower.contains(w.as_str()))
    }

    /// The lowercased text that `--search` looks in.
    pub fn search_text(&self) -> String {
        let mut text = String::with_capacity(self.title.len() + self.body.len() + 32);
        text.push_str(&self.title.to_lowercase());
        text.push('\n');
        text.push_str(&self.body.to_lowercase());
        for tag in &self.tags {
            text.push('\n');
            text.push_str(&tag.to_lowercase());
        }
        text
    }

    /// A title for lists: the title, or the first line of the body.
    pub fn headline(&self) -> &str {
        if !self.title.is_empty() {
            return &self.title;
        }
        self.body
            .lines()
            .map(|l| l.trim().trim_start_matches('#').trim())
            .find(|l| !l.is_empty())
            .unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_or_out_of_range_entries_are_refused() {
        let base = NewEntry {
            body: "text".into(),
            ..Default::default()
        };
        assert_eq!(
            NewEntry {
                body: "  \n".into(),
                ..base.clone()
            }
            .validated(),
            Err(ModelError::EmptyEntry)
        );
        assert_eq!(
            NewEntry {
                intensity: Some(11),
                ..base.clone()
            }
            .validated(),
            Err(ModelError::Intensity(11))
        );
        assert_eq!(
            NewEntry {
                mood: Some(0),
                ..base.clone()
            }
            .validated(),
            Err(ModelError::Mood(0))
        );
        assert!(NewEntry {
            intensity: Some(10),
            mood: Some(5),
            ..base
        }
        .validated()
        .is_ok());
    }

    #[test]
    fn tags_are_normalised() {
        let tags = vec!["#work".to_string(), "@work".into(), " sleep ".into()];
        assert_eq!(
            normalise_tags(&tags),
            Ok(vec!["work".to_string(), "sleep".into()])
        );
        assert!(normalise_tags(&["two words".to_string()]).is_err());
    }

    #[test]
    fn the_trigger_template_is_a_thought_record() {
        let t = Kind::Trigger.template();
        for heading in [
            "Situation",
            "story I told myself",
            "intensity (0-10)",
            "What I needed",
            "What I did",
            "What helped",
        ] {
            assert!(t.contains(heading), "missing {heading}");
        }
        assert_eq!("Trigger".parse::<Kind>(), Ok(Kind::Trigger));
        assert!("feelings".parse::<Kind>().is_err());
    }
}
