//! The CLI's connection to `havend`: start it if none runs, greet it, unlock it when it
//! asks, and take from each call only the reply that call gets.
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
    decode_line, encode_line, Call, ErrorKind, ErrorReply, Hello, JournalCall, LinkingCall,
    PairingCall, Reply, Request, Response, SecretText, SessionCall, Shutdown, Unlock,
    PROTOCOL_VERSION,
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
    /// What the daemon's hello said, when it is not this haven's protocol.
    mismatch: Option<Mismatch>,
}

/// A daemon this haven cannot talk to: only a stop is understood across versions.
#[derive(Debug, Clone)]
enum Mismatch {
    /// It greeted with another protocol.
    Protocol { version: String, protocol: u32 },
    /// It answered the hello as a request: a havend from before the hello.
    Older,
}

impl Mismatch {
    fn error(&self) -> CliError {
        let message = match self {
            Mismatch::Protocol { version, protocol } => format!(
                "haven {} (protocol {PROTOCOL_VERSION}) cannot talk to havend {version} (protocol {protocol}) still running",
                haven_shared::VERSION
            ),
            Mismatch::Older => format!(
                "haven {} cannot talk to the older havend still running",
                haven_shared::VERSION
            ),
        };
        CliError::new(Exit::Daemon, message).hint("`haven daemon stop`, then run the command again")
    }
}

impl Client {
    pub fn new(paths: Paths, home: Option<PathBuf>, passphrase_file: Option<PathBuf>) -> Client {
        Client {
            paths,
            home,
            passphrase_file,
            stream: None,
            mismatch: None,
        }
    }

    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// Connects to a running daemon and greets it, without starting one.
    pub fn connect_existing(&mut self) -> CliResult<bool> {
        if self.stream.is_some() {
            return Ok(true);
        }
        match UnixStream::connect(self.paths.socket()) {
            Ok(s) => {
                self.greet(s)?;
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
        self.greet(stream)
    }

    /// The hello each way. A daemon of another protocol is remembered, not refused here:
    /// a stop still goes to it.
    fn greet(&mut self, stream: UnixStream) -> CliResult<()> {
        let mut stream = BufReader::new(stream);
        stream
            .get_mut()
            .write_all(&encode_line(&Hello::ours()))
            .map_err(lost)?;
        let line = self.read_line(&mut stream, GREETING)?;
        self.mismatch = match decode_line::<Hello>(&line) {
            Ok(theirs) if theirs.protocol == PROTOCOL_VERSION => None,
            Ok(theirs) => Some(Mismatch::Protocol {
                version: theirs.version,
                protocol: theirs.protocol,
            }),
            // Before the hello, havend answered any line it did not know with an error.
            Err(_) if decode_line::<Reply>(&line).is_ok() => Some(Mismatch::Older),
            Err(e) => {
                return Err(CliError::new(
                    Exit::Daemon,
                    format!("havend did not greet as Haven does: {e}"),
                )
                .hint("`haven daemon stop`, then run the command again"))
            }
        };
        self.stream = Some(stream);
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

    /// Reads one line, waiting at most `wait`.
    fn read_line(&self, stream: &mut BufReader<UnixStream>, wait: Duration) -> CliResult<Vec<u8>> {
        stream
            .get_ref()
            .set_read_timeout(Some(wait))
            .map_err(lost)?;
        let mut line = Vec::new();
        match stream.read_until(b'\n', &mut line) {
            Ok(0) => Err(CliError::new(
                Exit::Daemon,
                "havend closed the connection without answering",
            )
            .hint(format!("see {}", self.paths.log_file().display()))),
            Ok(_) => Ok(line),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Err(CliError::new(
                    Exit::Daemon,
                    format!("havend did not answer within {} s", wait.as_secs()),
                )
                .hint(format!(
                    "`haven daemon stop` stops it even when it is stuck; see {}",
                    self.paths.log_file().display()
                )))
            }
            Err(e) => Err(lost(e)),
        }
    }

    /// Sends one request and reads its reply.
    fn send(&mut self, request: &Request) -> CliResult<Reply> {
        self.connect()?;
        if let Some(mismatch) = &self.mismatch {
            return Err(mismatch.error());
        }
        self.exchange(request)
    }

    /// One request and its reply on the open connection.
    fn exchange(&mut self, request: &Request) -> CliResult<Reply> {
        let mut stream = self
            .stream
            .take()
            .ok_or_else(|| CliError::new(Exit::Daemon, "not connected"))?;
        stream
            .get_mut()
            .write_all(&encode_line(request))
            .map_err(lost)?;
        // On any failure the connection is dropped: a late reply would answer the next
        // request.
        let line = self.read_line(&mut stream, patience(request))?;
        self.stream = Some(stream);
        decode_line::<Reply>(&line).map_err(|e| {
            CliError::new(
                Exit::Daemon,
                format!("havend sent a reply this haven cannot read: {e}"),
            )
            .hint("are haven and havend the same version? restart it with `haven daemon stop`")
        })
    }

    /// Makes one call; unlocks once (asking for the passphrase) if the daemon is locked
    /// and the call needs the keys. The reply is the call's own type, or an error.
    pub fn call<C: Call>(&mut self, call: C) -> CliResult<C::Reply> {
        let request: Request = call.into();
        let response = match self.send(&request)? {
            Err(e) if e.kind == ErrorKind::Locked && request.needs_unlock() => {
                self.unlock()?;
                self.send(&request)??
            }
            reply => reply?,
        };
        C::Reply::try_from(response).map_err(|other| unexpected(&request, &other))
    }

    /// Makes one call as the daemon is: never asks for the passphrase, and hands back the
    /// daemon's own error as a value (for `haven doctor`, which reports rather than fails).
    pub fn try_call<C: Call>(&mut self, call: C) -> CliResult<Result<C::Reply, ErrorReply>> {
        let request: Request = call.into();
        match self.send(&request)? {
            Ok(response) => C::Reply::try_from(response)
                .map(Ok)
                .map_err(|other| unexpected(&request, &other)),
            Err(e) => Ok(Err(e)),
        }
    }

    /// Asks for the passphrase and unlocks; returns the member's name.
    pub fn unlock(&mut self) -> CliResult<String> {
        let pass = passphrase::obtain(self.passphrase_file.as_deref(), "Passphrase for Haven: ")?;
        let unlocked = self.call(Unlock {
            passphrase: SecretText(pass.expose_secret().to_string()),
        })?;
        for w in &unlocked.warnings {
            eprintln!("warning: {}", crate::output::visible(w));
        }
        Ok(unlocked.name)
    }

    /// Stops the daemon, whatever its version: a stop is the one request every havend
    /// understands, so an upgrade can always get rid of the old one.
    /// A daemon that is not running is left so: a stop never starts one.
    pub fn stop(&mut self) -> CliResult<()> {
        if !self.connect_existing()? {
            return Ok(());
        }
        self.exchange(&Shutdown {}.into())??;
        Ok(())
    }
}

/// How long the daemon may take to greet: it answers from its connection task, never
/// waiting on the core.
const GREETING: Duration = Duration::from_secs(10);

fn lost(e: std::io::Error) -> CliError {
    CliError::new(Exit::Daemon, format!("lost the connection to havend: {e}"))
        .hint("run the command again")
}

/// How long to wait for the reply to `request`: long enough for the slowest honest answer
/// (an unlock spends up to a few seconds in scrypt, `pair` waits for the partner as long as
/// the code lives), short enough that a stuck daemon is reported.
fn patience(request: &Request) -> Duration {
    match request {
        Request::Pairing(PairingCall::PairWait(_)) => Duration::from_secs(330),
        Request::Pairing(PairingCall::PairJoin(_)) => Duration::from_secs(90),
        // The code's five minutes, the person's three to compare the words, then the
        // journal's first sync (up to ten).
        Request::Linking(LinkingCall::LinkWait(_)) => Duration::from_secs(1100),
        Request::Linking(LinkingCall::DeviceAdd(_)) => Duration::from_secs(90),
        Request::Linking(LinkingCall::DeviceConfirm(_)) => Duration::from_secs(700),
        Request::Session(SessionCall::Unlock(_) | SessionCall::CopyDatabase(_))
        | Request::Journal(JournalCall::JournalPurge(_)) => Duration::from_secs(120),
        _ => std::env::var("HAVEN_IPC_TIMEOUT")
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .filter(|s| *s > 0)
            .map_or(Duration::from_secs(30), Duration::from_secs),
    }
}

/// The one error for a reply of another type than the call's: it names both, never the
/// reply's content.
fn unexpected(request: &Request, response: &Response) -> CliError {
    CliError::new(
        Exit::Daemon,
        format!(
            "havend answered `{}` with a `{}` reply",
            request.name(),
            response.name()
        ),
    )
    .hint("are haven and havend the same version? `haven daemon stop`, then run the command again")
}

/// `havend` next to this executable (how both are installed and built), else on PATH.
fn havend_path() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("havend")))
        .filter(|p| p.exists())
        .unwrap_or_else(|| Path::new("havend").to_path_buf())
}

