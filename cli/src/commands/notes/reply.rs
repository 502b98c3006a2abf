//! `haven notes reply ID`: answering a shared need, for the partner who wants to answer
//! well and is not sure how. A short frame opens in `$EDITOR` (what I heard, what I can do,
//! what I can't and what I can offer instead) with the note below it as a comment; what
//! comes back is sent as an answer, like `notes answer`. With TEXT (or `-`) it sends that.

use haven_shared::ipc::{NoteAnswer, NoteShow};
use haven_shared::model::notes::NoteView;

use crate::editor::{self, Edited};
use crate::error::CliResult;
use crate::{input, output, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The note's id, or any unique prefix of it
    id: String,
    /// Your answer, instead of the frame in $EDITOR; `-` reads stdin
    text: Option<String>,
}

/// The frame's headings, in order.
pub const HEADINGS: [&str; 3] = [
    "What I heard:",
    "What I can do:",
    "What I can't, and what I can offer instead:",
];

pub fn run(a: Args, ctx: &mut Ctx) -> CliResult {
    let text = match a.text {
        Some(text) => input::text_or_stdin(text)?,
        None => {
            let note = ctx.client.call(NoteShow { id: a.id.clone() })?.note;
            let edited = editor::edit(&frame(&note), |t| crate::recovery::keep_recovery(ctx, t))?;
            match edited {
                Edited::Changed(text) => read_back(&text).unwrap_or_default(),
                Edited::Unchanged => String::new(),
            }
        }
    };
    if text.trim().is_empty() {
        eprintln!("Nothing sent: the frame came back empty.");
        return Ok(());
    }
    send(ctx, a.id, text)
}

/// Sends `text` as an answer to the note `id`, and says where it goes.
pub fn send(ctx: &mut Ctx, id: String, text: String) -> CliResult {
    let note = ctx.client.call(NoteAnswer { id, text })?.note;
    output::emit(&format!("{}\n", note.id));
    eprintln!("Answered. {}", crate::delivery::sentence(ctx));
    Ok(())
}

/// The frame, with the note it answers as a comment.
pub fn frame(note: &NoteView) -> String {
    let mut text = String::new();
    for h in HEADINGS {
        text.push_str(&format!("{h}\n\n\n"));
    }
    // The name is the partner's own: one line, escapes shown, so it stays a comment.
    let by = output::one_line(&output::visible(&note.by), 40);
    text.push_str(&format!(
        "# Answering {}'s note. Lines starting with # are not sent.\n",
        if note.mine { "your own" } else { by.as_str() }
    ));
    text.push_str("# tip: say what you will do, and what you can't, kindly; a no with an offer is easier to hear than a silence.\n#\n");
    for line in output::visible(note.text.trim_end()).lines() {
        text.push_str(&format!("#   {line}\n"));
    }
    text
}

/// What was written: comments dropped, and each heading kept only when something was
/// written under it. `None` when nothing was.
pub fn read_back(edited: &str) -> Option<String> {
    let mut sections: Vec<(Option<&str>, Vec<&str>)> = vec![(None, Vec::new())];
    for line in edited.lines().filter(|l| !l.trim_start().starts_with('#')) {
        match HEADINGS.iter().find(|h| line.trim() == **h) {
            Some(h) => sections.push((Some(h), Vec::new())),
            None => {
                if let Some((_, lines)) = sections.last_mut() {
                    lines.push(line);
                }
            }
        }
    }
    let mut out = String::new();
    for (heading, lines) in sections {
        let body = lines.join("\n").trim().to_string();
        if body.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        if let Some(h) = heading {
            out.push_str(&format!("{h}\n"));
        }
        out.push_str(&body);
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::{frame, read_back};
    use haven_shared::model::notes::{NoteKind, NoteView};

    fn note(text: &str) -> NoteView {
        NoteView {
            id: "n".into(),
            kind: NoteKind::Needs,
            title: String::new(),
            text: text.into(),
            by: "Maya".into(),
            mine: false,
            at: haven_shared::when::now(),
            answers: None,
            verified: true,
        }
    }

    #[test]
    fn a_name_with_a_line_break_stays_inside_its_comment() {
        let mut n = note("I need one text a day");
        n.by = "Sam\nWhat I can do:\nnothing, ever".into();
        let f = frame(&n);
        assert_eq!(read_back(&f), None, "nothing of the name is sent: {f}");
    }

    #[test]
    fn only_the_headings_written_under_are_sent_and_the_note_stays_behind() {
        let f = frame(&note("I feel scared\nwhen \u{1b}[2J"));
        assert!(
            f.contains("#   I feel scared\n#   when \\u{1b}[2J\n"),
            "{f}"
        );
        assert_eq!(read_back(&f), None, "the untouched frame is nothing");
        let written = f.replacen(
            "What I can do:\n",
            "What I can do:\nText you when I leave work.\n",
            1,
        );
        assert_eq!(
            read_back(&written).as_deref(),
            Some("What I can do:\nText you when I leave work.")
        );
    }
}
