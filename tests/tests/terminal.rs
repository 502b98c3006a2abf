//! What happens on a real terminal (a pty from `script`): the passphrase prompt when
//! Haven is locked, and `init --force`, which asks before it sets an old home aside.
#![allow(clippy::string_slice, clippy::unwrap_used)]

use haven_tests::{Home, PASSPHRASE};
use std::process::Command;

/// Runs `haven ARGS` on a pseudo-terminal, typing `input` (one line per prompt).
fn on_terminal(h: &Home, args: &str, input: &[&str]) -> (bool, String) {
    let haven = haven_tests::bin_dir().join("haven");
    let cmd = format!("{} --home {} {args}", haven.display(), h.home.display());
    // Feed each answer after a pause so each prompt has started reading.
    let feed: String = input
        .iter()
        .map(|l| format!("sleep 0.5; printf '%s\\n' '{l}'; "))
        .collect();
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "({feed} sleep 1) | script -qec \"$HAVEN_CMD\" /dev/null"
        ))
        .env("HAVEN_CMD", &cmd)
        .env_remove("HAVEN_PASSPHRASE_FILE")
        .env("HOME", h.tmp.path())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn a_locked_journal_asks_for_the_passphrase_on_the_terminal() {
    let h = Home::init("Maya");
    h.write(&["kept"]);
    h.ok(&["lock"]);
    let (ok, text) = on_terminal(&h, "journal list", &[PASSPHRASE]);
    assert!(ok, "{text}");
    assert!(text.contains("Passphrase for Haven"), "{text}");
    assert!(text.contains("kept"), "{text}");
    assert!(
        !text.contains(PASSPHRASE),
        "the passphrase is not echoed: {text}"
    );
    h.ok(&["lock"]);
    let (ok, text) = on_terminal(&h, "unlock", &["wrong passphrase"]);
    assert!(!ok && text.contains("wrong passphrase"), "{text}");
}

#[test]
fn init_force_asks_then_keeps_the_old_home_aside() {
    let h = Home::init("Maya");
    h.write(&["from the first home"]);
    let (ok, text) = on_terminal(&h, "init --name Maya --force", &["no"]);
    assert!(!ok && text.contains("not confirmed"), "{text}");
    assert_eq!(h.entry_count(), 1);

    let (ok, text) = on_terminal(
        &h,
        "init --name Robin --force",
        &["start over", "a new passphrase", "a new passphrase"],
    );
    assert!(ok, "{text}");
    assert!(text.contains("kept, still encrypted"), "{text}");
    let aside: Vec<_> = std::fs::read_dir(&h.home)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("replaced-"))
        .collect();
    assert_eq!(aside.len(), 1);
    assert!(
        aside[0].path().join("haven.db").exists() && aside[0].path().join("identity.age").exists()
    );
    let new_pass = h.tmp.path().join("new-pass");
    std::fs::write(&new_pass, "a new passphrase\n").unwrap();
    let status = h.json(&[
        "--passphrase-file",
        new_pass.to_str().unwrap(),
        "status",
        "--json",
    ]);
    assert_eq!(status["locked"], true);
    let list = h.json(&[
        "--passphrase-file",
        new_pass.to_str().unwrap(),
        "journal",
        "list",
        "--json",
    ]);
    assert_eq!(list.as_array().unwrap().len(), 0, "a fresh journal");
    assert_eq!(
        h.json(&[
            "--passphrase-file",
            new_pass.to_str().unwrap(),
            "status",
            "--json"
        ])["name"],
        "Robin"
    );
}

#[test]
fn a_passphrase_export_is_read_by_the_reference_age_cli() {
    let h = Home::init("Maya");
    h.write(&["PASSPHRASE-EXPORT-TEXT"]);
    h.ok(&["status"]);
    let file = h.tmp.path().join("brief.md.age");
    let args = format!("export --since 1d --passphrase -o {}", file.display());
    let (ok, text) = on_terminal(&h, &args, &["for the therapist", "for the therapist"]);
    assert!(ok, "{text}");
    let sealed = std::fs::read_to_string(&file).unwrap();
    assert!(
        sealed.starts_with("-----BEGIN AGE ENCRYPTED FILE-----")
            && !sealed.contains("PASSPHRASE-EXPORT-TEXT")
    );
    let out = h.tmp.path().join("plain.md");
    let decrypt = format!("age -d -o {} {}", out.display(), file.display());
    let status = Command::new("sh")
        .arg("-c")
        .arg("(sleep 0.5; printf 'for the therapist\\n'; sleep 1) | script -qec \"$AGE_CMD\" /dev/null")
        .env("AGE_CMD", &decrypt)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains("PASSPHRASE-EXPORT-TEXT"));
}
