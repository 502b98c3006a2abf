//! Text a command takes from its argument, or from stdin when the argument is `-`; and a
//! yes or no asked on the terminal.

use std::io::{BufRead, Read, Write};

use crate::error::{CliError, CliResult};

/// The text argument, or stdin when it is `-`.
pub fn text_or_stdin(text: String) -> CliResult<String> {
    if text != "-" {
        return Ok(text);
    }
    let mut read = String::new();
    std::io::stdin()
        .read_to_string(&mut read)
        .map_err(|e| CliError::usage(format!("cannot read stdin: {e}")))?;
    Ok(read)
}

/// Prints `question` on stderr and reads one answer line: true only for y or yes, so
/// Enter alone keeps things as they are.
pub fn yes(question: &str) -> CliResult<bool> {
    let answer = line(question)?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

/// Prints `question` on stderr and reads one line of answer (without its newline).
pub fn line(question: &str) -> CliResult<String> {
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| CliError::usage(format!("cannot read the answer: {e}")))?;
    Ok(answer.trim_end_matches(['\n', '\r']).to_string())
}
