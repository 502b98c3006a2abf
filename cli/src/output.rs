//! How entries and agreements look on a terminal, and `--json`.
//!
//! Times are shown in the user's local time, dates in a human form. `--json` prints the
//! documented shapes (DESIGN.md) and nothing else on stdout. A closed pipe (`| head`) ends
//! the program quietly with success, as ripgrep does.

use chrono::{DateTime, FixedOffset, Local};
use serde::Serialize;
use std::io::Write;

use haven_shared::ipc::ListedEntry;
use haven_shared::model::agreement::Said;
use haven_shared::model::practice::PauseOutcome;
use haven_shared::model::{AgreementView, Entry, PauseRecord};

/// Writes text for a person to stdout, with control characters made visible; a broken
/// pipe exits 0.
pub fn emit(text: &str) {
    emit_bytes(visible(text).as_bytes());
}

/// Text that came from outside (the partner's device, an imported file) may hold escape
/// sequences that repaint the screen, set the clipboard (OSC 52) or reorder what is shown.
/// Every such character is written as `\u{…}` instead: C0 controls but newline and tab,
/// DEL, C1 controls, and the bidirectional overrides. `--json` is left exact.
pub fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

pub fn stdout_is_terminal() -> bool {
    std::io::IsTerminal::is_terminal(&std::io::stdout())
}

/// Writes bytes (a PDF, say) to stdout; a broken pipe exits 0.
pub fn emit_bytes(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    let result = out.write_all(bytes).and_then(|_| out.flush());
    if let Err(e) = result {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write the output: {e}");
        std::process::exit(1);
    }
}

/// JSON is printed exactly (serde escapes what JSON must); scripts get the true strings.
pub fn json<T: Serialize + ?Sized>(value: &T) {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
    text.push('\n');
    emit_bytes(text.as_bytes());
}

pub fn when(t: &DateTime<FixedOffset>) -> String {
    t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string()
}

pub fn day_long(t: &DateTime<FixedOffset>) -> String {
    t.with_timezone(&Local)
        .format("%A %-d %B %Y, %H:%M")
        .to_string()
}

