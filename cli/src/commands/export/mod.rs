//! `haven export ID | --since DATE`: one entry, or a session brief to bring to therapy.
//!
//! The daemon hands over the entries and agreements; everything else happens here:
//! redaction, rendering (one module per format), optional age encryption, and writing.
//! A file is written whole or not at all (a temp file beside it, then a rename), so a
//! failed export never leaves half a journal on disk.

mod fhir;
mod html;
mod markdown;
mod model;
mod pdf;
mod redact;
mod summary;
mod text;

use std::io::Write;
use std::path::PathBuf;

use haven_shared::ipc::{Export as ExportCall, ExportSelection};
use haven_shared::model::{Kind, ListQuery};
use haven_shared::when;

use crate::error::{CliError, CliResult, Exit};
use crate::range::Range;
use crate::{output, output_file, passphrase, Ctx};

pub use model::Export;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Md,
    Txt,
    Html,
    Pdf,
    Json,
    Fhir,
}

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("range").args(["since", "weeks"])))]
pub struct Args {
    /// One entry's id (or a unique prefix); or use --since or --weeks for a session brief
    #[arg(required_unless_present_any = ["since", "weeks"])]
    id: Option<String>,
    /// A session brief of the last N weeks (1 to 52), up to today
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=52), conflicts_with_all = ["id", "since"])]
    weeks: Option<u16>,
    /// The brief's first page only: what to bring, what changed, the hardest moments,
    /// pauses, agreements that changed (no entries)
    #[arg(long)]
    summary: bool,
    /// A session brief of the entries since this date: 2026-11-01, 2w, 3d, yesterday,
    /// last month (from the start of that day)
    #[arg(long, value_name = "DATE", conflicts_with = "id")]
    since: Option<String>,
    /// The brief ends with this date, included: 2026-11-30, last week [default: now]
    #[arg(long, value_name = "DATE", requires = "range")]
    until: Option<String>,
    /// Only entries with this tag (with --since)
    #[arg(long, requires = "range")]
    tag: Option<String>,
    /// Only entries of this kind (with --since)
    #[arg(long, requires = "range")]
    kind: Option<Kind>,
    /// The format: Markdown, plain text, HTML, PDF, JSON, or FHIR for a clinic's records
    #[arg(long, value_enum, default_value = "md")]
    format: Format,
    /// With --format fhir: add each entry's words to its Observations (without it, only
    /// the numbers and their dates leave)
    #[arg(long)]
    with_text: bool,
    /// Write to this file instead of stdout
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Encrypt to this age recipient (age1…); repeat for more
    #[arg(long = "to", value_name = "RECIPIENT")]
    to: Vec<String>,
    /// Encrypt with a passphrase (asked on the terminal)
    #[arg(long, conflicts_with = "to")]
    passphrase: bool,
    /// Include the appreciations your partner sent you in the range (with --since)
    #[arg(long, requires = "range")]
    thanks: bool,
    /// Replace a name with a role, whole words, any case: --redact Sam=partner
    #[arg(long = "redact", value_name = "NAME=ROLE")]
    redact: Vec<String>,
    /// Include the messages written during pauses (and their rewrites); without it a
    /// pause shows only how it ended
    #[arg(long)]
    messages: bool,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    // Everything that can be checked before asking the daemon is checked first.
    let redactions = redact::parse(&args.redact)?;
    if args.with_text && args.format != Format::Fhir {
        return Err(CliError::usage(
            "--with-text is for --format fhir; the other formats always carry the words",
        ));
    }
    let recipients = parse_recipients(&args.to)?;
    if let Some(out) = &args.output {
        output_file::check_folder(out)?;
    }
    let selection = selection(&args)?;
    let range = match &selection {
        ExportSelection::Range { query } => Range {
            since: query.since,
            until: query.until,
        },
        ExportSelection::Entry { .. } => Range::default(),
    };
    let data = ctx.client.call(ExportCall {
        selection,
        thanks: args.thanks,
    })?;
    if data.entries.is_empty() {
        return Err(CliError::new(
            Exit::NotFound,
            "no entries in that range; nothing was written",
        )
        .hint("try an earlier --since, or check the --tag and --kind"));
    }
    let mut export = Export::new(data, args.id.is_none(), range);
    export.messages = args.messages;
    export.summary_only = args.summary;
    let report = redact::apply(&mut export, &redactions);
    export.redactions = report;
    let encrypted = !recipients.is_empty() || args.passphrase;
    if args.format == Format::Pdf
        && !encrypted
        && args.output.is_none()
        && output::stdout_is_terminal()
    {
        return Err(CliError::usage(
            "a PDF is not for the terminal: write it with -o FILE (or pipe it)",
        ));
    }
    let rendered = render(args.format, &export, args.with_text)?;
    let bytes = if encrypted {
        encrypt(&rendered, recipients, args.passphrase)?
    } else {
        rendered
    };
    match &args.output {
        Some(path) => {
            output_file::write_whole(path, &bytes)?;
            let kind = if encrypted {
                haven_shared::written_files::WrittenKind::EncryptedExport
            } else {
                haven_shared::written_files::WrittenKind::Export
            };
            output_file::note_written(ctx, kind, path);
            eprintln!("Wrote {} ({}).", path.display(), export.entry_count());
        }
        None => output::emit_bytes(&bytes),
    }
    Ok(())
}

