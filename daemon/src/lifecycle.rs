//! One daemon per home, no core dumps, and a clean start after a crash.
//!
//! The lock is an `flock` on `havend.lock`, released by the kernel when the process dies
//! however it dies, so a crashed daemon never blocks the next one. Holding the lock proves
//! any `haven.sock` left behind is stale, and it is replaced rather than reported.

use anyhow::{Context, Result};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;

use haven_shared::paths::Paths;

/// Another daemon holds this home's lock. Its own exit code ([`ALREADY_RUNNING`]), so a
/// `havend` that lost a race to start tells its starter to wait for the winner instead.
#[derive(Debug, thiserror::Error)]
#[error(
    "another havend is already running for this home (pid {pid}); stop it with `haven daemon stop`"
)]
pub struct AlreadyRunning {
    pub pid: String,
}

/// The exit code of a `havend --foreground` that found another one holding the lock.
pub const ALREADY_RUNNING: u8 = 75;

/// Held for the daemon's lifetime; dropping it removes the pid file and socket.
pub struct Instance {
    _lock: File,
    paths: Paths,
}

/// Makes the process non-dumpable and its core size zero: a crash must not write the
/// decrypted journal to disk.
pub fn disable_core_dumps() {
    // SAFETY: plain syscalls with constant arguments.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        let zero = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::setrlimit(libc::RLIMIT_CORE, &zero);
    }
}

/// Raises the open-file limit to the hard limit: a flood of connections on the peer port
/// must run out of handshake slots (`peer::admission`), not of descriptors for the socket,
/// the database and the partner's session.
pub fn raise_file_limit() {
    // SAFETY: plain syscalls on a local struct.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// How large `havend.log` may grow before a start moves it to `havend.log.1`.
pub const LOG_ROTATE_BYTES: u64 = 8 * 1024 * 1024;

/// Moves a log grown past [`LOG_ROTATE_BYTES`] aside (replacing the older one), so the log
/// never takes more than twice that.
pub fn rotate_log(path: &std::path::Path) {
    let big = std::fs::metadata(path).is_ok_and(|m| m.len() > LOG_ROTATE_BYTES);
    if big {
        let mut old = path.as_os_str().to_owned();
        old.push(".1");
        let _ = std::fs::rename(path, old);
    }
}

/// Takes the home's lock or explains who holds it.
pub fn acquire(paths: &Paths) -> Result<Instance> {
    paths
        .create_dirs()
        .with_context(|| format!("cannot create {}", paths.runtime_dir.display()))?;
    let mut lock = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(paths.lock_file())
        .with_context(|| format!("cannot open {}", paths.lock_file().display()))?;
    // SAFETY: flock on a file descriptor we own.
    let rc = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let mut pid = String::new();
        let _ = lock.read_to_string(&mut pid);
        return Err(AlreadyRunning {
            pid: pid.trim().to_string(),
        }
        .into());
    }
    lock.set_len(0)?;
    write!(lock, "{}", std::process::id())?;
    haven_shared::paths::write_private_file(
        &paths.pid_file(),
        std::process::id().to_string().as_bytes(),
    )
    .with_context(|| format!("cannot write {}", paths.pid_file().display()))?;
    let socket = paths.socket();
    if socket.exists() {
        tracing::info!(path = %socket.display(), "replacing a stale socket left by a previous daemon");
        std::fs::remove_file(&socket)
            .with_context(|| format!("cannot remove stale {}", socket.display()))?;
    }
    Ok(Instance {
        _lock: lock,
        paths: paths.clone(),
    })
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.paths.socket());
        let _ = std::fs::remove_file(self.paths.pid_file());
    }
}

/// Returns the pages a load, a lock or a large reply freed to the system. Loading the
/// documents allocates far more than it keeps (decrypted chunks, automerge's load
/// buffers); without this, each lock and unlock left glibc's arenas holding more (measured
/// on the 10,000-entry journal: 88 MB after six unlocks, 64 MB with it). The freed blocks
/// were already wiped by the daemon's allocator (`haven_shared::wiping_alloc`).
pub fn give_back_freed_memory() {
    // SAFETY: malloc_trim only returns free memory at the top of glibc's heaps.
    unsafe {
        libc::malloc_trim(0);
    }
}
