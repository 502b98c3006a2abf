//! `haven agree …`: agreements with your partner. Every consent is signed with your key.

pub mod list;
pub mod propose;
pub mod respond;
pub mod show;

use clap::Subcommand;

use crate::error::CliResult;
use crate::Ctx;

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Propose an agreement (you consent to it by proposing it)
    Propose(propose::Args),
    /// List agreements and their status
    List(list::Args),
    /// Show an agreement, its revisions and who agreed
    Show(show::Args),
    /// Agree to the latest text of an agreement
    Accept(respond::IdArgs),
    /// Decline your partner's latest text
    Decline(respond::DeclineArgs),
    /// Propose new text (your partner must accept it again)
    Revise(respond::ReviseArgs),
    /// Keep the same text with a new review date (your partner accepts it again)
    Renew(respond::RenewArgs),
    /// Withdraw your consent; always allowed, needs nobody's permission
    Withdraw(respond::WithdrawArgs),
}

pub fn run(cmd: Command, ctx: &mut Ctx) -> CliResult {
    match cmd {
        Command::Propose(a) => propose::run(a, ctx),
        Command::List(a) => list::run(a, ctx),
        Command::Show(a) => show::run(a, ctx),
        Command::Accept(a) => respond::accept(a, ctx),
        Command::Decline(a) => respond::decline(a, ctx),
        Command::Revise(a) => respond::revise(a, ctx),
        Command::Renew(a) => respond::renew(a, ctx),
        Command::Withdraw(a) => respond::withdraw(a, ctx),
    }
}
