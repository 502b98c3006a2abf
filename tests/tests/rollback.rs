//! A `haven.db` put back from an older copy of itself: every row verifies, so only the
//! generation kept outside it (`haven.generation`) can tell. Named at unlock and by
//! `doctor` until the person accepts the copy; no false alarm on a normal restart.
#![allow(clippy::unwrap_used)]

use haven_tests::Home;
use std::path::{Path, PathBuf};

const PURGED: &str = "PURGED-ENTRY-3381 I deleted and purged this";

fn doctor(h: &Home) -> (i32, String) {
    let out = h.run(&["doctor"]);
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("database age"))
        .unwrap_or_else(|| panic!("doctor has no database age line:\n{}", out.stdout))
        .to_string();
    (out.code, line)
}

/// haven.db with its WAL, as an attacker or a sync tool would copy them.
fn save_db(home: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for f in ["haven.db", "haven.db-wal"] {
        if home.join(f).exists() {
            std::fs::copy(home.join(f), to.join(f)).unwrap();
        }
    }
}

fn put_back(saved: &Path, home: &Path) {
    for f in ["haven.db", "haven.db-wal", "haven.db-shm"] {
        let _ = std::fs::remove_file(home.join(f));
        if saved.join(f).exists() {
            std::fs::copy(saved.join(f), home.join(f)).unwrap();
        }
    }
}

/// The older copy: one entry that is later deleted and purged.
fn rolled_back() -> (Home, PathBuf) {
    let h = Home::init("Maya");
    let gone = h.write(&[PURGED]);
    h.ok(&["daemon", "stop"]);
    let saved = h.tmp.path().join("old");
    save_db(&h.home, &saved);
    h.write(&["written after the copy"]);
    h.ok(&["journal", "delete", &gone, "--yes"]);
    h.ok(&["journal", "purge"]);
    assert!(!h.ok(&["journal", "list"]).contains("PURGED-ENTRY-3381"));
    h.ok(&["daemon", "stop"]);
    put_back(&saved, &h.home);
    (h, saved)
}

#[test]
fn an_older_haven_db_put_back_is_named_at_unlock_and_by_doctor() {
    let (h, _) = rolled_back();
    let out = h.run(&["journal", "list"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // The rows verify, so the old entry is back: Haven says so, rather than hiding it.
    assert!(out.stdout.contains("PURGED-ENTRY-3381"));
    assert!(
        out.stderr.contains(
            "warning: haven.db is older than the newest copy this laptop has seen: what you wrote or deleted since may be missing or back; `haven doctor` says what to do"
        ),
        "{}",
        out.stderr
    );
    let (code, line) = doctor(&h);
    assert_ne!(code, 0);
    assert!(
        line.contains("FAIL") && line.contains("older than the newest copy"),
        "{line}"
    );

    // Writing on does not hide it, even once the old copy's count passes the newest.
    for i in 0..12 {
        h.write(&[&format!("on the old copy {i}")]);
    }
    h.ok(&["daemon", "stop"]);
    let out = h.run(&["journal", "list", "-n", "1"]);
    assert!(
        out.stderr.contains("warning: haven.db is older"),
        "{}",
        out.stderr
    );

    // Accepted on purpose: quiet from then on, across restarts.
    let out = h.run(&["doctor", "--accept-older"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("now the newest"), "{}", out.stderr);
    let (code, line) = doctor(&h);
    assert!(line.contains("ok"), "{line}");
    assert_eq!(code, 0);
    h.ok(&["daemon", "stop"]);
    let out = h.run(&["journal", "list", "-n", "1"]);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    // Nothing left to accept: one clear line.
    let out = h.run(&["doctor", "--accept-older"]);
    haven_tests::assert_one_error(&out, 3, "nothing to accept");
}

#[test]
fn a_normal_restart_raises_no_alarm_and_a_missing_or_edited_record_is_named() {
    let h = Home::init("Maya");
    h.write(&["an ordinary day"]);
    h.ok(&["daemon", "stop"]);
    let out = h.run(&["journal", "list"]);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    let (code, line) = doctor(&h);
    assert!(
        line.contains("ok") && line.contains("newest copy"),
        "{line}"
    );
    assert_eq!(code, 0);

    let record = h.home.join("haven.generation");
    assert!(record.exists());
    let text = std::fs::read_to_string(&record).unwrap();
    assert!(!text.contains("ordinary"), "{text}");

    // Someone lowers the number by hand: it no longer verifies, and that is said.
    h.ok(&["daemon", "stop"]);
    std::fs::write(&record, text.replacen(|c: char| c.is_ascii_digit(), "0", 1)).unwrap();
    let out = h.run(&["journal", "list"]);
    assert_eq!(out.code, 0);
    assert!(
        out.stderr.contains("was changed outside Haven"),
        "{}",
        out.stderr
    );
    // Removed along with a swap: said too, once.
    h.ok(&["daemon", "stop"]);
    std::fs::remove_file(&record).unwrap();
    let out = h.run(&["journal", "list"]);
    assert!(out.stderr.contains("was missing"), "{}", out.stderr);
    h.ok(&["daemon", "stop"]);
    let out = h.run(&["journal", "list"]);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
}

#[test]
fn a_backup_older_than_this_laptop_has_seen_is_named_after_restore() {
    let h = Home::init("Maya");
    h.write(&["before the backup"]);
    let file = h.tmp.path().join("backup.haven");
    h.ok(&["backup", "-o", file.to_str().unwrap()]);
    h.write(&["after the backup"]);
    h.ok(&["daemon", "stop"]);
    // The data lost, the state folder kept (under XDG they are apart; here, by hand).
    for f in ["haven.db", "haven.db-wal", "haven.db-shm", "identity.age"] {
        let _ = std::fs::remove_file(h.home.join(f));
    }
    h.ok(&["restore", file.to_str().unwrap()]);
    let out = h.run(&["journal", "list"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("before the backup"));
    assert!(
        out.stderr.contains("warning: haven.db is older"),
        "{}",
        out.stderr
    );

    // A restore into a fresh home starts from the backup's own count: no alarm.
    let fresh = Home::new();
    fresh.ok(&["restore", file.to_str().unwrap()]);
    let out = fresh.run(&["journal", "list"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
}
