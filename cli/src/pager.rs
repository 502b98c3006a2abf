//! Long output on a terminal goes through a pager, as git's does: `journal list` of a
//! ten-year journal should not scroll 100,000 lines past the person reading it.
//!
//! The pager is `HAVEN_PAGER`, else `PAGER`, else `less -FRX` (it may carry arguments, and
//! goes through `sh -c` when it needs a shell). `less` gets `LESS=FRX` unless the person
//! set `LESS`: it quits at once when the text fits, keeps colours, and leaves the text on
//! the screen. A pager that cannot start (not installed) prints the text directly. Output
//! that fits the screen, output that is not to a terminal (a pipe, a file), and a pager
//! set to an empty string or `cat` print directly, unchanged.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::output;

const DEFAULT: &str = "less -FRX";

/// Prints `text` (made visible as [`output::emit`] does), through the pager when it is
/// longer than the terminal.
pub fn page(text: &str) {
    page_styled(&output::visible(text));
}

/// [`page`] for text whose escape sequences are Haven's own (colours), printed as they are.
pub fn page_styled(text: &str) {
    if !output::stdout_is_terminal() {
        return output::emit_bytes(text.as_bytes());
    }
    let (width, height) = crossterm::terminal::size().unwrap_or((80, 24));
    let Some(pager) = chosen(
        std::env::var("HAVEN_PAGER").ok(),
        std::env::var("PAGER").ok(),
    ) else {
        return output::emit_bytes(text.as_bytes());
    };
    if rows(text, usize::from(width.max(1))) < usize::from(height) {
        return output::emit_bytes(text.as_bytes());
    }
    let mut command = command_for(&pager);
    command.stdin(Stdio::piped());
    if std::env::var_os("LESS").is_none() {
        command.env("LESS", "FRX");
    }
    let Ok(mut child) = command.spawn() else {
        // No pager to be had (`less` not installed, a name mistyped): the text itself
        // matters more than the paging.
        return output::emit_bytes(text.as_bytes());
    };
    // While the pager runs, Ctrl-C is the pager's to handle: this process waits for it
    // rather than ending and handing the terminal back to the shell under the pager.
    crate::signals::default_action(false);
    if let Some(mut stdin) = child.stdin.take() {
        // The person may quit the pager before reading everything: not an error.
        let _ = stdin.write_all(text.as_bytes());
    }
    let _ = child.wait();
    crate::signals::default_action(true);
}

/// The pager to run: the first of `haven_pager` and `pager` that is set, else
/// [`DEFAULT`]; `None` when that is empty or `cat` (no paging).
fn chosen(haven_pager: Option<String>, pager: Option<String>) -> Option<String> {
    let pager = haven_pager.or(pager).unwrap_or_else(|| DEFAULT.to_string());
    let trimmed = pager.trim();
    (!trimmed.is_empty() && trimmed != "cat").then(|| trimmed.to_string())
}

/// The pager run directly when it is a program and its arguments, so that one that is
/// not installed is noticed and the text printed instead; through `sh -c` when it needs a
/// shell (pipes, quotes, variables), as git does.
fn command_for(pager: &str) -> Command {
    let needs_shell = pager.contains(|c: char| "|&;<>()$`\\\"'*?[]#~=%{}".contains(c));
    let mut words = pager.split_whitespace();
    match words.next() {
        Some(program) if !needs_shell => {
            let mut command = Command::new(program);
            command.args(words);
            command
        }
        _ => {
            let mut command = Command::new("sh");
            command.arg("-c").arg(pager);
            command
        }
    }
}

/// How many screen rows `text` takes in a terminal `width` columns wide (wide characters
/// count two columns).
fn rows(text: &str, width: usize) -> usize {
    text.lines()
        .map(|l| textwrap::core::display_width(l).div_ceil(width).max(1))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pager_is_havens_then_the_systems_then_less() {
        let s = |v: &str| Some(v.to_string());
        assert_eq!(chosen(None, None).as_deref(), Some("less -FRX"));
        assert_eq!(chosen(None, s("more")).as_deref(), Some("more"));
        assert_eq!(chosen(s("most "), s("more")).as_deref(), Some("most"));
        assert_eq!(chosen(s(""), s("more")), None);
        assert_eq!(chosen(None, s("cat")), None);
    }

    #[test]
    fn a_pager_needing_no_shell_runs_directly() {
        let program = |p: &str| command_for(p).get_program().to_string_lossy().into_owned();
        assert_eq!(program("less -FRX"), "less");
        assert_eq!(program("most"), "most");
        assert_eq!(program("sed 's/^/> /' | less"), "sh");
        assert_eq!(program("$HOME/bin/pager"), "sh");
        let args: Vec<String> = command_for("less -FRX -S")
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(args, ["-FRX", "-S"]);
    }

    #[test]
    fn long_lines_take_the_rows_they_wrap_to() {
        assert_eq!(rows("a\nb\n", 80), 2);
        assert_eq!(rows(&"é".repeat(81), 80), 2);
        assert_eq!(rows(&"心".repeat(41), 80), 2);
        assert_eq!(rows("\n\n", 80), 2);
        assert_eq!(rows("", 80), 0);
    }
}