/// One entry by id, or a range (a session brief).
fn selection(args: &Args) -> CliResult<ExportSelection> {
    // The brief starts at the beginning of its first day, so every count in it (the
    // entries listed and what changed) covers the same days.
    let weeks = args.weeks.map(|n| format!("{}d", u32::from(n) * 7));
    let since = args.since.as_deref().or(weeks.as_deref());
    let mut range = Range::parse(since, args.until.as_deref())?;
    range.since = range.first_day().and_then(when::start_of).or(range.since);
    Ok(match (&args.id, since) {
        (Some(id), _) => ExportSelection::Entry { id: id.clone() },
        (None, Some(_)) => ExportSelection::Range {
            query: ListQuery {
                since: range.since,
                until: range.until,
                tag: args.tag.clone(),
                kind: args.kind,
                ..Default::default()
            },
        },
        (None, None) => {
            return Err(CliError::usage(
                "say what to export: an entry's ID, or --since DATE (or --weeks N)",
            ))
        }
    })
}

fn render(format: Format, export: &Export, with_text: bool) -> CliResult<Vec<u8>> {
    Ok(match format {
        // Text that came from the partner or an import may carry escape sequences: a brief
        // read with `cat` must not repaint the terminal.
        Format::Md => output::visible(&markdown::render(export))
            .into_owned()
            .into_bytes(),
        Format::Txt => output::visible(&text::render(export))
            .into_owned()
            .into_bytes(),
        Format::Html => html::render(export).into_bytes(),
        Format::Pdf => pdf::render(export)
            .map_err(|e| CliError::new(Exit::Failure, format!("cannot make the PDF: {e}")))?,
        Format::Json => {
            (serde_json::to_string_pretty(&export.json()).unwrap_or_default() + "\n").into_bytes()
        }
        Format::Fhir => fhir::render(export, with_text)
            .ok_or_else(|| {
                CliError::new(
                    Exit::NotFound,
                    "nothing in that range has a number to send as FHIR (an intensity, an urge or a mood); nothing was written",
                )
                .hint("the other formats carry the words: --format md")
            })?
            .into_bytes(),
    })
}

fn parse_recipients(to: &[String]) -> CliResult<Vec<age::x25519::Recipient>> {
    to.iter()
        .map(|r| {
            r.trim().parse::<age::x25519::Recipient>().map_err(|_| {
                CliError::usage(format!("{r:?} is not an age recipient"))
                    .hint("an age recipient starts with age1 (see `age-keygen -y KEYFILE`)")
            })
        })
        .collect()
}

/// age, ASCII-armored (mail-friendly); `age -d` reads it.
fn encrypt(
    plain: &[u8],
    recipients: Vec<age::x25519::Recipient>,
    use_passphrase: bool,
) -> CliResult<Vec<u8>> {
    let fail = |e: &dyn std::fmt::Display| {
        CliError::new(Exit::Failure, format!("cannot encrypt the export: {e}"))
    };
    let encryptor = if use_passphrase {
        let pass = passphrase::new_passphrase(None)?;
        let mut r = age::scrypt::Recipient::new(pass);
        r.set_work_factor(haven_shared::crypto::identity::SCRYPT_LOG_N);
        age::Encryptor::with_recipients(std::iter::once(&r as _)).map_err(|e| fail(&e))?
    } else {
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as _)).map_err(|e| fail(&e))?
    };
    let mut out = Vec::new();
    let armor = age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
        .map_err(|e| fail(&e))?;
    let mut w = encryptor.wrap_output(armor).map_err(|e| fail(&e))?;
    w.write_all(plain).map_err(|e| fail(&e))?;
    w.finish().and_then(|a| a.finish()).map_err(|e| fail(&e))?;
    Ok(out)
}
