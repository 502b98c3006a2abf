//! The thought record: a `trigger` entry's fields, and their editor form.
//!
//! The practice asks a person to notice the situation, the story they told themselves, the
//! feeling and how strong it was, what they needed, what they did, what helped, and how
//! strong it was once it had passed. Kept as fields (not a block of text), so `insights` can
//! count and average them. In `$EDITOR` each field is a `## ` heading; [`parse`] reads the
//! text back, and a number it cannot read is an error naming the heading, so the CLI can
//! reopen the editor with the problem at the top instead of losing the text.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use super::error::ModelError;

/// What a person did when the feeling came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Did {
    /// Reassurance-seeking: asking, checking, texting again.
    Reassurance,
    /// Protest behaviour: withdrawing, keeping score, making the partner jealous.
    Protest,
    /// Self-soothing: what a caring parent would do.
    Soothing,
    /// Asked for what I needed, plainly and calmly: the secure move the practice builds.
    Asked,
    Other,
}

impl Did {
    pub const ALL: [Did; 5] = [
        Did::Reassurance,
        Did::Protest,
        Did::Soothing,
        Did::Asked,
        Did::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Did::Reassurance => "reassurance",
            Did::Protest => "protest",
            Did::Soothing => "soothing",
            Did::Asked => "asked",
            Did::Other => "other",
        }
    }
}

impl fmt::Display for Did {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Did {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Did, ModelError> {
        let word = s.trim().to_lowercase();
        let did = match word.as_str() {
            "reassurance" | "reassurance-seeking" => Did::Reassurance,
            "protest" => Did::Protest,
            "soothing" | "self-soothing" => Did::Soothing,
            "asked" | "ask" => Did::Asked,
            "other" => Did::Other,
            _ => return Err(ModelError::UnknownDid(s.to_string())),
        };
        Ok(did)
    }
}

/// The anxious mind's usual stories, to tick in a record: naming the pattern is the first
/// step out of it, and `insights` can say which ones recur.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Story {
    /// "He must be angry with me."
    MindReading,
    /// "She is losing interest."
    LosingInterest,
    /// "I am too much for him."
    TooMuch,
    /// "She will leave."
    Abandonment,
    /// "This is the end."
    Catastrophising,
    /// "It will go wrong tonight too."
    FortuneTelling,
}

impl Story {
    pub const ALL: [Story; 6] = [
        Story::MindReading,
        Story::LosingInterest,
        Story::TooMuch,
        Story::Abandonment,
        Story::Catastrophising,
        Story::FortuneTelling,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Story::MindReading => "mind_reading",
            Story::LosingInterest => "losing_interest",
            Story::TooMuch => "too_much",
            Story::Abandonment => "abandonment",
            Story::Catastrophising => "catastrophising",
            Story::FortuneTelling => "fortune_telling",
        }
    }
}

impl fmt::Display for Story {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Story {
    type Err = ModelError;
    /// `mind_reading`, `mind-reading` and `mind reading` alike, any case; `catastrophizing`
    /// too.
    fn from_str(s: &str) -> Result<Story, ModelError> {
        let word: String = s
            .trim()
            .to_lowercase()
            .chars()
            .map(|c| if c == '-' || c == ' ' { '_' } else { c })
            .collect();
        let word = word.replace("catastrophizing", "catastrophising");
        Story::ALL
            .into_iter()
            .find(|k| k.as_str() == word)
            .ok_or_else(|| ModelError::UnknownStory(s.to_string()))
    }
}

/// A thought record's fields beside the entry's own `intensity` (before). Empty text is
/// `None`, so JSON shows `null` for a field never written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ThoughtRecord {
    pub situation: Option<String>,
    /// The story I told myself.
    pub story: Option<String>,
    /// Which of the usual stories it was.
    pub stories: Vec<Story>,
    /// What else could be true (the step out of the story).
    pub other_story: Option<String>,
    pub feeling: Option<String>,
    pub need: Option<String>,
    pub did: Vec<Did>,
    pub helped: Option<String>,
    /// 0 to 10, once it has passed.
    pub intensity_after: Option<u8>,
}

