//! `haven pause`: write it, but do not send it yet.
//!
//! The unsent message is kept privately in a `pause` entry; then the countdown fills the
//! minutes ([`countdown`]): the agreements about texting, one line of the soothing plan at
//! a time and a breathing pacer. At the end ([`ending`]) Haven asks how strong the urge is
//! now and what to do with the message: send it as it is, rewrite it as a needs statement,
//! or not send it. Ctrl-C or a closed terminal leaves the pause open: `haven status` shows
//! it and `haven pause done` finishes it later. Without a terminal, `haven pause` only
//! starts the pause and prints its id.

mod countdown;
mod ending;

use std::io::{IsTerminal, Write};

use haven_shared::ipc::{JournalList, PauseDone, PauseStart, PauseStarted};
use haven_shared::model::practice::PauseOutcome;
use haven_shared::model::{Entry, Kind, ListQuery, NewPause, PauseEnd};

use crate::error::CliResult;
use crate::soothing_plan::Comfort;
use crate::{input, output, soothing_plan, Ctx};

fn urge(s: &str) -> Result<u8, String> {
    match s.trim().parse::<u8>() {
        Ok(n) if n <= 10 => Ok(n),
        _ => Err(format!("{s:?} is not a number from 0 to 10")),
    }
}

/// `20m`, `1h`, `1h30m`, or a bare number of minutes.
fn minutes(s: &str) -> Result<u32, String> {
    let bad = || format!("{s:?} is not a length like 20m, 1h or 1h30m");
    let text = s.trim().to_ascii_lowercase();
    if let Ok(n) = text.parse::<u32>() {
        return Ok(n);
    }
    let mut total: u32 = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: u32 = number.parse().map_err(|_| bad())?;
        number.clear();
        let unit = match c {
            'h' => 60,
            'm' => 1,
            _ => return Err(bad()),
        };
        total = n
            .checked_mul(unit)
            .and_then(|m| total.checked_add(m))
            .ok_or_else(bad)?;
    }
    if !number.is_empty() {
        return Err(bad());
    }
    Ok(total)
}

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// How long to wait before deciding: 20m, 1h, 1h30m (1 minute to 12 hours)
    #[arg(long = "for", value_name = "LENGTH", value_parser = minutes, default_value = "20m")]
    length: u32,
    /// How strong the urge to send is, 0 to 10
    #[arg(long, value_name = "N", value_parser = urge)]
    urge: Option<u8>,
    /// The message you want to send, kept privately; `-` reads stdin
    #[arg(long, value_name = "TEXT")]
    message: Option<String>,
    /// Write down a pause that began earlier ("yesterday 21:00", "2h ago"): no countdown;
    /// finish it with `haven pause done`
    #[arg(long, value_name = "WHEN", value_parser = crate::range::at)]
    at: Option<chrono::DateTime<chrono::FixedOffset>>,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Say how a pause ended (without ID: the one open pause)
    Done(DoneArgs),
    /// Your pauses, newest first
    List(ListArgs),
}

#[derive(clap::Args, Debug)]
pub struct DoneArgs {
    /// The pause's id, or a unique prefix of it
    id: Option<String>,
    /// How strong the urge is now, 0 to 10
    #[arg(long, value_name = "N", value_parser = urge)]
    urge: u8,
    /// The message still went out
    #[arg(
        long,
        conflicts_with = "not_sent",
        required_unless_present_any = ["not_sent", "rewrite"]
    )]
    sent: bool,
    /// The message was not sent
    #[arg(long, conflicts_with = "rewrite")]
    not_sent: bool,
    /// What you sent instead, as "I feel … when … I need …" (kept with the first message);
    /// `-` reads stdin
    #[arg(long, value_name = "TEXT")]
    rewrite: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Print JSON
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    match args.command {
        Some(Command::Done(a)) => done(a, ctx),
        Some(Command::List(a)) => list(a, ctx),
        None => start(args, ctx),
    }
}

