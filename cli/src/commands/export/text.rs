//! The plain-text export: the Markdown structure without markup, for printing or pasting.

use super::model::{day, Export, AGREEMENT_GROUPS, FOOTER};
use super::summary::Section;
use crate::insights_view as insights;

fn underline(title: &str, ch: char) -> String {
    format!(
        "{title}\n{}\n\n",
        ch.to_string().repeat(title.chars().count())
    )
}

fn section(out: &mut String, s: &Section) {
    out.push_str(&underline(s.heading, '-'));
    for line in &s.lines {
        out.push_str(&format!("* {line}\n"));
    }
    out.push('\n');
}

pub fn render(x: &Export) -> String {
    let mut out = underline(&x.title(), '=');
    if x.brief {
        out.push_str(&format!("{} - {}\n\n", x.name, x.entry_count()));
        if let Some(s) = x.to_bring() {
            section(&mut out, &s);
        }
    }
    if let Some(changed) = x.changed() {
        out.push_str(&underline("What changed", '-'));
        for s in insights::sentences(changed) {
            out.push_str(&format!("{s}\n\n"));
        }
        if let Some((before, after)) = super::markdown::weekly(changed) {
            out.push_str(&format!(
                "{before}  when written, week by week\n{after}  once it had passed\n\n"
            ));
        }
        for line in insights::chart_words(changed) {
            out.push_str(&format!("{line}\n\n"));
        }
    }
    if x.brief {
        for s in x.summary() {
            section(&mut out, &s);
        }
        if x.summary_only {
            return footer(out, x);
        }
        let intensity = x.intensity();
        if !intensity.points.is_empty() {
            out.push_str(&underline("Trigger intensity", '-'));
            out.push_str(&format!(
                "{}\n{}  (oldest to newest, 0 to 10)\n\n",
                intensity.summary(),
                intensity.sparkline()
            ));
        }
    }
    for e in &x.entries {
        out.push_str(&underline(&Export::heading(e), '-'));
        out.push_str(&format!("{}\n\n", Export::meta(e)));
        for (heading, text) in x.blocks(e) {
            if let Some(h) = heading {
                out.push_str(&format!("{h}:\n"));
            }
            out.push_str(&format!("{text}\n\n"));
        }
    }
    for (heading, in_force) in AGREEMENT_GROUPS {
        let mut group = x.agreements(in_force).peekable();
        if group.peek().is_none() {
            continue;
        }
        out.push_str(&underline(heading, '-'));
        for a in group {
            out.push_str(&format!(
                "* {} ({}): {}\n",
                a.title,
                a.status.label(),
                a.text.trim()
            ));
            for words in Export::agreement_words(a) {
                out.push_str(&format!("  {words}\n"));
            }
        }
        out.push('\n');
    }
    if !x.thanks.is_empty() {
        out.push_str(&underline("Appreciations received", '-'));
        for n in &x.thanks {
            out.push_str(&format!("* {} ({}): {}\n", n.by, day(&n.at), n.text.trim()));
        }
        out.push('\n');
    }
    footer(out, x)
}

fn footer(mut out: String, x: &Export) -> String {
    if let Some(r) = &x.redactions {
        out.push_str(&format!("Redacted: {}.\n", r.join(", ")));
    }
    out.push_str(&format!("Exported {}. {FOOTER}\n", day(&x.exported)));
    out
}