/// Changes to a record (`journal edit --after 3`); `None` leaves a field, an empty text
/// clears it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct RecordChanges {
    pub situation: Option<String>,
    pub story: Option<String>,
    pub stories: Option<Vec<Story>>,
    pub other_story: Option<String>,
    pub feeling: Option<String>,
    pub need: Option<String>,
    pub did: Option<Vec<Did>>,
    pub helped: Option<String>,
    pub intensity_after: Option<u8>,
}

fn tidy(text: &mut Option<String>) {
    let trimmed = text.as_deref().map(str::trim).filter(|t| !t.is_empty());
    *text = trimmed.map(str::to_string);
}

fn dedup<T: PartialEq + Copy>(did: &mut Vec<T>) {
    let mut seen = Vec::with_capacity(did.len());
    did.retain(|d| {
        let fresh = !seen.contains(d);
        seen.push(*d);
        fresh
    });
}

impl ThoughtRecord {
    /// Trims the texts (blank ones become `None`), removes repeated `did`s and checks the
    /// number.
    pub fn validated(mut self) -> Result<ThoughtRecord, ModelError> {
        for text in self.texts_mut() {
            tidy(text);
        }
        dedup(&mut self.did);
        dedup(&mut self.stories);
        super::error::check_intensity(self.intensity_after)?;
        Ok(self)
    }

    fn texts_mut(&mut self) -> [&mut Option<String>; 6] {
        [
            &mut self.situation,
            &mut self.story,
            &mut self.other_story,
            &mut self.feeling,
            &mut self.need,
            &mut self.helped,
        ]
    }

    /// The written texts, in the record's order.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        [
            &self.situation,
            &self.story,
            &self.other_story,
            &self.feeling,
            &self.need,
            &self.helped,
        ]
        .into_iter()
        .filter_map(|t| t.as_deref())
    }

    pub fn is_empty(&self) -> bool {
        self.texts().next().is_none()
            && self.did.is_empty()
            && self.stories.is_empty()
            && self.intensity_after.is_none()
    }

    /// The title a record gets when none is given: the situation's first line.
    pub fn default_title(&self) -> String {
        let line = self
            .situation
            .as_deref()
            .and_then(|s| s.lines().map(str::trim).find(|l| !l.is_empty()))
            .unwrap_or("");
        if line.chars().count() <= 60 {
            return line.to_string();
        }
        let cut: String = line.chars().take(59).collect();
        format!("{}…", cut.trim_end())
    }

    /// The record's headings and texts, as `show` and the exports print them (without the
    /// intensities, which they show beside the entry's other numbers).
    pub fn sections(&self) -> Vec<(&'static str, String)> {
        let did = (!self.did.is_empty()).then(|| did_list(&self.did));
        let stories = (!self.stories.is_empty()).then(|| story_list(&self.stories));
        [
            ("Situation", &self.situation),
            ("The story I told myself", &self.story),
            ("The usual story", &stories),
            ("What else could be true", &self.other_story),
            ("Feeling", &self.feeling),
            ("What I needed", &self.need),
            ("What I did", &did),
            ("What helped", &self.helped),
        ]
        .into_iter()
        .filter_map(|(heading, value)| value.clone().map(|v| (heading, v)))
        .collect()
    }
}

