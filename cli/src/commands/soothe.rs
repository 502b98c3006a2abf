//! `haven soothe`: the person's own soothing plan ("when I am hurting, a caring parent
//! would…"), written once in $EDITOR from suggestions and changed whenever they like.
//! Private: it lives in the journal document.

use std::io::{IsTerminal, Read};

use haven_shared::ipc::SootheSet;
use haven_shared::model::practice::SOOTHE_TEMPLATE;
use haven_shared::model::SoothingPlan;

use crate::editor::{self, Edited};
use crate::error::{CliError, CliResult, Exit};
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
        None if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() => {
            eprintln!("You have no soothing plan yet. Here are some suggestions to start from.");
            edit(EditArgs { text: None }, ctx)
        }
        None => Err(
            CliError::new(Exit::NotFound, "you have no soothing plan yet")
                .hint("write one with `haven soothe edit`"),
        ),
    }
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
                    return Err(CliError::usage("nothing was saved").hint(
                        "to keep the suggestions, change anything (delete the ones that do not fit you) and save",
                    ))
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
