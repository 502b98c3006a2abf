//! The words and small charts of `haven insights`, also the opening of the session brief's
//! "What changed": counts and means of what the person wrote, no streaks, no scores.

mod changes;

use chrono::NaiveDate;

use haven_shared::model::insights::{Insights, Week};
use haven_shared::model::Did;

use crate::output;

const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// One block per week for a mean from 0 to 10; a space for a week with none.
pub fn sparkline(weeks: &[Week], value: impl Fn(&Week) -> Option<f64>) -> String {
    weeks
        .iter()
        .map(|w| match value(w) {
            // 0..=10 onto the eight blocks; the cast is of a value already in 0..=7.
            Some(v) => BLOCKS[((v.clamp(0.0, 10.0) * 7.0 / 10.0).round()) as usize],
            None => ' ',
        })
        .collect()
}

fn bar(n: usize, most: usize, width: usize) -> String {
    if n == 0 || most == 0 {
        return String::new();
    }
    let len = (n * width).div_ceil(most).max(1);
    "█".repeat(len)
}

fn day(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

fn mean(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.1}"))
}

/// The sentences split for the PDF brief's one-page summary: what changed between the
/// two parts of the range first, the rest of the whole range after (in the appendix).
/// A range with one part has nothing to compare, and few sentences: all go first.
pub fn opening(x: &Insights) -> (Vec<String>, Vec<String>) {
    let mut all = sentences(x);
    match changes::sentences(x).len() {
        0 => (all, Vec::new()),
        n => {
            let rest = all.split_off(n.min(all.len()));
            (all, rest)
        }
    }
}

/// The sentences, one paragraph each, that every rendering shares.
pub fn sentences(x: &Insights) -> Vec<String> {
    let mut out = changes::sentences(x);
    let t = &x.triggers;
    if t.count == 0 {
        out.push("No thought records in this range.".to_string());
    } else {
        let records = if t.count == 1 {
            "1 thought record".to_string()
        } else {
            format!("{} thought records", t.count)
        };
        let mut s = format!("You wrote {records}.");
        if let Some(b) = t.mean_intensity {
            s.push_str(&format!(
                " The feeling was {b:.1} out of 10 on average when you wrote it down"
            ));
            match t.mean_after {
                Some(a) => s.push_str(&format!(", and {a:.1} once it had passed.")),
                None => s.push('.'),
            }
        }
        out.push(s);
    }
    let did = &x.did;
    if did.total() > 0 {
        let parts: Vec<String> = Did::ALL
            .iter()
            .filter(|d| did.get(**d) > 0)
            .map(|d| format!("{} {}", what_you_did(*d), times(did.get(*d))))
            .collect();
        out.push(format!(
            "When it came, you reached for {}.",
            join_words(&parts)
        ));
    }
    out.extend(pauses(&x.pauses));
    out.extend(changes::story(x));
    if x.wins.count > 0 {
        out.push(format!(
            "You noted {}.",
            plural(x.wins.count, "win", "wins")
        ));
    }
    out.extend(changes::written(x));
    out.extend(changes::feelings(x));
    if !x.helped.is_empty() {
        let parts: Vec<String> = x
            .helped
            .iter()
            .map(|h| format!("{} ({})", output::visible(&h.text), h.count))
            .collect();
        out.push(format!("What helped most often: {}.", parts.join(", ")));
    }
    if !x.tags.is_empty() {
        let parts: Vec<String> = x
            .tags
            .iter()
            .map(|t| format!("#{} ({})", output::visible(&t.tag), t.count))
            .collect();
        out.push(format!("Tags on your triggers: {}.", parts.join(", ")));
    }
    out
}

/// The pauses of the range, how they ended and the urge before and after.
fn pauses(p: &haven_shared::model::insights::Pauses) -> Option<String> {
    if p.count == 0 {
        return None;
    }
    let mut s = format!(
        "You took {} before sending; {} finished",
        plural(p.count, "pause", "pauses"),
        p.finished
    );
    if p.finished > 0 {
        s.push_str(&format!(", {} with the message not sent", p.not_sent));
        if p.rewritten > 0 {
            s.push_str(&format!(", {} rewritten as a needs statement", p.rewritten));
        }
    }
    s.push('.');
    if let (Some(b), Some(a)) = (p.mean_urge_before, p.mean_urge_after) {
        s.push_str(&format!(
            " The urge was {b:.1} out of 10 on average at the start, {a:.1} at the end."
        ));
    }
    Some(s)
}

fn what_you_did(d: Did) -> &'static str {
    match d {
        Did::Reassurance => "reassurance",
        Did::Protest => "protest",
        Did::Soothing => "soothing",
        Did::Asked => "asking for what you needed",
        Did::Other => "something else",
    }
}

