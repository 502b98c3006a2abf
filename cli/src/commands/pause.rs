//! `haven pause`: write it, but do not send it yet.
//!
//! The unsent message is kept privately in a `pause` entry; the agreements about texting
//! and a line of the soothing plan are shown; then a countdown runs. At the end Haven asks
//! how strong the urge is now and whether the message still needs sending (and shows it,
//! to copy). Ctrl-C or a closed terminal leaves the pause open: `haven status` shows it and
//! `haven pause done` finishes it later. Without a terminal, `haven pause` only starts the
//! pause and prints its id.

use haven_shared::model::practice::seconds_per_minute;
use std::io::{BufRead, IsTerminal, Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use haven_shared::ipc::{JournalList, PauseDone, PauseStart, PauseStarted};
use haven_shared::model::{AgreementView, Entry, Kind, ListQuery, NewPause, PauseEnd};

use crate::error::{io_error, CliError, CliResult};
use crate::{output, Ctx};

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
        required_unless_present = "not_sent"
    )]
    sent: bool,
    /// The message was not sent
    #[arg(long)]
    not_sent: bool,
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
    let message = match args.message.as_deref() {
        Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| CliError::usage(format!("cannot read stdin: {e}")))?;
            Some(text)
        }
        other => other.map(str::to_string),
    };
    let from_stdin = args.message.as_deref() == Some("-");
    let pause = NewPause {
        minutes: args.length,
        urge_before: args.urge,
        message,
    }
    .validated()?;
    let PauseStarted {
        entry,
        agreements,
        soothe,
    } = ctx.client.call(PauseStart { pause })?;
    let interactive =
        !from_stdin && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !interactive {
        output::emit(&format!("{}\n", entry.id));
        if very_hard(&entry) {
            eprintln!("{}", crate::soothing_plan::OFFER);
        }
        eprintln!(
            "The pause is open. When it is over: haven pause done {} --urge N --sent (or --not-sent)",
            short(&entry.id)
        );
        return Ok(());
    }
    eprint!(
        "{}",
        output::visible(&opening(&entry, &agreements, soothe.as_deref()))
    );
    match countdown(&entry)? {
        Countdown::Over => {}
        Countdown::Interrupted(signal) => {
            // After a hang-up the terminal is gone: writing may fail, and must not panic.
            let _ = writeln!(
                std::io::stderr(),
                "\nThe pause stays open. When you are ready: haven pause done {} --urge N --sent (or --not-sent)",
                short(&entry.id)
            );
            std::process::exit(128 + signal);
        }
    }
    let (urge_after, sent) = ask_how_it_ended()?;
    if sent {
        if let Some(m) = entry.pause.as_ref().and_then(|p| p.message.as_deref()) {
            eprintln!("\nHere is what you wrote, to copy:\n");
            output::emit(&format!("{m}\n\n"));
        }
    }
    finish(ctx, Some(entry.id.clone()), urge_after, sent)
}

/// A pause started at an urge of 9 or 10 offers `haven now` (by the number the person
/// chose, never by what they wrote).
fn very_hard(entry: &Entry) -> bool {
    entry
        .pause
        .as_ref()
        .and_then(|p| p.urge_before)
        .is_some_and(|u| u >= crate::soothing_plan::OFFER_FROM)
}

fn short(id: &str) -> String {
    id.chars().take(10).collect()
}

/// What the screen shows before the countdown.
fn opening(entry: &Entry, agreements: &[AgreementView], soothe: Option<&str>) -> String {
    let minutes = entry.pause.as_ref().map_or(0, |p| p.minutes);
    let mut text = format!(
        "Paused for {}: write it, but do not send it yet. Your message is kept, privately.\n",
        haven_shared::plural::count(u64::from(minutes), "minute", "minutes")
    );
    if !agreements.is_empty() {
        text.push_str("\nWhat you agreed on together:\n");
        for a in agreements.iter().take(3) {
            // Written on the partner's device too: one line each, however long it is.
            text.push_str(&format!(
                "  - {}: {}\n",
                output::one_line(&a.title, 60),
                output::one_line(&a.text, 160)
            ));
        }
    }
    if let Some(line) = soothe {
        text.push_str(&format!("\nFrom your soothing plan: {line}\n"));
    }
    if very_hard(entry) {
        text.push_str(&format!("\n{}\n", crate::soothing_plan::OFFER));
    }
    text.push_str("\nCtrl-C leaves the pause open.\n");
    text
}

