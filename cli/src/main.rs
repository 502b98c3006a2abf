//! haven: a private journal and a shared agreements book for two partners.
//!
//! This binary owns all presentation; the work happens in `havend`, which it starts when
//! none is running. See `commands/` for one file per subcommand.

mod client;
mod commands;
mod delivery;
mod editor;
mod error;
mod guided;
mod input;
mod insights_view;
mod output;
mod output_file;
mod pager;
mod passphrase;
mod range;
mod recovery;
mod signals;
mod soothing_plan;

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

use haven_shared::paths::Paths;

use crate::client::Client;
use crate::error::{CliError, Exit};

/// A private journal and a shared agreements book for two partners, on your own laptops.
///
/// Haven is not therapy and does not replace it. If you are in crisis, call your local
/// emergency number or a crisis line (https://findahelpline.com lists them by country).
#[derive(Parser, Debug)]
#[command(
    name = "haven",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Keep everything (data, socket, lock, logs) under this folder
    #[arg(long, global = true, value_name = "DIR", env = "HAVEN_HOME")]
    home: Option<PathBuf>,
    /// Read the passphrase from this file instead of asking (for scripts)
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        env = "HAVEN_PASSPHRASE_FILE"
    )]
    passphrase_file: Option<PathBuf>,
    #[command(subcommand)]
    command: commands::Command,
}

/// What every command gets: where the home is and a client for the daemon.
pub struct Ctx {
    pub paths: Paths,
    pub client: Client,
    pub passphrase_file: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let Some(paths) = Paths::resolve(cli.home.as_deref()) else {
        eprintln!("error: cannot find a home folder\nhint: pass --home DIR or set HAVEN_HOME");
        return ExitCode::from(Exit::Usage as u8);
    };
    let mut ctx = Ctx {
        client: Client::new(paths.clone(), cli.home.clone(), cli.passphrase_file.clone()),
        paths,
        passphrase_file: cli.passphrase_file,
    };
    match commands::run(cli.command, &mut ctx) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report(e),
    }
}

/// `--help` and `--version` print as clap writes them; a mistake on the command line is
/// one `error:` line and a hint, like every other error.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::from(if e.use_stderr() { Exit::Usage as u8 } else { 0 });
    }
    let text = e.render().to_string();
    // The first paragraph, on one line: "… not provided:" and the names that follow it.
    let first: Vec<&str> = text
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let first = match first.join(" ") {
        line if line.is_empty() => "error: the command line is not valid".to_string(),
        line => line,
    };
    let first = if first.starts_with("error:") {
        first.to_string()
    } else {
        format!("error: {first}")
    };
    eprintln!(
        "{}\nhint: see `--help` for what it takes",
        output::visible(&first)
    );
    ExitCode::from(Exit::Usage as u8)
}

fn report(e: CliError) -> ExitCode {
    // An error can quote an id or a name that came from the partner's device.
    eprintln!("{}", output::visible(&e.to_string()));
    ExitCode::from(e.exit as u8)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every argument of every command says what it is for in `--help`: a person at a
    /// hard moment should not have to guess what a flag does.
    #[test]
    fn every_argument_has_help_text() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let builtin = matches!(arg.get_id().as_str(), "help" | "version");
                if !builtin && !arg.is_hide_set() && arg.get_help().is_none() {
                    missing.push(format!("{path} {}", arg.get_id()));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_about().is_none() && sub.get_name() != "help" {
                    missing.push(format!("{path} {} (no about)", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "haven", &mut missing);
        assert!(missing.is_empty(), "without help text: {missing:#?}");
    }
}
