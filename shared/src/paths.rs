//! Every path Haven touches, computed once from one injectable environment.
//!
//! With `--home DIR` or `HAVEN_HOME` everything (data, socket, lock, logs) lives under that
//! one folder, so two homes on one machine never collide: tests and people with two
//! identities rely on that. Without it Haven follows the XDG base directories.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Where one Haven home keeps its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// identity.age, haven.db, recovery files.
    pub data_dir: PathBuf,
    /// haven.sock, havend.lock, havend.pid.
    pub runtime_dir: PathBuf,
    /// State that is not data: havend.log when the daemon runs detached, and
    /// haven.generation (apart from the data folder a backup tool would restore).
    pub log_dir: PathBuf,
    /// config.toml.
    pub config_dir: PathBuf,
}

impl Paths {
    /// Everything under one folder (`--home DIR` / `HAVEN_HOME`).
    pub fn under_home(home: &Path) -> Paths {
        let home = absolute(home);
        Paths {
            data_dir: home.clone(),
            runtime_dir: home.clone(),
            log_dir: home.clone(),
            config_dir: home,
        }
    }

    /// The XDG folders of the current user (`~/.local/share/haven`, `$XDG_RUNTIME_DIR/haven`).
    pub fn xdg() -> Option<Paths> {
        let dirs = directories::ProjectDirs::from("", "", "haven")?;
        let data_dir = dirs.data_dir().to_path_buf();
        let runtime_dir = dirs
            .runtime_dir()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| data_dir.clone());
        Some(Paths {
            config_dir: dirs.config_dir().to_path_buf(),
            log_dir: dirs
                .state_dir()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| data_dir.clone()),
            data_dir,
            runtime_dir,
        })
    }

    /// `explicit` (from `--home`) wins, then `HAVEN_HOME`, then XDG.
    pub fn resolve(explicit: Option<&Path>) -> Option<Paths> {
        if let Some(home) = explicit {
            return Some(Paths::under_home(home));
        }
        match std::env::var_os("HAVEN_HOME") {
            Some(home) if !home.is_empty() => Some(Paths::under_home(Path::new(&home))),
            _ => Paths::xdg(),
        }
    }

    pub fn identity(&self) -> PathBuf {
        self.data_dir.join("identity.age")
    }
    pub fn database(&self) -> PathBuf {
        self.data_dir.join("haven.db")
    }
    /// The newest generation of haven.db seen here (`store::witness`).
    pub fn generation_file(&self) -> PathBuf {
        self.log_dir.join("haven.generation")
    }
    pub fn recovery_dir(&self) -> PathBuf {
        self.data_dir.join("recovery")
    }
    pub fn socket(&self) -> PathBuf {
        self.runtime_dir.join("haven.sock")
    }
    pub fn lock_file(&self) -> PathBuf {
        self.runtime_dir.join("havend.lock")
    }
    pub fn pid_file(&self) -> PathBuf {
        self.runtime_dir.join("havend.pid")
    }
    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }
    pub fn log_file(&self) -> PathBuf {
        self.log_dir.join("havend.log")
    }

    /// True when this home holds an identity or a database (so `init` must not overwrite it).
    pub fn is_initialised(&self) -> bool {
        self.identity().exists() || self.database().exists()
    }

    /// Creates every folder with mode 0700 (and tightens an existing one).
    pub fn create_dirs(&self) -> io::Result<()> {
        for dir in [&self.data_dir, &self.runtime_dir, &self.log_dir] {
            private_dir(dir)?;
        }
        Ok(())
    }
}

/// Creates `dir` and makes it 0700; missing parents (such as `~/.local/share`) are created
/// with the usual permissions, since they are not Haven's.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    if let Some(parent) = dir.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}

/// Writes `bytes` to `path` as a new 0600 file, atomically (temp file, fsync, rename, fsync
/// dir). The temp file has a random name and is created with `O_EXCL` (tempfile), so in a
/// shared folder a link planted where it will be cannot make us write through it into
/// someone else's file; the rename replaces `path` itself, never what it may point to.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    // A bare file name ("brief.pdf") has an empty parent: the current folder.
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // Mode 0600, removed again if anything below fails.
    let mut file = tempfile::Builder::new()
        .prefix(".haven-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    fs::File::open(dir)?.sync_all()
}

fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|cwd| cwd.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_home_keeps_everything_under_it() {
        let paths = Paths::under_home(Path::new("/tmp/h"));
        assert_eq!(paths.socket(), Path::new("/tmp/h/haven.sock"));
        assert_eq!(paths.database(), Path::new("/tmp/h/haven.db"));
        assert_eq!(paths.log_file(), Path::new("/tmp/h/havend.log"));
    }

    #[test]
    fn private_files_and_dirs_are_owner_only() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("a/b");
        private_dir(&dir).expect("dir");
        let file = dir.join("f");
        write_private_file(&file, b"x").expect("file");
        let mode = |p: &Path| fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&file), 0o600);
        assert_eq!(fs::read(&file).expect("read"), b"x");
    }
}
