//! `haven backup` and `haven restore`: the same state comes back (same listings, same
//! document heads); damaged, foreign, newer or wrongly unlocked backups restore nothing.
#![allow(clippy::string_slice, clippy::unwrap_used)]

use haven_tests::{Home, PASSPHRASE};

#[test]
fn a_backup_restores_the_same_state_into_an_empty_home() {
    let h = Home::init("Maya");
    h.write(&[
        "--kind",
        "trigger",
        "--intensity",
        "6",
        "--tag",
        "phone",
        "BACKUP-CANARY-991 silent phone",
    ]);
    h.write(&["a second entry"]);
    h.ok(&[
        "agree",
        "propose",
        "Evenings",
        "--text",
        "No texts after 22:00",
    ]);
    let file = h.tmp.path().join("haven.backup");
    h.ok(&["backup", "-o", file.to_str().unwrap()]);
    let archive = std::fs::read(&file).unwrap();
    assert!(archive.starts_with(b"age-encryption.org/v1"));
    assert!(!archive.windows(17).any(|w| w == b"BACKUP-CANARY-991"));

    let mut fresh = Home::new();
    fresh.pass_file = h.pass_file.clone();
    fresh.ok(&["restore", file.to_str().unwrap()]);
    for args in [
        &["journal", "list", "--json"][..],
        &["agree", "list", "--json"][..],
    ] {
        assert_eq!(fresh.json(args), h.json(args), "{args:?}");
    }
    assert_eq!(fresh.json(&["status", "--json"])["name"], "Maya");

    h.ok(&["daemon", "stop"]);
    fresh.ok(&["daemon", "stop"]);
    let (mut a, mut b) = (h.open_directly(), fresh.open_directly());
    assert_eq!(
        a.journal.automerge_mut().get_heads(),
        b.journal.automerge_mut().get_heads()
    );
    assert_eq!(
        a.couple.automerge_mut().get_heads(),
        b.couple.automerge_mut().get_heads()
    );

    let err = fresh.fails(&["restore", file.to_str().unwrap()], 2);
    assert!(err.contains("already holds a Haven home"), "{err}");
}

#[test]
fn bad_backups_restore_nothing() {
    let h = Home::init("Maya");
    h.write(&["x"]);
    let file = h.tmp.path().join("haven.backup");
    h.ok(&["backup", "-o", file.to_str().unwrap()]);
    let bytes = std::fs::read(&file).unwrap();
    let dir = h.tmp.path();
    let wrong = dir.join("wrong-pass");
    std::fs::write(&wrong, "not the passphrase\n").unwrap();

    let truncated = dir.join("truncated.backup");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let mut altered_bytes = bytes.clone();
    let n = altered_bytes.len();
    altered_bytes[n - 100] ^= 1;
    let altered = dir.join("altered.backup");
    std::fs::write(&altered, altered_bytes).unwrap();
    let text = dir.join("text.backup");
    std::fs::write(&text, "just some text").unwrap();
    // A backup in a format from the future.
    let mut r = age::scrypt::Recipient::new(secrecy::SecretString::from(PASSPHRASE.to_string()));
    r.set_work_factor(12);
    let newer = dir.join("newer.backup");
    std::fs::write(
        &newer,
        age::encrypt(
            &r,
            b"HAVEN-BACKUP\n{\"format\": 7, \"created_at\": \"x\", \"files\": []}\n",
        )
        .unwrap(),
    )
    .unwrap();

    let fresh = Home::new();
    let cases: [(&std::path::Path, Option<&std::path::Path>, i32, &str); 5] = [
        (&file, Some(&wrong), 4, "wrong passphrase"),
        (&truncated, None, 6, "not a Haven backup"),
        (&altered, None, 6, "not a Haven backup"),
        (&text, None, 6, "not a Haven backup"),
        (&newer, None, 6, "newer Haven"),
    ];
    for (backup, pass, code, needle) in cases {
        let mut args = vec!["restore", backup.to_str().unwrap()];
        if let Some(p) = pass {
            args = vec![
                "--passphrase-file",
                p.to_str().unwrap(),
                "restore",
                backup.to_str().unwrap(),
            ];
        }
        let err = fresh.fails(&args, code);
        assert!(err.contains(needle), "{}: {err}", backup.display());
        assert!(
            !fresh.home.join("haven.db").exists() && !fresh.home.join("identity.age").exists(),
            "nothing restored"
        );
    }
    let err = h.fails(
        &["backup", "-o", dir.join("missing/x").to_str().unwrap()],
        2,
    );
    assert!(err.contains("does not exist"), "{err}");
}

