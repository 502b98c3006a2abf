//! Dates as people type them: `2026-11-01`, `2w`, `3d ago`, `yesterday`, `last week`,
//! `this month`, or full RFC 3339; and for `--at`, a time too: `yesterday 21:00`,
//! `2026-11-02 20:00`, `21:00`.
//!
//! Parsing happens in the CLI (it knows the user's time zone) and the daemon receives an
//! absolute instant, so a filter means the same thing whoever evaluates it.

use chrono::{DateTime, Datelike, Duration, FixedOffset, Local, NaiveDate, NaiveTime, TimeZone};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("cannot read the date {input:?}: use a date like 2026-11-01, a span like 3d, 2w or 6m, today, yesterday, this week or last month")]
pub struct DateParseError {
    pub input: String,
}

/// Why a moment given with `--at` cannot be an entry's time.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AtError {
    #[error("cannot read the time {0:?}: use \"yesterday 21:00\", \"2026-11-02 20:00\", \"21:00\", \"3d ago\" or a date")]
    Unreadable(String),
    #[error("{0:?} is in the future: --at is for writing down something that already happened")]
    Future(String),
    #[error("{0:?} is before 1970: give a later date")]
    TooEarly(String),
}

/// Midnight at the start of `day`, local time (the first moment of it, on a day whose
/// midnight a clock change skips).
pub fn start_of(day: NaiveDate) -> Option<DateTime<FixedOffset>> {
    let naive = day.and_hms_opt(0, 0, 0)?;
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.fixed_offset())
}

/// The first day of the named calendar period around `today`: `this week` (Monday),
/// `last week`, `this month`, `last month`; `None` for other words.
fn period_start(text: &str, today: NaiveDate) -> Option<NaiveDate> {
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let first = today.with_day(1)?;
    match text {
        "this week" => Some(monday),
        "last week" => Some(monday - Duration::days(7)),
        "this month" => Some(first),
        "last month" => first.pred_opt()?.with_day(1),
        _ => None,
    }
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
    let today = now.date_naive();
    let named = |text: &str| match text {
        "today" => start_of(today),
        "yesterday" => start_of(today - Duration::days(1)),
        _ => period_start(text, today).and_then(start_of),
    };
    parse_bound(input, now, named, start_of)
}

/// Parses an "until" expression: the moment the range ends, not included. A day ends at
/// the next midnight (`--until 2026-11-20` includes the 20th); `last week` ends when this
/// week began; a span counts back from `now`, as `--since` does.
pub fn parse_until(
    input: &str,
    now: DateTime<FixedOffset>,
) -> Result<DateTime<FixedOffset>, DateParseError> {
    let today = now.date_naive();
    let next_day = |day: NaiveDate| start_of(day.succ_opt()?);
    let named = |text: &str| match text {
        "today" | "this week" | "this month" => next_day(today),
        "yesterday" => start_of(today),
        "last week" => period_start("this week", today).and_then(start_of),
        "last month" => period_start("this month", today).and_then(start_of),
        _ => None,
    };
    parse_bound(input, now, named, next_day)
}

/// What `--since` and `--until` share: a named day or period (`named`), an RFC 3339
/// moment, a date (made a moment by `day`), or a span back from `now`.
fn parse_bound(
    input: &str,
    now: DateTime<FixedOffset>,
    named: impl Fn(&str) -> Option<DateTime<FixedOffset>>,
    day: impl Fn(NaiveDate) -> Option<DateTime<FixedOffset>>,
) -> Result<DateTime<FixedOffset>, DateParseError> {
    let err = || DateParseError {
        input: input.to_string(),
    };
    let text = words(input);
    if let Some(t) = named(&text) {
        return Ok(t);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(input.trim()) {
        return Ok(t);
    }
    if let Ok(d) = NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
        return day(d).ok_or_else(err);
    }
    span_back(&text, now).ok_or_else(err)
}

/// Parses when something happened, for `--at`: `yesterday 21:00`, `2026-11-02 20:00`,
/// `21:00` (today), `3d ago`, a date alone (noon of it), or what `--since` reads. It must
/// be in the past (a minute of clock difference is allowed) and after 1970.
pub fn parse_at(input: &str, now: DateTime<FixedOffset>) -> Result<DateTime<FixedOffset>, AtError> {
    let unreadable = || AtError::Unreadable(input.to_string());
    let text = words(input);
    let today = now.date_naive();
    let day_of = |word: &str| match word {
        "today" => Some(today),
        "yesterday" => today.pred_opt(),
        _ => NaiveDate::parse_from_str(word, "%Y-%m-%d").ok(),
    };
    let at_time = |day: NaiveDate, time: NaiveTime| {
        Local
            .from_local_datetime(&day.and_time(time))
            .earliest()
            .map(|t| t.fixed_offset())
    };
    let clock = |word: &str| NaiveTime::parse_from_str(word, "%H:%M").ok();
    let parsed = match text.split_once(' ') {
        Some((day, time)) if day_of(day).is_some() && clock(time).is_some() => day_of(day)
            .zip(clock(time))
            .and_then(|(d, t)| at_time(d, t)),
        _ if clock(&text).is_some() => clock(&text).and_then(|t| at_time(today, t)),
        _ if NaiveDate::parse_from_str(&text, "%Y-%m-%d").is_ok() => day_of(&text)
            .zip(NaiveTime::from_hms_opt(12, 0, 0))
            .and_then(|(d, t)| at_time(d, t)),
        _ => parse_since(input, now).ok(),
    };
    let at = parsed.ok_or_else(unreadable)?;
    check_at(at, now).map_err(|e| match e {
        AtError::Future(_) => AtError::Future(input.to_string()),
        _ => AtError::TooEarly(input.to_string()),
    })
}