fn times(n: usize) -> String {
    match n {
        1 => "once".into(),
        2 => "twice".into(),
        n => format!("{n} times"),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    haven_shared::plural::count(n as u64, one, many)
}

fn join_words(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// How `render` draws: in colour or not, and with block characters or in words only
/// (`--plain`, for a screen reader: "lower one quarter block" says nothing).
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub colour: bool,
    pub plain: bool,
}

impl Style {
    fn paint(self, s: String) -> String {
        if self.colour && !s.trim().is_empty() {
            format!("\x1b[36m{s}\x1b[0m")
        } else {
            s
        }
    }
}

/// The terminal form: the sentences, then the charts, each with a line of words.
pub fn render(x: &Insights, style: Style) -> String {
    let mut out = format!("What changed, {} to {}\n\n", day(x.since), day(x.until));
    for s in sentences(x) {
        out.push_str(&s);
        out.push('\n');
    }
    out.push_str(&weekly(x, style));
    out.push_str(&did_section(x, style));
    out.push_str(&by_tag(x));
    out.push_str(&moods(x));
    if x.pauses.count > 0 {
        out.push_str(&format!(
            "\nPauses: {} taken, {} finished, {} not sent; urge {} → {} on average\n",
            x.pauses.count,
            x.pauses.finished,
            x.pauses.not_sent,
            mean(x.pauses.mean_urge_before),
            mean(x.pauses.mean_urge_after)
        ));
    }
    if !x.wins.recent.is_empty() {
        out.push_str("\nWins:\n");
        for w in &x.wins.recent {
            out.push_str(&format!(
                "  {}  {}\n",
                w.on.format("%-d %b"),
                output::visible(&output::one_line(&w.text, 70))
            ));
        }
    }
    out
}

/// The weeks of the range: records, and the feeling when written and once passed.
fn weekly(x: &Insights, style: Style) -> String {
    let weeks = &x.triggers.by_week;
    if x.triggers.count == 0 || weeks.len() < 2 {
        return String::new();
    }
    // A terminal shows the last half year; JSON has every week.
    let shown = &weeks[weeks.len().saturating_sub(26)..];
    let mut out = format!(
        "\nWeek by week, oldest first ({} to {}):\n",
        shown.first().map_or(String::new(), |w| w.week.clone()),
        shown.last().map_or(String::new(), |w| w.week.clone()),
    );
    if !style.plain {
        out.push_str("  (a blank is a week with none)\n");
        out.push_str(&format!(
            "  records          {}\n",
            style.paint(shown.iter().map(|w| count_block(w.count)).collect())
        ));
        out.push_str(&format!(
            "  when written     {}\n",
            style.paint(sparkline(shown, |w| w.mean_intensity))
        ));
        out.push_str(&format!(
            "  once it passed   {}\n",
            style.paint(sparkline(shown, |w| w.mean_after))
        ));
    }
    for (label, value) in [
        (
            "When written",
            (|w: &Week| w.mean_intensity) as fn(&Week) -> Option<f64>,
        ),
        ("Once it passed", |w: &Week| w.mean_after),
    ] {
        if let Some(line) = first_to_last(shown, value) {
            out.push_str(&format!("  {label}: {line}.\n"));
        }
    }
    out
}

/// The words beside the charts, for every format of the brief: the weeks the charts span
/// with the first and last value of each, and what was done month by month.
pub fn chart_words(x: &Insights) -> Vec<String> {
    let mut out = Vec::new();
    let weeks = &x.triggers.by_week;
    if x.triggers.count > 0 && weeks.len() > 1 {
        let mut s = format!(
            "Week by week, {} to {}.",
            weeks.first().map_or("", |w| w.week.as_str()),
            weeks.last().map_or("", |w| w.week.as_str())
        );
        for (label, value) in [
            (
                "When written",
                (|w: &Week| w.mean_intensity) as fn(&Week) -> Option<f64>,
            ),
            ("once it passed", |w: &Week| w.mean_after),
        ] {
            if let Some(line) = first_to_last(weeks, value) {
                s.push_str(&format!(" {label}: {line}."));
            }
        }
        out.push(s);
    }
    if x.did_by_month.len() > 1 {
        let months: Vec<String> = x
            .did_by_month
            .iter()
            .map(|m| {
                let did: Vec<String> = Did::ALL
                    .iter()
                    .filter(|d| m.did.get(**d) > 0)
                    .map(|d| format!("{} {}", d.as_str(), m.did.get(*d)))
                    .collect();
                let did = if did.is_empty() {
                    "nothing written".to_string()
                } else {
                    did.join(", ")
                };
                format!("{}: {did}", m.month)
            })
            .collect();
        out.push(format!("What you did by month: {}.", months.join("; ")));
    }
    out
}

/// "8.0 in week 44, 3.0 in week 48": the first and the last week with a value.
fn first_to_last(weeks: &[Week], value: fn(&Week) -> Option<f64>) -> Option<String> {
    let mut with = weeks.iter().filter_map(|w| Some((value(w)?, w)));
    let (first, fw) = with.next()?;
    let (last, lw) = with.next_back()?;
    let number = |w: &Week| {
        w.week.rsplit_once("-W").map_or(w.week.clone(), |(_, n)| {
            n.trim_start_matches('0').to_string()
        })
    };
    Some(format!(
        "{first:.1} in week {}, {last:.1} in week {}",
        number(fw),
        number(lw)
    ))
}

/// What was done when it came, with bars (or counts alone) and the table by month.
fn did_section(x: &Insights, style: Style) -> String {
    let did = &x.did;
    if did.total() == 0 {
        return String::new();
    }
    let most = Did::ALL.iter().map(|d| did.get(*d)).max().unwrap_or(0);
    let mut out = "\nWhat you did:\n".to_string();
    for d in Did::ALL {
        let drawn = if style.plain {
            String::new()
        } else {
            format!(" {}", style.paint(bar(did.get(d), most, 30)))
        };
        out.push_str(&format!("  {:<12} {:>3}{drawn}\n", d.as_str(), did.get(d)));
    }
    if x.did_by_month.len() > 1 {
        out.push_str("\nBy month     reassurance  protest  soothing  asked  other\n");
        for m in &x.did_by_month {
            out.push_str(&format!(
                "  {}    {:>11}  {:>7}  {:>8}  {:>5}  {:>5}\n",
                m.month, m.did.reassurance, m.did.protest, m.did.soothing, m.did.asked, m.did.other
            ));
        }
    }
    out
}

/// Per tag: how many records, how strong, and what was done.
fn by_tag(x: &Insights) -> String {
    if x.by_tag.is_empty() {
        return String::new();
    }
    let mut out = "\nBy tag:\n".to_string();
    for t in &x.by_tag {
        let did: Vec<String> = Did::ALL
            .iter()
            .filter(|d| t.did.get(**d) > 0)
            .map(|d| format!("{} {}", d.as_str(), t.did.get(*d)))
            .collect();
        let mut line = format!(
            "  #{}: {}",
            output::visible(&t.tag),
            plural(t.count, "record", "records")
        );
        if let Some(m) = t.mean_intensity {
            line.push_str(&format!(", {m:.1} on average"));
        }
        if !did.is_empty() {
            line.push_str(&format!("; {}", did.join(", ")));
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The mood of the last weeks in which one was recorded (1 low, 5 good).
fn moods(x: &Insights) -> String {
    if x.mood_by_week.is_empty() {
        return String::new();
    }
    let shown = &x.mood_by_week[x.mood_by_week.len().saturating_sub(8)..];
    let parts: Vec<String> = shown
        .iter()
        .map(|w| format!("{} {:.1}", w.week, w.mean))
        .collect();
    format!("\nMood by week (1 low, 5 good): {}\n", parts.join(", "))
}

/// How many records a week: blank, then ▁ for one up to █ for eight or more.
fn count_block(n: usize) -> char {
    match n {
        0 => ' ',
        n => BLOCKS[(n - 1).min(7)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn week(mean: Option<f64>) -> Week {
        Week {
            week: "2026-W01".into(),
            starts: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default(),
            count: 1,
            mean_intensity: mean,
            mean_after: None,
        }
    }

    #[test]
    fn sparklines_span_zero_to_ten_and_leave_empty_weeks_blank() {
        let weeks = [
            week(Some(0.0)),
            week(None),
            week(Some(5.0)),
            week(Some(10.0)),
        ];
        assert_eq!(sparkline(&weeks, |w| w.mean_intensity), "▁ ▅█");
        assert_eq!(bar(3, 6, 30).chars().count(), 15);
        assert_eq!(bar(0, 6, 30), "");
        assert_eq!(
            join_words(&["a".into(), "b".into(), "c".into()]),
            "a, b and c"
        );
    }

    #[test]
    fn escape_sequences_in_what_was_written_are_shown_not_obeyed() {
        use haven_shared::model::{Entry, Kind, ThoughtRecord};
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-02T10:00:00Z").unwrap_or_default();
        let e = Entry {
            id: "01".into(),
            kind: Kind::Trigger,
            title: String::new(),
            body: String::new(),
            tags: vec!["a\u{1b}]52;c;x\u{7}".into()],
            mood: None,
            intensity: Some(5),
            created_at: at,
            updated_at: at,
            record: Some(Box::new(ThoughtRecord {
                helped: Some("tea\u{1b}[2J".into()),
                did: vec![Did::Soothing],
                ..Default::default()
            })),
            pause: None,
            feelings: Vec::new(),
        };
        let day = at.date_naive();
        let x = haven_shared::model::insights::compute([&e], day, day);
        let text = render(
            &x,
            Style {
                colour: true,
                plain: false,
            },
        );
        assert!(
            text.contains("tea\\u{1b}[2J") && text.contains("#a\\u{1b}]52"),
            "{text}"
        );
        assert!(text.contains("\u{1b}[36m"), "the colour itself is kept");
        assert_eq!(
            text.matches('\u{1b}').count(),
            text.matches("\u{1b}[36m").count() + text.matches("\u{1b}[0m").count()
        );
    }
}
