//! `haven import --from jrnl|dayone FILE`: bring a journal in from another app.
//!
//! The file is read and checked whole before anything is sent, so a bad file imports
//! nothing. Each entry's id is derived from its time and content (a ULID whose random part
//! is a hash), so importing the same file twice adds nothing the second time. Entries go to
//! the daemon in batches, with a progress bar on a terminal.

mod dayone;
mod jrnl;

use std::path::PathBuf;

use chrono::{DateTime, FixedOffset};
use haven_shared::ipc::{Request, Response};
use haven_shared::model::{Entry, Kind};
use sha2::{Digest, Sha256};

use crate::client::unexpected;
use crate::error::{CliError, CliResult};
use crate::Ctx;

const BATCH: usize = 500;

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

/// An entry as read from another app, before it gets an id.
pub struct Imported {
    pub created_at: DateTime<FixedOffset>,
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    /// Stable identity in the source app (Day One's uuid), if it has one.
    pub source_id: Option<String>,
}

impl Imported {
    fn into_entry(self) -> Entry {
        let mut hash = Sha256::new();
        for part in [
            self.source_id.as_deref().unwrap_or(""),
            &self.title,
            &self.body,
            &self.created_at.to_rfc3339(),
        ] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        let digest = hash.finalize();
        let mut random = [0u8; 16];
        random[6..].copy_from_slice(&digest[..10]);
        let millis = u64::try_from(self.created_at.timestamp_millis()).unwrap_or(0);
        let id = ulid::Ulid::from_parts(millis, u128::from_be_bytes(random))
            .to_string()
            .to_ascii_lowercase();
        Entry {
            id,
            kind: Kind::Note,
            title: self.title,
            body: self.body,
            tags: self.tags,
            mood: None,
            intensity: None,
            created_at: self.created_at,
            updated_at: self.created_at,
        }
    }
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let name = args.file.display().to_string();
    let imported = match args.from {
        Source::Jrnl => jrnl::read(&args.file)?,
        Source::Dayone => dayone::read(&args.file)?,
    };
    let mut entries = Vec::with_capacity(imported.len());
    for (i, item) in imported.into_iter().enumerate() {
        let entry = item.into_entry().validated().map_err(|e| {
            CliError::usage(format!(
                "entry {} of {name} cannot be imported: {e}; nothing was imported",
                i + 1
            ))
        })?;
        entries.push(entry);
    }
    if entries.is_empty() {
        return Err(CliError::usage(format!(
            "{name} holds no entries; nothing was imported"
        )));
    }
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
        let bar = indicatif::ProgressBar::new(entries.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} entries")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let (mut added, mut existing) = (0, 0);
    for batch in entries.chunks(BATCH) {
        match ctx.client.call(Request::JournalImport {
            entries: batch.to_vec(),
        })? {
            Response::Imported {
                added: a,
                existing: e,
            } => {
                added += a;
                existing += e;
            }
            other => return Err(unexpected(&other)),
        }
        if let Some(bar) = &progress {
            bar.inc(batch.len() as u64);
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    eprintln!(
        "Imported {added} entries from {name}{}.",
        if existing > 0 {
            format!(" ({existing} were already here)")
        } else {
            String::new()
        }
    );
    Ok(())
}

/// Tags from other apps: `@tag` and `#tag` lose their sign; blanks and spaces go.
pub fn clean_tags(tags: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        let t = t
            .trim()
            .trim_start_matches(['@', '#'])
            .replace(char::is_whitespace, "-");
        if !t.is_empty() && !out.contains(&t) {
            out.push(t);
        }
    }
    out
}
