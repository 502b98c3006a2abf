//! `haven notes [--json]`, `notes show ID`, `notes answer ID TEXT`, `notes reply ID` (a
//! frame for answering a shared need, in [`reply`]): the notes the two of you shared
//! (`haven share`, `haven thanks`).
//!
//! Listing them marks them seen on this laptop only: no read receipt goes to the partner.

mod reply;

use clap::Subcommand;

use haven_shared::ipc::{NoteBoard, NoteReply, NoteShow, Notes};
use haven_shared::model::notes::NoteView;

use crate::error::CliResult;
use crate::{output, Ctx};

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Print JSON: every note, with `verified` false for one no pinned key signed
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Show one note and the notes that answer it
    Show(ShowArgs),
    /// Answer a note with a note of your own
    Answer(AnswerArgs),
    /// Answer a shared need in a short frame: what I heard, what I can do, what I can't
    /// and what I can offer instead
    Reply(reply::Args),
}

#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    /// The note's id, or any unique prefix of it
    id: String,
    /// Print JSON: {note, answers}
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
pub struct AnswerArgs {
    /// The note's id, or any unique prefix of it
    id: String,
    /// What you want to say; `-` reads stdin
    text: String,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    match args.command {
        None => list(args.json, ctx),
        Some(Command::Show(a)) => show(a, ctx),
        Some(Command::Answer(a)) => answer(a, ctx),
        Some(Command::Reply(a)) => reply::run(a, ctx),
    }
}

/// Who wrote it, as a short arrow: `Sam → you`, `you → Sam`.
fn direction(n: &NoteView) -> String {
    if !n.verified {
        "unverified".into()
    } else if n.mine {
        "you".into()
    } else {
        n.by.clone()
    }
}

fn row(n: &NoteView) -> String {
    let what = if n.title.is_empty() {
        &n.text
    } else {
        &n.title
    };
    let mut line = format!(
        "{}  {}  {:<10}  {:<7}  {}",
        n.id.chars().take(10).collect::<String>(),
        output::when(&n.at),
        output::one_line(&direction(n), 10),
        n.kind,
        output::one_line(what, 50)
    );
    if let Some(to) = &n.answers {
        line.push_str(&format!(
            "  (answers {})",
            to.chars().take(10).collect::<String>()
        ));
    }
    line.push('\n');
    line
}

fn list(json: bool, ctx: &mut Ctx) -> CliResult {
    let NoteBoard {
        notes,
        unverified,
        ignored,
    } = ctx.client.call(Notes {})?;
    if json {
        let all: Vec<&NoteView> = notes.iter().chain(&unverified).collect();
        output::json(&all);
        return Ok(());
    }
    if ignored > 0 {
        eprintln!(
            "({ignored} malformed or oversized item(s) in the shared document were ignored; `haven doctor` says more)"
        );
    }
    if notes.is_empty() && unverified.is_empty() {
        eprintln!("No shared notes yet. Share an entry with `haven share ID`, or say thank you with `haven thanks \"…\"`.");
        return Ok(());
    }
    let mut text: String = notes.iter().map(row).collect();
    if !unverified.is_empty() {
        text.push_str(&format!(
            "\nNot signed by either of you ({}); not counted as anyone's:\n",
            unverified.len()
        ));
        text.extend(unverified.iter().map(row));
    }
    crate::pager::page(&text);
    Ok(())
}

fn full(n: &NoteView, answers: &[NoteView]) -> String {
    let mut out = String::new();
    if !n.title.is_empty() {
        out.push_str(&format!("{}\n", n.title));
    }
    out.push_str(&format!("id:       {}\n", n.id));
    out.push_str(&format!("kind:     {}\n", n.kind));
    out.push_str(&format!(
        "from:     {}\n",
        if n.mine { "you" } else { n.by.as_str() }
    ));
    out.push_str(&format!("written:  {}\n", output::day_long(&n.at)));
    if let Some(to) = &n.answers {
        out.push_str(&format!("answers:  {to}\n"));
    }
    out.push_str(&format!("\n{}\n", n.text.trim_end()));
    if !answers.is_empty() {
        out.push_str(&format!("\nanswers ({}):\n", answers.len()));
        // Whole, line by line: a reply to a shared need is often the most important
        // text of the week, and never cut short.
        for a in answers {
            out.push_str(&format!(
                "  {} {}:\n",
                output::when(&a.at),
                if a.mine { "you" } else { a.by.as_str() }
            ));
            for line in a.text.trim_end().lines() {
                out.push_str(&format!("    {line}\n"));
            }
        }
    }
    out
}

fn show(a: ShowArgs, ctx: &mut Ctx) -> CliResult {
    let NoteReply { note, answers } = ctx.client.call(NoteShow { id: a.id })?;
    if a.json {
        output::json(&serde_json::json!({ "note": note, "answers": answers }));
    } else {
        crate::pager::page(&full(&note, &answers));
    }
    Ok(())
}

fn answer(a: AnswerArgs, ctx: &mut Ctx) -> CliResult {
    let text = crate::input::text_or_stdin(a.text)?;
    reply::send(ctx, a.id, text)
}