/// Returns once the daemon of `paths` has removed its socket (it stopped), or after 5 s.
pub fn wait_for_exit(paths: &Paths) {
    for _ in 0..500 {
        if !paths.socket().exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use haven_shared::ipc::Status;
    use std::os::unix::net::UnixListener;

    /// A havend from before the hello, as it answered: any line it could not read got a
    /// `bad_request` error and the connection stayed open. (A stand-in inside this one
    /// module's test: that daemon no longer exists to start.)
    fn older_daemon(paths: &Paths) -> std::thread::JoinHandle<Vec<String>> {
        std::fs::create_dir_all(&paths.runtime_dir).unwrap();
        let listener = UnixListener::bind(paths.socket()).unwrap();
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut writer = stream;
            let mut seen = Vec::new();
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                let answer = if line.contains(r#""op":"shutdown""#) {
                    r#"{"Ok":{"type":"done"}}"#
                } else {
                    r#"{"Err":{"kind":"bad_request","message":"not a Haven request","hint":null}}"#
                };
                writeln!(writer, "{answer}").unwrap();
                seen.push(std::mem::take(&mut line));
            }
            seen
        })
    }

    #[test]
    fn an_older_daemon_is_named_and_can_still_be_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under_home(dir.path());
        let daemon = older_daemon(&paths);
        let mut client = Client::new(paths, None, None);
        let e = client.call(Status {}).unwrap_err();
        assert_eq!(e.exit, Exit::Daemon);
        assert!(
            e.message
                .contains("cannot talk to the older havend still running"),
            "{}",
            e.message
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("`haven daemon stop`, then run the command again")
        );
        client.stop().unwrap();
        drop(client);
        let seen = daemon.join().unwrap();
        assert_eq!(seen.len(), 2, "the hello, then the stop: {seen:?}");
        assert!(seen[0].contains(r#""hello":"haven""#), "{seen:?}");
        assert_eq!(seen[1].trim(), r#"{"op":"shutdown"}"#);
    }
}
