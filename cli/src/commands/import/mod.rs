//! `haven import --from jrnl|dayone FILE`: bring a journal in from another app.
//!
//! The file is parsed and checked whole (`haven_shared::import`) before anything is sent,
//! so a bad file imports nothing. Entries go to the daemon in batches bounded by count and
//! by bytes, with a progress bar on a terminal; if a batch fails, the error says how many
//! entries are in, and running the same import again adds only the rest (ids come from
//! the content).

use std::path::PathBuf;

use haven_shared::import::{self, ImportError};
use haven_shared::ipc::{Imported, JournalImport, MAX_REQUEST_BYTES};
use haven_shared::model::Entry;

use crate::error::{CliError, CliResult};
use crate::Ctx;

const BATCH: usize = 500;
/// A batch's entries in bytes of JSON: well under what one request may carry.
const BATCH_BYTES: usize = MAX_REQUEST_BYTES / 2;

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Source {
    /// jrnl's JSON export (`jrnl --format json > FILE`)
    Jrnl,
    /// Day One's JSON export: the .json file, or the .zip that holds it
    Dayone,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Which app the file comes from
    #[arg(long, value_enum)]
    from: Source,
    /// The exported file
    file: PathBuf,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let name = args.file.display().to_string();
    let entries = read_entries(&args, &name)?;
    let total = entries.len();
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
        let bar = indicatif::ProgressBar::new(total as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} entries")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let (mut added, mut existing) = (0, 0);
    for batch in batches(entries) {
        let count = batch.len();
        let reply = ctx.client.call(JournalImport { entries: batch });
        match reply {
            Ok(Imported {
                added: a,
                existing: e,
            }) => {
                added += a;
                existing += e;
            }
            Err(mut error) => {
                if let Some(bar) = &progress {
                    bar.finish_and_clear();
                }
                let done = added + existing;
                error.message = format!(
                    "{}; {done} of the {total} entries of {name} are in, the other {} are not",
                    error.message,
                    total - done
                );
                error.hint = Some(
                    "run the same import again once this is fixed: it adds only what is missing"
                        .into(),
                );
                return Err(error);
            }
        }
        if let Some(bar) = &progress {
            bar.inc(count as u64);
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    eprintln!(
        "Imported {} from {name}{}.",
        haven_shared::plural::count(added as u64, "entry", "entries"),
        match existing {
            0 => String::new(),
            1 => " (1 was already here)".to_string(),
            n => format!(" ({n} were already here)"),
        }
    );
    Ok(())
}

/// Every entry of the file, each already valid and small enough to send, or one line on
/// the first that is not (nothing is imported then).
fn read_entries(args: &Args, name: &str) -> CliResult<Vec<Entry>> {
    let file = std::fs::File::open(&args.file)
        .map_err(|e| CliError::usage(format!("cannot read {name}: {e}")))?;
    let parsed = match args.from {
        Source::Jrnl => import::read_text(file, "jrnl").and_then(|t| import::jrnl::parse(&t)),
        Source::Dayone => import::dayone::parse(std::io::BufReader::new(file)),
    };
    let imported = parsed.map_err(|e| {
        let message = match &e {
            ImportError::Entry { index, why } => format!("entry {index} of {name} {why}"),
            other => format!("{name} {other}"),
        };
        let error = CliError::usage(format!("{message}; nothing was imported"));
        match (args.from, e) {
            (Source::Jrnl, ImportError::NotAnExport { .. }) => {
                error.hint("make one with `jrnl --format json > FILE`")
            }
            _ => error,
        }
    })?;
    let mut entries = Vec::with_capacity(imported.len());
    for (i, item) in imported.into_iter().enumerate() {
        let refuse = |why: String| {
            CliError::usage(format!(
                "entry {} of {name} cannot be imported: {why}; nothing was imported",
                i + 1
            ))
        };
        let entry = item
            .into_entry()
            .validated()
            .map_err(|e| refuse(e.to_string()))?;
        if json_size(&entry) > BATCH_BYTES {
            return Err(refuse(format!(
                "it is larger than the {} MiB one entry may be",
                BATCH_BYTES >> 20
            )));
        }
        entries.push(entry);
    }
    if entries.is_empty() {
        return Err(CliError::usage(format!(
            "{name} holds no entries; nothing was imported"
        )));
    }
    Ok(entries)
}

fn json_size(entry: &Entry) -> usize {
    serde_json::to_vec(entry).map_or(usize::MAX, |v| v.len())
}

/// Splits entries into requests of at most [`BATCH`] entries and about [`BATCH_BYTES`].
fn batches(entries: Vec<Entry>) -> Vec<Vec<Entry>> {
    let mut out: Vec<Vec<Entry>> = Vec::new();
    let mut bytes = 0;
    for entry in entries {
        let size = json_size(&entry);
        match out.last_mut() {
            Some(batch) if batch.len() < BATCH && bytes + size <= BATCH_BYTES => {
                bytes += size;
                batch.push(entry);
            }
            _ => {
                bytes = size;
                out.push(vec![entry]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use haven_shared::import::Imported;

    fn entry(i: usize, body_bytes: usize) -> Entry {
        Imported {
            created_at: chrono::DateTime::parse_from_rfc3339("2026-11-01T09:30:00Z").expect("date"),
            title: format!("entry {i}"),
            body: "x".repeat(body_bytes),
            tags: vec![],
            source_id: None,
        }
        .into_entry()
    }

    #[test]
    fn batches_are_bounded_by_count_and_by_bytes_and_keep_every_entry() {
        let small: Vec<Entry> = (0..1200).map(|i| entry(i, 10)).collect();
        let sizes: Vec<usize> = batches(small).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![500, 500, 200]);
        // Entries of a megabyte each: a batch holds at most BATCH_BYTES of them.
        let big: Vec<Entry> = (0..9).map(|i| entry(i, 1 << 20)).collect();
        let split = batches(big);
        assert_eq!(split.iter().map(Vec::len).sum::<usize>(), 9);
        for batch in &split {
            let bytes: usize = batch.iter().map(json_size).sum();
            assert!(bytes <= BATCH_BYTES, "{bytes} bytes in one batch");
        }
        assert!(split.len() >= 3, "{} batches", split.len());
    }
}
