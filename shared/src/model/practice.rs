//! The practice around the entries: a pause before sending, and a soothing plan.

use chrono::{DateTime, Duration, FixedOffset};
use serde::{Deserialize, Serialize};

use super::error::{check_intensity, ModelError};

/// The longest pause `haven pause --for` takes: long enough for a night's sleep, short
/// enough that a typo (`99h`) is caught.
pub const MAX_PAUSE_MINUTES: u32 = 12 * 60;
/// What `haven pause` waits without `--for`.
pub const DEFAULT_PAUSE_MINUTES: u32 = 20;

/// A pause before sending: "write it, but do not send it". Stored in a `pause` entry.
///
/// Serialised by hand so that `--json` also carries the `outcome` it implies (derived,
/// never stored: a record written before outcomes existed has one too).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(default)]
pub struct PauseRecord {
    /// How strong the urge to send was, 0 to 10.
    pub urge_before: Option<u8>,
    /// How strong it was once the pause was over.
    pub urge_after: Option<u8>,
    /// Whether the message still went out; `None` while the pause is open.
    pub sent: Option<bool>,
    pub minutes: u32,
    /// The message written instead of sent (private, like every entry).
    pub message: Option<String>,
    /// The id of the agreement shown during the pause, if one was.
    pub agreement: Option<String>,
    /// When the person said how it ended; `None` while open.
    pub finished_at: Option<DateTime<FixedOffset>>,
    /// The message rewritten as "I feel … when … I need …" at the end of the pause, and
    /// sent instead of the first one (which is kept too).
    pub rewrite: Option<String>,
}

/// How a pause ended, in `--json` as `pause.outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseOutcome {
    Sent,
    SentRewritten,
    NotSent,
}

impl PauseRecord {
    pub fn is_open(&self) -> bool {
        self.finished_at.is_none()
    }

    /// `None` while the pause is open.
    pub fn outcome(&self) -> Option<PauseOutcome> {
        match (self.sent?, &self.rewrite) {
            (false, _) => Some(PauseOutcome::NotSent),
            (true, Some(_)) => Some(PauseOutcome::SentRewritten),
            (true, None) => Some(PauseOutcome::Sent),
        }
    }

    /// When the countdown ends for a pause started at `started`.
    pub fn ends_at(&self, started: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
        // An imported entry may hold any number: never overflow on it.
        let secs = i64::from(self.minutes).saturating_mul(seconds_per_minute() as i64);
        started
            .checked_add_signed(Duration::seconds(secs))
            .unwrap_or(started)
    }
}

impl Serialize for PauseRecord {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("PauseRecord", 10)?;
        st.serialize_field("urge_before", &self.urge_before)?;
        st.serialize_field("urge_after", &self.urge_after)?;
        st.serialize_field("sent", &self.sent)?;
        st.serialize_field("minutes", &self.minutes)?;
        st.serialize_field("message", &self.message)?;
        st.serialize_field("agreement", &self.agreement)?;
        st.serialize_field("finished_at", &self.finished_at)?;
        st.serialize_field("rewrite", &self.rewrite)?;
        st.serialize_field("outcome", &self.outcome())?;
        st.end()
    }
}

/// How many real seconds a minute of a pause lasts: 60, except in a debug build with
/// `HAVEN_TEST_MINUTE_SECS` set, so the end-to-end tests need not wait for real minutes
/// (compiled out of release builds). The countdown and the daemon's "the pause has
/// ended" both use it.
pub fn seconds_per_minute() -> u64 {
    #[cfg(debug_assertions)]
    if let Some(s) = std::env::var("HAVEN_TEST_MINUTE_SECS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        return s.max(1);
    }
    60
}

/// What `haven pause` sends the daemon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPause {
    pub minutes: u32,
    pub urge_before: Option<u8>,
    pub message: Option<String>,
    /// When the pause began, for one written down afterwards (`--at`); now if `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<FixedOffset>>,
}

