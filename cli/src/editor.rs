//! Writing in `$EDITOR` without leaving plaintext behind.
//!
//! The text goes to a 0600 file with a neutral name in a fresh 0700 folder on tmpfs
//! (`$XDG_RUNTIME_DIR`, else `/dev/shm`): a disk-backed folder is refused unless
//! `HAVEN_ALLOW_DISK_TEMP=1`. vim and neovim start without swap, backup, undo and viminfo
//! files. Afterwards the file is overwritten and removed, also when a signal ends us.
//! If the editor fails, the text is not lost: it is kept encrypted to this home's key.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{io_error, CliError, CliResult, Exit};

/// What came back from the editor.
pub enum Edited {
    Changed(String),
    Unchanged,
}

const TMPFS_MAGIC: i64 = 0x0102_1994;

fn is_tmpfs(dir: &Path) -> bool {
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    // SAFETY: statfs fills a zeroed struct we own from a valid C string.
    unsafe {
        let mut st: libc::statfs = std::mem::zeroed();
        libc::statfs(c.as_ptr(), &mut st) == 0 && st.f_type as i64 == TMPFS_MAGIC
    }
}

/// A folder in memory for the temp file.
fn scratch_base() -> CliResult<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os("HAVEN_EDIT_DIR") {
        candidates.push(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR") {
        candidates.push(PathBuf::from(dir));
    }
    candidates.push(PathBuf::from("/dev/shm"));
    let allow_disk = std::env::var("HAVEN_ALLOW_DISK_TEMP").is_ok_and(|v| v == "1");
    for dir in &candidates {
        if dir.is_dir() && (is_tmpfs(dir) || allow_disk) {
            return Ok(dir.clone());
        }
    }
    Err(CliError::new(Exit::Failure, "no in-memory folder for the editor's temp file (tried $XDG_RUNTIME_DIR and /dev/shm)")
        .hint("pass the text on the command line or with `-`, or set HAVEN_ALLOW_DISK_TEMP=1 to accept a disk folder"))
}

/// The temp folder and file; scrubbed when dropped.
struct Scratch {
    dir: PathBuf,
    file: PathBuf,
}

impl Scratch {
    fn create(initial: &str) -> CliResult<Scratch> {
        let base = scratch_base()?;
        let tag = hex_random();
        let dir = base.join(format!("tmp-{tag}"));
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(|e| io_error("cannot create the editor folder", e))?;
        let file = dir.join(format!("{tag}.md"));
        let scratch = Scratch { dir, file };
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&scratch.file)
            .map_err(|e| io_error("cannot create the editor file", e))?;
        f.write_all(initial.as_bytes())
            .map_err(|e| io_error("cannot write the editor file", e))?;
        Ok(scratch)
    }
}

/// Overwrites then removes the file and its folder.
fn scrub(dir: &Path, file: &Path) {
    if let Ok(meta) = fs::metadata(file) {
        if let Ok(mut f) = fs::OpenOptions::new().write(true).open(file) {
            let _ = f.write_all(&vec![0u8; meta.len() as usize]);
            let _ = f.sync_all();
        }
    }
    let _ = fs::remove_file(file);
    if let Ok(entries) = fs::read_dir(dir) {
        // An editor may have left its own files despite the flags (another editor).
        for entry in entries.flatten() {
            let _ = fs::remove_file(entry.path());
        }
    }
    let _ = fs::remove_dir(dir);
}

impl Drop for Scratch {
    fn drop(&mut self) {
        scrub(&self.dir, &self.file);
    }
}

fn hex_random() -> String {
    let bytes: [u8; 6] = haven_shared::crypto::random_bytes();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Extra arguments so vim-like editors keep no swap, backup, undo or history files.
fn private_flags(editor: &str) -> &'static str {
    let program = editor.split_whitespace().next().unwrap_or("");
    let name = Path::new(program)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("");
    match name {
        "vim" | "vi" | "nvim" | "gvim" | "vim.basic" | "vim.tiny" => {
            // `-i NONE` turns off vim's viminfo and neovim's shada alike; naming `shada=` in
            // a `set` made vim stop at startup with "E518: Unknown option".
            " -n -i NONE --cmd 'set nobackup nowritebackup noundofile noswapfile'"
        }
        _ => "",
    }
}

/// Opens `initial` in the user's editor. `keep` is called with the text if the editor
/// fails, to store it encrypted; it returns where it was kept.
pub fn edit(initial: &str, keep: impl FnOnce(&str) -> CliResult<PathBuf>) -> CliResult<Edited> {
    let editor = std::env::var("VISUAL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| {
            std::env::var("EDITOR")
                .ok()
                .filter(|v| !v.trim().is_empty())
        })
        .unwrap_or_else(|| "vi".to_string());
    let scratch = Scratch::create(initial)?;

    // Scrub the file if we are interrupted while the editor runs (the scrubbing thread
    // ends the process, not the default action).
    let mut signals = signal_hook::iterator::Signals::new(crate::signals::TERMINATING)
        .map_err(|e| io_error("cannot install signal handlers", e))?;
    crate::signals::default_action(false);
    let handle = signals.handle();
    let (dir, file) = (scratch.dir.clone(), scratch.file.clone());
    let guard = std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            scrub(&dir, &file);
            eprintln!("error: interrupted; nothing was saved and the temp file was erased");
            std::process::exit(128 + signal);
        }
    });

    let script = format!("{editor}{} \"$1\"", private_flags(&editor));
    let status = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .arg("sh")
        .arg(&scratch.file)
        .status();
    let text = fs::read_to_string(&scratch.file);
    handle.close();
    let _ = guard.join();
    crate::signals::default_action(true);

    let status = status.map_err(|e| {
        CliError::new(
            Exit::Failure,
            format!("cannot start the editor {editor:?}: {e}"),
        )
    })?;
    let text = text.map_err(|e| io_error("cannot read back the editor file", e))?;
    if !status.success() {
        let code = status
            .code()
            .map(|c| c.to_string())
            .unwrap_or_else(|| "a signal".into());
        if text.trim().is_empty() || text == initial {
            return Err(CliError::new(
                Exit::Failure,
                format!("the editor exited with an error ({code}); nothing was saved"),
            ));
        }
        let kept = keep(&text)?;
        return Err(CliError::new(
            Exit::Failure,
            format!("the editor exited with an error ({code}); nothing was saved, your text is kept encrypted in {}", kept.display()),
        )
        .hint(format!("read it back with: age -d -i identity.age {}", kept.display())));
    }
    drop(scratch);
    if text == initial {
        return Ok(Edited::Unchanged);
    }
    Ok(Edited::Changed(text))
}
