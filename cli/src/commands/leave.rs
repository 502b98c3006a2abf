//! `haven leave [--wipe] [--yes]`: leaving the relationship, as far as Haven goes, in one
//! guided step. It says first what will happen and asks; then it unpairs (the partner's
//! laptop is told if it is connected), forgets the relay and the pairing's keys, gives
//! this laptop a new key the former partner's laptop cannot reach or recognise, seals
//! `identity.age` again (with a new passphrase when one is given: the former partner may
//! know the old one), and says plainly what the other laptop still holds and which files
//! Haven wrote are still out there.
//!
//! Not leaving is a choice, not a failure: answering no changes nothing and exits 0.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use haven_shared::ipc::{Leave, Left, Partner, SecretText};
use haven_shared::written_files::{WrittenFile, WrittenKind};
use secrecy::{ExposeSecret, SecretString};

use crate::error::{CliError, CliResult};
use crate::{output, passphrase, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Also delete this laptop's copy of the agreements, notes and thanks
    #[arg(long)]
    wipe: bool,
    /// Leave without asking (for scripts; the passphrase then comes from
    /// --passphrase-file)
    #[arg(long)]
    yes: bool,
    /// Seal this laptop's keys with the passphrase in FILE from now on
    #[arg(long, value_name = "FILE")]
    new_passphrase_file: Option<PathBuf>,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let info = ctx.client.call(Partner {})?;
    let partner = info
        .name
        .filter(|_| info.paired)
        .map(|n| output::visible(&n).into_owned());
    if !args.yes && !confirm(partner.as_deref(), args.wipe)? {
        eprintln!("Nothing changed. This is here whenever you want it.");
        return Ok(());
    }
    let current = passphrase::obtain(
        ctx.passphrase_file.as_deref(),
        "Your passphrase (to confirm it is you): ",
    )?;
    let new = new_passphrase(args.new_passphrase_file.as_deref(), args.yes)?;
    let left = ctx.client.call(Leave {
        passphrase: SecretText(current.expose_secret().to_string()),
        new_passphrase: new.map(|p| SecretText(p.expose_secret().to_string())),
        wipe: args.wipe,
    })?;
    output::emit(&report(&left));
    Ok(())
}

/// Says what leaving does, and asks.
fn confirm(partner: Option<&str>, wipe: bool) -> CliResult<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::usage("leaving needs a yes")
            .hint("run it in a terminal to be asked, or add --yes (and --passphrase-file FILE)"));
    }
    let copy = if wipe {
        "delete this laptop's copy of your agreements, notes and thanks"
    } else {
        "keep this laptop's copy of your agreements, notes and thanks, as a record"
    };
    let shown = match partner {
        Some(p) => format!(
            "Leaving {p}. This laptop will:\n\
             \x20 - stop syncing with {p}'s laptop, and tell it if it is connected now;\n\
             \x20 - forget the relay and the pairing's secrets and keys;\n\
             \x20 - take a new key, so {p}'s laptop cannot reach it or recognise it;\n\
             \x20 - {copy}.\n\
             Your journal stays here, as it is. You can pair again one day, with anyone.\n\
             Leave? [y/N] "
        ),
        None => "This laptop is not paired. Leaving still gives it a new key, lets you choose a \
                 new passphrase, and lists the backups and exports Haven wrote.\n\
                 Go on? [y/N] "
            .to_string(),
    };
    crate::input::yes(&shown)
}

/// The new passphrase: from a file, or asked on a terminal (Enter keeps the old one).
fn new_passphrase(file: Option<&Path>, yes: bool) -> CliResult<Option<SecretString>> {
    if file.is_some() {
        return passphrase::obtain(file, "").map(Some);
    }
    if yes || !passphrase::has_terminal() {
        return Ok(None);
    }
    let first = rpassword::prompt_password(
        "A new passphrase (your former partner may know the old one; Enter keeps it): ",
    )
    .map_err(|e| CliError::usage(format!("cannot read the passphrase: {e}")))?;
    if first.is_empty() {
        return Ok(None);
    }
    let second = rpassword::prompt_password("Type it again: ")
        .map_err(|e| CliError::usage(format!("cannot read the passphrase: {e}")))?;
    if first != second {
        return Err(CliError::usage(
            "the two passphrases differ; nothing was changed",
        ));
    }
    Ok(Some(SecretString::from(first)))
}

/// What was done, what the other laptop keeps, and which files are still out there.
pub fn report(left: &Left) -> String {
    let p = output::visible(&left.partner);
    let mut out = String::new();
    if p.is_empty() {
        out.push_str("This laptop was not paired.\n");
    } else {
        out.push_str(&format!(
            "You have left {p}. Nothing syncs between your laptops any more.\n"
        ));
        out.push_str(&if left.told {
            format!("{p}'s laptop was connected and was sent word that you left.\n")
        } else {
            format!("{p}'s laptop was not connected; it will not hear from this laptop again.\n")
        });
    }
    out.push_str(&if p.is_empty() {
        "This laptop has a new key.\n".to_string()
    } else {
        format!("This laptop has a new key: {p}'s laptop cannot reach it or recognise it.\n")
    });
    if let Some(relay) = &left.relay {
        out.push_str(&format!(
            "The relay at {relay} is forgotten here; `havend relay --forget` on that machine \
             stops it serving the other laptop too.\n"
        ));
    }
    out.push_str(if left.passphrase_changed {
        "Your passphrase is new.\n"
    } else {
        "Your passphrase is the one you had; `haven leave` again lets you choose a new one.\n"
    });
    if !p.is_empty() {
        out.push_str(if left.wiped {
            "This laptop's copy of your agreements, notes and thanks is deleted.\n"
        } else {
            "Your agreements, notes and thanks stay on this laptop, as a record \
             (`haven partner unpair --wipe` deletes them).\n"
        });
        out.push_str(&format!(
            "\n{p}'s laptop still holds what you shared up to now: agreements, notes, thanks \
             and answers. It gets nothing from now on, and never had your journal: that never \
             left this laptop.\n"
        ));
    }
    out.push('\n');
    out.push_str(&files(&left.files));
    out.push_str(&format!("\n{}\n", crate::soothing_plan::CRISIS_LINE));
    out
}

fn files(files: &[WrittenFile]) -> String {
    if files.is_empty() {
        return "No backup or export Haven wrote is still where it was written.\n".into();
    }
    let mut out = String::from("Files Haven wrote that hold your words, still there:\n");
    for f in files {
        let (kind, note) = match f.kind {
            WrittenKind::Backup => ("backup", "opens with the passphrase it was made with"),
            WrittenKind::Export => ("export", "plain: anyone who can read the file reads it"),
            WrittenKind::EncryptedExport => (
                "export",
                "encrypted: opens with the passphrase or key it was made for",
            ),
        };
        out.push_str(&format!(
            "  {}  {kind:<6}  {}  ({note})\n",
            f.when.format("%Y-%m-%d"),
            output::visible(&f.path)
        ));
    }
    out.push_str("Delete the ones you no longer need.\n");
    out
}