fn start(args: Args, ctx: &mut Ctx) -> CliResult {
    let from_stdin = args.message.as_deref() == Some("-");
    let message = args.message.map(input::text_or_stdin).transpose()?;
    let pause = NewPause {
        minutes: args.length,
        urge_before: args.urge,
        message,
        at: args.at,
    }
    .validated()?;
    let PauseStarted {
        entry,
        agreements,
        soothe,
    } = ctx.client.call(PauseStart { pause })?;
    let interactive = !from_stdin
        && args.at.is_none()
        && std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal();
    if !interactive {
        output::emit(&format!("{}\n", entry.id));
        if very_hard(&entry) {
            eprintln!("{}", soothing_plan::OFFER);
        }
        eprintln!(
            "The pause is open. When it is over: {}",
            done_later(&entry.id)
        );
        return Ok(());
    }
    // The whole plan, to show a line at a time; the pause goes on without it.
    let plan = soothing_plan::plan(ctx).ok().flatten();
    let comfort = Comfort::from(plan.as_ref());
    let shown = countdown::Shown {
        entry: &entry,
        agreements: &agreements,
        comfort: &comfort,
        first_line: soothe.as_deref(),
    };
    if let countdown::Over::Stopped(code) = countdown::run(&shown)? {
        // After a hang-up the terminal is gone: writing may fail, and must not panic.
        let _ = writeln!(std::io::stderr(), "{}", stays_open(&entry.id));
        std::process::exit(code);
    }
    let message = entry.pause.as_ref().and_then(|p| p.message.as_deref());
    match ending::ask(ctx, message)? {
        Some(end) => finish(ctx, Some(entry.id.clone()), end),
        None => {
            eprintln!("\n{}", stays_open(&entry.id));
            Ok(())
        }
    }
}

/// How to finish a pause later, the same wherever it is said.
fn done_later(id: &str) -> String {
    format!(
        "haven pause done {} --urge N --sent (or --not-sent, or --rewrite TEXT)",
        short(id)
    )
}

fn stays_open(id: &str) -> String {
    format!(
        "The pause stays open. When you are ready: {}",
        done_later(id)
    )
}

/// A pause started at an urge of 9 or 10 offers `haven now` (by the number the person
/// chose, never by what they wrote).
fn very_hard(entry: &Entry) -> bool {
    entry
        .pause
        .as_ref()
        .and_then(|p| p.urge_before)
        .is_some_and(|u| u >= soothing_plan::OFFER_FROM)
}

fn short(id: &str) -> String {
    id.chars().take(10).collect()
}

fn finish(ctx: &mut Ctx, id: Option<String>, end: PauseEnd) -> CliResult {
    let urge_after = end.urge_after;
    let entry = ctx.client.call(PauseDone { id, end })?.entry;
    let pause = entry.pause.unwrap_or_default();
    let urge = match pause.urge_before {
        Some(b) => format!("the urge went from {b} to {urge_after}"),
        None => format!("the urge is {urge_after} now"),
    };
    let outcome = match pause.outcome() {
        Some(PauseOutcome::SentRewritten) => "you sent it as a needs statement",
        Some(PauseOutcome::Sent) => "you chose to send it",
        _ => "the message was not sent",
    };
    eprintln!("Pause finished: {urge}; {outcome}.");
    Ok(())
}

fn done(args: DoneArgs, ctx: &mut Ctx) -> CliResult {
    let rewrite = args.rewrite.map(input::text_or_stdin).transpose()?;
    let end = PauseEnd {
        urge_after: args.urge,
        sent: args.sent || rewrite.is_some(),
        rewrite,
    };
    finish(ctx, args.id, end)
}

fn list(args: ListArgs, ctx: &mut Ctx) -> CliResult {
    let query = ListQuery {
        kind: Some(Kind::Pause),
        ..ListQuery::default()
    };
    let entries = ctx.client.call(JournalList { query })?.entries;
    if args.json {
        output::json(&entries);
        return Ok(());
    }
    if entries.is_empty() {
        eprintln!("No pauses yet.");
        return Ok(());
    }
    output::emit(&output::entry_rows(&entries));
    Ok(())
}
