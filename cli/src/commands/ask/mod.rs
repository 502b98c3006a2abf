//! `haven ask`: this week's question for the two of you; `ask answer TEXT`, `ask add TEXT`,
//! `ask list [--json]`.
//!
//! An answer stays hidden from the partner until they have answered too (commit, then
//! reveal: see `model::ask`), so neither answer is shaped by the other's.

use clap::Subcommand;

use haven_shared::ipc::{Ask, AskAdd, AskAnswer, AskHistory, AskList};
use haven_shared::model::ask::{Side, WeekView};

use crate::error::CliResult;
use crate::{output, Ctx};

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Print JSON: {week, question_id, question, me, partner}
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Answer this week's question (hidden from your partner until they answer too)
    Answer(TextArgs),
    /// Add a question of your own to the ones Haven asks
    Add(TextArgs),
    /// Past questions with both answers
    List(ListArgs),
}

#[derive(clap::Args, Debug)]
pub struct TextArgs {
    /// The text; `-` reads stdin
    text: String,
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Print JSON: {weeks: [...], questions: [...]}
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    match args.command {
        None => show(ctx.client.call(Ask {})?.week, args.json),
        Some(Command::Answer(a)) => {
            let text = crate::input::text_or_stdin(a.text)?;
            let reply = ctx.client.call(AskAnswer { text })?;
            eprintln!("Answered. Your partner sees it once they have answered too.");
            show(reply.week, false)
        }
        Some(Command::Add(a)) => {
            let text = crate::input::text_or_stdin(a.text)?;
            let id = ctx.client.call(AskAdd { text })?.id;
            output::emit(&format!("{id}\n"));
            eprintln!("Added. Haven asks it in a coming week, on both laptops.");
            Ok(())
        }
        Some(Command::List(a)) => list(ctx, a.json),
    }
}

fn show(week: WeekView, json: bool) -> CliResult {
    if json {
        output::json(&week);
    } else {
        output::emit(&week_text(&week, true));
    }
    Ok(())
}

fn list(ctx: &mut Ctx, json: bool) -> CliResult {
    let AskHistory { weeks, questions } = ctx.client.call(AskList {})?;
    if json {
        output::json(&serde_json::json!({ "weeks": weeks, "questions": questions }));
    } else {
        let text: Vec<String> = weeks.iter().map(|w| week_text(w, false)).collect();
        output::emit(&text.join("\n"));
    }
    Ok(())
}

fn week_text(w: &WeekView, this_week: bool) -> String {
    let mut out = if this_week {
        format!("This week's question ({}):\n  {}\n\n", w.week, w.question)
    } else {
        format!("{}  {}\n", w.week, w.question)
    };
    let me_answered = w.me.state != "not_answered";
    out.push_str(&format!("  you: {}\n", mine(&w.me, this_week)));
    if let Some(p) = &w.partner {
        out.push_str(&format!("  {}: {}\n", p.name, theirs(p, me_answered)));
    }
    out
}

fn mine(s: &Side, this_week: bool) -> String {
    match (s.state.as_str(), &s.answer) {
        ("not_answered", _) if this_week => "not answered yet: `haven ask answer \"…\"`".into(),
        ("not_answered", _) => "did not answer".into(),
        ("answered", Some(a)) => {
            format!("{a}\n       (hidden from your partner until they answer too)")
        }
        (_, Some(a)) => a.clone(),
        _ => "answered".into(),
    }
}

fn theirs(s: &Side, me_answered: bool) -> String {
    match (s.state.as_str(), &s.answer) {
        ("revealed", Some(a)) => a.clone(),
        ("answered", _) if me_answered => {
            "answered; their answer arrives the next time the two laptops connect".into()
        }
        ("answered", _) => "answered; you see it once you have answered too".into(),
        ("mismatch", _) => {
            "the answer that arrived does not match what their laptop committed to; it is not shown"
                .into()
        }
        ("several", _) => "more than one answer arrived in their name; none counts".into(),
        _ => "not answered yet".into(),
    }
}
