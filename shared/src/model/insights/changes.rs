//! What changed between the earlier and the later part of a range: the figures that say
//! it in words ("in October you reached for reassurance or protest 7 times; in November
//! not once"), where a mean over the whole range would hide the trend.
//!
//! The range is cut into calendar months when it spans more than one, else into ISO
//! weeks; the first half of those periods is "before", the rest "after". A change is
//! listed only when both halves have something to compare.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::super::journal::{Entry, Kind};
use super::super::record::Did;
use super::Mean;

/// One figure, before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub what: Measure,
    pub before: f64,
    pub after: f64,
    /// The periods compared, `2026-10` or `2026-10 to 2026-11`; weeks as `2026-W44`.
    pub period_before: String,
    pub period_after: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Mean intensity of the thought records when written.
    IntensityWhenWritten,
    /// Mean intensity once it had passed.
    IntensityOncePassed,
    /// How many times reassurance or protest was what one did.
    ReassuranceOrProtest,
    /// How many times soothing or asking for what one needed.
    SoothingOrAsking,
    /// How many pauses were taken.
    Pauses,
}

/// How the range is cut.
struct Halves {
    /// The first day of "after".
    split: NaiveDate,
    before: String,
    after: String,
}

/// The periods a range covers: months when it spans more than one, else weeks.
fn halves(since: NaiveDate, until: NaiveDate) -> Option<Halves> {
    let month_index = |d: NaiveDate| i64::from(d.year()) * 12 + i64::from(d.month0());
    let (first, last) = (month_index(since), month_index(until));
    if last > first {
        // Months, counted rather than walked: a range of centuries costs nothing.
        let mid = first + (last - first + 1) / 2;
        let month = |i: i64| -> Option<NaiveDate> {
            let year = i32::try_from(i.div_euclid(12)).ok()?;
            NaiveDate::from_ymd_opt(year, u32::try_from(i.rem_euclid(12)).ok()? + 1, 1)
        };
        let name = |i: i64| month(i).map(|d| d.format("%Y-%m").to_string());
        let label = |a: i64, b: i64| -> Option<String> {
            Some(if a == b {
                name(a)?
            } else {
                format!("{} to {}", name(a)?, name(b)?)
            })
        };
        return Some(Halves {
            split: month(mid)?,
            before: label(first, mid - 1)?,
            after: label(mid, last)?,
        });
    }
    // Weeks, within one month: at most six of them.
    let mut weeks: Vec<(NaiveDate, String)> = Vec::new();
    let mut day = since;
    while day <= until {
        let monday = day - chrono::Duration::days(i64::from(day.weekday().num_days_from_monday()));
        if weeks.last().is_none_or(|(m, _)| *m != monday) {
            let w = day.iso_week();
            weeks.push((monday, format!("{}-W{:02}", w.year(), w.week())));
        }
        day = day.succ_opt()?;
    }
    if weeks.len() < 2 {
        return None;
    }
    let mid = weeks.len() / 2;
    let label = |p: &[(NaiveDate, String)]| match p {
        [one] => one.1.clone(),
        [first, .., last] => format!("{} to {}", first.1, last.1),
        [] => String::new(),
    };
    Some(Halves {
        split: weeks[mid].0,
        before: label(&weeks[..mid]),
        after: label(&weeks[mid..]),
    })
}

/// What one half adds up.
#[derive(Default)]
struct Half {
    written: Mean,
    passed: Mean,
    records: usize,
    reassurance_or_protest: usize,
    soothing_or_asking: usize,
    pauses: usize,
}

impl Half {
    fn add(&mut self, e: &Entry) {
        match e.kind {
            Kind::Trigger => {
                self.records += 1;
                self.written.add(e.intensity);
                if let Some(r) = &e.record {
                    self.passed.add(r.intensity_after);
                    for d in &r.did {
                        match d {
                            Did::Reassurance | Did::Protest => self.reassurance_or_protest += 1,
                            Did::Soothing | Did::Asked => self.soothing_or_asking += 1,
                            Did::Other => {}
                        }
                    }
                }
            }
            Kind::Pause => self.pauses += 1,
            _ => {}
        }
    }
}

/// The changes between the two halves of `since..=until`, over `entries` (others are
/// skipped).
pub fn between<'a>(
    entries: impl IntoIterator<Item = &'a Entry>,
    since: NaiveDate,
    until: NaiveDate,
) -> Vec<Change> {
    let Some(h) = halves(since, until) else {
        return Vec::new();
    };
    let mut sides = [Half::default(), Half::default()];
    for e in entries {
        let day = e.created_at.date_naive();
        if day < since || day > until {
            continue;
        }
        sides[usize::from(day >= h.split)].add(e);
    }
    let [b, a] = &sides;
    let change = |what, before: f64, after: f64| Change {
        what,
        before,
        after,
        period_before: h.before.clone(),
        period_after: h.after.clone(),
    };
    let mut out = Vec::new();
    let means = [
        (
            Measure::IntensityWhenWritten,
            b.written.value(),
            a.written.value(),
        ),
        (
            Measure::IntensityOncePassed,
            b.passed.value(),
            a.passed.value(),
        ),
    ];
    for (what, before, after) in means {
        if let (Some(before), Some(after)) = (before, after) {
            out.push(change(what, before, after));
        }
    }
    // Counts compare only when both halves had records to count in.
    if b.records > 0 && a.records > 0 {
        let did = [
            (
                Measure::ReassuranceOrProtest,
                b.reassurance_or_protest,
                a.reassurance_or_protest,
            ),
            (
                Measure::SoothingOrAsking,
                b.soothing_or_asking,
                a.soothing_or_asking,
            ),
        ];
        for (what, before, after) in did {
            if before + after > 0 {
                out.push(change(what, before as f64, after as f64));
            }
        }
    }
    if b.pauses + a.pauses > 0 {
        out.push(change(Measure::Pauses, b.pauses as f64, a.pauses as f64));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn a_range_over_months_is_cut_by_month_and_a_short_one_by_week() {
        let h = halves(date("2026-10-01"), date("2026-11-30")).expect("two months");
        assert_eq!(
            (h.before.as_str(), h.after.as_str()),
            ("2026-10", "2026-11")
        );
        assert_eq!(h.split, date("2026-11-01"));
        let h = halves(date("2026-09-07"), date("2026-11-30")).expect("three months");
        assert_eq!(
            (h.before.as_str(), h.after.as_str()),
            ("2026-09", "2026-10 to 2026-11")
        );
        let h = halves(date("2026-11-02"), date("2026-11-22")).expect("three weeks");
        assert_eq!(
            (h.before.as_str(), h.after.as_str()),
            ("2026-W45", "2026-W46 to 2026-W47")
        );
        assert!(
            halves(date("2026-11-02"), date("2026-11-08")).is_none(),
            "one week"
        );
        assert!(
            halves(NaiveDate::MIN, NaiveDate::MAX).is_some(),
            "no panic, no hang"
        );
    }
}
