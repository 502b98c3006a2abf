//! The sentences that open `insights` and the brief's "What changed": the earlier part of
//! the range against the later one, the stories that recur, and what else was written.
//! Plain words, facts only: never a score, a streak or a nudge.

use haven_shared::model::insights::{Insights, Measure};

use super::{join_words, plural, times};

/// "2026-10" → "October", "2026-W44" → "week 44", "2026-10 to 2026-11" → "October to
/// November"; with the year when the range spans more than one.
fn period(p: &str, with_year: bool) -> String {
    if let Some((a, b)) = p.split_once(" to ") {
        // Two periods side by side read "October and November"; more, "September to
        // November".
        let joint = if next_to(a, b) { "and" } else { "to" };
        if a.contains("-W") && b.contains("-W") {
            return format!("weeks {} {joint} {}", week_number(a), week_number(b));
        }
        return format!("{} {joint} {}", period(a, with_year), period(b, with_year));
    }
    if p.contains("-W") {
        return format!("week {}", week_number(p));
    }
    match chrono::NaiveDate::parse_from_str(&format!("{p}-01"), "%Y-%m-%d") {
        Ok(d) if with_year => d.format("%B %Y").to_string(),
        Ok(d) => d.format("%B").to_string(),
        Err(_) => p.to_string(),
    }
}

/// Whether `b` is the month or week right after `a`.
fn next_to(a: &str, b: &str) -> bool {
    let index = |p: &str| -> Option<i64> {
        if let Some((y, w)) = p.split_once("-W") {
            return Some(y.parse::<i64>().ok()? * 53 + w.parse::<i64>().ok()?);
        }
        let (y, m) = p.split_once('-')?;
        Some(y.parse::<i64>().ok()? * 12 + m.parse::<i64>().ok()?)
    };
    match (index(a), index(b)) {
        (Some(a), Some(b)) => b == a + 1,
        _ => false,
    }
}

fn week_number(p: &str) -> &str {
    p.rsplit_once("-W")
        .map_or(p, |(_, n)| n.trim_start_matches('0'))
}

/// "not once" for none.
fn how_often(n: f64) -> String {
    match n as usize {
        0 => "not once".into(),
        n => times(n),
    }
}

/// The sentences comparing the two parts of the range (none when there is one part).
pub fn sentences(x: &Insights) -> Vec<String> {
    let with_year = x.since.format("%Y").to_string() != x.until.format("%Y").to_string();
    let find = |m: Measure| x.changes.iter().find(|c| c.what == m);
    let mut out = Vec::new();
    if let Some(w) = find(Measure::IntensityWhenWritten) {
        let (pb, pa) = (
            period(&w.period_before, with_year),
            period(&w.period_after, with_year),
        );
        let mut s = format!(
            "When you wrote it down, the feeling was {:.1} out of 10 on average in {pb}, and {:.1} in {pa}",
            w.before, w.after
        );
        match find(Measure::IntensityOncePassed) {
            Some(p) => s.push_str(&format!(
                "; once it had passed, {:.1} and then {:.1}.",
                p.before, p.after
            )),
            None => s.push('.'),
        }
        out.push(s);
    }
    if let Some(c) = find(Measure::ReassuranceOrProtest) {
        let (pb, pa) = (
            period(&c.period_before, with_year),
            period(&c.period_after, with_year),
        );
        out.push(format!(
            "In {pb} you reached for reassurance or protest {}; in {pa}, {}.",
            how_often(c.before),
            how_often(c.after)
        ));
    }
    if let Some(c) = find(Measure::SoothingOrAsking) {
        out.push(format!(
            "Soothing yourself or asking for what you needed: {} in {}, {} in {}.",
            how_often(c.before),
            period(&c.period_before, with_year),
            how_often(c.after),
            period(&c.period_after, with_year)
        ));
    }
    if let Some(p) = find(Measure::Pauses) {
        out.push(format!(
            "Pauses before sending: {} in {}, {} in {}.",
            p.before as usize,
            period(&p.period_before, with_year),
            p.after as usize,
            period(&p.period_after, with_year)
        ));
    }
    out
}

/// The usual story that came back most, when one did.
pub fn story(x: &Insights) -> Option<String> {
    let top = x.stories.first().filter(|s| s.count >= 2)?;
    Some(format!(
        "The usual story that came back most often: {} ({}).",
        top.story.as_str().replace('_', " "),
        times(top.count)
    ))
}

/// The feelings named most often in check-ins.
pub fn feelings(x: &Insights) -> Option<String> {
    let parts: Vec<String> = x
        .feelings
        .iter()
        .map(|f| format!("{} ({})", crate::output::visible(&f.word), f.count))
        .collect();
    (!parts.is_empty())
        .then(|| format!("The feelings you named most often: {}.", join_words(&parts)))
}

/// The other pages, counted: needs statements, letters, check-ins, notes, and the notes
/// shared with the partner.
pub fn written(x: &Insights) -> Option<String> {
    let w = &x.written;
    let parts: Vec<String> = [
        (w.needs, "needs statement", "needs statements"),
        (w.letters, "letter", "letters"),
        (w.checkins, "check-in", "check-ins"),
        (w.notes, "note", "notes"),
        (
            w.shared,
            "note shared with your partner",
            "notes shared with your partner",
        ),
    ]
    .into_iter()
    .filter(|(n, _, _)| *n > 0)
    .map(|(n, one, many)| plural(n, one, many))
    .collect();
    (!parts.is_empty()).then(|| format!("You also wrote {}.", join_words(&parts)))
}

#[cfg(test)]
mod tests {
    use super::period;

    #[test]
    fn periods_read_as_months_and_weeks() {
        assert_eq!(period("2026-10", false), "October");
        assert_eq!(period("2026-10", true), "October 2026");
        assert_eq!(period("2026-09 to 2026-10", false), "September and October");
        assert_eq!(period("2026-09 to 2026-11", false), "September to November");
        assert_eq!(period("2026-W05", false), "week 5");
        assert_eq!(period("2026-W44 to 2026-W46", false), "weeks 44 to 46");
        assert_eq!(period("2026-W44 to 2026-W45", false), "weeks 44 and 45");
    }
}
