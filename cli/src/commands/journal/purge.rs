//! `haven journal purge`: rewrite the stored journal from its current state.

use haven_shared::ipc::{JournalPurge, Purged};

use crate::error::CliResult;
use crate::Ctx;

pub fn run(ctx: &mut Ctx) -> CliResult {
    let Purged {
        entries,
        bytes_before,
        bytes_after,
    } = ctx.client.call(JournalPurge {})?;
    eprintln!(
        "Purged: {entries} entries kept; the stored journal went from {} to {}.",
        human_bytes(bytes_before),
        human_bytes(bytes_after)
    );
    eprintln!("Deleted entries and earlier versions of edited ones are gone from disk.");
    Ok(())
}

fn human_bytes(n: u64) -> String {
    match n {
        0..=1023 => format!("{n} B"),
        1024..=1_048_575 => format!("{:.1} KiB", n as f64 / 1024.0),
        _ => format!("{:.1} MiB", n as f64 / 1_048_576.0),
    }
}
