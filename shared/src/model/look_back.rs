//! Looking back (`haven look-back`): what was written on this day a week, a month and a
//! year ago. Wins, letters and the partner's appreciations in full; a thought record only
//! with how it ended ("came at 8, passed at 2"), never a hard moment alone without its
//! ending: looking back is for seeing that things pass.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::journal::{Entry, Kind};
use super::notes::{NoteKind, NoteView};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LookBack {
    /// Only the days with something to show, nearest first.
    pub moments: Vec<Moment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moment {
    pub ago: Ago,
    pub on: NaiveDate,
    pub items: Vec<Remembered>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ago {
    AWeek,
    AMonth,
    AYear,
}

impl Ago {
    pub const ALL: [Ago; 3] = [Ago::AWeek, Ago::AMonth, Ago::AYear];

    /// The day that long before `today` (the last of a shorter month for the 31st).
    pub fn day(self, today: NaiveDate) -> Option<NaiveDate> {
        match self {
            Ago::AWeek => today.checked_sub_days(chrono::Days::new(7)),
            Ago::AMonth => today.checked_sub_months(Months::new(1)),
            Ago::AYear => today.checked_sub_months(Months::new(12)),
        }
    }

    pub fn words(self) -> &'static str {
        match self {
            Ago::AWeek => "A week ago",
            Ago::AMonth => "A month ago",
            Ago::AYear => "A year ago",
        }
    }
}

/// One thing written that day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remembered {
    /// `win`, `letter`, `trigger` or `thanks`.
    pub kind: String,
    pub id: String,
    pub title: String,
    /// In full, for a win, a letter or an appreciation; empty for a thought record.
    pub text: String,
    /// Who wrote it, for an appreciation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// A thought record's intensity when written, and once it had passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub came_at: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passed_at: Option<u8>,
}

/// What an entry of that day gives to look back on, if anything.
fn remembered(e: &Entry) -> Option<Remembered> {
    let item = |text: String| Remembered {
        kind: e.kind.as_str().to_string(),
        id: e.id.clone(),
        title: e.title.clone(),
        text,
        by: None,
        came_at: None,
        passed_at: None,
    };
    match e.kind {
        Kind::Win | Kind::Letter => Some(item(e.body.trim_end().to_string())),
        Kind::Trigger => {
            let after = e.record.as_ref()?.intensity_after?;
            Some(Remembered {
                came_at: e.intensity,
                passed_at: Some(after),
                title: e.headline().to_string(),
                ..item(String::new())
            })
        }
        _ => None,
    }
}

/// The moments for `today`: `entries_on(day)` gives the entries written that day, and
/// `thanks` the notes the partner sent.
pub fn gather<'a, I>(
    today: NaiveDate,
    entries_on: impl Fn(NaiveDate) -> I,
    thanks: &[NoteView],
) -> LookBack
where
    I: IntoIterator<Item = &'a Entry>,
{
    let mut moments = Vec::new();
    for ago in Ago::ALL {
        let Some(day) = ago.day(today) else { continue };
        let mut items: Vec<Remembered> =
            entries_on(day).into_iter().filter_map(remembered).collect();
        items.extend(
            thanks
                .iter()
                .filter(|n| !n.mine && n.kind == NoteKind::Thanks && n.at.date_naive() == day)
                .map(|n| Remembered {
                    kind: "thanks".into(),
                    id: n.id.clone(),
                    title: n.title.clone(),
                    text: n.text.trim_end().to_string(),
                    by: Some(n.by.clone()),
                    came_at: None,
                    passed_at: None,
                }),
        );
        if !items.is_empty() {
            moments.push(Moment {
                ago,
                on: day,
                items,
            });
        }
    }
    LookBack { moments }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn a_month_back_from_the_31st_is_the_last_day_of_the_shorter_month() {
        assert_eq!(
            Ago::AMonth.day(date("2026-03-31")),
            Some(date("2026-02-28"))
        );
        assert_eq!(Ago::AYear.day(date("2028-02-29")), Some(date("2027-02-28")));
        assert_eq!(Ago::AWeek.day(date("2026-12-04")), Some(date("2026-11-27")));
        assert_eq!(Ago::AWeek.day(NaiveDate::MIN), None);
    }

    #[test]
    fn the_partners_thanks_of_that_day_are_kept_in_full_and_mine_are_not() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-27T20:00:00+00:00").expect("t");
        let note = |mine: bool, kind: NoteKind| NoteView {
            id: "01".into(),
            kind,
            title: String::new(),
            text: "Thank you for telling me kindly.\nIt helped.".into(),
            by: "Sam".into(),
            mine,
            at,
            answers: None,
            verified: true,
        };
        let notes = [
            note(false, NoteKind::Thanks),
            note(true, NoteKind::Thanks),
            note(false, NoteKind::Needs),
        ];
        let none: [&Entry; 0] = [];
        let back = gather(date("2026-12-04"), |_| none, &notes);
        assert_eq!(back.moments.len(), 1);
        let items = &back.moments[0].items;
        assert_eq!(items.len(), 1, "{items:?}");
        assert_eq!(items[0].by.as_deref(), Some("Sam"));
        assert!(items[0].text.ends_with("It helped."));
    }
}
