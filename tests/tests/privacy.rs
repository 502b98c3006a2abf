//! Private stays private: no plaintext on disk or in logs, the editor's temp file on tmpfs
//! and erased, owner-only files, other users refused, no core dumps, and every daemon in
//! the test's own network namespace.
#![allow(clippy::string_slice, clippy::unwrap_used)]

use haven_tests::{assert_one_error, memory_contains, script, Home};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;

/// The canary appears only as pieces in scripts, so grepping finds only real leaks.
const CANARY: &str = "CANARY-PRIVATE-5521";

#[test]
fn no_plaintext_reaches_the_disk_the_runtime_folder_or_dev_shm() {
    let mut h = Home::init("Maya");
    h.write(&[
        "--title",
        &format!("{CANARY} title"),
        &format!("{CANARY} on the command line"),
    ]);
    let out = h.run_stdin(
        &["journal", "write", "-"],
        &format!("{CANARY} from stdin\n"),
    );
    assert_eq!(out.code, 0);
    let editor = h.tmp.path().join("bin-editor");
    script(
        &editor,
        "printf 'CANARY-%s from the editor\\n' PRIVATE-5521 >> \"$1\"\n",
    );
    h.env.push(("EDITOR".into(), editor.display().to_string()));
    let id = h.write(&[]);
    h.ok(&["journal", "edit", &id]);
    h.ok(&[
        "agree",
        "propose",
        "t",
        "--text",
        &format!("{CANARY} agreement"),
    ]);
    assert!(
        h.ok(&["journal", "list", "--search", CANARY])
            .lines()
            .count()
            >= 3
    );

    for (when, h) in [("unlocked", &h)] {
        for dir in [h.home.as_path(), h.runtime.as_path(), Path::new("/dev/shm")] {
            let hits = Home::grep(dir, CANARY);
            assert!(hits.is_empty(), "{when}: plaintext found in {hits:?}");
        }
    }
    h.ok(&["lock"]);
    h.ok(&["daemon", "stop"]);
    assert!(Home::grep(&h.home, CANARY).is_empty());
    assert!(
        Home::grep(h.tmp.path(), CANARY).is_empty(),
        "nothing in the whole test home either"
    );
    let log = std::fs::read_to_string(h.home.join("havend.log")).unwrap();
    assert!(log.contains("unlocked"), "the log is written: {log}");
}

#[test]
fn folders_and_files_are_owner_only() {
    let h = Home::init("Maya");
    h.write(&["x"]);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&h.home), 0o700);
    for entry in std::fs::read_dir(&h.home).unwrap().flatten() {
        let p = entry.path();
        if p.is_file() || p.extension().is_some_and(|e| e == "sock") {
            assert_eq!(mode(&p) & 0o077, 0, "{} is {:o}", p.display(), mode(&p));
        }
    }
    assert_eq!(mode(&h.home.join("haven.sock")), 0o600);
    assert_eq!(mode(&h.home.join("identity.age")), 0o600);
    let identity = std::fs::read_to_string(h.home.join("identity.age")).unwrap();
    assert!(
        identity.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"),
        "an age file"
    );
}