/// `losing_interest, abandonment`.
pub fn story_list(stories: &[Story]) -> String {
    stories
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `reassurance, soothing`.
pub fn did_list(did: &[Did]) -> String {
    did.iter()
        .map(|d| d.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl RecordChanges {
    pub fn is_empty(&self) -> bool {
        *self == RecordChanges::default()
    }

    /// The record with these changes, validated.
    pub fn applied_to(&self, record: Option<&ThoughtRecord>) -> Result<ThoughtRecord, ModelError> {
        let mut r = record.cloned().unwrap_or_default();
        let set = |field: &mut Option<String>, value: &Option<String>| {
            if let Some(v) = value {
                *field = Some(v.clone());
            }
        };
        set(&mut r.situation, &self.situation);
        set(&mut r.story, &self.story);
        set(&mut r.other_story, &self.other_story);
        if let Some(stories) = &self.stories {
            r.stories = stories.clone();
        }
        set(&mut r.feeling, &self.feeling);
        set(&mut r.need, &self.need);
        set(&mut r.helped, &self.helped);
        if let Some(did) = &self.did {
            r.did = did.clone();
        }
        if let Some(after) = self.intensity_after {
            r.intensity_after = Some(after);
        }
        r.validated()
    }
}

/// A heading of the editor form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Situation,
    Story,
    Stories,
    OtherStory,
    Feeling,
    Intensity,
    Need,
    Did,
    Helped,
    After,
}

impl Field {
    const ORDER: [Field; 10] = [
        Field::Situation,
        Field::Story,
        Field::Stories,
        Field::OtherStory,
        Field::Feeling,
        Field::Intensity,
        Field::Need,
        Field::Did,
        Field::Helped,
        Field::After,
    ];

    /// One line under an empty heading of a new record, showing what goes there; a
    /// comment, dropped when the text is read back.
    fn example(self) -> &'static str {
        match self {
            Field::Situation => "He read my message at six and had not answered by nine.",
            Field::Story => "He is losing interest in me.",
            Field::Stories => "losing_interest, abandonment",
            Field::OtherStory => "He is in a long meeting, his phone in his bag.",
            Field::Feeling => "scared, a knot in my stomach",
            Field::Intensity => "8",
            Field::Need => "to know we are all right",
            Field::Did => "soothing, asked",
            Field::Helped => "a walk, then telling him calmly what I needed",
            Field::After => "3",
        }
    }

    fn heading(self) -> &'static str {
        match self {
            Field::Situation => "Situation",
            Field::Story => "The story I told myself",
            Field::Stories => "The usual story (any of: mind_reading, losing_interest, too_much, abandonment, catastrophising, fortune_telling)",
            Field::OtherStory => "What else could be true?",
            Field::Feeling => "Feeling",
            Field::Intensity => "Intensity before (0-10)",
            Field::Need => "What I needed",
            Field::Did => "What I did (any of: reassurance, protest, soothing, asked, other)",
            Field::Helped => "What helped",
            Field::After => "Intensity after (0-10, once it has passed)",
        }
    }

    /// Which field a heading names. Generous, so the headings of the earlier template and a
    /// heading a person retyped still count.
    fn of(heading: &str) -> Option<Field> {
        let h = heading.trim().to_lowercase();
        let starts = |p: &str| h.starts_with(p);
        Some(if starts("situation") {
            Field::Situation
        } else if starts("the usual") || starts("stories") || starts("usual") {
            Field::Stories
        } else if starts("what else") || starts("other story") {
            Field::OtherStory
        } else if starts("the story") || starts("story") {
            Field::Story
        } else if starts("intensity after") || starts("after") {
            Field::After
        } else if starts("intensity") {
            Field::Intensity
        } else if starts("feeling") {
            Field::Feeling
        } else if starts("what i needed") || starts("need") {
            Field::Need
        } else if starts("what i did") || starts("did") {
            Field::Did
        } else if starts("what helped") || starts("helped") {
            Field::Helped
        } else {
            return None;
        })
    }
}

/// Lines the CLI puts at the top when it reopens the editor; dropped when parsing.
pub const PROBLEM_MARK: &str = "# Haven: ";

/// An example line under an empty heading; dropped when parsing.
pub const EXAMPLE_MARK: &str = "# e.g. ";

