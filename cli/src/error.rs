//! One error type for the CLI: what happened, what to do, and a fixed exit code.
//!
//! Printed as `error: …` and, when there is one, `hint: …` on stderr. Exit codes (also in
//! the README): 1 other failure, 2 invalid input or usage, 3 not found or ambiguous id,
//! 4 locked or wrong passphrase, 5 daemon not reachable, 6 storage (disk full, damaged or
//! foreign files).

use haven_shared::ipc::{ErrorKind, ErrorReply};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Failure = 1,
    Usage = 2,
    NotFound = 3,
    Locked = 4,
    Daemon = 5,
    Storage = 6,
}

#[derive(Debug)]
pub struct CliError {
    pub exit: Exit,
    pub message: String,
    pub hint: Option<String>,
}

pub type CliResult<T = ()> = Result<T, CliError>;

impl CliError {
    pub fn new(exit: Exit, message: impl Into<String>) -> CliError {
        CliError {
            exit,
            message: message.into(),
            hint: None,
        }
    }
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError::new(Exit::Usage, message)
    }
    pub fn hint(mut self, hint: impl Into<String>) -> CliError {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

impl From<ErrorReply> for CliError {
    fn from(e: ErrorReply) -> CliError {
        let exit = match e.kind {
            ErrorKind::NotFound | ErrorKind::Ambiguous => Exit::NotFound,
            ErrorKind::Locked | ErrorKind::WrongPassphrase => Exit::Locked,
            ErrorKind::InvalidInput | ErrorKind::BadRequest | ErrorKind::TooLarge => Exit::Usage,
            ErrorKind::DiskFull
            | ErrorKind::Corrupt
            | ErrorKind::ForeignIdentity
            | ErrorKind::Tampered
            | ErrorKind::Storage => Exit::Storage,
            ErrorKind::Internal | ErrorKind::Pairing => Exit::Failure,
        };
        CliError {
            exit,
            message: e.message,
            hint: e.hint,
        }
    }
}

impl From<haven_shared::model::ModelError> for CliError {
    fn from(e: haven_shared::model::ModelError) -> CliError {
        CliError::usage(e.to_string())
    }
}

impl From<haven_shared::when::DateParseError> for CliError {
    fn from(e: haven_shared::when::DateParseError) -> CliError {
        CliError::usage(e.to_string())
    }
}

/// For I/O on the user's own files: say which file.
pub fn io_error(what: &str, e: std::io::Error) -> CliError {
    let exit = if e.raw_os_error() == Some(libc::ENOSPC) {
        Exit::Storage
    } else {
        Exit::Failure
    };
    CliError::new(exit, format!("{what}: {e}"))
}
