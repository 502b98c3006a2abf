//! Text a command takes from its argument, or from stdin when the argument is `-`.

use std::io::Read;

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
