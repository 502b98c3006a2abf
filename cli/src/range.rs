//! `--since` and `--until` as every command reads them: one parser, one rule for their
//! order, so a range means the same thing in `journal list`, `insights` and `export`.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use haven_shared::when;

use crate::error::{CliError, CliResult};

/// A range of time: from `since` (included) to `until` (not included).
#[derive(Debug, Clone, Copy, Default)]
pub struct Range {
    pub since: Option<DateTime<FixedOffset>>,
    pub until: Option<DateTime<FixedOffset>>,
}

impl Range {
    /// Reads both bounds; an `until` at or before `since` is refused, since nothing
    /// could be in between.
    pub fn parse(since: Option<&str>, until: Option<&str>) -> CliResult<Range> {
        let now = when::now();
        let range = Range {
            since: since.map(|s| when::parse_since(s, now)).transpose()?,
            until: until.map(|u| when::parse_until(u, now)).transpose()?,
        };
        if let (Some(s), Some(u)) = (range.since, range.until) {
            if u <= s {
                return Err(CliError::usage(format!(
                    "--until {:?} is not after --since {:?}: nothing is in between",
                    until.unwrap_or_default(),
                    since.unwrap_or_default()
                ))
                .hint("give an --until later than --since"));
            }
        }
        Ok(range)
    }

    /// The first day, for figures counted by day.
    pub fn first_day(&self) -> Option<NaiveDate> {
        self.since.map(|s| s.date_naive())
    }

    /// The last day included, for figures counted by day.
    pub fn last_day(&self) -> Option<NaiveDate> {
        self.until.map(|u| (u - Duration::seconds(1)).date_naive())
    }
}

/// `--at WHEN` as clap reads it: when something happened, in the past.
pub fn at(input: &str) -> Result<DateTime<FixedOffset>, String> {
    when::parse_at(input, when::now()).map_err(|e| e.to_string())
}