/// `text` on one line of at most `width` characters, cut with an ellipsis.
pub fn one_line(text: &str, width: usize) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= width {
        line
    } else {
        let cut: String = line.chars().take(width.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// The rows of a listing, short ids aligned.
pub fn entry_rows(entries: &[ListedEntry]) -> String {
    let width = entries.iter().map(|e| e.short_id.len()).max().unwrap_or(0);
    entries.iter().map(|e| entry_row(e, width)).collect()
}

/// One line of `journal list`; `id_width` aligns short ids of different lengths.
fn entry_row(e: &ListedEntry, id_width: usize) -> String {
    let entry = &e.entry;
    let mut row = format!(
        "{:<id_width$}  {}  {:<7}  {}",
        e.short_id,
        when(&entry.created_at),
        entry.kind,
        one_line(entry.headline(), 48)
    );
    for tag in &entry.tags {
        row.push_str(&format!("  #{tag}"));
    }
    if let Some(i) = entry.intensity {
        match entry.record.as_ref().and_then(|r| r.intensity_after) {
            Some(after) => row.push_str(&format!("  intensity {i}→{after}")),
            None => row.push_str(&format!("  intensity {i}")),
        }
    }
    if let Some(p) = &entry.pause {
        row.push_str(&format!("  {}", pause_summary(p)));
    }
    row.push('\n');
    row
}

/// What a pause's message became, said as it happened: a therapist must not read "kept
/// unsent" above a message that went out.
pub fn pause_message_heading(p: &PauseRecord) -> &'static str {
    match p.outcome() {
        Some(PauseOutcome::NotSent) => "The message, not sent",
        Some(PauseOutcome::Sent) => "The message, sent as it was",
        Some(PauseOutcome::SentRewritten) => "The first message, not sent as it was",
        None => "The message, kept while the pause is open",
    }
}

/// `urge 8→3, not sent`, or `open` while a pause runs.
pub fn pause_summary(p: &PauseRecord) -> String {
    let urge = match (p.urge_before, p.urge_after) {
        (Some(b), Some(a)) => format!("urge {b}→{a}"),
        (Some(b), None) => format!("urge {b}"),
        (None, Some(a)) => format!("urge →{a}"),
        (None, None) => String::new(),
    };
    let outcome = match p.outcome() {
        _ if p.is_open() => "open",
        Some(PauseOutcome::Sent) => "sent",
        Some(PauseOutcome::SentRewritten) => "sent as a needs statement",
        Some(PauseOutcome::NotSent) => "not sent",
        None => "",
    };
    [urge.as_str(), outcome]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn entry_full(e: &Entry) -> String {
    let mut out = String::new();
    if !e.title.is_empty() {
        out.push_str(&format!("{}\n", e.title));
    }
    out.push_str(&format!("id:        {}\n", e.id));
    out.push_str(&format!("kind:      {}\n", e.kind));
    out.push_str(&format!("written:   {}\n", day_long(&e.created_at)));
    if e.updated_at != e.created_at {
        out.push_str(&format!("edited:    {}\n", day_long(&e.updated_at)));
    }
    if !e.tags.is_empty() {
        out.push_str(&format!("tags:      {}\n", e.tags.join(", ")));
    }
    if let Some(m) = e.mood {
        out.push_str(&format!("mood:      {m}/5\n"));
    }
    if let Some(i) = e.intensity {
        match e.record.as_ref().and_then(|r| r.intensity_after) {
            Some(after) => out.push_str(&format!("intensity: {i}/10, {after}/10 once it passed\n")),
            None => out.push_str(&format!("intensity: {i}/10\n")),
        }
    } else if let Some(after) = e.record.as_ref().and_then(|r| r.intensity_after) {
        out.push_str(&format!("intensity: {after}/10 once it passed\n"));
    }
    if let Some(p) = &e.pause {
        out.push_str(&format!(
            "pause:     {} minutes, {}\n",
            p.minutes,
            pause_summary(p)
        ));
    }
    if !e.body.trim().is_empty() {
        out.push('\n');
        out.push_str(e.body.trim_end());
        out.push('\n');
    }
    if let Some(r) = &e.record {
        for (heading, text) in r.sections() {
            out.push_str(&format!("\n## {heading}\n{}\n", text.trim_end()));
        }
    }
    if let Some(p) = &e.pause {
        if let Some(m) = p.message.as_deref() {
            out.push_str(&format!(
                "\n## {}\n{}\n",
                pause_message_heading(p),
                m.trim_end()
            ));
        }
    }
    if let Some(r) = e.pause.as_ref().and_then(|p| p.rewrite.as_deref()) {
        out.push_str(&format!(
            "\n## Rewritten as a needs statement\n{}\n",
            r.trim_end()
        ));
    }
    out
}

pub fn agreement_row(a: &AgreementView) -> String {
    let review = a
        .review_on
        .map(|d| format!("  review {}", d.format("%Y-%m-%d")))
        .unwrap_or_default();
    format!(
        "{}  {:<14}  {}{}\n",
        a.id.chars().take(10).collect::<String>(),
        a.status.label(),
        one_line(&a.title, 50),
        review
    )
}

/// The words signed with a decline, a revision, a renewal or an acceptance, in full (a
/// withdrawal's are on its own line above).
fn reasons(a: &AgreementView) -> String {
    let mut out = String::new();
    // A withdrawal's words are on its own line above; a second member's are here.
    let first_withdrawal = a.withdrawn.as_ref().map(|w| w.by.as_str());
    for r in a
        .reasons
        .iter()
        .filter(|r| r.said != Said::Withdrew || Some(r.by.as_str()) != first_withdrawal)
    {
        if out.is_empty() {
            out.push_str("\nIn their words:\n");
        }
        let doing = match r.said {
            Said::Declined => "declining",
            Said::Revised => "revising it",
            Said::Renewed => "renewing it, on how it has worked",
            Said::Withdrew => "withdrawing",
            Said::Accepted => "accepting",
        };
        out.push_str(&format!("  {}, {doing} ({}):\n", r.by, when(&r.at)));
        for line in r.text.lines() {
            out.push_str(&format!("    {line}\n"));
        }
    }
    out
}

pub fn agreement_full(a: &AgreementView) -> String {
    let mut out = format!("{}\n", a.title);
    out.push_str(&format!("id:          {}\n", a.id));
    out.push_str(&format!("status:      {}\n", a.status.label()));
    out.push_str(&format!(
        "proposed by: {} on {}\n",
        a.proposed_by,
        day_long(&a.created_at)
    ));
    if let Some(d) = a.review_on {
        out.push_str(&format!("review on:   {}\n", d.format("%A %-d %B %Y")));
    }
    if !a.consents.is_empty() {
        let names: Vec<String> = a
            .consents
            .iter()
            .map(|(n, t)| format!("{n} ({})", when(t)))
            .collect();
        out.push_str(&format!("agreed by:   {}\n", names.join(", ")));
    }
    if !a.declined_by.is_empty() {
        out.push_str(&format!("declined by: {}\n", a.declined_by.join(", ")));
    }
    if let Some(w) = &a.withdrawn {
        let reason = w
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "withdrawn:   by {} on {}{reason}\n",
            w.by,
            when(&w.at)
        ));
    }
    out.push_str(&format!("\n{}\n", a.text.trim_end()));
    out.push_str(&reasons(a));
    if a.revisions.len() > 1 {
        out.push_str(&format!("\nrevisions ({}):\n", a.revisions.len()));
        for (i, r) in a.revisions.iter().enumerate() {
            out.push_str(&format!(
                "  {}. {} by {}: {}\n",
                i + 1,
                when(&r.at),
                r.by,
                one_line(&r.text, 60)
            ));
        }
    }
    for note in &a.unverified {
        out.push_str(&format!("\nwarning: {note}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::visible;

    #[test]
    fn escape_sequences_are_made_visible_and_plain_text_is_untouched() {
        assert_eq!(
            visible("plain\ttext\nnext line é 日本"),
            "plain\ttext\nnext line é 日本"
        );
        assert_eq!(
            visible("\u{1b}[2J\u{9b}31m\u{7}\u{202e}x\u{7f}"),
            "\\u{1b}[2J\\u{9b}31m\\u{7}\\u{202e}x\\u{7f}"
        );
    }
}