/// The editor form of a record: every heading, with what is written under it. Text that
/// belongs to no field (`body`) comes first.
pub fn editor_text(record: &ThoughtRecord, intensity: Option<u8>, body: &str) -> String {
    let mut out = String::new();
    if !body.trim().is_empty() {
        out.push_str(body.trim_end());
        out.push_str("\n\n");
    }
    for field in Field::ORDER {
        let value = match field {
            Field::Situation => record.situation.clone(),
            Field::Story => record.story.clone(),
            Field::Stories => (!record.stories.is_empty()).then(|| story_list(&record.stories)),
            Field::OtherStory => record.other_story.clone(),
            Field::Feeling => record.feeling.clone(),
            Field::Need => record.need.clone(),
            Field::Helped => record.helped.clone(),
            Field::Intensity => intensity.map(|i| i.to_string()),
            Field::After => record.intensity_after.map(|i| i.to_string()),
            Field::Did => (!record.did.is_empty()).then(|| did_list(&record.did)),
        };
        out.push_str("## ");
        out.push_str(field.heading());
        out.push('\n');
        match value {
            Some(v) => {
                out.push('\n');
                out.push_str(v.trim_end());
                out.push('\n');
            }
            None => {
                out.push_str(EXAMPLE_MARK);
                out.push_str(field.example());
                out.push('\n');
            }
        }
        out.push('\n');
    }
    out
}

/// What the editor gave back.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedRecord {
    pub record: ThoughtRecord,
    pub intensity: Option<u8>,
    /// Text under no known heading (before the first one, or under a heading of the
    /// person's own), kept as written.
    pub body: String,
}

/// A section the editor text could not be read from: the heading and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("under \"{heading}\": {problem}")]
pub struct RecordProblem {
    pub heading: String,
    pub problem: String,
}

fn number(heading: &str, text: &str) -> Result<Option<u8>, RecordProblem> {
    let t = text.trim().trim_end_matches("/10").trim();
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<u8>() {
        Ok(n) if n <= 10 => Ok(Some(n)),
        _ => Err(RecordProblem {
            heading: heading.to_string(),
            problem: format!("{:?} is not a number from 0 to 10", one_line(t)),
        }),
    }
}

fn one_line(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    line.chars().take(40).collect()
}

/// The `did` words: separated by commas, spaces, `and` or slashes.
pub fn parse_did(text: &str) -> Result<Vec<Did>, ModelError> {
    let mut out = Vec::new();
    for word in text
        .split(|c: char| c == ',' || c == ';' || c == '/' || c.is_whitespace())
        .map(str::trim)
        .filter(|w| !w.is_empty() && !w.eq_ignore_ascii_case("and"))
    {
        out.push(word.parse()?);
    }
    dedup(&mut out);
    Ok(out)
}

/// The usual stories' words, separated by commas, semicolons or slashes (a story may be
/// written with spaces: `mind reading`).
pub fn parse_stories(text: &str) -> Result<Vec<Story>, ModelError> {
    let mut out = Vec::new();
    for word in text
        .split([',', ';', '/', '\n'])
        .map(str::trim)
        .filter(|w| !w.is_empty() && !w.eq_ignore_ascii_case("and"))
    {
        out.push(word.parse()?);
    }
    dedup(&mut out);
    Ok(out)
}

