//! Dates as people type them: `2026-11-01`, `2w`, `3d`, `yesterday`, or full RFC 3339.
//!
//! Parsing happens in the CLI (it knows the user's time zone) and the daemon receives an
//! absolute instant, so a filter means the same thing whoever evaluates it.

use chrono::{DateTime, Duration, FixedOffset, Local, NaiveDate, TimeZone};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("cannot read the date {input:?}: use a date like 2026-11-01, a span like 3d, 2w or 6m, or today/yesterday")]
pub struct DateParseError {
    pub input: String,
}

/// The current local time with its UTC offset, as stored in entries.
pub fn now() -> DateTime<FixedOffset> {
    Local::now().fixed_offset()
}

/// Parses a "since" expression relative to `now`.
pub fn parse_since(
    input: &str,
    now: DateTime<FixedOffset>,
) -> Result<DateTime<FixedOffset>, DateParseError> {
    let err = || DateParseError {
        input: input.to_string(),
    };
    let text = input.trim().to_ascii_lowercase();
    let start_of = |day: NaiveDate| -> Option<DateTime<FixedOffset>> {
        let naive = day.and_hms_opt(0, 0, 0)?;
        Local
            .from_local_datetime(&naive)
            .earliest()
            .map(|t| t.fixed_offset())
    };
    match text.as_str() {
        "today" => return start_of(now.date_naive()).ok_or_else(err),
        "yesterday" => return start_of(now.date_naive() - Duration::days(1)).ok_or_else(err),
        _ => {}
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(input.trim()) {
        return Ok(t);
    }
    if let Ok(day) = NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
        return start_of(day).ok_or_else(err);
    }
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().map_err(|_| err())?;
    let days = match unit {
        "h" => {
            return Duration::try_hours(n)
                .and_then(|d| now.checked_sub_signed(d))
                .ok_or_else(err)
        }
        "d" => n,
        "w" => n.checked_mul(7).ok_or_else(err)?,
        "m" => n.checked_mul(30).ok_or_else(err)?,
        "y" => n.checked_mul(365).ok_or_else(err)?,
        _ => return Err(err()),
    };
    Duration::try_days(days)
        .and_then(|d| now.checked_sub_signed(d))
        .ok_or_else(err)
}

/// Parses a calendar date (`2027-03-01`) for review dates.
pub fn parse_day(input: &str) -> Result<NaiveDate, DateParseError> {
    NaiveDate::parse_from_str(input.trim(), "%Y-%m-%d").map_err(|_| DateParseError {
        input: input.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).expect("valid")
    }

    #[test]
    fn spans_count_back_from_now() {
        let now = at("2026-11-23T12:00:00+01:00");
        assert_eq!(parse_since("2w", now), Ok(at("2026-11-09T12:00:00+01:00")));
        assert_eq!(parse_since("3d", now), Ok(at("2026-11-20T12:00:00+01:00")));
        assert_eq!(parse_since("5h", now), Ok(at("2026-11-23T07:00:00+01:00")));
    }

    #[test]
    fn days_start_at_local_midnight() {
        let now = at("2026-11-23T12:00:00+00:00");
        let since = parse_since("2026-11-01", now).expect("date");
        assert_eq!(
            since.date_naive(),
            NaiveDate::from_ymd_opt(2026, 11, 1).expect("day")
        );
        let y = parse_since("yesterday", now).expect("yesterday");
        assert!(y < now && now - y <= Duration::hours(48));
        // Past what a date can hold: an error, not a panic.
        for huge in [
            "9999999999h",
            "9223372036854775807h",
            "99999999999d",
            "999999999999y",
        ] {
            assert!(parse_since(huge, now).is_err(), "{huge}");
        }
    }

    #[test]
    fn nonsense_is_refused() {
        let now = now();
        for bad in ["", "soon", "2x", "w2", "2026-13-01", "99999999999999w"] {
            assert!(parse_since(bad, now).is_err(), "{bad} should not parse");
        }
    }
}
