//! `haven restore FILE`: bring a backup back into an empty home.

use std::path::PathBuf;

use haven_shared::backup::{self, BackupError};
use haven_shared::home;
use haven_shared::paths::write_private_file;

use crate::error::{io_error, CliError, CliResult, Exit};
use crate::{passphrase, Ctx};

/// The staging folder's name inside the home: `.restore-` and a random suffix.
const STAGING_PREFIX: &str = ".restore-";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A file written by `haven backup`
    file: PathBuf,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let paths = ctx.paths.clone();
    if paths.is_initialised() {
        return Err(CliError::usage(format!(
            "{} already holds a Haven home; nothing was restored",
            paths.data_dir.display()
        ))
        .hint("restore into an empty home: `haven --home NEW_DIR restore FILE`"));
    }
    let archive = std::fs::read(&args.file)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", args.file.display())))?;
    let pass = passphrase::obtain(ctx.passphrase_file.as_deref(), "Passphrase of the backup: ")?;
    let files = backup::unpack(&archive, &pass).map_err(|e| match e {
        BackupError::WrongPassphrase => {
            CliError::new(Exit::Locked, "wrong passphrase; nothing was restored")
        }
        other => CliError::new(Exit::Storage, format!("{other}; nothing was restored")),
    })?;
    paths
        .create_dirs()
        .map_err(|e| io_error("cannot create the home folder", e))?;
    // Everything is written and opened in a staging folder inside the home first, and
    // renamed into place only once it opens: a crash or a failure midway leaves the home as
    // it was, with no half-written file and no -wal or -shm (the folder goes with them).
    clear_stale_stages(&paths);
    let stage = tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(&paths.data_dir)
        .map_err(|e| io_error("cannot create a staging folder in the home", e))?;
    let staged = haven_shared::paths::Paths::under_home(stage.path());
    for (name, bytes) in &files {
        if backup::FILES.contains(&name.as_str()) {
            write_private_file(&stage.path().join(name), bytes)
                .map_err(|e| io_error("cannot write the restored files", e))?;
        }
    }
    let mut opened = home::open(&staged, &pass).map_err(|e| {
        CliError::new(
            Exit::Storage,
            format!("the restored home does not open: {e}; nothing was restored"),
        )
    })?;
    let was_linked = mark_restored(&mut opened)?;
    drop(opened);
    // haven.db first: the home counts as made once identity.age is there too. (Between the
    // two renames, a crash leaves a haven.db alone, which `doctor` and `init` name.)
    for name in ["haven.db", "identity.age"] {
        std::fs::rename(stage.path().join(name), paths.data_dir.join(name))
            .map_err(|e| io_error("cannot move the restored files into place", e))?;
    }
    std::fs::File::open(&paths.data_dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error("cannot sync the home folder", e))?;
    // The generation this laptop has seen stays if there is one: a backup older than it is
    // then named at unlock, like any older haven.db. Otherwise the backup's own starts it.
    let seen = paths.generation_file();
    let kept = seen.exists();
    if !kept {
        let _ = std::fs::create_dir_all(&paths.log_dir);
        let _ = std::fs::rename(staged.generation_file(), &seen);
    }
    drop(stage);
    eprintln!(
        "Restored into {}. Unlock it with your passphrase as before.",
        paths.data_dir.display()
    );
    if kept {
        eprintln!("If this laptop wrote more since the backup, unlocking will say the copy is older; `haven doctor --accept-older` makes it the newest.");
    }
    if was_linked {
        eprintln!("This home was one of your linked devices: it does not sync with the others as that device. `haven doctor` says what to do.");
    }
    Ok(())
}

/// A restore killed midway (a power cut) leaves its staging folder behind: clear it.
fn clear_stale_stages(paths: &haven_shared::paths::Paths) {
    if let Ok(entries) = std::fs::read_dir(&paths.data_dir) {
        for entry in entries.flatten() {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with(STAGING_PREFIX)
            {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

/// A restored home that was one of the person's devices is marked so: it must not act as
/// that device beside the device itself, which may still exist. True if it was one.
fn mark_restored(opened: &mut home::OpenHome) -> CliResult<bool> {
    let Ok(Some(mut devices)) = opened.own_devices() else {
        return Ok(false);
    };
    devices.restored = Some(haven_shared::when::now().to_rfc3339());
    opened.save_own_devices(&devices).map_err(|e| {
        CliError::new(
            Exit::Storage,
            format!("cannot mark the restored home: {e}; nothing was restored"),
        )
    })?;
    Ok(true)
}