/// Reads the editor form back.
pub fn parse(text: &str) -> Result<ParsedRecord, RecordProblem> {
    let mut parsed = ParsedRecord::default();
    let mut body = String::new();
    // (field, heading as written, its text)
    let mut sections: Vec<(Option<Field>, String, String)> =
        vec![(None, String::new(), String::new())];
    for line in text.lines() {
        if line.starts_with(PROBLEM_MARK) || line.starts_with(EXAMPLE_MARK) {
            continue;
        }
        if let Some(heading) = line.strip_prefix("## ") {
            sections.push((Field::of(heading), line.to_string(), String::new()));
            continue;
        }
        if let Some(last) = sections.last_mut() {
            last.2.push_str(line);
            last.2.push('\n');
        }
    }
    let mut seen: Vec<Field> = Vec::new();
    for (field, heading_line, section) in sections {
        if field.is_some_and(|f| seen.contains(&f)) && section.trim().is_empty() {
            // The same heading again with nothing under it: left over, not text.
            continue;
        }
        let Some(field) = field.filter(|f| !seen.contains(f)) else {
            // The preamble, a heading of one's own, or a field written twice: kept as text.
            if !heading_line.is_empty() {
                body.push_str(&heading_line);
                body.push('\n');
            }
            body.push_str(&section);
            continue;
        };
        seen.push(field);
        let heading = heading_line.trim_start_matches("## ").trim();
        let value = Some(section.trim().to_string()).filter(|t| !t.is_empty());
        let r = &mut parsed.record;
        match field {
            Field::Situation => r.situation = value,
            Field::Story => r.story = value,
            Field::OtherStory => r.other_story = value,
            Field::Feeling => r.feeling = value,
            Field::Need => r.need = value,
            Field::Helped => r.helped = value,
            Field::Intensity => parsed.intensity = number(heading, &section)?,
            Field::After => r.intensity_after = number(heading, &section)?,
            Field::Did => {
                r.did = parse_did(&section).map_err(|e| RecordProblem {
                    heading: heading.to_string(),
                    problem: e.to_string(),
                })?
            }
            Field::Stories => {
                r.stories = parse_stories(&section).map_err(|e| RecordProblem {
                    heading: heading.to_string(),
                    problem: e.to_string(),
                })?
            }
        }
    }
    parsed.body = body.trim().to_string();
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled() -> ThoughtRecord {
        ThoughtRecord {
            situation: Some("He did not answer for three hours.\nI was at work.".into()),
            story: Some("He is losing interest.".into()),
            stories: vec![Story::LosingInterest, Story::MindReading],
            other_story: Some("He is in a meeting.".into()),
            feeling: Some("anxious, tight chest".into()),
            need: Some("to know we are ok".into()),
            did: vec![Did::Reassurance, Did::Soothing, Did::Asked],
            helped: Some("a walk".into()),
            intensity_after: Some(3),
        }
    }

    #[test]
    fn the_editor_form_reads_back_to_the_same_record() {
        let text = editor_text(&filled(), Some(8), "");
        let parsed = parse(&text).expect("parse");
        assert_eq!(parsed.record, filled());
        assert_eq!(parsed.intensity, Some(8));
        assert_eq!(parsed.body, "");
        assert_eq!(
            parse(&editor_text(&ThoughtRecord::default(), None, ""))
                .expect("empty")
                .record,
            ThoughtRecord::default()
        );
    }

    #[test]
    fn text_outside_the_fields_is_kept_and_a_problem_names_its_heading() {
        let text = format!(
            "# Haven: something was wrong\nA note first.\n\n{}## My own heading\nmine\n",
            editor_text(&filled(), Some(8), "")
        );
        let parsed = parse(&text).expect("parse");
        assert_eq!(parsed.body, "A note first.\n\n## My own heading\nmine");
        let bad = editor_text(&filled(), None, "").replace(
            "## Intensity before (0-10)\n# e.g. 8\n",
            "## Intensity before (0-10)\neight\n",
        );
        let problem = parse(&bad).expect_err("a word is not a number");
        assert_eq!(problem.heading, "Intensity before (0-10)");
        assert!(problem.problem.contains("\"eight\""), "{problem}");
        let bad = editor_text(&filled(), None, "")
            .replace("reassurance, soothing, asked", "texted him twice");
        assert!(parse(&bad).is_err());
        let eleven = editor_text(
            &ThoughtRecord {
                intensity_after: None,
                ..filled()
            },
            Some(11),
            "",
        );
        assert!(parse(&eleven).is_err(), "11 is out of range");
    }

    #[test]
    fn the_earlier_template_headings_still_count() {
        let old = "## Situation\nlate reply\n\n## Feeling and intensity (0-10)\nscared\n\n## What I did (reassurance-seeking, protest, self-soothing)\nself-soothing and protest\n";
        let parsed = parse(old).expect("parse");
        assert_eq!(parsed.record.situation.as_deref(), Some("late reply"));
        assert_eq!(parsed.record.feeling.as_deref(), Some("scared"));
        assert_eq!(parsed.record.did, vec![Did::Soothing, Did::Protest]);
    }

    #[test]
    fn a_new_record_shows_an_example_under_each_heading_and_reads_back_empty() {
        let template = editor_text(&ThoughtRecord::default(), None, "");
        assert_eq!(template.matches(EXAMPLE_MARK).count(), Field::ORDER.len());
        assert!(template.contains("## What else could be true?\n# e.g. "));
        let parsed = parse(&template).expect("parse");
        assert!(
            parsed.record.is_empty() && parsed.body.is_empty(),
            "{parsed:?}"
        );
        // Written under a heading, above or below its example: the text counts.
        let written = template.replace(
            "## What else could be true?\n",
            "## What else could be true?\nHis phone died.\n",
        );
        assert_eq!(
            parse(&written)
                .expect("parse")
                .record
                .other_story
                .as_deref(),
            Some("His phone died.")
        );
    }

    #[test]
    fn the_usual_stories_read_in_any_spelling_and_refuse_a_stranger() {
        assert_eq!(
            parse_stories("mind reading, Losing-Interest; catastrophizing / mind_reading"),
            Ok(vec![
                Story::MindReading,
                Story::LosingInterest,
                Story::Catastrophising
            ])
        );
        assert_eq!(
            "jealousy".parse::<Story>(),
            Err(ModelError::UnknownStory("jealousy".into()))
        );
        let bad = editor_text(&filled(), None, "")
            .replace("losing_interest, mind_reading", "he hates me");
        let problem = parse(&bad).expect_err("not a usual story");
        assert!(problem.heading.starts_with("The usual story"), "{problem}");
        // A record written before these fields existed reads as it was.
        let old: ThoughtRecord =
            serde_json::from_str(r#"{"situation":"late","did":["soothing"]}"#).expect("old");
        assert!(old.stories.is_empty() && old.other_story.is_none());
        assert_eq!(old.did, vec![Did::Soothing]);
    }

    #[test]
    fn the_title_is_the_situations_first_line_cut_short() {
        assert_eq!(
            filled().default_title(),
            "He did not answer for three hours."
        );
        let long = ThoughtRecord {
            situation: Some("word ".repeat(30)),
            ..Default::default()
        };
        assert!(long.default_title().chars().count() <= 60);
        assert!(long.default_title().ends_with('…'));
    }

    #[test]
    fn changes_set_clear_and_check() {
        let changed = RecordChanges {
            intensity_after: Some(2),
            helped: Some("  ".into()),
            ..Default::default()
        }
        .applied_to(Some(&filled()))
        .expect("apply");
        assert_eq!(changed.intensity_after, Some(2));
        assert_eq!(changed.helped, None, "an empty text clears the field");
        assert_eq!(changed.story, filled().story);
        let too_high = RecordChanges {
            intensity_after: Some(11),
            ..Default::default()
        };
        assert_eq!(too_high.applied_to(None), Err(ModelError::Intensity(11)));
        assert_eq!("SELF-SOOTHING".parse::<Did>(), Ok(Did::Soothing));
        assert!("texting".parse::<Did>().is_err());
    }

    proptest::proptest! {
        /// Whatever the editor gives back, `parse` answers without panicking; and any
        /// record written out in the editor form reads back as the same record.
        #[test]
        fn any_text_parses_or_names_a_problem(text in "(## |[a-zA-Z0-9 ,\n#-]|é|日|\u{0}){0,400}") {
            let _ = parse(&text);
        }

        #[test]
        fn the_editor_form_round_trips(
            situation in proptest::option::of("[a-z][a-z .,]{0,40}"),
            story in proptest::option::of("[a-z][a-z .]{0,40}"),
            did in proptest::collection::vec(0usize..4, 0..4),
            before in proptest::option::of(0u8..=10),
            after in proptest::option::of(0u8..=10),
        ) {
            let mut did: Vec<Did> = did.into_iter().map(|i| Did::ALL[i]).collect();
            dedup(&mut did);
            let record = ThoughtRecord { situation, story, did, intensity_after: after, ..Default::default() }
                .validated()
                .expect("valid");
            let parsed = parse(&editor_text(&record, before, "")).expect("parse");
            proptest::prop_assert_eq!(parsed.record, record);
            proptest::prop_assert_eq!(parsed.intensity, before);
        }
    }
}
