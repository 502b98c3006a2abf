//! `haven look-back`: this day a week, a month and a year ago. Wins, letters and
//! appreciations in full; a thought record only with how it ended. Nothing invented when
//! there is nothing: one quiet line.

use haven_shared::ipc::LookBack;
use haven_shared::model::look_back::{Moment, Remembered};

use crate::error::CliResult;
use crate::{output, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print JSON: {moments: [{ago, on, items: [{kind, id, title, text, by, came_at, passed_at}]}]}
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let look_back = ctx.client.call(LookBack {})?.look_back;
    if args.json {
        output::json(&look_back);
        return Ok(());
    }
    if look_back.moments.is_empty() {
        eprintln!("Nothing to look back on from this day a week, a month or a year ago.");
        return Ok(());
    }
    let text: Vec<String> = look_back.moments.iter().map(moment).collect();
    output::emit(&text.join("\n"));
    Ok(())
}

fn moment(m: &Moment) -> String {
    let mut out = format!("{}, {}:\n", m.ago.words(), m.on.format("%A %-d %B %Y"));
    for item in &m.items {
        out.push_str(&remembered(item));
    }
    out
}

fn remembered(r: &Remembered) -> String {
    let whole = |label: &str| {
        let mut s = format!("  {label}:\n");
        for line in r.text.lines() {
            s.push_str(&format!("    {line}\n"));
        }
        s
    };
    match r.kind.as_str() {
        "trigger" => {
            let came = r
                .came_at
                .map(|c| format!("came at {c}, "))
                .unwrap_or_default();
            format!(
                "  a hard moment, “{}”: {came}passed at {}\n",
                output::one_line(&r.title, 60),
                r.passed_at.unwrap_or_default()
            )
        }
        "thanks" => whole(&format!(
            "a thank-you from {}",
            r.by.as_deref().unwrap_or("your partner")
        )),
        "letter" => whole("a letter"),
        _ => whole("a win"),
    }
}
