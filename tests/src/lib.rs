//! The end-to-end test environment: real `haven` and `havend` binaries, a temporary home,
//! and a private network namespace per test.
//!
//! Every test thread moves itself into a new network namespace before it starts anything,
//! so every daemon it starts (and the daemons those CLIs start) can reach only that
//! namespace's loopback: nothing a test does touches the host's interfaces. If the
//! namespace cannot be made, the test fails with a message saying how to run it (as root,
//! or under `unshare --user --map-root-user --net`); it never skips itself.
//!
//! The environment is cleared for each command (HOME points into the temp folder), as jj's
//! test environment does. Dropping a [`Home`] stops its daemon by pid, also on failure.
#![allow(clippy::string_slice, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub mod couple;
pub mod dbus;
pub mod internet;
pub mod lan;
pub mod rogue;
pub mod rogue_device;
pub mod tmux;

pub const PASSPHRASE: &str = "correct horse battery staple";

/// Moves the calling thread (and so every process it spawns) into a new network namespace.
pub fn private_network() {
    // SAFETY: unshare with a constant flag affects only this thread.
    let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
    if rc != 0 {
        panic!(
            "cannot create a network namespace for this test ({}): run the tests as root (CI does), \
             or inside `unshare --user --map-root-user --net`",
            std::io::Error::last_os_error()
        );
    }
}

/// The folder holding the built `haven` and `havend`.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("HAVEN_BIN_DIR") {
        return PathBuf::from(dir);
    }
    // target/debug/deps/<test> -> target/debug
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf();
    for bin in ["haven", "havend"] {
        assert!(
            dir.join(bin).exists(),
            "{} is missing: run the tests with `cargo test --workspace` (it builds the binaries)",
            dir.join(bin).display()
        );
    }
    dir
}

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// The exit code and the output of a finished command.
    pub fn from(o: Output) -> Out {
        Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// A temporary Haven home with its own user HOME and runtime folder.
pub struct Home {
    pub tmp: tempfile::TempDir,
    pub home: PathBuf,
    pub pass_file: PathBuf,
    /// A tmpfs folder used as XDG_RUNTIME_DIR (where the editor's temp file goes).
    pub runtime: PathBuf,
    pub env: Vec<(String, String)>,
    /// The named network namespace its commands run in (`ip netns exec`), for tests of two
    /// laptops; `None`: the test thread's own private namespace.
    pub netns: Option<String>,
}

impl Home {
    /// A home folder that is not initialised yet.
    pub fn new() -> Home {
        private_network();
        Home::bare()
    }

    /// A home whose commands run inside the named namespace `netns`, with mDNS on `iface`.
    pub fn in_netns(netns: &str, iface: &str) -> Home {
        let mut h = Home::bare();
        h.netns = Some(netns.to_string());
        h.env.push(("HAVEN_MDNS_INTERFACE".into(), iface.into()));
        h
    }

    fn bare() -> Home {
        let tmp = tempfile::tempdir().expect("tempdir");
        let home = tmp.path().join("haven");
        let pass_file = tmp.path().join("passphrase");
        std::fs::write(&pass_file, format!("{PASSPHRASE}\n")).expect("pass");
        let runtime = tempfile::Builder::new()
            .prefix("haven-test-rt")
            .tempdir_in("/dev/shm")
            .expect("shm")
            .keep();
        Home {
            tmp,
            home,
            pass_file,
            runtime,
            env: Vec::new(),
            netns: None,
        }
    }

    /// An initialised home for `name`.
    pub fn init(name: &str) -> Home {
        let h = Home::new();
        h.ok(&["init", "--name", name]);
        h
    }

    pub fn command(&self, bin: &str) -> Command {
        let mut c = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns]).arg(bin_dir().join(bin));
                c
            }
            None => Command::new(bin_dir().join(bin)),
        };
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.tmp.path())
            .env("XDG_RUNTIME_DIR", &self.runtime)
            .env("LANG", "C.UTF-8")
            .env("HAVEN_PASSPHRASE_FILE", &self.pass_file)
            .arg("--home")
            .arg(&self.home)
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            c.env(k, v);
        }
        // No controlling terminal, as in CI: prompts must fail cleanly, not hang.
        use std::os::unix::process::CommandExt;
        unsafe {
            c.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Out {
        Out::from(
            self.command("haven")
                .args(args)
                .output()
                .expect("run haven"),
        )
    }

    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Out {
        let mut child = self
            .command("haven")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("write");
        Out::from(child.wait_with_output().expect("wait"))
    }

    /// Runs `haven ARGS`, asserts success, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.code, 0,
            "haven {args:?} failed:\n{}{}",
            out.stdout, out.stderr
        );
        out.stdout
    }

    /// Runs `haven ARGS`, asserts it failed with `code` and one `error:` line (plus at most a
    /// `hint:` line) on stderr; returns the stderr.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        assert_one_error(&out, code, &format!("haven {args:?}"));
        out.stderr
    }

    /// Writes an entry and returns its id.
    pub fn write(&self, args: &[&str]) -> String {
        let mut all = vec!["journal", "write"];
        all.extend_from_slice(args);
        self.ok(&all).trim().to_string()
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.ok(args)).expect("json output")
    }

    /// How many entries `haven journal list --json` shows.
    pub fn entry_count(&self) -> usize {
        self.json(&["journal", "list", "--json"])
            .as_array()
            .expect("a list of entries")
            .len()
    }

    pub fn daemon_pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.home.join("havend.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Sends `signal` to the daemon and waits until it is gone.
    pub fn kill_daemon(&self, signal: i32) {
        if let Some(pid) = self.daemon_pid() {
            unsafe { libc::kill(pid, signal) };
            wait_gone(pid);
        }
    }

    /// Files under `dir` whose bytes contain `needle`.
    pub fn grep(dir: &Path, needle: &str) -> Vec<PathBuf> {
        let mut hits = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if let Ok(bytes) = std::fs::read(&p) {
                    if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                        hits.push(p);
                    }
                }
            }
        }
        hits
    }

    /// Makes this home a copy of the home folder `from` (its identity and database).
    pub fn copy_home_from(&self, from: &Path) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(&self.home).expect("home dir");
        std::fs::set_permissions(&self.home, std::fs::Permissions::from_mode(0o700)).expect("0700");
        for file in ["identity.age", "haven.db"] {
            let to = self.home.join(file);
            std::fs::copy(from.join(file), &to).expect("copy the home");
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600)).expect("0600");
        }
    }

    /// Opens the home directly with the library (the daemon must be stopped).
    pub fn open_directly(&self) -> haven_shared::home::OpenHome {
        let pass = secrecy::SecretString::from(PASSPHRASE.to_string());
        haven_shared::home::open(&self.paths(), &pass).expect("open home")
    }

    /// The home's keys, decrypted with the test passphrase (the daemon may run).
    pub fn identity(&self) -> haven_shared::crypto::Identity {
        let pass = secrecy::SecretString::from(PASSPHRASE.to_string());
        haven_shared::home::read_identity(&self.paths(), &pass).expect("read identity.age")
    }

    fn paths(&self) -> haven_shared::paths::Paths {
        haven_shared::paths::Paths::under_home(&self.home)
    }
}

