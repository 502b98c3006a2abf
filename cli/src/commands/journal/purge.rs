//! `haven journal purge`: rewrite the stored journal from its current state.

use haven_shared::ipc::{Request, Response};

use crate::client::unexpected;
use crate::error::CliResult;
use crate::Ctx;

pub fn run(ctx: &mut Ctx) -> CliResult {
    match ctx.client.call(Request::JournalPurge)? {
        Response::Purged {
            entries,
            bytes_before,
            bytes_after,
        } => {
            eprintln!(
                "Purged: {entries} entries kept; the stored journal went from {} to {}.",
                human_bytes(bytes_before),
                human_bytes(bytes_after)
            );
            eprintln!("Deleted entries and earlier versions of edited ones are gone from disk.");
            Ok(())
        }
        other => Err(unexpected(&other)),
    }
}

fn human_bytes(n: u64) -> String {
    match n {
        0..=1023 => format!("{n} B"),
        1024..=1_048_575 => format!("{:.1} KiB", n as f64 / 1024.0),
        _ => format!("{:.1} MiB", n as f64 / 1_048_576.0),
    }
}