/// A backup whose files do not open together (the identity of one home, the database of
/// another) fails after its files were written: the home is left exactly as it was, with
/// no `-wal`, `-shm` or staging folder behind.
#[test]
fn a_restore_that_fails_midway_leaves_the_home_as_it_was() {
    let a = Home::init("Maya");
    let b = Home::init("Sam");
    a.ok(&["daemon", "stop"]);
    b.ok(&["daemon", "stop"]);
    let pass = secrecy::SecretString::from(PASSPHRASE.to_string());
    let mixed = haven_shared::backup::pack(
        &[
            (
                "identity.age",
                std::fs::read(a.home.join("identity.age")).unwrap(),
            ),
            ("haven.db", std::fs::read(b.home.join("haven.db")).unwrap()),
        ],
        &pass,
    )
    .unwrap();
    let file = a.tmp.path().join("mixed.backup");
    std::fs::write(&file, mixed).unwrap();
    let fresh = Home::new();
    std::fs::create_dir_all(&fresh.home).unwrap();
    std::fs::write(fresh.home.join("notes.txt"), "mine").unwrap();
    let err = fresh.fails(&["restore", file.to_str().unwrap()], 6);
    assert!(err.contains("the restored home does not open"), "{err}");
    let mut left: Vec<String> = std::fs::read_dir(&fresh.home)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, vec!["notes.txt".to_string()], "the home changed");
}

/// `haven restore` killed with SIGKILL (a power cut) after it wrote the staged files, while
/// it checks that they open: the home is still not a home (nothing half-restored is taken
/// for one), and the next restore clears the leftover staging folder and succeeds.
#[test]
fn a_restore_killed_midway_leaves_no_home_and_can_be_run_again() {
    let h = Home::init("Maya");
    h.write(&["kept across the crash"]);
    let file = h.tmp.path().join("haven.backup");
    h.ok(&["backup", "-o", file.to_str().unwrap()]);
    h.ok(&["daemon", "stop"]);
    let mut fresh = Home::new();
    fresh.pass_file = h.pass_file.clone();
    let staged = |home: &std::path::Path| -> Vec<std::path::PathBuf> {
        std::fs::read_dir(home)
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with(".restore-"))
                    .map(|e| e.path())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut restore = fresh
        .command("haven")
        .args(["restore", file.to_str().unwrap()])
        .spawn()
        .unwrap();
    // Both files staged: the restore now spends about a second on scrypt opening them.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !staged(&fresh.home)
        .iter()
        .any(|s| s.join("identity.age").exists() && s.join("haven.db").exists())
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the restore never staged its files"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let pid = i32::try_from(restore.id()).unwrap();
    // SAFETY: a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    restore.wait().unwrap();
    assert!(
        !fresh.home.join("identity.age").exists() && !fresh.home.join("haven.db").exists(),
        "the killed restore left files in the home (killed too late?)"
    );
    assert_eq!(
        staged(&fresh.home).len(),
        1,
        "the staging folder is left behind"
    );

    fresh.ok(&["restore", file.to_str().unwrap()]);
    assert!(
        staged(&fresh.home).is_empty(),
        "the leftover staging folder is cleared"
    );
    let listed = fresh.json(&["journal", "list", "--json"]);
    assert_eq!(listed[0]["body"], "kept across the crash");
}
