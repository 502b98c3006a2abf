//! Where a passphrase comes from: `--passphrase-file` / `HAVEN_PASSPHRASE_FILE` for
//! scripts, else the terminal. Never the command line, where other users could read it
//! in the process list.

use secrecy::SecretString;
use std::path::Path;
use zeroize::Zeroize;

use crate::error::{CliError, CliResult, Exit};

/// Reads the passphrase from `file` (one trailing newline stripped), or asks on the terminal.
pub fn obtain(file: Option<&Path>, prompt: &str) -> CliResult<SecretString> {
    if let Some(file) = file {
        return from_file(file);
    }
    ask(prompt)
}

fn from_file(file: &Path) -> CliResult<SecretString> {
    let mut text = std::fs::read_to_string(file).map_err(|e| {
        CliError::new(
            Exit::Locked,
            format!("cannot read the passphrase file {}: {e}", file.display()),
        )
    })?;
    let trimmed = text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(&text)
        .to_string();
    text.zeroize();
    if trimmed.is_empty() {
        return Err(CliError::new(
            Exit::Locked,
            format!("the passphrase file {} is empty", file.display()),
        ));
    }
    Ok(SecretString::from(trimmed))
}

/// True when there is a terminal to ask on.
pub fn has_terminal() -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .is_ok()
}

pub fn ask(prompt: &str) -> CliResult<SecretString> {
    if !has_terminal() {
        return Err(CliError::new(Exit::Locked, "Haven is locked and there is no terminal to ask for the passphrase")
            .hint("run `haven unlock` in a terminal, or pass --passphrase-file FILE (or set HAVEN_PASSPHRASE_FILE)"));
    }
    let text = rpassword::prompt_password(prompt)
        .map_err(|e| CliError::new(Exit::Locked, format!("cannot read the passphrase: {e}")))?;
    if text.is_empty() {
        return Err(CliError::new(Exit::Locked, "no passphrase given"));
    }
    Ok(SecretString::from(text))
}

/// Asks twice for a new passphrase (or reads it from a file).
pub fn new_passphrase(file: Option<&Path>) -> CliResult<SecretString> {
    use secrecy::ExposeSecret;
    if let Some(file) = file {
        return from_file(file);
    }
    let first = ask("Choose a passphrase for Haven: ")?;
    let second = ask("Type it again: ")?;
    if first.expose_secret() != second.expose_secret() {
        return Err(CliError::usage(
            "the two passphrases differ; nothing was created",
        ));
    }
    if first.expose_secret().chars().count() < 8 {
        eprintln!("note: a passphrase of a few words is much harder to guess than a short one");
    }
    Ok(first)
}