impl NewPause {
    pub fn validated(mut self) -> Result<NewPause, ModelError> {
        if self.minutes == 0 || self.minutes > MAX_PAUSE_MINUTES {
            return Err(ModelError::PauseLength(self.minutes));
        }
        check_intensity(self.urge_before)
            .map_err(|_| ModelError::Urge(self.urge_before.unwrap_or(0)))?;
        if let Some(at) = self.at {
            crate::when::check_at(at, crate::when::now())?;
        }
        self.message = self
            .message
            .map(|m| m.trim_end().to_string())
            .filter(|m| !m.trim().is_empty());
        Ok(self)
    }
}

/// How a pause ended (`haven pause done`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseEnd {
    pub urge_after: u8,
    pub sent: bool,
    /// The needs statement sent instead of the message (implies `sent`).
    #[serde(default)]
    pub rewrite: Option<String>,
}

impl PauseEnd {
    pub fn validated(mut self) -> Result<PauseEnd, ModelError> {
        if self.urge_after > 10 {
            return Err(ModelError::Urge(self.urge_after));
        }
        if self.rewrite.as_deref().is_some_and(|r| r.trim().is_empty()) {
            return Err(ModelError::EmptyRewrite);
        }
        self.rewrite = self.rewrite.map(|r| r.trim_end().to_string());
        if self.rewrite.is_some() {
            self.sent = true;
        }
        Ok(self)
    }
}

/// The person's own soothing plan: what a caring parent would do when they are hurting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoothingPlan {
    pub text: String,
    pub updated_at: DateTime<FixedOffset>,
}

/// What `haven soothe edit` opens the first time: suggestions from the practice, to keep,
/// change or delete.
pub const SOOTHE_TEMPLATE: &str = "\
## When I am hurting, a caring parent would…

- put a hand on my heart and breathe slowly: in for four, out for six
- say: \"It makes sense that you feel this. You are safe right now.\"
- make me a bowl of soup or a cup of tea
- take me for a long walk outside
- call a friend who knows me well
- wrap me in a blanket and put on something gentle
- remind me: a late reply is not a verdict on me

## People I can call

- 
";

/// The heading (any case, any words after "people") under which a plan names who to reach;
/// `haven now` shows them, a pause never does.
fn is_people_heading(line: &str) -> bool {
    line.trim_start_matches('#')
        .trim()
        .to_lowercase()
        .starts_with("people")
}

/// A breath's length in seconds, written as a digit or a word ("in for four").
fn seconds(word: &str) -> Option<u32> {
    const WORDS: [&str; 12] = [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve",
    ];
    let n = word.parse::<u32>().ok().or_else(|| {
        WORDS
            .iter()
            .position(|w| *w == word)
            .and_then(|i| u32::try_from(i + 1).ok())
    })?;
    (2..=12).contains(&n).then_some(n)
}

/// The number within two words after `word` at `i`.
fn number_after(words: &[&str], i: usize) -> Option<u32> {
    words.iter().skip(i + 1).take(2).find_map(|w| seconds(w))
}

impl SoothingPlan {
    /// The plan's lines that say something (not headings, not blank, not the people to
    /// call), without list marks.
    pub fn lines(text: &str) -> Vec<&str> {
        Self::split(text).0
    }

    /// The people the plan names under `## People I can call`, one per line as written.
    pub fn people(text: &str) -> Vec<&str> {
        Self::split(text).1
    }

    /// (what a caring parent would do, the people to call).
    fn split(text: &str) -> (Vec<&str>, Vec<&str>) {
        let (mut lines, mut people) = (Vec::new(), Vec::new());
        let mut in_people = false;
        for line in text.lines().map(str::trim) {
            if line.starts_with('#') {
                in_people = is_people_heading(line);
                continue;
            }
            let line = line.trim_start_matches(['-', '*', '•']).trim();
            if line.is_empty() {
                continue;
            }
            if in_people {
                people.push(line);
            } else {
                lines.push(line);
            }
        }
        (lines, people)
    }