impl Default for Home {
    fn default() -> Self {
        Home::new()
    }
}

/// A raw connection to the daemon of `h`, greeted as `haven` greets (the hello each way),
/// for the tests that write requests by hand.
pub fn ipc_connect(
    h: &Home,
) -> (
    std::io::BufReader<std::os::unix::net::UnixStream>,
    std::os::unix::net::UnixStream,
) {
    use std::io::{BufRead, Write};
    h.ok(&["status"]);
    let mut s = std::os::unix::net::UnixStream::connect(h.home.join("haven.sock"))
        .expect("connect to havend");
    let mut r = std::io::BufReader::new(s.try_clone().expect("clone the socket"));
    s.write_all(&haven_shared::ipc::encode_line(
        &haven_shared::ipc::Hello::ours(),
    ))
    .expect("send the hello");
    let mut line = String::new();
    r.read_line(&mut line).expect("read the hello");
    let theirs: haven_shared::ipc::Hello = serde_json::from_str(&line).expect("a hello");
    assert_eq!(theirs.protocol, haven_shared::ipc::PROTOCOL_VERSION);
    (r, s)
}

pub fn assert_one_error(out: &Out, code: i32, what: &str) {
    assert_eq!(
        out.code, code,
        "{what}: expected exit {code}, got {}:\n{}{}",
        out.code, out.stdout, out.stderr
    );
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        !lines.is_empty() && lines[0].starts_with("error: ") && lines.len() <= 2,
        "{what}: stderr should be one error line and at most one hint:\n{}",
        out.stderr
    );
    if lines.len() == 2 {
        assert!(
            lines[1].starts_with("hint: "),
            "{what}: second line should be a hint:\n{}",
            out.stderr
        );
    }
    assert!(
        !out.stderr.contains("panicked"),
        "{what} panicked:\n{}",
        out.stderr
    );
}

