//! What changed: the figures `haven insights` and the session brief show, computed from the
//! entries of a range.
//!
//! Counts and means only, over what the person wrote; nothing is scored or ranked against
//! them. A mean is taken only over the entries that have the value (an old trigger with
//! no "after" does not pull the mean to zero) and is rounded to one decimal. Weeks are ISO
//! weeks of the day each entry was written, in the offset it was written in.

use chrono::{Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod changes;

pub use changes::{Change, Measure};

use super::journal::{Entry, Kind};
use super::practice::PauseOutcome;
use super::record::{Did, Story};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Insights {
    pub since: NaiveDate,
    pub until: NaiveDate,
    pub triggers: Triggers,
    /// How often each "what I did" was written, over the whole range.
    pub did: DidCounts,
    /// The same, per calendar month (`2026-11`), oldest first.
    pub did_by_month: Vec<MonthDid>,
    pub pauses: Pauses,
    pub wins: Wins,
    /// The tags most often on trigger entries, most frequent first (at most 5).
    pub tags: Vec<TagCount>,
    /// What helped, most often first (at most 5; the same words in any case count as one).
    /// Once the soothing plan is known ([`Insights::keep_helped`]), only what came back
    /// or what the plan names.
    pub helped: Vec<HelpedCount>,
    /// What changed between the earlier and the later part of the range.
    #[serde(default)]
    pub changes: Vec<Change>,
    /// The usual stories ticked in thought records, most frequent first.
    #[serde(default)]
    pub stories: Vec<StoryCount>,
    /// Per tag on thought records (at most 5): how many, how strong, what was done.
    #[serde(default)]
    pub by_tag: Vec<TagInsight>,
    /// The mean mood (1 to 5) of each week in which one was recorded, oldest first.
    #[serde(default)]
    pub mood_by_week: Vec<WeekMood>,
    /// The other pages written: needs statements, letters, check-ins, notes.
    #[serde(default)]
    pub written: Written,
    /// The feelings named in check-ins, most often first (at most 5).
    #[serde(default)]
    pub feelings: Vec<FeelingCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeelingCount {
    pub word: String,
    pub group: Option<super::feelings::Group>,
    pub count: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoryCount {
    pub story: Story,
    pub count: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagInsight {
    pub tag: String,
    pub count: usize,
    pub mean_intensity: Option<f64>,
    pub did: DidCounts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeekMood {
    pub week: String,
    pub starts: NaiveDate,
    pub mean: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Written {
    pub needs: usize,
    pub letters: usize,
    pub checkins: usize,
    pub notes: usize,
    /// Notes this member shared with the partner (the couple document's board).
    #[serde(default)]
    pub shared: usize,
}

impl Insights {
    /// Counts the verified notes this member shared with the partner on `since..=until`
    /// (days as written), beside the journal's own pages.
    pub fn count_shared<'a>(
        mut self,
        notes: impl IntoIterator<Item = &'a crate::model::notes::NoteView>,
        since: NaiveDate,
        until: NaiveDate,
    ) -> Insights {
        self.written.shared = notes
            .into_iter()
            .filter(|n| n.mine && n.verified)
            .filter(|n| (since..=until).contains(&n.at.date_naive()))
            .count();
        self
    }

    /// Keeps, of what helped, what came back at least twice or what a line of the
    /// soothing plan names (either holding the other, any case): a list of every line
    /// written once says nothing.
    pub fn keep_helped(mut self, plan_lines: &[String]) -> Insights {
        let plan: Vec<String> = plan_lines.iter().map(|l| l.to_lowercase()).collect();
        self.helped.retain(|h| {
            let text = h.text.to_lowercase();
            h.count >= 2
                || plan
                    .iter()
                    .any(|l| !l.is_empty() && (l.contains(&text) || text.contains(l.as_str())))
        });
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Triggers {
    pub count: usize,
    pub mean_intensity: Option<f64>,
    pub mean_after: Option<f64>,
    /// Every week of the range, oldest first, also the weeks with no record.
    pub by_week: Vec<Week>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Week {
    /// ISO week, `2026-W48`.
    pub week: String,
    /// Its Monday.
    pub starts: NaiveDate,
    pub count: usize,
    pub mean_intensity: Option<f64>,
    pub mean_after: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DidCounts {
    pub reassurance: usize,
    pub protest: usize,
    pub soothing: usize,
    /// Asked for what one needed (a record written before `asked` existed has none).
    #[serde(default)]
    pub asked: usize,
    pub other: usize,
}

impl DidCounts {
    fn add(&mut self, did: Did) {
        match did {
            Did::Reassurance => self.reassurance += 1,
            Did::Protest => self.protest += 1,
            Did::Soothing => self.soothing += 1,
            Did::Asked => self.asked += 1,
            Did::Other => self.other += 1,
        }
    }

    pub fn get(&self, did: Did) -> usize {
        match did {
            Did::Reassurance => self.reassurance,
            Did::Protest => self.protest,
            Did::Soothing => self.soothing,
            Did::Asked => self.asked,
            Did::Other => self.other,
        }
    }

    pub fn total(&self) -> usize {
        Did::ALL.iter().map(|d| self.get(*d)).sum()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthDid {
    /// `2026-11`.
    pub month: String,
    #[serde(flatten)]
    pub did: DidCounts,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Pauses {
    pub count: usize,
    /// Pauses the person said how they ended.
    pub finished: usize,
    /// Finished with the message not sent.
    pub not_sent: usize,
    /// Finished with the message rewritten as a needs statement, and that sent instead.
    #[serde(default)]
    pub rewritten: usize,
    pub mean_urge_before: Option<f64>,
    pub mean_urge_after: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Wins {
    pub count: usize,
    /// The newest few, newest first.
    pub recent: Vec<WinItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WinItem {
    pub id: String,
    pub on: NaiveDate,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagCount {
    pub tag: String,
    pub count: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelpedCount {
    pub text: String,
    pub count: usize,
}

const TOP: usize = 5;
const RECENT_WINS: usize = 5;

/// A running mean.
#[derive(Default)]
struct Mean {
    sum: u64,
    n: u64,
}

impl Mean {
    fn add(&mut self, value: Option<u8>) {
        if let Some(v) = value {
            self.sum += u64::from(v);
            self.n += 1;
        }
    }
    fn value(&self) -> Option<f64> {
        (self.n > 0).then(|| round1(self.sum as f64 / self.n as f64))
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn week_of(day: NaiveDate) -> (String, NaiveDate) {
    let w = day.iso_week();
    let back = Days::new(u64::from(day.weekday().num_days_from_monday()));
    let monday = day.checked_sub_days(back).unwrap_or(day);
    (format!("{}-W{:02}", w.year(), w.week()), monday)
}

/// The longest span `by_week` lists: a century of weeks. A range reaching further back
/// (`--since 200000y`) still counts every entry, but lists weeks only from there.
const MAX_WEEKS: u64 = 100 * 53;

/// The figures for entries written on `since..=until` (days). `entries` may hold others;
/// they are skipped.
pub fn compute<'a>(
    entries: impl IntoIterator<Item = &'a Entry>,
    since: NaiveDate,
    until: NaiveDate,
) -> Insights {
    let mut tally = Tally::new(since, until);
    let mut kept = Vec::new();
    for e in entries {
        let day = e.created_at.date_naive();
        if day < since || day > until {
            continue;
        }
        kept.push(e);
        for f in &e.feelings {
            *tally.feelings.entry(f.clone()).or_default() += 1;
        }
        if let Some(m) = e.mood {
            let (_, monday) = week_of(day);
            if let Some(w) = tally.moods.get_mut(&monday) {
                w.add(Some(m));
            }
        }
        match e.kind {
            Kind::Trigger => tally.trigger(e, day),
            Kind::Pause => tally.pause(e),
            Kind::Win => tally.wins.push(e),
            Kind::Needs => tally.written.needs += 1,
            Kind::Letter => tally.written.letters += 1,
            Kind::Checkin => tally.written.checkins += 1,
            Kind::Note => tally.written.notes += 1,
            Kind::Bring => {}
        }
    }
    let mut x = tally.finish();
    x.changes = changes::between(kept, since, until);
    x
}

/// What [`compute`] adds up, entry by entry.
#[derive(Default)]
struct Tally<'a> {
    since: NaiveDate,
    until: NaiveDate,
    /// By the week's Monday: its name, how many records, their intensity before and after.
    weeks: BTreeMap<NaiveDate, (String, usize, Mean, Mean)>,
    before: Mean,
    after: Mean,
    trigger_count: usize,
    did: DidCounts,
    by_month: BTreeMap<String, DidCounts>,
    pauses: Pauses,
    urge_before: Mean,
    urge_after: Mean,
    wins: Vec<&'a Entry>,
    tags: BTreeMap<String, usize>,
    /// Per tag: how strong (when written) and what was done.
    tag_detail: BTreeMap<String, (Mean, DidCounts)>,
    stories: BTreeMap<Story, usize>,
    /// By the week's Monday, the moods recorded that week.
    moods: BTreeMap<NaiveDate, Mean>,
    written: Written,
    feelings: BTreeMap<String, usize>,
    /// lowercased -> (as first written, count)
    helped: BTreeMap<String, (String, usize)>,
}

impl<'a> Tally<'a> {
    /// Every week of the range listed, empty ones too (at most [`MAX_WEEKS`] of them).
    fn new(since: NaiveDate, until: NaiveDate) -> Tally<'a> {
        let mut weeks: BTreeMap<NaiveDate, (String, usize, Mean, Mean)> = BTreeMap::new();
        let earliest = until
            .checked_sub_days(Days::new(MAX_WEEKS * 7))
            .unwrap_or(NaiveDate::MIN);
        let mut day = since.max(earliest);
        while day <= until {
            let (name, monday) = week_of(day);
            weeks
                .entry(monday)
                .or_insert_with(|| (name, 0, Mean::default(), Mean::default()));
            match day.checked_add_days(Days::new(7)) {
                Some(next) => day = next,
                None => break,
            }
        }
        let (last_name, last_monday) = week_of(until);
        weeks
            .entry(last_monday)
            .or_insert_with(|| (last_name, 0, Mean::default(), Mean::default()));
        let moods = weeks.keys().map(|m| (*m, Mean::default())).collect();
        Tally {
            since,
            until,
            weeks,
            moods,
            ..Tally::default()
        }
    }

    fn trigger(&mut self, e: &Entry, day: NaiveDate) {
        self.trigger_count += 1;
        let intensity_after = e.record.as_ref().and_then(|r| r.intensity_after);
        self.before.add(e.intensity);
        self.after.add(intensity_after);
        let (_, monday) = week_of(day);
        if let Some(w) = self.weeks.get_mut(&monday) {
            w.1 += 1;
            w.2.add(e.intensity);
            w.3.add(intensity_after);
        }
        for tag in &e.tags {
            *self.tags.entry(tag.clone()).or_default() += 1;
            let detail = self.tag_detail.entry(tag.clone()).or_default();
            detail.0.add(e.intensity);
            for d in e.record.iter().flat_map(|r| &r.did) {
                detail.1.add(*d);
            }
        }
        if let Some(r) = &e.record {
            let month = self
                .by_month
                .entry(day.format("%Y-%m").to_string())
                .or_default();
            for d in &r.did {
                self.did.add(*d);
                month.add(*d);
            }
            for s in &r.stories {
                *self.stories.entry(*s).or_default() += 1;
            }
            if let Some(h) = &r.helped {
                let text = h.split_whitespace().collect::<Vec<_>>().join(" ");
                let key = text.trim_end_matches('.').to_lowercase();
                self.helped.entry(key).or_insert_with(|| (text, 0)).1 += 1;
            }
        }
    }

    fn pause(&mut self, e: &Entry) {
        self.pauses.count += 1;
        if let Some(p) = &e.pause {
            self.urge_before.add(p.urge_before);
            if !p.is_open() {
                self.pauses.finished += 1;
                self.urge_after.add(p.urge_after);
                match p.outcome() {
                    Some(PauseOutcome::NotSent) => self.pauses.not_sent += 1,
                    Some(PauseOutcome::SentRewritten) => self.pauses.rewritten += 1,
                    _ => {}
                }
            }
        }
    }

    fn finish(self) -> Insights {
        let mut pauses = self.pauses;
        pauses.mean_urge_before = self.urge_before.value();
        pauses.mean_urge_after = self.urge_after.value();
        let mut tags: Vec<TagCount> = self
            .tags
            .into_iter()
            .map(|(tag, count)| TagCount { tag, count })
            .collect();
        tags.sort_by(|a, b| b.count.cmp(&a.count).then(a.tag.cmp(&b.tag)));
        tags.truncate(TOP);
        let mut helped: Vec<HelpedCount> = self
            .helped
            .into_values()
            .map(|(text, count)| HelpedCount { text, count })
            .collect();
        helped.sort_by(|a, b| b.count.cmp(&a.count).then(a.text.cmp(&b.text)));
        helped.truncate(TOP);
        let (by_tag, stories, mood_by_week) = details(
            &tags,
            &self.tag_detail,
            self.stories,
            &self.moods,
            &self.weeks,
        );
        let mut wins = self.wins;
        wins.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        Insights {
            since: self.since,
            until: self.until,
            triggers: Triggers {
                count: self.trigger_count,
                mean_intensity: self.before.value(),
                mean_after: self.after.value(),
                by_week: self
                    .weeks
                    .into_iter()
                    .map(|(starts, (week, count, b, a))| Week {
                        week,
                        starts,
                        count,
                        mean_intensity: b.value(),
                        mean_after: a.value(),
                    })
                    .collect(),
            },
            did: self.did,
            did_by_month: self
                .by_month
                .into_iter()
                .map(|(month, did)| MonthDid { month, did })
                .collect(),
            pauses,
            wins: Wins {
                count: wins.len(),
                recent: wins
                    .iter()
                    .take(RECENT_WINS)
                    .map(|e| WinItem {
                        id: e.id.clone(),
                        on: e.created_at.date_naive(),
                        text: e.headline().to_string(),
                    })
                    .collect(),
            },
            tags,
            helped,
            changes: Vec::new(),
            stories,
            by_tag,
            mood_by_week,
            written: self.written,
            feelings: top_feelings(self.feelings),
        }
    }
}

/// The feelings named most often, with their group.
fn top_feelings(counts: BTreeMap<String, usize>) -> Vec<FeelingCount> {
    let mut out: Vec<FeelingCount> = counts
        .into_iter()
        .map(|(word, count)| FeelingCount {
            group: super::feelings::group_of(&word),
            word,
            count,
        })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.word.cmp(&b.word)));
    out.truncate(TOP);
    out
}

/// Per tag, the stories ticked, and the mood of each week: what `finish` adds beside the
/// counts.
fn details(
    tags: &[TagCount],
    tag_detail: &BTreeMap<String, (Mean, DidCounts)>,
    story_counts: BTreeMap<Story, usize>,
    moods: &BTreeMap<NaiveDate, Mean>,
    weeks: &BTreeMap<NaiveDate, (String, usize, Mean, Mean)>,
) -> (Vec<TagInsight>, Vec<StoryCount>, Vec<WeekMood>) {
    let mut by_tag: Vec<TagInsight> = tags
        .iter()
        .filter_map(|t| {
            let (mean, did) = tag_detail.get(&t.tag)?;
            Some(TagInsight {
                tag: t.tag.clone(),
                count: t.count,
                mean_intensity: mean.value(),
                did: did.clone(),
            })
        })
        .collect();
    by_tag.truncate(TOP);
    let mut stories: Vec<StoryCount> = story_counts
        .into_iter()
        .map(|(story, count)| StoryCount { story, count })
        .collect();
    stories.sort_by(|a, b| b.count.cmp(&a.count).then(a.story.cmp(&b.story)));
    let mood_by_week: Vec<WeekMood> = moods
        .iter()
        .filter_map(|(monday, m)| {
            Some(WeekMood {
                week: weeks.get(monday)?.0.clone(),
                starts: *monday,
                mean: m.value()?,
            })
        })
        .collect();
    (by_tag, stories, mood_by_week)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::practice::PauseRecord;
    use crate::model::record::ThoughtRecord;
    use chrono::DateTime;

    fn entry(day: &str, kind: Kind, intensity: Option<u8>) -> Entry {
        let at = DateTime::parse_from_rfc3339(&format!("{day}T21:30:00+01:00")).expect("t");
        Entry {
            id: format!("01{day}"),
            kind,
            title: format!("{kind} on {day}"),
            body: String::new(),
            tags: vec![],
            mood: None,
            intensity,
            created_at: at,
            updated_at: at,
            record: None,
            pause: None,
            feelings: Vec::new(),
        }
    }

    fn record(
        day: &str,
        before: Option<u8>,
        after: Option<u8>,
        did: &[Did],
        helped: &str,
    ) -> Entry {
        Entry {
            record: Some(Box::new(ThoughtRecord {
                did: did.to_vec(),
                intensity_after: after,
                helped: Some(helped.into()).filter(|h: &String| !h.is_empty()),
                ..Default::default()
            })),
            tags: vec!["phone".into()],
            ..entry(day, Kind::Trigger, before)
        }
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn means_count_only_what_was_written_and_every_week_is_there() {
        let entries = vec![
            record(
                "2026-11-02",
                Some(8),
                Some(3),
                &[Did::Reassurance],
                "A walk.",
            ),
            record(
                "2026-11-04",
                Some(7),
                None,
                &[Did::Soothing, Did::Protest],
                "a walk",
            ),
            record("2026-11-20", Some(4), Some(2), &[Did::Soothing], "tea"),
            entry("2026-11-10", Kind::Trigger, None),
            entry("2026-10-01", Kind::Trigger, Some(10)),
            entry("2026-11-12", Kind::Win, None),
        ];
        let x = compute(&entries, date("2026-11-01"), date("2026-11-30"));
        assert_eq!(x.triggers.count, 4, "the October one is outside the range");
        assert_eq!(
            x.triggers.mean_intensity,
            Some(6.3),
            "(8+7+4)/3, the one without is skipped"
        );
        assert_eq!(x.triggers.mean_after, Some(2.5));
        let weeks: Vec<(&str, usize, Option<f64>)> = x
            .triggers
            .by_week
            .iter()
            .map(|w| (w.week.as_str(), w.count, w.mean_intensity))
            .collect();
        assert_eq!(
            weeks,
            vec![
                ("2026-W44", 0, None),
                ("2026-W45", 2, Some(7.5)),
                ("2026-W46", 1, None),
                ("2026-W47", 1, Some(4.0)),
                ("2026-W48", 0, None),
                ("2026-W49", 0, None),
            ]
        );
        assert_eq!(
            x.did,
            DidCounts {
                reassurance: 1,
                protest: 1,
                soothing: 2,
                asked: 0,
                other: 0
            }
        );
        assert_eq!(x.did_by_month.len(), 1);
        assert_eq!(
            x.helped[0],
            HelpedCount {
                text: "A walk.".into(),
                count: 2
            }
        );
        assert_eq!(
            x.tags,
            vec![TagCount {
                tag: "phone".into(),
                count: 3
            }]
        );
        assert_eq!(x.wins.count, 1);
    }

    #[test]
    fn pauses_count_finished_and_unsent() {
        let pause = |urge_before, urge_after, sent: Option<bool>| Entry {
            pause: Some(Box::new(PauseRecord {
                urge_before,
                urge_after,
                sent,
                minutes: 20,
                finished_at: sent
                    .map(|_| DateTime::parse_from_rfc3339("2026-11-03T10:00:00Z").expect("t")),
                ..Default::default()
            })),
            ..entry("2026-11-03", Kind::Pause, None)
        };
        let mut rewritten = pause(Some(9), Some(3), Some(true));
        if let Some(p) = rewritten.pause.as_mut() {
            p.rewrite = Some("I feel … when … I need …".into());
        }
        let entries = vec![
            pause(Some(9), Some(4), Some(false)),
            pause(Some(6), Some(5), Some(true)),
            pause(Some(8), None, None),
            rewritten,
        ];
        let x = compute(&entries, date("2026-11-01"), date("2026-11-07"));
        assert_eq!(
            x.pauses,
            Pauses {
                count: 4,
                finished: 3,
                not_sent: 1,
                rewritten: 1,
                mean_urge_before: Some(8.0),
                mean_urge_after: Some(4.0),
            }
        );
    }

    #[test]
    fn a_range_to_the_ends_of_the_calendar_lists_a_century_of_weeks_and_never_panics() {
        let entries = vec![record("2026-11-02", Some(8), Some(3), &[Did::Protest], "")];
        let x = compute(&entries, NaiveDate::MIN, NaiveDate::MAX);
        assert_eq!(x.triggers.count, 1);
        assert!(
            x.triggers.by_week.len() <= 100 * 53 + 1,
            "{}",
            x.triggers.by_week.len()
        );
        let x = compute(&entries, NaiveDate::MIN, date("2026-11-30"));
        assert_eq!(x.triggers.count, 1);
        assert!(x.triggers.by_week.len() > 5000);
    }
}