enum Countdown {
    Over,
    Interrupted(i32),
}

/// The progress bar, until the time is up or a signal comes. The bar is redrawn every
/// half second at the terminal's current width, so a resized window just redraws.
fn countdown(entry: &Entry) -> CliResult<Countdown> {
    let minutes = entry.pause.as_ref().map_or(0, |p| p.minutes);
    let total = Duration::from_secs(u64::from(minutes) * seconds_per_minute());
    let signal = Arc::new(AtomicUsize::new(0));
    for sig in SIGNALS {
        let flag = Arc::clone(&signal);
        // SAFETY: the handler only stores into an atomic.
        unsafe {
            signal_hook::low_level::register(sig, move || {
                flag.store(usize::try_from(sig).unwrap_or(1), Ordering::SeqCst)
            })
        }
        .map_err(|e| io_error("cannot install signal handlers", e))?;
    }
    let bar = indicatif::ProgressBar::new(total.as_millis().try_into().unwrap_or(u64::MAX));
    bar.set_style(
        indicatif::ProgressStyle::with_template("{wide_bar} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("█▓░"),
    );
    let started = std::time::Instant::now();
    let result = tick(&bar, &signal, started, total);
    // The questions after the countdown are ordinary prompts: Ctrl-C there ends Haven
    // at once, as anywhere else (the pause stays open).
    for sig in SIGNALS {
        // SAFETY: restoring the default action of a signal is always sound.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
        }
    }
    result
}

const SIGNALS: [i32; 3] = [libc::SIGINT, libc::SIGHUP, libc::SIGTERM];

fn tick(
    bar: &indicatif::ProgressBar,
    signal: &AtomicUsize,
    started: std::time::Instant,
    total: Duration,
) -> CliResult<Countdown> {
    loop {
        let got = signal.load(Ordering::SeqCst);
        if got != 0 {
            bar.abandon();
            return Ok(Countdown::Interrupted(i32::try_from(got).unwrap_or(1)));
        }
        let elapsed = started.elapsed();
        if elapsed >= total {
            bar.finish_with_message("time is up");
            return Ok(Countdown::Over);
        }
        let left = (total - elapsed).as_secs();
        let scale = seconds_per_minute();
        let (m, s) = if scale == 60 {
            (left / 60, left % 60)
        } else {
            (left / scale, (left % scale) * 60 / scale)
        };
        bar.set_position(elapsed.as_millis().try_into().unwrap_or(u64::MAX));
        bar.set_message(format!("{m}:{s:02} left"));
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Asks on the terminal; asks again on an answer it cannot read.
fn ask(question: &str, parse: impl Fn(&str) -> Option<u8>) -> CliResult<u8> {
    let stdin = std::io::stdin();
    for _ in 0..5 {
        eprint!("{question} ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        let n = stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| io_error("cannot read the answer", e))?;
        if n == 0 {
            break;
        }
        if let Some(v) = parse(line.trim()) {
            return Ok(v);
        }
        eprintln!("(Please answer as asked.)");
    }
    Err(CliError::usage("no answer came, so the pause stays open")
        .hint("finish it with `haven pause done --urge N --sent` (or --not-sent)"))
}

fn ask_how_it_ended() -> CliResult<(u8, bool)> {
    eprintln!();
    let urge_after = ask("How strong is the urge now, 0 to 10?", |s| urge(s).ok())?;
    let sent = ask("Does the message still need sending? [y/n]", |s| {
        match s.to_ascii_lowercase().as_str() {
            "y" | "yes" => Some(1),
            "n" | "no" => Some(0),
            _ => None,
        }
    })? == 1;
    Ok((urge_after, sent))
}

fn finish(ctx: &mut Ctx, id: Option<String>, urge_after: u8, sent: bool) -> CliResult {
    let end = PauseEnd { urge_after, sent };
    let entry = ctx.client.call(PauseDone { id, end })?.entry;
    let before = entry.pause.as_ref().and_then(|p| p.urge_before);
    let urge = match before {
        Some(b) => format!("the urge went from {b} to {urge_after}"),
        None => format!("the urge is {urge_after} now"),
    };
    let outcome = if sent {
        "you chose to send it"
    } else {
        "the message was not sent"
    };
    eprintln!("Pause finished: {urge}; {outcome}.");
    Ok(())
}

fn done(args: DoneArgs, ctx: &mut Ctx) -> CliResult {
    finish(ctx, args.id, args.urge, args.sent && !args.not_sent)
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
