//! The CLI's connection to `havend`: start it if none runs, unlock it when it asks.
//!
//! Plain blocking I/O over the Unix socket (a CLI command is one or two round trips; it
//! needs no async runtime). A `Locked` reply to a request that needs the keys triggers
//! one unlock (from the passphrase file or the terminal) and one retry.
//!
//! Every reply is awaited for a bounded time ([`patience`]): a daemon that hangs must give
//! the user an error line, not a terminal that never comes back. `HAVEN_IPC_TIMEOUT`
//! (seconds) overrides the bound for ordinary requests, for scripts and tests.

use secrecy::ExposeSecret;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use haven_shared::ipc::{
    decode_line, encode_line, ErrorKind, Reply, Request, Response, SecretText,
};
use haven_shared::paths::Paths;

use crate::error::{CliError, CliResult, Exit};
use crate::passphrase;

pub struct Client {
    paths: Paths,
    /// Passed to `havend --home` when we start it.
    home: Option<PathBuf>,
    passphrase_file: Option<PathBuf>,
    stream: Option<BufReader<UnixStream>>,
}

impl Client {
    pub fn new(paths: Paths, home: Option<PathBuf>, passphrase_file: Option<PathBuf>) -> Client {
        Client {
            paths,
            home,
            passphrase_file,
            stream: None,
        }
    }

    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// Connects to a running daemon, without starting one.
    pub fn connect_existing(&mut self) -> CliResult<bool> {
        if self.stream.is_some() {
            return Ok(true);
        }
        match UnixStream::connect(self.paths.socket()) {
            Ok(s) => {
                self.stream = Some(BufReader::new(s));
                Ok(true)
            }
            Err(_) => Ok(false),
        }
    }

    /// Connects, starting `havend` first if none is running.
    fn connect(&mut self) -> CliResult<()> {
        if self.connect_existing()? {
            return Ok(());
        }
        if !self.paths.is_initialised() {
            return Err(CliError::new(
                Exit::NotFound,
                format!(
                    "there is no Haven home at {}",
                    self.paths.data_dir.display()
                ),
            )
            .hint("create one with `haven init --name NAME`"));
        }
        self.start_daemon()?;
        let stream = UnixStream::connect(self.paths.socket()).map_err(|e| {
            CliError::new(
                Exit::Daemon,
                format!("havend started but cannot be reached: {e}"),
            )
            .hint(format!("see {}", self.paths.log_file().display()))
        })?;
        self.stream = Some(BufReader::new(stream));
        Ok(())
    }

    /// Runs `havend`, which detaches and returns once it is serving.
    pub fn start_daemon(&self) -> CliResult<()> {
        let mut command = Command::new(havend_path());
        if let Some(home) = &self.home {
            command.arg("--home").arg(home);
        }
        let output = command.output().map_err(|e| {
            CliError::new(Exit::Daemon, format!("cannot start havend: {e}"))
                .hint("is havend installed next to haven? (`cargo install --path daemon`)")
        })?;
        if !output.status.success() {
            let text = String::from_utf8_lossy(&output.stderr);
            let last = text
                .lines()
                .last()
                .unwrap_or("no output")
                .trim_start_matches("havend: ")
                .to_string();
            return Err(
                CliError::new(Exit::Daemon, format!("havend could not start: {last}"))
                    .hint(format!("see {}", self.paths.log_file().display())),
            );
        }
        Ok(())
    }

    /// Sends one request and reads its reply.
    pub fn send(&mut self, request: &Request) -> CliResult<Reply> {
        self.connect()?;
        let lost = |e: std::io::Error| {
            CliError::new(Exit::Daemon, format!("lost the connection to havend: {e}"))
                .hint("run the command again")
        };
        let stream = self
            .stream
            .as_mut()
            .ok_or_else(|| CliError::new(Exit::Daemon, "not connected"))?;
        stream
            .get_mut()
            .write_all(&encode_line(request))
            .map_err(lost)?;
        let wait = patience(request);
        stream
            .get_ref()
            .set_read_timeout(Some(wait))
            .map_err(lost)?;
        let mut line = Vec::new();
        let n = match stream.read_until(b'\n', &mut line) {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                // A late reply would answer the next request: this connection is done.
                self.stream = None;
                return Err(CliError::new(
                    Exit::Daemon,
                    format!("havend did not answer within {} s", wait.as_secs()),
                )
                .hint(format!(
                    "`haven daemon stop` stops it even when it is stuck; see {}",
                    self.paths.log_file().display()
                )));
            }
            Err(e) => return Err(lost(e)),
        };
        if n == 0 {
            self.stream = None;
            return Err(CliError::new(
                Exit::Daemon,
                "havend closed the connection without answering",
            )
            .hint(format!("see {}", self.paths.log_file().display())));
        }
        decode_line::<Reply>(&line).map_err(|e| {
            CliError::new(
                Exit::Daemon,
                format!("havend sent a reply this haven cannot read: {e}"),
            )
            .hint("are haven and havend the same version? restart it with `haven daemon stop`")
        })
    }

    /// Sends a request; unlocks once (asking for the passphrase) if the daemon is locked.
    pub fn call(&mut self, request: Request) -> CliResult<Response> {
        match self.send(&request)? {
            Err(e) if e.kind == ErrorKind::Locked && request.needs_unlock() => {
                self.unlock()?;
                Ok(self.send(&request)??)
            }
            reply => Ok(reply?),
        }
    }

    /// Asks for the passphrase and unlocks; returns the member's name.
    pub fn unlock(&mut self) -> CliResult<String> {
        let pass = passphrase::obtain(self.passphrase_file.as_deref(), "Passphrase for Haven: ")?;
        let request = Request::Unlock {
            passphrase: SecretText(pass.expose_secret().to_string()),
        };
        match self.send(&request)?? {
            Response::Unlocked { name } => Ok(name),
            other => Err(unexpected(&other)),
        }
    }
}

/// How long to wait for the reply to `request`: long enough for the slowest honest answer
/// (an unlock spends up to a few seconds in scrypt, `pair` waits for the partner as long as
/// the code lives), short enough that a stuck daemon is reported.
fn patience(request: &Request) -> Duration {
    match request {
        Request::PairWait { .. } => Duration::from_secs(330),
        Request::PairJoin { .. } => Duration::from_secs(90),
        Request::Unlock { .. } | Request::CopyDatabase | Request::JournalPurge => {
            Duration::from_secs(120)
        }
        _ => std::env::var("HAVEN_IPC_TIMEOUT")
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .filter(|s| *s > 0)
            .map_or(Duration::from_secs(30), Duration::from_secs),
    }
}

pub fn unexpected(response: &Response) -> CliError {
    CliError::new(
        Exit::Daemon,
        format!("havend gave an unexpected answer: {response:?}"),
    )
    .hint("are haven and havend the same version?")
}

/// `havend` next to this executable (how both are installed and built), else on PATH.
fn havend_path() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("havend")))
        .filter(|p| p.exists())
        .unwrap_or_else(|| Path::new("havend").to_path_buf())
}
