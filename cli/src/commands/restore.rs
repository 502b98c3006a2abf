//! `haven restore FILE`: bring a backup back into an empty home.

use std::path::PathBuf;

use haven_shared::backup::{self, BackupError};
use haven_shared::home;
use haven_shared::paths::write_private_file;

use crate::error::{io_error, CliError, CliResult, Exit};
use crate::{passphrase, Ctx};

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
    let written = (|| {
        for (name, bytes) in &files {
            if backup::FILES.contains(&name.as_str()) {
                write_private_file(&paths.data_dir.join(name), bytes)?;
            }
        }
        Ok::<(), std::io::Error>(())
    })();
    // Prove the restored files open together; otherwise leave nothing behind.
    let check = written
        .map_err(|e| io_error("cannot write the restored files", e))
        .and_then(|_| {
            home::open(&paths, &pass).map(|_| ()).map_err(|e| {
                CliError::new(
                    Exit::Storage,
                    format!("the restored home does not open: {e}"),
                )
            })
        });
    if let Err(e) = check {
        for name in backup::FILES {
            let _ = std::fs::remove_file(paths.data_dir.join(name));
        }
        return Err(e);
    }
    eprintln!(
        "Restored into {}. Unlock it with your passphrase as before.",
        paths.data_dir.display()
    );
    Ok(())
}