/// Whether process `pid` runs (a zombie counts as gone).
pub fn alive(pid: i32) -> bool {
    // A zombie counts as gone.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .split(") ")
            .nth(1)
            .is_some_and(|rest| rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// Every process under `pid`, children first.
pub fn descendants(pid: i32) -> Vec<i32> {
    let mut all = Vec::new();
    let mut next = vec![pid];
    while let Some(p) = next.pop() {
        for c in tmux::children(p) {
            all.push(c);
            next.push(c);
        }
    }
    all
}

pub fn wait_gone(pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        if let Some(pid) = self.daemon_pid() {
            if alive(pid) {
                unsafe { libc::kill(pid, libc::SIGTERM) };
                let deadline = Instant::now() + Duration::from_secs(3);
                while alive(pid) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(10));
                }
                if alive(pid) {
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
        }
        let _ = std::fs::remove_dir_all(&self.runtime);
    }
}

/// A tiny tmpfs mounted for one test, unmounted on drop.
pub struct SmallDisk(pub std::path::PathBuf);

impl SmallDisk {
    pub fn mount(at: &Path, size: &str) -> SmallDisk {
        std::fs::create_dir_all(at).unwrap();
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(at)
            .status()
            .unwrap()
            .success();
        assert!(
            ok,
            "cannot mount a small tmpfs for the full-disk test: run the tests as root (CI does)"
        );
        SmallDisk(at.to_path_buf())
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // The home's daemon lives on this disk: stop it first, or its pid file vanishes
        // with the mount (this guard drops before the Home) and the daemon outlives the test.
        if let Ok(pid) = std::fs::read_to_string(self.0.join("haven/havend.pid")) {
            if let Ok(pid) = pid.trim().parse::<i32>() {
                unsafe { libc::kill(pid, libc::SIGTERM) };
                wait_gone(pid);
            }
        }
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Whether `needle` is anywhere in the memory of process `pid` (its writable mappings:
/// heap, stacks, anonymous memory), read through `/proc/PID/mem` as root can, as someone
/// who gets hold of a running, locked laptop could.
pub fn memory_contains(pid: i32, needle: &[u8]) -> bool {
    use std::os::unix::fs::FileExt;
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).expect("read maps");
    let mem = std::fs::File::open(format!("/proc/{pid}/mem"))
        .expect("open /proc/PID/mem (the memory tests need root)");
    let mut scanned = 0usize;
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        if !perms.starts_with("rw") {
            continue;
        }
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (u64::from_str_radix(start, 16), u64::from_str_radix(end, 16))
        else {
            continue;
        };
        let mut region = vec![0u8; usize::try_from(end - start).expect("size")];
        // Some mappings ([vvar] and the like) cannot be read: skip them.
        if mem.read_exact_at(&mut region, start).is_err() {
            continue;
        }
        scanned += region.len();
        if region.windows(needle.len()).any(|w| w == needle) {
            return true;
        }
    }
    assert!(scanned > 0, "no memory of process {pid} could be read");
    false
}

/// The text of a PDF, read back with `pdftotext` (Debian's poppler-utils, which `.ci/run`
/// installs), whitespace collapsed to single spaces.
pub fn pdf_text(path: &Path) -> String {
    let pages: Vec<String> = pdf_pages(path)
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect();
    pages.join(" ")
}

/// The text of each page of a PDF (pdftotext separates pages with a form feed), with
/// whitespace collapsed to single spaces.
pub fn pdf_pages(path: &Path) -> Vec<String> {
    let out = Command::new("pdftotext")
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext (Debian's poppler-utils, installed by .ci/run) must be installed");
    assert!(
        out.status.success(),
        "pdftotext failed on {}",
        path.display()
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut pages: Vec<String> = text
        .split('\u{c}')
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    // The last form feed ends the last page.
    if pages.last().is_some_and(String::is_empty) {
        pages.pop();
    }
    pages
}

/// Writes a shell script at `path` and makes it executable (an `$EDITOR` for a test).
pub fn script(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).expect("write the script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}
