//! `haven agree accept|decline|revise|renew|withdraw ID`: the signed verbs. A no, a
//! change or a renewal can carry its words (`--why`, `--note`), signed with the statement,
//! so the partner does not read a bare "declined" alone at a terminal.

use std::io::IsTerminal;

use haven_shared::ipc::{
    AgreeAccept, AgreeDecline, AgreeRenew, AgreeRevise, AgreeWithdraw, AgreementReply, Call,
};

use haven_shared::model::agreement::VerbError;

use crate::error::{CliError, CliResult};
use crate::{input, output, Ctx};

#[derive(clap::Args, Debug)]
pub struct IdArgs {
    /// The agreement's id, or any unique prefix of it
    id: String,
}

#[derive(clap::Args, Debug)]
pub struct DeclineArgs {
    /// The agreement's id, or any unique prefix of it
    id: String,
    /// What you'd like instead, in a few words; signed, and your partner sees it (`-` reads stdin)
    #[arg(long, value_name = "TEXT")]
    why: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct ReviseArgs {
    /// The agreement's id, or any unique prefix of it
    id: String,
    /// The new text
    #[arg(long)]
    text: String,
    /// What changed and why, in a few words; signed, and your partner sees it (`-` reads stdin)
    #[arg(long, value_name = "TEXT")]
    why: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct RenewArgs {
    /// The agreement's id, or any unique prefix of it
    id: String,
    /// The next date to look at it together (YYYY-MM-DD, after today)
    #[arg(long, value_name = "DATE")]
    review_on: String,
    /// How has this worked for us? Signed, and your partner sees it (asked on a terminal
    /// when not given; `-` reads stdin)
    #[arg(long, value_name = "TEXT")]
    note: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct WithdrawArgs {
    /// The agreement's id, or any unique prefix of it
    id: String,
    /// Why, and what you'd like instead, in a few words; signed, and your partner sees it (`-` reads stdin)
    #[arg(long, value_name = "TEXT", alias = "reason")]
    why: Option<String>,
}

fn words(text: Option<String>) -> CliResult<Option<String>> {
    text.map(input::text_or_stdin).transpose()
}

/// Makes the call, then says where the agreement stands.
fn report<C: Call<Reply = AgreementReply>>(ctx: &mut Ctx, call: C) -> CliResult {
    let agreement = ctx.client.call(call)?.agreement;
    eprintln!(
        "{}: {}",
        output::visible(&agreement.title),
        agreement.status.label()
    );
    Ok(())
}

pub fn accept(a: IdArgs, ctx: &mut Ctx) -> CliResult {
    report(ctx, AgreeAccept { id: a.id })
}
pub fn decline(a: DeclineArgs, ctx: &mut Ctx) -> CliResult {
    let why = words(a.why)?;
    report(ctx, AgreeDecline { id: a.id, why })
}
pub fn revise(a: ReviseArgs, ctx: &mut Ctx) -> CliResult {
    let why = words(a.why)?;
    report(
        ctx,
        AgreeRevise {
            id: a.id,
            text: a.text,
            why,
        },
    )
}
pub fn renew(a: RenewArgs, ctx: &mut Ctx) -> CliResult {
    let review_on = haven_shared::when::parse_day(&a.review_on)?;
    // The date is checked before asking, so no one writes words for a renewal that
    // cannot be.
    if review_on <= haven_shared::when::now().date_naive() {
        return Err(CliError::usage(
            VerbError::PastReview(review_on).to_string(),
        ));
    }
    let mut typed = None;
    let note = match words(a.note)? {
        Some(note) => Some(note),
        None if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() => {
            let answer =
                input::line("How has this worked for us? (a few words, or Enter to skip) ")?;
            typed = Some(answer.clone()).filter(|a| !a.trim().is_empty());
            typed.clone()
        }
        None => None,
    };
    let call = AgreeRenew {
        id: a.id,
        review_on,
        note,
    };
    report(ctx, call).map_err(|e| match typed {
        // Words written at the prompt are not lost with the renewal.
        Some(words) => e.hint(format!("what you wrote, for `--note` next time: {words:?}")),
        None => e,
    })
}
pub fn withdraw(a: WithdrawArgs, ctx: &mut Ctx) -> CliResult {
    let reason = words(a.why)?;
    report(ctx, AgreeWithdraw { id: a.id, reason })
}