/// The rule for a given moment, wherever it is checked (the CLI, and the daemon again).
pub fn check_at(
    at: DateTime<FixedOffset>,
    now: DateTime<FixedOffset>,
) -> Result<DateTime<FixedOffset>, AtError> {
    if at > now + Duration::minutes(1) {
        return Err(AtError::Future(at.to_rfc3339()));
    }
    if at.timestamp() < 0 {
        return Err(AtError::TooEarly(at.to_rfc3339()));
    }
    Ok(at)
}

/// The input lowercased with its words single-spaced, and a trailing "ago" dropped
/// (`3d ago` is `3d`).
fn words(input: &str) -> String {
    let text = input.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = text.to_ascii_lowercase();
    text.strip_suffix(" ago").unwrap_or(&text).to_string()
}

/// `2w`, `3d`, `5h`, `6m` (30 days), `1y` (365): that long before `now`.
fn span_back(text: &str, now: DateTime<FixedOffset>) -> Option<DateTime<FixedOffset>> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().ok()?;
    let days = match unit.trim() {
        "h" => return Duration::try_hours(n).and_then(|d| now.checked_sub_signed(d)),
        "d" => n,
        "w" => n.checked_mul(7)?,
        "m" => n.checked_mul(30)?,
        "y" => n.checked_mul(365)?,
        _ => return None,
    };
    Duration::try_days(days).and_then(|d| now.checked_sub_signed(d))
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
    fn calendar_periods_start_on_monday_and_on_the_first() {
        // Friday 4 December 2026.
        let now = at("2026-12-04T15:00:00+00:00");
        let day = |t: DateTime<FixedOffset>| t.date_naive().to_string();
        let since = |s: &str| day(parse_since(s, now).expect(s));
        assert_eq!(since("this week"), "2026-11-30");
        assert_eq!(since("Last  Week"), "2026-11-23");
        assert_eq!(since("this month"), "2026-12-01");
        assert_eq!(since("last month"), "2026-11-01");
        assert_eq!(since("3d ago"), "2026-12-01");
        let until = |s: &str| day(parse_until(s, now).expect(s));
        assert_eq!(until("last week"), "2026-11-30");
        assert_eq!(until("last month"), "2026-12-01");
        assert_eq!(until("2026-11-20"), "2026-11-21", "the 20th is included");
        assert_eq!(until("yesterday"), "2026-12-04");
    }

    #[test]
    fn a_moment_is_in_the_past_and_after_1970() {
        let now = Local::now().fixed_offset();
        let yesterday = parse_at("yesterday 21:00", now).expect("yesterday");
        assert_eq!(
            yesterday.date_naive(),
            now.date_naive().pred_opt().expect("day")
        );
        assert_eq!(yesterday.format("%H:%M").to_string(), "21:00");
        let dated = parse_at("2026-11-02 20:00", now).expect("dated");
        assert_eq!(
            dated.format("%Y-%m-%d %H:%M").to_string(),
            "2026-11-02 20:00"
        );
        let noon = parse_at("2026-11-02", now).expect("a day");
        assert_eq!(noon.format("%H:%M").to_string(), "12:00");
        assert!(parse_at("3d ago", now).is_ok());
        assert!(matches!(
            parse_at("tomorrow", now),
            Err(AtError::Unreadable(_))
        ));
        assert!(matches!(
            parse_at("2099-01-01 10:00", now),
            Err(AtError::Future(_))
        ));
        assert!(matches!(
            parse_at("1969-12-31 10:00", now),
            Err(AtError::TooEarly(_))
        ));
        assert!(matches!(
            parse_at("yesterday 25:00", now),
            Err(AtError::Unreadable(_))
        ));
    }

    #[test]
    fn nonsense_is_refused() {
        let now = now();
        for bad in ["", "soon", "2x", "w2", "2026-13-01", "99999999999999w"] {
            assert!(parse_since(bad, now).is_err(), "{bad} should not parse");
        }
    }
}
