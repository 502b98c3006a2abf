//! `haven lock`: drop the keys and the decrypted documents from the daemon's memory.

use haven_shared::ipc::Lock;

use crate::error::CliResult;
use crate::Ctx;

pub fn run(ctx: &mut Ctx) -> CliResult {
    if !ctx.client.connect_existing()? {
        eprintln!("Locked (the daemon is not running).");
        return Ok(());
    }
    ctx.client.call(Lock {})?;
    eprintln!("Locked.");
    Ok(())
}