#[test]
fn another_user_is_refused_even_if_the_socket_were_open() {
    let h = Home::init("Maya");
    h.ok(&["status"]);
    // Open everything up, so only the daemon's SO_PEERCRED check stands in the way.
    for p in [h.tmp.path(), h.home.as_path()] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(
        h.home.join("haven.sock"),
        std::fs::Permissions::from_mode(0o666),
    )
    .unwrap();
    let mut c = h.command("haven");
    c.args(["journal", "list"])
        .env_remove("HAVEN_PASSPHRASE_FILE");
    unsafe {
        c.pre_exec(|| {
            if libc::setgid(65534) != 0 || libc::setuid(65534) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let o = c.output().unwrap();
    let out = haven_tests::Out::from(o);
    assert_one_error(&out, 5, "another uid");
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.contains("connection"),
        "refused without a reply: {}",
        out.stderr
    );
    h.ok(&["status"]);
}

#[test]
fn the_daemon_has_no_core_dumps_and_lives_in_the_tests_network_namespace() {
    let h = Home::init("Maya");
    h.ok(&["status"]);
    let pid = h.daemon_pid().unwrap();
    // A non-dumpable process's /proc files are closed even to root without CAP_SYS_PTRACE;
    // where they can be read, the core size limit must be zero.
    match std::fs::read_to_string(format!("/proc/{pid}/limits")) {
        Ok(limits) => {
            let core = limits
                .lines()
                .find(|l| l.starts_with("Max core file size"))
                .unwrap();
            assert_eq!(core.split_whitespace().nth(4), Some("0"), "{core}");
        }
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied, "{e}"),
    }
    // Processes this test starts (the CLI, and the daemon it starts) share this thread's
    // network namespace, which is not the host's.
    let mut probe = std::process::Command::new("sleep")
        .arg("5")
        .spawn()
        .unwrap();
    let ns = |p: &str| std::fs::read_link(format!("/proc/{p}/ns/net")).unwrap();
    let probe_ns = ns(&probe.id().to_string());
    assert_eq!(probe_ns, ns("thread-self"));
    // The test process's main thread never leaves the namespace the suite started in.
    assert_ne!(
        probe_ns,
        ns("self"),
        "tests must not run daemons in the host's network namespace"
    );
    let _ = probe.kill();
    let _ = probe.wait();
}

#[test]
fn the_editor_file_is_on_tmpfs_private_and_erased() {
    let mut h = Home::init("Maya");
    let record = h.tmp.path().join("record");
    let editor = h.tmp.path().join("probe-editor");
    script(
        &editor,
        &format!(
            "echo \"$1\" > {r}\nstat -f -c %T \"$(dirname \"$1\")\" >> {r}\nstat -c %a \"$1\" >> {r}\nstat -c %a \"$(dirname \"$1\")\" >> {r}\necho words >> \"$1\"\n",
            r = record.display()
        ),
    );
    h.env.push(("EDITOR".into(), editor.display().to_string()));
    h.write(&[]);
    let rec = std::fs::read_to_string(&record).unwrap();
    let lines: Vec<&str> = rec.lines().collect();
    assert_eq!(lines[1], "tmpfs", "{rec}");
    assert_eq!((lines[2], lines[3]), ("600", "700"), "{rec}");
    assert!(!Path::new(lines[0]).exists(), "the temp file is removed");
    assert!(
        !Path::new(lines[0]).parent().unwrap().exists(),
        "and its folder"
    );
}

#[test]
fn a_failing_editor_keeps_the_text_encrypted_and_a_signal_erases_the_temp_file() {
    let mut h = Home::init("Maya");
    let editor = h.tmp.path().join("failing-editor");
    script(
        &editor,
        "printf 'CANARY-%s kept safe\\n' PRIVATE-5521 >> \"$1\"\nexit 3\n",
    );
    h.env.push(("EDITOR".into(), editor.display().to_string()));
    let out = h.run(&["journal", "write"]);
    assert_one_error(&out, 1, "failing editor");
    assert!(
        out.stderr.contains("nothing was saved") && out.stderr.contains("age -d"),
        "{}",
        out.stderr
    );
    let recovery: Vec<_> = std::fs::read_dir(h.home.join("recovery"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(recovery.len(), 1);
    assert!(
        Home::grep(&h.home, CANARY).is_empty(),
        "the recovery copy is encrypted"
    );
    assert_eq!(h.entry_count(), 0);
    h.ok(&["daemon", "stop"]);
    let home = h.open_directly();
    let text = age::decrypt(
        home.identity.storage(),
        &std::fs::read(&recovery[0]).unwrap(),
    )
    .unwrap();
    assert!(String::from_utf8(text)
        .unwrap()
        .contains(&format!("{CANARY} kept safe")));

    // A hang-up while the editor is open erases the temp file.
    let record = h.tmp.path().join("path");
    let slow = h.tmp.path().join("slow-editor");
    script(
        &slow,
        &format!("echo \"$1\" > {}\nsleep 30\n", record.display()),
    );
    h.env.retain(|(k, _)| k != "EDITOR");
    h.env.push(("EDITOR".into(), slow.display().to_string()));
    let mut child = h
        .command("haven")
        .args(["journal", "write"])
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !record.exists() || std::fs::read_to_string(&record).unwrap().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the editor never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let temp = std::fs::read_to_string(&record).unwrap().trim().to_string();
    assert!(Path::new(&temp).exists());
    // haven runs in its own session: hang up the whole group, as a closing terminal would.
    unsafe { libc::kill(-(child.id() as i32), libc::SIGHUP) };
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert!(
        !Path::new(&temp).exists(),
        "the temp file must be erased on a signal"
    );
}

#[test]
fn a_malformed_request_does_not_put_its_text_in_the_log() {
    use std::io::{BufRead, Write};
    let h = Home::init("Maya");
    let (mut r, mut s) = haven_tests::ipc_connect(&h);
    // A body that is valid JSON but of the wrong type quotes itself in serde's message.
    s.write_all(format!("{{\"op\":\"journal_write\",\"entry\":{{\"kind\":\"note\",\"title\":\"\",\"body\":\"x\",\"tags\":[],\"mood\":\"{CANARY}\",\"intensity\":null}}}}\n").as_bytes()).unwrap();
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    assert!(line.contains("bad_request"), "{line}");
    h.ok(&["daemon", "stop"]);
    let log = std::fs::read_to_string(h.home.join("havend.log")).unwrap();
    assert!(
        log.contains("could not be decoded"),
        "the event is logged: {log}"
    );
    assert!(!log.contains(CANARY), "but not the text: {log}");
}

/// Someone who gets hold of a locked laptop that is still running (and can read the
/// daemon's memory, as root can) finds neither an entry's text nor the passphrase: what
/// the daemon frees is wiped (`haven_shared::wiping_alloc`), and locking frees the documents and the
/// index. Before, both stayed in freed memory until something happened to reuse it.
#[test]
fn a_locked_daemon_keeps_no_entry_text_or_passphrase_in_memory() {
    const CANARY: &str = "CANARY-in-memory-7f3a9c1e";
    let h = Home::init("Maya");
    h.ok(&["unlock"]);
    let pid = h.daemon_pid().expect("the daemon runs");
    assert!(
        !memory_contains(pid, haven_tests::PASSPHRASE.as_bytes()),
        "the passphrase stayed in memory after the unlock"
    );
    for i in 0..20 {
        h.write(&[
            "--tag",
            "t",
            &format!("{CANARY} number {i}, and more words"),
        ]);
    }
    // A long entry too (a letter, an import's archive): blocks of 256 KiB and more are
    // mappings of their own, grown with `mremap` and unmapped when freed, and must leave
    // nothing behind either.
    let long = format!(
        "{CANARY} {}",
        "a long letter to my younger self. ".repeat(20_000)
    );
    let wrote = h.run_stdin(&["journal", "write", "-"], &long);
    assert_eq!(wrote.code, 0, "{}", wrote.stderr);
    h.ok(&["journal", "list", "--search", CANARY]);
    assert!(h.ok(&["journal", "list", "--json"]).len() > long.len());
    assert!(
        memory_contains(pid, CANARY.as_bytes()),
        "unlocked, the entries are in memory: the scan must find them, or it proves nothing"
    );
    h.ok(&["lock"]);
    assert!(
        !memory_contains(pid, CANARY.as_bytes()),
        "an entry's text stayed in the locked daemon's memory"
    );
    h.ok(&["status"]);
}
