//! Gentle reminders, opt in (`[reminders]` in config.toml): a check-in at a time of day,
//! the week's insights and the weekly question on a day and time. Off by default. The
//! daemon sends each as a desktop notification, in neutral words that reveal nothing
//! (a locked daemon may remind, never reveal), never in quiet hours, and never with "you
//! missed a day": a reminder is an offer, not a count.
//!
//! ```toml
//! [reminders]
//! checkin = "20:30"            # every day
//! insights = "sunday 18:00"    # once a week
//! question = "wednesday 19:00"
//! backup = 14                  # at noon, when the last backup is older than 14 days
//! ```

use chrono::{DateTime, Datelike, Days, Local, NaiveTime, TimeZone, Weekday};

/// What a reminder is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reminder {
    Checkin,
    Insights,
    Question,
    /// At noon, when the last backup is older than the days set (or there is none).
    Backup,
}

impl Reminder {
    pub const ALL: [Reminder; 4] = [
        Reminder::Checkin,
        Reminder::Insights,
        Reminder::Question,
        Reminder::Backup,
    ];

    /// The notification's words: an offer, with the command, and nothing private.
    pub fn text(self) -> &'static str {
        match self {
            Reminder::Checkin => "A moment to check in, if you want one: `haven checkin`.",
            Reminder::Insights => {
                "The week's insights are there when you want them: `haven insights`."
            }
            Reminder::Question => "This week's question is there for the two of you: `haven ask`.",
            Reminder::Backup => {
                "A backup keeps the journal if the laptop is lost: `haven backup -o FILE`."
            }
        }
    }

    /// Its key in `[reminders]`.
    pub fn key(self) -> &'static str {
        match self {
            Reminder::Checkin => "checkin",
            Reminder::Insights => "insights",
            Reminder::Question => "question",
            Reminder::Backup => "backup",
        }
    }
}

/// When: a time of day, every day or on one day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    pub weekday: Option<Weekday>,
    pub time: NaiveTime,
}

impl At {
    /// `"20:30"` (every day) or `"sunday 18:00"`.
    pub fn parse(s: &str) -> Option<At> {
        let s = s.trim().to_lowercase();
        let (day, time) = match s.split_once(' ') {
            Some((d, t)) => (Some(d.parse::<Weekday>().ok()?), t.trim()),
            None => (None, s.as_str()),
        };
        Some(At {
            weekday: day,
            time: NaiveTime::parse_from_str(time, "%H:%M").ok()?,
        })
    }

    /// The first moment strictly after `now` that this names.
    pub fn next_after(&self, now: DateTime<Local>) -> Option<DateTime<Local>> {
        let today = now.date_naive();
        // A week and a day covers every weekly time and a day whose time a clock change
        // skipped.
        (0..=8).find_map(|ahead| {
            let day = today.checked_add_days(Days::new(ahead))?;
            if self.weekday.is_some_and(|w| day.weekday() != w) {
                return None;
            }
            let at = Local
                .from_local_datetime(&day.and_time(self.time))
                .earliest()?;
            (at > now).then_some(at)
        })
    }
}

/// The reminders a person turned on.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reminders {
    pub checkin: Option<At>,
    pub insights: Option<At>,
    pub question: Option<At>,
    /// Remind at noon when the last backup is older than this many days.
    pub backup_after_days: Option<u32>,
}

/// When the backup reminder looks: once a day, at noon.
const BACKUP_LOOKS_AT: At = At {
    weekday: None,
    time: match NaiveTime::from_hms_opt(12, 0, 0) {
        Some(t) => t,
        None => NaiveTime::MIN,
    },
};

impl Reminders {
    pub fn at(&self, r: Reminder) -> Option<At> {
        match r {
            Reminder::Checkin => self.checkin,
            Reminder::Insights => self.insights,
            Reminder::Question => self.question,
            Reminder::Backup => self.backup_after_days.map(|_| BACKUP_LOOKS_AT),
        }
    }

    pub fn is_empty(&self) -> bool {
        Reminder::ALL.iter().all(|r| self.at(*r).is_none())
    }

    /// The next reminder due after `now`, and when.
    pub fn next(&self, now: DateTime<Local>) -> Option<(Reminder, DateTime<Local>)> {
        Reminder::ALL
            .iter()
            .filter_map(|r| Some((*r, self.at(*r)?.next_after(now)?)))
            .min_by_key(|(_, at)| *at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(s: &str) -> DateTime<Local> {
        let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("time");
        Local.from_local_datetime(&naive).earliest().expect("local")
    }

    #[test]
    fn times_read_as_daily_or_weekly_and_nonsense_does_not() {
        let daily = At::parse("20:30").expect("daily");
        assert_eq!(
            (daily.weekday, daily.time.to_string().as_str()),
            (None, "20:30:00")
        );
        let weekly = At::parse(" Sunday 18:00").expect("weekly");
        assert_eq!(weekly.weekday, Some(Weekday::Sun));
        for bad in ["25:00", "sunday", "someday 18:00", "18", ""] {
            assert_eq!(At::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_next_one_is_the_soonest_strictly_after_now() {
        // Friday 4 December 2026, 19:00.
        let now = local("2026-12-04 19:00");
        let r = Reminders {
            checkin: At::parse("20:30"),
            insights: At::parse("sunday 18:00"),
            question: At::parse("friday 19:00"),
            backup_after_days: None,
        };
        assert_eq!(
            r.next(now),
            Some((Reminder::Checkin, local("2026-12-04 20:30")))
        );
        let later = local("2026-12-04 21:00");
        assert_eq!(
            r.next(later),
            Some((Reminder::Checkin, local("2026-12-05 20:30")))
        );
        assert_eq!(
            At::parse("friday 19:00").and_then(|a| a.next_after(now)),
            Some(local("2026-12-11 19:00")),
            "not the moment itself"
        );
        assert_eq!(Reminders::default().next(now), None);
    }
}
