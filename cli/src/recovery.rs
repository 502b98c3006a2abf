//! Text from an editor session that could not be saved is never simply lost: it is kept
//! encrypted to this home's own key, so the person can get it back with `age`.

use std::str::FromStr;

use haven_shared::ipc::Recipient;

use crate::error::{io_error, CliError, CliResult, Exit};
use crate::Ctx;

/// Keeps text from a failed editor session, encrypted to this home's own key, in
/// `recovery/`. Readable with `age -d -i identity.age FILE`.
pub fn keep_recovery(ctx: &mut Ctx, text: &str) -> CliResult<std::path::PathBuf> {
    let recipient = ctx.client.call(Recipient {})?.recipient;
    let recipient = age::x25519::Recipient::from_str(&recipient)
        .map_err(|e| CliError::new(Exit::Failure, format!("bad recipient from havend: {e}")))?;
    let sealed = age::encrypt(&recipient, text.as_bytes()).map_err(|e| {
        CliError::new(
            Exit::Failure,
            format!("cannot encrypt the recovery copy: {e}"),
        )
    })?;
    let dir = ctx.paths.recovery_dir();
    haven_shared::paths::private_dir(&dir)
        .map_err(|e| io_error("cannot create the recovery folder", e))?;
    let path = dir.join(format!(
        "edit-{}.age",
        chrono::Local::now().format("%Y%m%d-%H%M%S")
    ));
    haven_shared::paths::write_private_file(&path, &sealed)
        .map_err(|e| io_error("cannot write the recovery copy", e))?;
    Ok(path)
}
