//! The Markdown export.

use super::model::{day, Export, AGREEMENT_GROUPS, FOOTER};
use super::summary::Section;
use crate::insights_view as insights;
use haven_shared::model::insights::Insights;

/// The weekly sparklines (when written, once passed), when there are weeks to show.
pub fn weekly(x: &Insights) -> Option<(String, String)> {
    let weeks = &x.triggers.by_week;
    (x.triggers.count > 0 && weeks.len() > 1).then(|| {
        (
            insights::sparkline(weeks, |w| w.mean_intensity),
            insights::sparkline(weeks, |w| w.mean_after),
        )
    })
}

fn section(out: &mut String, s: &Section) {
    out.push_str(&format!("## {}\n\n", s.heading));
    for line in &s.lines {
        out.push_str(&format!("- {line}\n"));
    }
    out.push('\n');
}

pub fn render(x: &Export) -> String {
    let mut out = format!("# {}\n\n", x.title());
    if x.brief {
        out.push_str(&format!(
            "{} · {} · written with Haven\n\n",
            x.name,
            x.entry_count()
        ));
        if let Some(s) = x.to_bring() {
            section(&mut out, &s);
        }
        if let Some(changed) = x.changed() {
            out.push_str("## What changed\n\n");
            for s in insights::sentences(changed) {
                out.push_str(&format!("{s}\n\n"));
            }
            if let Some((before, after)) = weekly(changed) {
                out.push_str(&format!(
                    "`{before}` when written, week by week\n\n`{after}` once it had passed\n\n"
                ));
            }
            for line in insights::chart_words(changed) {
                out.push_str(&format!("{line}\n\n"));
            }
        }
        for s in x.summary() {
            section(&mut out, &s);
        }
        if x.summary_only {
            return footer(out, x);
        }
        let intensity = x.intensity();
        if !intensity.points.is_empty() {
            out.push_str("## Trigger intensity\n\n");
            out.push_str(&format!(
                "{}\n\n`{}` (oldest to newest, 0 to 10)\n\n",
                intensity.summary(),
                intensity.sparkline()
            ));
        }
        out.push_str("## Entries\n\n");
    }
    for e in &x.entries {
        let level = if x.brief { "###" } else { "##" };
        out.push_str(&format!(
            "{level} {}\n\n*{}*\n\n",
            Export::heading(e),
            Export::meta(e),
        ));
        for (heading, text) in x.blocks(e) {
            if let Some(h) = heading {
                out.push_str(&format!("**{h}**\n\n"));
            }
            out.push_str(&format!("{text}\n\n"));
        }
    }
    out.push_str(&agreements(x));
    if !x.thanks.is_empty() {
        out.push_str("## Appreciations received\n\n");
        for n in &x.thanks {
            out.push_str(&format!("- {} ({}): {}\n", n.by, day(&n.at), n.text.trim()));
        }
        out.push('\n');
    }
    footer(out, x)
}

fn footer(mut out: String, x: &Export) -> String {
    out.push_str("---\n\n");
    if let Some(r) = &x.redactions {
        out.push_str(&format!("Redacted: {}.\n\n", r.join(", ")));
    }
    out.push_str(&format!("Exported {}. {FOOTER}\n", day(&x.exported)));
    out
}

/// The agreements in force, then those said no to in the period, with their words.
fn agreements(x: &Export) -> String {
    let mut out = String::new();
    for (heading, in_force) in AGREEMENT_GROUPS {
        let mut group = x.agreements(in_force).peekable();
        if group.peek().is_none() {
            continue;
        }
        out.push_str(&format!("## {heading}\n\n"));
        for a in group {
            let review = a
                .review_on
                .map(|d| format!(", review on {}", d.format("%-d %B %Y")))
                .unwrap_or_default();
            out.push_str(&format!(
                "- **{}** ({}{review}): {}\n",
                a.title,
                a.status.label(),
                a.text.trim()
            ));
            for words in Export::agreement_words(a) {
                out.push_str(&format!("  - *{words}*\n"));
            }
        }
        out.push('\n');
    }
    out
}
