//! Journal entries: the kinds, their editor templates, and what makes an entry valid.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use super::error::{check_intensity, check_mood, ModelError};
use super::practice::PauseRecord;
use super::record::{RecordChanges, ThoughtRecord};

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
    /// A small step worth noticing.
    Win,
    /// A pause before sending (`haven pause`); its fields are in `Entry::pause`.
    Pause,
    /// Something to bring to the next therapy session (`haven bring`): the brief lists
    /// these first.
    Bring,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Note,
        Kind::Trigger,
        Kind::Letter,
        Kind::Needs,
        Kind::Checkin,
        Kind::Win,
        Kind::Pause,
        Kind::Bring,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Note => "note",
            Kind::Trigger => "trigger",
            Kind::Letter => "letter",
            Kind::Needs => "needs",
            Kind::Checkin => "checkin",
            Kind::Win => "win",
            Kind::Pause => "pause",
            Kind::Bring => "bring",
        }
    }

    /// The text `$EDITOR` opens with for a new entry of this kind.
    pub fn template(self) -> String {
        let text = match self {
            Kind::Note => "",
            Kind::Trigger => {
                return super::record::editor_text(&ThoughtRecord::default(), None, "")
            }
            Kind::Letter => "Dear younger me,\n\n\n",
            Kind::Needs => NEEDS_TEMPLATE,
            Kind::Checkin => "## How I feel right now\n\n\n## What I need today\n\n",
            Kind::Win => "",
            Kind::Pause => "",
            Kind::Bring => "",
        };
        text.to_string()
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

/// Starts a line of advice in an editor template; such lines are dropped when the text
/// is read back.
pub const TIP_MARK: &str = "# tip: ";

/// The needs statement's frame, with the one thing that most helps it be heard.
const NEEDS_TEMPLATE: &str = "I feel \nwhen \nI need \n\n# tip: name what happened, not who they are: \"when I don't hear from you by 9\", not \"when you don't care\".\n";

/// Whether two pages say the same, line by line, whatever spaces an editor added or took
/// away at the ends of lines and around the page: a template saved as it opened, by an
/// editor that strips trailing spaces ("I feel " becomes "I feel"), is still untouched.
pub fn same_page(a: &str, b: &str) -> bool {
    let lines =
        |t: &str| -> Vec<String> { t.trim().lines().map(|l| l.trim_end().to_string()).collect() };
    lines(a) == lines(b)
}

/// `text` without the template's tip lines (see [`TIP_MARK`]), and without the blank line
/// that set a tip apart.
pub fn without_tips(text: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for line in text.split_inclusive('\n') {
        if line.starts_with(TIP_MARK) {
            if kept.last().is_some_and(|l| l.trim().is_empty()) {
                kept.pop();
            }
        } else {
            kept.push(line);
        }
    }
    kept.concat()
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
    /// A thought record's fields (`trigger` entries written since records had fields).
    /// Boxed, as the pause is: most entries have neither, and inline each would cost
    /// every entry of a long journal a few hundred bytes of memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<Box<ThoughtRecord>>,
    /// A pause's fields (`pause` entries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause: Option<Box<PauseRecord>>,
    /// Named feelings (a check-in's `--feeling`), from [`super::feelings::FEELINGS`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub feelings: Vec<String>,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<ThoughtRecord>,
    /// When it happened, for an entry written down afterwards (`--at`); now if `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<FixedOffset>>,
    /// Named feelings, for a check-in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub feelings: Vec<String>,
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
    /// Changes to a thought record's fields (made a record if it was not one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<RecordChanges>,
    /// The record as the editor gave it back, replacing the old one whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whole_record: Option<ThoughtRecord>,
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
    /// Only entries written before this moment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<FixedOffset>>,
    /// Cut bodies to their first line: a table shows one line per entry, and a search
    /// matching thousands of entries should not ship megabytes of text over the socket.
    #[serde(default)]
    pub brief: bool,
}

/// The most words a search may hold, and the longest it may be in characters: more than a
/// person types, few enough that one search cannot keep the daemon busy.
pub const MAX_SEARCH_WORDS: usize = 32;
pub const MAX_SEARCH_CHARS: usize = 1000;

impl ListQuery {
    /// Refuses a search too long to be a person's (see [`MAX_SEARCH_WORDS`]).
    pub fn check(&self) -> Result<(), ModelError> {
        let Some(search) = self.search.as_deref() else {
            return Ok(());
        };
        let chars = search.chars().count();
        if chars > MAX_SEARCH_CHARS {
            return Err(ModelError::SearchTooLong(chars));
        }
        let words = search.split_whitespace().count();
        if words > MAX_SEARCH_WORDS {
            return Err(ModelError::SearchTooManyWords(words));
        }
        Ok(())
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
            record: self.record.map(Box::new),
            pause: None,
            feelings: self.feelings,
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
        let pause = self.pause;
        if let Some(p) = &pause {
            check_intensity(p.urge_before)?;
            check_intensity(p.urge_after)?;
        }
        let new = NewEntry {
            kind: self.kind,
            title: self.title,
            body: self.body,
            tags: self.tags,
            mood: self.mood,
            intensity: self.intensity,
            record: self.record.map(|r| *r),
            // An import keeps its own times, whatever they are.
            at: None,
            feelings: self.feelings,
        }
        .validated_with(pause.is_some())?;
        Ok(Entry {
            updated_at,
            pause,
            ..new.into_entry(id, created_at)
        })
    }
}

impl NewEntry {
    /// Checks the ranges and normalises tags; an entry with no text is refused. A thought
    /// record with no title takes its situation's first line.
    pub fn validated(self) -> Result<NewEntry, ModelError> {
        self.validated_with(false)
    }

    fn validated_with(mut self, is_pause: bool) -> Result<NewEntry, ModelError> {
        if self.record.is_some() && self.kind != Kind::Trigger {
            return Err(ModelError::NotARecord("a situation, story, need or --did"));
        }
        self.record = self.record.map(ThoughtRecord::validated).transpose()?;
        self.record = self.record.filter(|r| !r.is_empty());
        let has_record = self.record.is_some();
        // A check-in may be a mood or a feeling alone.
        let checked_in =
            self.kind == Kind::Checkin && (self.mood.is_some() || !self.feelings.is_empty());
        if self.body.trim().is_empty() && !has_record && !is_pause && !checked_in {
            return Err(ModelError::EmptyEntry);
        }
        check_mood(self.mood)?;
        check_intensity(self.intensity)?;
        if let Some(at) = self.at {
            crate::when::check_at(at, crate::when::now())?;
        }
        let mut feelings = Vec::with_capacity(self.feelings.len());
        for f in &self.feelings {
            let f = super::feelings::checked(f)?;
            if !feelings.contains(&f) {
                feelings.push(f);
            }
        }
        self.feelings = feelings;
        self.tags = normalise_tags(&self.tags)?;
        self.title = self.title.trim().to_string();
        if self.title.is_empty() {
            if let Some(r) = &self.record {
                self.title = r.default_title();
            }
        }
        Ok(self)
    }
}

impl EntryChanges {
    /// Checks the ranges and tags; whether the entry is left empty is decided by `apply`,
    /// which knows whether it holds a record.
    pub fn validated(mut self) -> Result<EntryChanges, ModelError> {
        check_mood(self.mood.flatten())?;
        check_intensity(self.intensity.flatten())?;
        if let Some(tags) = &self.tags {
            self.tags = Some(normalise_tags(tags)?);
        }
        if let Some(r) = &self.record {
            r.applied_to(None)?;
        }
        self.whole_record = self
            .whole_record
            .map(ThoughtRecord::validated)
            .transpose()?;
        Ok(self)
    }

    pub fn is_empty(&self) -> bool {
        *self == EntryChanges::default()
    }

    /// Applies the changes; returns whether anything differs. Changing a record's fields
    /// makes the entry a `trigger`, and a record emptied of everything is dropped.
    pub fn apply(&self, entry: &mut Entry) -> Result<bool, ModelError> {
        let before = entry.clone();
        if let Some(record) = &self.whole_record {
            entry.record = Some(Box::new(record.clone()));
        }
        if let Some(changes) = self.record.as_ref().filter(|c| !c.is_empty()) {
            entry.record = Some(Box::new(changes.applied_to(entry.record.as_deref())?));
        }
        entry.record = entry.record.take().filter(|r| !r.is_empty());
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
        if entry.kind == Kind::Pause && entry.pause.is_none() {
            return Err(ModelError::NotAPause);
        }
        if entry.record.is_some() && entry.kind != Kind::Trigger {
            if self.kind.is_some() {
                return Err(ModelError::NotARecord("a thought record's field"));
            }
            entry.kind = Kind::Trigger;
        }
        if entry.body.trim().is_empty() && entry.record.is_none() && entry.pause.is_none() {
            return Err(ModelError::EmptyEntry);
        }
        Ok(*entry != before)
    }
}

impl Entry {
    /// The lowercased text that `--search` looks in.
    pub fn search_text(&self) -> String {
        let mut text = String::with_capacity(self.title.len() + self.body.len() + 32);
        text.push_str(&self.title.to_lowercase());
        text.push('\n');
        text.push_str(&self.body.to_lowercase());
        if let Some(r) = &self.record {
            for t in r.texts() {
                text.push('\n');
                text.push_str(&t.to_lowercase());
            }
        }
        if let Some(m) = self.pause.as_ref().and_then(|p| p.message.as_deref()) {
            text.push('\n');
            text.push_str(&m.to_lowercase());
        }
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
        let first_text = self
            .record
            .as_ref()
            .and_then(|r| r.texts().next())
            .or(self.pause.as_ref().and_then(|p| p.message.as_deref()));
        first_text
            .unwrap_or(&self.body)
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
            "Intensity before (0-10)",
            "Intensity after (0-10",
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
