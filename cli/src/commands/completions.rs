//! `haven completions bash|zsh|fish`: print a completion script.

use clap::CommandFactory;

use crate::error::CliResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The shell to complete for
    shell: clap_complete::Shell,
}

pub fn run(args: Args) -> CliResult {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut crate::Cli::command(), "haven", &mut out);
    crate::output::emit(&String::from_utf8_lossy(&out));
    Ok(())
}
