//! `haven init --name NAME`: create the keys and the encrypted database.
//!
//! `haven init --join --name NAME` makes a home for a new device of a person who already
//! uses Haven: NAME names the device, and the home shows a code for `haven device add` on
//! one of their devices. Once they compare the words, this device holds the journal. A
//! home made with `--join` whose link did not finish is used again by the next `--join`.

use std::io::Write;

use chrono::Local;
use haven_shared::home;
use haven_shared::ipc::{LinkCode, LinkStart, LinkStep, LinkWait, Linked, SecretText, Unlock};

use crate::error::{io_error, CliError, CliResult, Exit};
use crate::{passphrase, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Your name, as your partner will see it (with --join: this device's name)
    #[arg(long)]
    name: String,
    /// Join your own devices: this one gets your journal from one already linked (run
    /// `haven device add CODE` there)
    #[arg(long, conflicts_with = "force")]
    join: bool,
    /// Start over in a home that already exists (asks first; the old files are kept aside)
    #[arg(long)]
    force: bool,
}

pub const NOT_THERAPY: &str =
    "Haven is a journal, not therapy, and it does not replace a therapist.\n\
If you are in crisis, call your local emergency number or a crisis line:\n\
https://findahelpline.com lists them by country.";

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let name = args.name.trim();
    if name.is_empty() {
        return Err(CliError::usage("--name cannot be empty"));
    }
    let paths = ctx.paths.clone();
    if args.join {
        haven_shared::devices::check_name(name).map_err(CliError::usage)?;
        return join(name, ctx);
    }
    if paths.is_initialised() {
        if !args.force {
            return Err(CliError::usage(format!(
                "a Haven home already exists at {}",
                paths.data_dir.display()
            ))
            .hint("use it as it is (`haven status`), or pass --force to start over"));
        }
        set_aside(ctx)?;
    }
    create_home(ctx, name)?;
    eprintln!(
        "Created a Haven home for {name} at {}",
        paths.data_dir.display()
    );
    eprintln!("Your keys are in identity.age, protected by your passphrase. Keep a backup of it:");
    eprintln!(
        "without the passphrase and that file, nobody (you included) can read the journal.\n"
    );
    eprintln!("{NOT_THERAPY}\n");
    eprintln!("Start writing: haven journal write");
    Ok(())
}

/// Asks for a new passphrase and creates the home with it.
fn create_home(ctx: &Ctx, name: &str) -> CliResult<secrecy::SecretString> {
    let pass = passphrase::new_passphrase(ctx.passphrase_file.as_deref())?;
    home::create(&ctx.paths, name, &pass).map_err(|e| {
        CliError::new(
            Exit::Storage,
            format!(
                "cannot create the home at {}: {e}",
                ctx.paths.data_dir.display()
            ),
        )
    })?;
    Ok(pass)
}

/// `--join`: a home for this device (or the one a link that did not finish left), then
/// the code, the words, and the journal.
fn join(name: &str, ctx: &mut Ctx) -> CliResult {
    let paths = ctx.paths.clone();
    if !paths.is_initialised() {
        let pass = create_home(ctx, name)?;
        ctx.client.call(Unlock {
            passphrase: SecretText(secrecy::ExposeSecret::expose_secret(&pass).to_string()),
        })?;
        eprintln!(
            "Created a home for this device at {}, protected by your passphrase.",
            paths.data_dir.display()
        );
    }
    let LinkCode {
        code,
        expires_in_secs,
    } = ctx.client.call(LinkStart {})?;
    crate::output::emit(&format!(
        "On one of your devices already linked, run:\n\n    haven device add {code}\n\nThe code works once, for the next {} minutes. Waiting…\n",
        expires_in_secs / 60
    ));
    let _ = std::io::stdout().flush();
    loop {
        match ctx.client.call(LinkWait { code: code.clone() })? {
            LinkStep::Words {
                safety_words,
                device,
            } => {
                crate::output::emit(&format!(
                    "\n{} answered. Both screens show these words:\n\n    {safety_words}\n\nIf they match, say yes there. Waiting…\n",
                    crate::output::visible(&device)
                ));
                let _ = std::io::stdout().flush();
            }
            LinkStep::Linked(Linked {
                device,
                person,
                entries,
            }) => {
                crate::output::emit(&format!(
                    "\nLinked to {}'s devices, through {}. This device holds the journal ({}), and keeps it the same as theirs whenever they are on the same network.\n",
                    crate::output::visible(&person),
                    crate::output::visible(&device),
                    haven_shared::plural::count(entries as u64, "entry", "entries")
                ));
                return Ok(());
            }
        }
    }
}

/// `--force`: after an explicit confirmation, stop the daemon and move the old files into
/// `replaced-<time>/` inside the home. They stay encrypted; nothing is deleted.
fn set_aside(ctx: &mut Ctx) -> CliResult {
    let paths = ctx.paths.clone();
    if !passphrase::has_terminal() {
        return Err(CliError::usage(
            "refusing to replace an existing home without confirmation on a terminal",
        )
        .hint("run `haven init --force` in a terminal"));
    }
    let answer = rpassword::prompt_password(format!(
        "A Haven home exists at {}. Type \"start over\" to set it aside and create a new one: ",
        paths.data_dir.display()
    ))
    .map_err(|e| CliError::usage(format!("cannot read the answer: {e}")))?;
    if answer.trim() != "start over" {
        return Err(CliError::usage("not confirmed; nothing was changed"));
    }
    // A daemon that does not greet is asked to stop all the same.
    if ctx.client.connect_existing().unwrap_or(true) {
        let _ = ctx.client.stop();
        crate::client::wait_for_exit(&paths);
    }
    let aside = paths
        .data_dir
        .join(format!("replaced-{}", Local::now().format("%Y%m%d-%H%M%S")));
    haven_shared::paths::private_dir(&aside)
        .map_err(|e| io_error("cannot create the folder for the old home", e))?;
    for file in ["identity.age", "haven.db", "haven.db-wal", "haven.db-shm"] {
        let from = paths.data_dir.join(file);
        if from.exists() {
            std::fs::rename(&from, aside.join(file))
                .map_err(|e| io_error(&format!("cannot move {file}"), e))?;
        }
    }
    eprintln!(
        "The old home is kept, still encrypted, in {}",
        aside.display()
    );
    Ok(())
}
