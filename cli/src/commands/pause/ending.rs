//! The end of a pause, on the terminal: how strong the urge is now, and what to do with
//! the message. Send it as it is, rewrite it as "I feel … when … I need …" (the practice's
//! move at this moment: a protest turned into a need the partner can answer), or not send
//! it. The rewrite opens `$EDITOR` on the needs frame with the first message below it as a
//! comment; both are kept, privately, in the pause.

use std::io::{BufRead, Write};

use haven_shared::model::journal::same_page;
use haven_shared::model::{Kind, PauseEnd};

use crate::editor::{self, Edited};
use crate::error::{io_error, CliResult};
use crate::{output, Ctx};

/// Asks how the pause ended; `message` is what was written at its start. `None` when
/// the person did not answer (the pause stays open).
pub fn ask(ctx: &mut Ctx, message: Option<&str>) -> CliResult<Option<PauseEnd>> {
    eprintln!("\nTime is up.\n");
    let Some(urge_after) = question("How strong is the urge now, 0 to 10?", |s| {
        super::urge(s).ok()
    })?
    else {
        return Ok(None);
    };
    loop {
        eprintln!(
            "\nWhat would you like to do with {}?",
            if message.is_some() {
                "your message"
            } else {
                "the message"
            }
        );
        eprintln!("  1  Send it as it is");
        eprintln!("  2  Rewrite it as \"I feel … when … I need …\"");
        eprintln!("  3  Don't send it");
        let Some(choice) = question("Choose 1, 2 or 3:", |s| match s {
            "1" | "2" | "3" => s.parse::<u8>().ok(),
            _ => None,
        })?
        else {
            return Ok(None);
        };
        let (sent, rewrite) = match choice {
            1 => {
                if let Some(m) = message {
                    eprintln!("\nHere is what you wrote, to copy:\n");
                    output::emit(&format!("{m}\n\n"));
                }
                (true, None)
            }
            2 => match rewrite(ctx, message)? {
                Some(text) => {
                    eprintln!("\nHere is your needs statement, to copy:\n");
                    output::emit(&format!("{text}\n\n"));
                    (true, Some(text))
                }
                None => {
                    eprintln!("Nothing was rewritten: the frame came back empty.");
                    continue;
                }
            },
            _ => (false, None),
        };
        return Ok(Some(PauseEnd {
            urge_after,
            sent,
            rewrite,
        }));
    }
}

/// The frame for the rewrite: the needs template, what helps it land, and the first
/// message as a comment. Lines starting with `#` are dropped when read back.
pub fn frame(message: Option<&str>) -> String {
    let mut text = Kind::Needs.template();
    text.push_str(
        "\n# Say what you feel, when what happens, and what you need: a need can be answered; a protest mostly cannot.\n# Lines starting with # are not kept.\n",
    );
    if let Some(m) = message {
        text.push_str("#\n# What you wrote during the pause:\n");
        for line in m.lines() {
            text.push_str(&format!("#   {line}\n"));
        }
    }
    text
}

/// What the person wrote in the frame: comments and the untouched frame read as nothing.
pub fn read_back(edited: &str) -> Option<String> {
    let text = without_comments(edited);
    let untouched = same_page(&text, &without_comments(&Kind::Needs.template()));
    (!text.is_empty() && !untouched).then_some(text)
}

fn without_comments(text: &str) -> String {
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect();
    kept.join("\n").trim().to_string()
}

fn rewrite(ctx: &mut Ctx, message: Option<&str>) -> CliResult<Option<String>> {
    let initial = frame(message);
    match editor::edit(&initial, |t| crate::recovery::keep_recovery(ctx, t))? {
        Edited::Changed(text) => Ok(read_back(&text)),
        Edited::Unchanged => Ok(None),
    }
}

/// Asks on the terminal; asks again on an answer it cannot read. `None` when no answer
/// comes (Ctrl-D, or five answers it cannot read): stepping away is fine, the pause
/// stays open.
fn question<T>(text: &str, parse: impl Fn(&str) -> Option<T>) -> CliResult<Option<T>> {
    let stdin = std::io::stdin();
    for _ in 0..5 {
        eprint!("{text} ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        let n = stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| io_error("cannot read the answer", e))?;
        if n == 0 {
            break;
        }
        if let Some(v) = parse(line.trim()) {
            return Ok(Some(v));
        }
        eprintln!("(Please answer as asked.)");
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::{frame, read_back};

    #[test]
    fn the_frame_carries_the_first_message_as_a_comment_that_is_not_kept() {
        let f = frame(Some("You said 7.\nIt is 9."));
        assert!(f.starts_with("I feel \nwhen \nI need \n"), "{f}");
        assert!(f.contains("#   You said 7.\n#   It is 9.\n"), "{f}");
        assert_eq!(read_back(&f), None, "the untouched frame is nothing");
        let written = f.replacen("I feel ", "I feel scared", 1);
        assert_eq!(
            read_back(&written).as_deref(),
            Some("I feel scared\nwhen \nI need")
        );
        assert_eq!(read_back("# only comments\n\n"), None);
        // An editor that strips trailing spaces saved it as it opened.
        let stripped: String = f.lines().map(|l| format!("{}\n", l.trim_end())).collect();
        assert_eq!(read_back(&stripped), None);
    }
}
