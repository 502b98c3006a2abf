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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
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
}

impl PauseRecord {
    pub fn is_open(&self) -> bool {
        self.finished_at.is_none()
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
}

impl NewPause {
    pub fn validated(mut self) -> Result<NewPause, ModelError> {
        if self.minutes == 0 || self.minutes > MAX_PAUSE_MINUTES {
            return Err(ModelError::PauseLength(self.minutes));
        }
        check_intensity(self.urge_before)
            .map_err(|_| ModelError::Urge(self.urge_before.unwrap_or(0)))?;
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
}

impl PauseEnd {
    pub fn validated(self) -> Result<PauseEnd, ModelError> {
        if self.urge_after > 10 {
            return Err(ModelError::Urge(self.urge_after));
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
";

impl SoothingPlan {
    /// The plan's lines that say something (not headings, not blank), without list marks.
    pub fn lines(text: &str) -> Vec<&str> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| l.trim_start_matches(['-', '*', '•']).trim())
            .filter(|l| !l.is_empty())
            .collect()
    }

    /// A plan with nothing in it is refused, so a stray save cannot blank a written plan.
    pub fn check(text: &str) -> Result<(), ModelError> {
        if SoothingPlan::lines(text).is_empty() {
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
}
