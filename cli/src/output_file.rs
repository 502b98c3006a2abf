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
