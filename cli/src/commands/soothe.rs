//! `haven soothe`: the person's own soothing plan ("when I am hurting, a caring parent
//! would…"), written once in $EDITOR from suggestions and changed whenever they like.
//! Private: it lives in the journal document.

use std::io::Read;

use haven_shared::ipc::SootheSet;
use haven_shared::model::practice::SOOTHE_TEMPLATE;
use haven_shared::model::SoothingPlan;

use crate::editor::{self, Edited};
use crate::error::{CliError, CliResult};
use crate::{output, soothing_plan, Ctx};

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Write or change the plan in $EDITOR (the first time, from suggestions)
    Edit(EditArgs),
}

#[derive(clap::Args, Debug)]
pub struct EditArgs {
    /// The whole plan as TEXT, or `-` to read it from stdin (instead of $EDITOR)
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    text: Option<String>,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    match args.command {
        Some(Command::Edit(a)) => edit(a, ctx),
        None => show(ctx),
    }
}

fn show(ctx: &mut Ctx) -> CliResult {
    match soothing_plan::plan(ctx)? {
        Some(plan) => {
            output::emit(&plan.text);
            Ok(())
        }
        None => {
            // Before a plan exists, the suggestions themselves: what the person reached
            // for is there, and making it theirs is one command away.
            eprintln!(
                "You have no plan of your own yet. These are suggestions; `haven soothe edit` makes them yours.\n"
            );
            output::emit(&suggestions());
            Ok(())
        }
    }
}

/// The template's suggestions, without its empty section for the people to call.
fn suggestions() -> String {
    let text = SOOTHE_TEMPLATE
        .split("\n## People")
        .next()
        .unwrap_or(SOOTHE_TEMPLATE);
    format!("{}\n", text.trim_end())
}

fn edit(args: EditArgs, ctx: &mut Ctx) -> CliResult {
    let current = soothing_plan::plan(ctx)?;
    let text = match args.text.as_deref() {
        Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| CliError::usage(format!("cannot read stdin: {e}")))?;
            text
        }
        Some(text) => text.to_string(),
        None => {
            let start = current
                .as_ref()
                .map_or(SOOTHE_TEMPLATE, |p| p.text.as_str())
                .to_string();
            match editor::edit(&start, |t| crate::recovery::keep_recovery(ctx, t))? {
                Edited::Changed(text) => text,
                Edited::Unchanged if current.is_some() => {
                    eprintln!("No changes.");
                    return Ok(());
                }
                Edited::Unchanged => {
                    eprintln!("Nothing saved: the suggestions are as they were. To keep them, change anything (delete the ones that do not fit you) and save.");
                    return Ok(());
                }
            }
        }
    };
    SoothingPlan::check(&text)?;
    ctx.client.call(SootheSet { text })?;
    eprintln!(
        "Saved your soothing plan. `haven soothe` shows it; a line of it comes up during a pause."
    );
    Ok(())
}
