//! `haven agree accept|decline|revise|renew|withdraw ID`: the signed verbs.

use haven_shared::ipc::{
    AgreeAccept, AgreeDecline, AgreeRenew, AgreeRevise, AgreeWithdraw, AgreementReply, Call,
};

use crate::error::CliResult;
use crate::{output, Ctx};

#[derive(clap::Args, Debug)]
pub struct IdArgs {
    /// The agreement's id, or any unique prefix of it
    id: String,
}

#[derive(clap::Args, Debug)]
pub struct ReviseArgs {
    id: String,
    /// The new text
    #[arg(long)]
    text: String,
}

#[derive(clap::Args, Debug)]
pub struct RenewArgs {
    id: String,
    /// The next date to look at it together (YYYY-MM-DD, after today)
    #[arg(long, value_name = "DATE")]
    review_on: String,
}

#[derive(clap::Args, Debug)]
pub struct WithdrawArgs {
    id: String,
    /// Why, in a few words (your partner will see it)
    #[arg(long)]
    reason: Option<String>,
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
pub fn decline(a: IdArgs, ctx: &mut Ctx) -> CliResult {
    report(ctx, AgreeDecline { id: a.id })
}
pub fn revise(a: ReviseArgs, ctx: &mut Ctx) -> CliResult {
    report(
        ctx,
        AgreeRevise {
            id: a.id,
            text: a.text,
        },
    )
}
pub fn renew(a: RenewArgs, ctx: &mut Ctx) -> CliResult {
    let review_on = haven_shared::when::parse_day(&a.review_on)?;
    report(
        ctx,
        AgreeRenew {
            id: a.id,
            review_on,
        },
    )
}
pub fn withdraw(a: WithdrawArgs, ctx: &mut Ctx) -> CliResult {
    report(
        ctx,
        AgreeWithdraw {
            id: a.id,
            reason: a.reason,
        },
    )
}