    /// The breathing rhythm the plan names ("in for four, out for six", "in 4, out 8"), in
    /// seconds, if it names one.
    pub fn rhythm(text: &str) -> Option<(u32, u32)> {
        let lower = text.to_lowercase();
        let words: Vec<&str> = lower
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let breathe_in = words.iter().position(|w| *w == "in")?;
        let inhale = number_after(&words, breathe_in)?;
        let breathe_out = breathe_in + words[breathe_in..].iter().position(|w| *w == "out")?;
        let exhale = number_after(&words, breathe_out)?;
        Some((inhale, exhale))
    }

    /// A plan with nothing in it is refused, so a stray save cannot blank a written plan.
    pub fn check(text: &str) -> Result<(), ModelError> {
        let (lines, people) = SoothingPlan::split(text);
        if lines.is_empty() && people.is_empty() {
            return Err(ModelError::EmptyPlan);
        }
        Ok(())
    }

    /// One line of the plan, changing with `seed` (the minute, say) so the same line does
    /// not always come.
    pub fn one_line(&self, seed: u64) -> Option<String> {
        let lines = SoothingPlan::lines(&self.text);
        let n = u64::try_from(lines.len()).ok().filter(|n| *n > 0)?;
        let at = usize::try_from(seed % n).ok()?;
        lines.get(at).map(|l| l.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pause_lengths_and_urges_are_checked() {
        let p = |minutes, urge| NewPause {
            minutes,
            urge_before: urge,
            message: Some("  ".into()),
            at: None,
        };
        assert_eq!(p(0, None).validated(), Err(ModelError::PauseLength(0)));
        assert_eq!(
            p(99 * 60, None).validated(),
            Err(ModelError::PauseLength(99 * 60))
        );
        assert_eq!(p(20, Some(11)).validated(), Err(ModelError::Urge(11)));
        assert_eq!(p(20, Some(7)).validated().map(|p| p.message), Ok(None));
    }

    #[test]
    fn the_plan_offers_its_own_lines_and_refuses_an_empty_one() {
        let lines = SoothingPlan::lines(SOOTHE_TEMPLATE);
        assert_eq!(lines.len(), 7);
        assert!(lines[0].starts_with("put a hand on my heart"));
        assert_eq!(
            SoothingPlan::check("## only a heading\n\n- \n"),
            Err(ModelError::EmptyPlan)
        );
        let plan = SoothingPlan {
            text: "- soup\n- a walk\n".into(),
            updated_at: chrono::DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").expect("t"),
        };
        assert_eq!(plan.one_line(0).as_deref(), Some("soup"));
        assert_eq!(plan.one_line(3).as_deref(), Some("a walk"));
    }

    #[test]
    fn the_people_to_call_are_their_own_section_and_never_a_line_of_the_plan() {
        assert!(SoothingPlan::people(SOOTHE_TEMPLATE).is_empty());
        let text = "## When I am hurting\n- tea\n## People I can call\n- Ana 0612 345 678\n- Mum\n## More\n- a walk\n";
        assert_eq!(SoothingPlan::people(text), ["Ana 0612 345 678", "Mum"]);
        assert_eq!(SoothingPlan::lines(text), ["tea", "a walk"]);
        // A plan of people alone is still a plan; with no section there is nobody.
        assert_eq!(SoothingPlan::check("## People\n- Ana\n"), Ok(()));
        assert_eq!(
            SoothingPlan::check("## People\n- \n"),
            Err(ModelError::EmptyPlan)
        );
        assert!(SoothingPlan::people("- tea\n").is_empty());
    }

    #[test]
    fn the_plan_may_name_its_own_breathing_rhythm() {
        assert_eq!(SoothingPlan::rhythm(SOOTHE_TEMPLATE), Some((4, 6)));
        assert_eq!(SoothingPlan::rhythm("- breathe in 5, out 8"), Some((5, 8)));
        assert_eq!(SoothingPlan::rhythm("- a walk\n- tea"), None);
        // A number too short or too long to breathe by is not a rhythm.
        assert_eq!(SoothingPlan::rhythm("in for 1, out for 40"), None);
        assert_eq!(SoothingPlan::rhythm("in out"), None);
    }
}
