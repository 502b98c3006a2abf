//! `haven insights`: what changed over weeks, in words a person reads and small charts.
//!
//! Gently: counts and means of what the person wrote, no streaks, no scores, no promise.
//! The figures come from the daemon (computed over its index); `insights_view` words them,
//! and the same words open the session brief's "What changed" section.

use crate::error::CliResult;
use crate::range::Range;
use crate::{insights_view, output, Ctx};
use haven_shared::ipc::Insights;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// From this date: 2026-11-01, 4w, 3m, last month [default: 12 weeks ago]
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Until this date, included: 2026-11-30, last week [default: today]
    #[arg(long, value_name = "DATE")]
    until: Option<String>,
    /// Words and numbers only, no block characters (for a screen reader)
    #[arg(long)]
    plain: bool,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let range = Range::parse(args.since.as_deref(), args.until.as_deref())?;
    let insights = ctx
        .client
        .call(Insights {
            since: range.first_day(),
            until: range.last_day(),
        })?
        .insights;
    if args.json {
        output::json(&insights);
        return Ok(());
    }
    let colour = output::stdout_is_terminal() && std::env::var_os("NO_COLOR").is_none();
    // Not `emit`: it would show the colours' escape sequences as text. What the person
    // wrote is made visible where `render` quotes it.
    let style = insights_view::Style {
        colour: colour && !args.plain,
        plain: args.plain,
    };
    crate::pager::page_styled(&insights_view::render(&insights, style));
    Ok(())
}
