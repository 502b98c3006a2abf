//! One module per command; a folder per command group.

pub mod agree;
pub mod ask;
pub mod backup;
pub mod bring;
pub mod checkin;
pub mod completions;
pub mod daemon;
pub mod device;
pub mod doctor;
pub mod export;
pub mod import;
pub mod init;
pub mod insights;
pub mod journal;
pub mod leave;
pub mod lock;
pub mod look_back;
pub mod notes;
pub mod now;
pub mod pair;
pub mod partner;
pub mod pause;
pub mod restore;
pub mod share;
pub mod soothe;
pub mod status;
pub mod thanks;
pub mod unlock;
pub mod win;

use clap::Subcommand;

use crate::error::CliResult;
use crate::Ctx;

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a new Haven home: your keys, protected by a passphrase
    Init(init::Args),
    /// Unlock the journal (asks for the passphrase)
    Unlock(unlock::Args),
    /// Lock the journal: the keys leave memory
    Lock,
    /// Show whether Haven is running, locked, and paired
    Status(status::Args),
    /// Write, read and search your private journal
    #[command(subcommand)]
    Journal(journal::Command),
    /// How you are right now: a mood, named feelings, a few words (a `checkin` entry)
    Checkin(checkin::Args),
    /// Note a small step worth noticing (a `win` entry)
    Win(win::Args),
    /// A few guided minutes when it is very hard: ground, breathe, your plan, who to call
    ///
    /// Five steps to ground yourself, a breathing pacer (in 4, out 6, or the rhythm your
    /// plan names), your soothing plan one line at a time, then the people your plan names
    /// under `## People I can call` and the crisis line. Enter goes on; Esc or Ctrl-C stops
    /// at any time. Nothing is written. Without a terminal it prints the same help as text.
    ///
    /// If you are in danger, call your local emergency number or a crisis line:
    /// https://findahelpline.com lists them by country.
    Now(now::Args),
    /// Write the message, but do not send it yet: a pause with a countdown
    Pause(pause::Args),
    /// Your soothing plan: what a caring parent would do when you are hurting
    Soothe(soothe::Args),
    /// What changed over the weeks: thought records, what you did, pauses, wins
    Insights(insights::Args),
    /// This day a week, a month and a year ago: wins, letters, thanks, and hard moments
    /// with how they ended
    LookBack(look_back::Args),
    /// Agreements with your partner: propose, accept, revise, withdraw
    #[command(subcommand)]
    Agree(agree::Command),
    /// Copy one journal entry to your partner's laptop as a shared note (asks first)
    Share(share::Args),
    /// The notes you two shared; show one, or answer it
    Notes(notes::Args),
    /// Send your partner a short note of appreciation
    Thanks(thanks::Args),
    /// This week's question for the two of you; answer it, add one, see past ones
    Ask(ask::Args),
    /// Pair with your partner's laptop (once): shows a code, or takes the one shown
    Pair(pair::Args),
    /// Your own devices: link a new one, list them
    Device(device::Args),
    /// Your partner: connected or not, last synced; add an address; unpair
    Partner(partner::Args),
    /// End the pairing for good: unpair, take new keys, see what is still out there
    Leave(leave::Args),
    /// Start, stop or check the background daemon
    #[command(subcommand)]
    Daemon(daemon::Command),
    /// Note something you want to bring to your next therapy session (the brief lists it first)
    Bring(bring::Args),
    /// Export an entry, or a session brief to bring to therapy
    Export(export::Args),
    /// Bring in a journal from jrnl or Day One
    Import(import::Args),
    /// Write everything into one encrypted file
    Backup(backup::Args),
    /// Bring a backup back into an empty home
    Restore(restore::Args),
    /// Find what is wrong and say how to fix it
    Doctor(doctor::Args),
    /// Print shell completions
    Completions(completions::Args),
}

pub fn run(command: Command, ctx: &mut Ctx) -> CliResult {
    match command {
        Command::Init(args) => init::run(args, ctx),
        Command::Unlock(args) => unlock::run(args, ctx),
        Command::Lock => lock::run(ctx),
        Command::Status(args) => status::run(args, ctx),
        Command::Journal(cmd) => journal::run(cmd, ctx),
        Command::Win(args) => win::run(args, ctx),
        Command::Now(args) => now::run(args, ctx),
        Command::Pause(args) => pause::run(args, ctx),
        Command::Soothe(args) => soothe::run(args, ctx),
        Command::Insights(args) => insights::run(args, ctx),
        Command::Bring(args) => bring::run(args, ctx),
        Command::Checkin(args) => checkin::run(args, ctx),
        Command::LookBack(args) => look_back::run(args, ctx),
        Command::Agree(cmd) => agree::run(cmd, ctx),
        Command::Share(args) => share::run(args, ctx),
        Command::Notes(args) => notes::run(args, ctx),
        Command::Thanks(args) => thanks::run(args, ctx),
        Command::Ask(args) => ask::run(args, ctx),
        Command::Pair(args) => pair::run(args, ctx),
        Command::Device(args) => device::run(args, ctx),
        Command::Partner(args) => partner::run(args, ctx),
        Command::Leave(args) => leave::run(args, ctx),
        Command::Daemon(cmd) => daemon::run(cmd, ctx),
        Command::Export(args) => export::run(args, ctx),
        Command::Import(args) => import::run(args, ctx),
        Command::Backup(args) => backup::run(args, ctx),
        Command::Restore(args) => restore::run(args, ctx),
        Command::Doctor(args) => doctor::run(args, ctx),
        Command::Completions(args) => completions::run(args),
    }
}
