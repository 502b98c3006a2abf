//! `haven insights`: what changed over weeks, in words a person reads and small charts.
//!
//! Gently: counts and means of what the person wrote, no streaks, no scores, no promise.
//! The figures come from the daemon (computed over its index); `insights_view` words them,
//! and the same words open the session brief's "What changed" section.

use haven_shared::ipc::Insights;
use haven_shared::when;

use crate::error::CliResult;
use crate::{insights_view, output, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// From this date: 2026-11-01, 4w, 3m [default: 12 weeks ago]
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let since = args
        .since
        .as_deref()
        .map(|s| when::parse_since(s, when::now()).map(|t| t.date_naive()))
        .transpose()?;
    let insights = ctx.client.call(Insights { since, until: None })?.insights;
    if args.json {
        output::json(&insights);
        return Ok(());
    }
    let colour = output::stdout_is_terminal() && std::env::var_os("NO_COLOR").is_none();
    // Not `emit`: it would show the colours' escape sequences as text. What the person
    // wrote is made visible where `render` quotes it.
    output::emit_bytes(insights_view::render(&insights, colour).as_bytes());
    Ok(())
}
