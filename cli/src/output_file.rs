//! Files a command writes for the person (an export, a backup): the folder checked before
//! any work is done, and the file written whole or not at all.

use std::path::{Path, PathBuf};

use crate::error::{io_error, CliError, CliResult};

/// The folder must exist and be writable before any work is done.
pub fn check_folder(path: &Path) -> CliResult {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(CliError::usage(format!(
            "the folder {} does not exist; nothing was written",
            dir.display()
        )));
    }
    let probe = dir.join(format!(".haven-export-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(CliError::usage(format!(
            "cannot write in {}: {e}; nothing was written",
            dir.display()
        ))),
    }
}

/// Writes via a temp file and a rename, so the file is either whole or absent.
pub fn write_whole(path: &Path, bytes: &[u8]) -> CliResult {
    haven_shared::paths::write_private_file(path, bytes).map_err(|e| {
        io_error(
            &format!("cannot write {}; nothing was written", path.display()),
            e,
        )
    })
}

/// Tells the daemon that `path` now holds a backup or an export, so `haven leave` can list
/// it. The file is written whatever happens here: a note that fails costs only the list.
pub fn note_written(
    ctx: &mut crate::Ctx,
    kind: haven_shared::written_files::WrittenKind,
    path: &Path,
) {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let Some(text) = absolute.to_str() else {
        return;
    };
    let _ = ctx.client.call(haven_shared::ipc::NoteWritten {
        kind,
        path: text.to_string(),
    });
}
