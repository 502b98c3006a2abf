//! `haven agree propose TITLE (--text TEXT | --template NAME) [--review-on DATE]`.

use haven_shared::ipc::AgreePropose;
use haven_shared::model::agreement::{template, TEMPLATES};
use haven_shared::when;

use crate::error::{CliError, CliResult};
use crate::{output, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A short title; with --template it may be omitted
    title: Option<String>,
    /// What you both agree to
    #[arg(long, conflicts_with = "template")]
    text: Option<String>,
    /// Start from a common boundary: daily-check-in, heads-up, time-out, repair
    #[arg(long)]
    template: Option<String>,
    /// When to look at it again together (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    review_on: Option<String>,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let (title, text) = match (&args.text, &args.template) {
        (Some(text), None) => (args.title.clone(), text.clone()),
        (None, Some(name)) => {
            let (t, text) = template(name)?;
            (args.title.clone().or(Some(t.to_string())), text.to_string())
        }
        _ => {
            let names: Vec<&str> = TEMPLATES.iter().map(|(n, _, _)| *n).collect();
            return Err(CliError::usage(
                "say what you agree to with --text TEXT or --template NAME",
            )
            .hint(format!("templates: {}", names.join(", "))));
        }
    };
    let title = title.ok_or_else(|| CliError::usage("an agreement needs a title"))?;
    let review_on = args.review_on.as_deref().map(when::parse_day).transpose()?;
    let id = ctx
        .client
        .call(AgreePropose {
            title,
            text,
            review_on,
        })?
        .id;
    output::emit(&format!("{id}\n"));
    eprintln!("Proposed. It becomes active when your partner accepts it.");
    Ok(())
}
