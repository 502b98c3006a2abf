//! `haven backup -o FILE`: everything in one file, protected by your passphrase.

use std::path::PathBuf;

use haven_shared::backup;
use haven_shared::ipc::CopyDatabase;

use crate::error::{io_error, CliError, CliResult, Exit};
use crate::{passphrase, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where to write the backup
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    crate::output_file::check_folder(&args.output)?;
    let pass = passphrase::obtain(ctx.passphrase_file.as_deref(), "Passphrase for Haven: ")?;
    // The backup uses the same passphrase as identity.age; check it now, not at restore.
    let identity =
        std::fs::read(ctx.paths.identity()).map_err(|e| io_error("cannot read identity.age", e))?;
    haven_shared::crypto::Identity::unseal(&identity, &pass).map_err(|e| match e {
        haven_shared::crypto::IdentityError::WrongPassphrase => {
            CliError::new(Exit::Locked, "wrong passphrase")
        }
        other => CliError::new(Exit::Storage, format!("cannot read identity.age: {other}")),
    })?;
    let copy = ctx.client.call(CopyDatabase {})?.path;
    let db = std::fs::read(&copy).map_err(|e| io_error("cannot read the database copy", e));
    let _ = std::fs::remove_file(&copy);
    let archive = backup::pack(&[("identity.age", identity), ("haven.db", db?)], &pass)
        .map_err(|e| CliError::new(Exit::Failure, e.to_string()))?;
    crate::output_file::write_whole(&args.output, &archive)?;
    crate::output_file::note_written(
        ctx,
        haven_shared::written_files::WrittenKind::Backup,
        &args.output,
    );
    if let Err(e) = backup::record_backup(&ctx.paths) {
        // The backup is written; only the note of when is missing.
        eprintln!("(The backup is written, but its date could not be noted: {e}.)");
    }
    eprintln!(
        "Backed up to {} ({} KiB). Restore it with `haven restore FILE` into an empty home.",
        args.output.display(),
        archive.len() / 1024
    );
    Ok(())
}
