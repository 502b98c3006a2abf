//! Bad input gets one clear line, a non-zero exit, loses nothing, and the daemon keeps
//! serving: wrong passphrase, damaged or foreign files, garbage on the socket, concurrent
//! writers, `kill -9` mid-write, and a full disk.
#![allow(clippy::string_slice, clippy::unwrap_used)]

use haven_tests::{assert_one_error, Home, SmallDisk, PASSPHRASE};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;

#[test]
fn wrong_passphrase_and_no_terminal() {
    let mut h = Home::init("Maya");
    h.write(&["before"]);
    h.ok(&["lock"]);
    let wrong = h.tmp.path().join("wrong");
    std::fs::write(&wrong, "not it\n").unwrap();
    let out = h.run(&[
        "--passphrase-file",
        wrong.to_str().unwrap(),
        "journal",
        "list",
    ]);
    assert_one_error(&out, 4, "wrong passphrase");
    assert!(out.stderr.contains("wrong passphrase"), "{}", out.stderr);
    h.ok(&["status"]);
    // No passphrase file and no terminal: one clear line, not a hang.
    h.env.push(("HAVEN_PASSPHRASE_FILE".into(), String::new()));
    let mut c = h.command("haven");
    c.env_remove("HAVEN_PASSPHRASE_FILE")
        .args(["journal", "list"]);
    let o = c.output().unwrap();
    let out = haven_tests::Out::from(o);
    assert_one_error(&out, 4, "no terminal");
    assert!(out.stderr.contains("no terminal"), "{}", out.stderr);
    h.env.clear();
    h.ok(&["unlock"]);
    assert_eq!(h.entry_count(), 1);
}

#[test]
fn init_refuses_an_existing_home() {
    let h = Home::init("Maya");
    h.write(&["precious"]);
    let err = h.fails(&["init", "--name", "Other"], 2);
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    let err = h.fails(&["init", "--name", "Other", "--force"], 2);
    assert!(err.contains("confirmation"), "{err}");
    assert_eq!(h.entry_count(), 1);
    assert_eq!(h.json(&["status", "--json"])["name"], "Maya");
}

#[test]
fn bad_values_are_refused_before_anything_is_written() {
    let h = Home::init("Maya");
    for (args, needle) in [
        (
            vec!["journal", "write", "--intensity", "11", "x"],
            "intensity must be between 0 and 10",
        ),
        (
            vec!["journal", "write", "--mood", "0", "x"],
            "mood must be between 1 and 5",
        ),
        (vec!["journal", "write", "   "], "empty"),
        (
            vec!["journal", "list", "--since", "someday"],
            "cannot read the date",
        ),
        (vec!["journal", "write", "--tag", "two words", "x"], "tag"),
    ] {
        let err = h.fails(&args, 2);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let empty = h.run_stdin(&["journal", "write", "-"], "\n\n");
    assert_one_error(&empty, 2, "empty stdin");
    assert_eq!(h.entry_count(), 0);
}

fn stop_and(h: &Home, damage: impl FnOnce(&Path)) {
    h.ok(&["daemon", "stop"]);
    damage(&h.home);
}

#[test]
fn a_truncated_database_is_reported_and_the_daemon_keeps_serving() {
    let h = Home::init("Maya");
    for i in 0..20 {
        h.write(&[&format!("entry {i} {}", "words ".repeat(200))]);
    }
    stop_and(&h, |home| {
        let db = home.join("haven.db");
        let len = std::fs::metadata(&db).unwrap().len();
        let f = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
        f.set_len(len / 2).unwrap();
    });
    let err = h.fails(&["journal", "list"], 6);
    assert!(err.contains("damaged"), "{err}");
    let status = h.json(&["status", "--json"]);
    assert_eq!(status["locked"], true, "the daemon still answers");
    let doctor = h.run(&["doctor"]);
    assert_ne!(doctor.code, 0);
    assert!(doctor.stdout.contains("FAIL"), "{}", doctor.stdout);
}

#[test]
fn a_foreign_database_is_named() {
    let h = Home::init("Maya");
    stop_and(&h, |home| {
        std::fs::write(
            home.join("haven.db"),
            b"this is a shopping list, not a database",
        )
        .unwrap();
    });
    let err = h.fails(&["journal", "list"], 6);
    assert!(err.contains("not a Haven database"), "{err}");
    stop_and(&h, |home| {
        std::fs::remove_file(home.join("haven.db")).unwrap();
        let c = rusqlite::Connection::open(home.join("haven.db")).unwrap();
        c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
    });
    let err = h.fails(&["journal", "list"], 6);
    assert!(err.contains("not a Haven database"), "{err}");
}

#[test]
fn an_altered_chunk_fails_loudly() {
    let h = Home::init("Maya");
    h.write(&["one"]);
    h.write(&["two"]);
    stop_and(&h, |home| {
        let c = rusqlite::Connection::open(home.join("haven.db")).unwrap();
        let (seq, mut data): (i64, Vec<u8>) = c
            .query_row(
                "SELECT seq, data FROM chunks WHERE doc = 'journal' ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let n = data.len();
        data[n - 20] ^= 0x01;
        c.execute(
            "UPDATE chunks SET data = ?1 WHERE doc = 'journal' AND seq = ?2",
            rusqlite::params![data, seq],
        )
        .unwrap();
    });
    // The row's tag no longer matches what it holds: named before it is even decrypted.
    let err = h.fails(&["journal", "list"], 6);
    assert!(
        err.contains("haven.db was changed outside Haven: chunk")
            && err.contains("of the journal document does not verify"),
        "{err}"
    );
}

#[test]
fn an_identity_from_another_home_is_named() {
    let a = Home::init("Maya");
    let b = Home::init("Sam");
    a.ok(&["daemon", "stop"]);
    std::fs::copy(b.home.join("identity.age"), a.home.join("identity.age")).unwrap();
    let err = a.fails(&["journal", "list"], 6);
    assert!(err.contains("belongs to another home"), "{err}");
}

fn connect(h: &Home) -> (BufReader<UnixStream>, UnixStream) {
    haven_tests::ipc_connect(h)
}

fn reply(r: &mut BufReader<UnixStream>) -> serde_json::Value {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    serde_json::from_str(&line).unwrap_or(serde_json::Value::Null)
}

#[test]
fn garbage_on_the_socket_gets_an_error_and_the_daemon_keeps_serving() {
    let h = Home::init("Maya");
    h.write(&["kept"]);
    let (mut r, mut w) = connect(&h);
    for garbage in [
        "hello\n",
        "{\"op\":\"journal_show\"}\n",
        "[1,2,3]\n",
        "\u{1}\u{2}\n",
    ] {
        w.write_all(garbage.as_bytes()).unwrap();
        let v = reply(&mut r);
        assert_eq!(v["Err"]["kind"], "bad_request", "{garbage:?} -> {v}");
    }
    // The same connection still works.
    w.write_all(b"{\"op\":\"status\"}\n").unwrap();
    assert_eq!(reply(&mut r)["Ok"]["type"], "status");

    // A huge line is refused and that connection closed.
    let (mut r2, mut w2) = connect(&h);
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..9 {
        if w2.write_all(&chunk).is_err() {
            break;
        }
    }
    let v = reply(&mut r2);
    assert_eq!(v["Err"]["kind"], "too_large", "{v}");
    let mut rest = Vec::new();
    let _ = r2.read_to_end(&mut rest);

    // A half-written request, then the client goes away.
    let (_r3, mut w3) = connect(&h);
    w3.write_all(b"{\"op\":\"sta").unwrap();
    w3.shutdown(std::net::Shutdown::Both).unwrap();

    assert_eq!(
        h.entry_count(),
        1,
        "the daemon still serves and nothing was lost"
    );
}

#[test]
fn concurrent_writers_are_all_saved() {
    let h = Home::init("Maya");
    h.ok(&["status"]);
    std::thread::scope(|s| {
        for t in 0..4 {
            let h = &h;
            s.spawn(move || {
                for i in 0..10 {
                    h.write(&[&format!("writer {t} entry {i}")]);
                }
            });
        }
    });
    let list = h.json(&["journal", "list", "--json"]);
    let mut bodies: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["body"].as_str().unwrap())
        .collect();
    bodies.sort();
    bodies.dedup();
    assert_eq!(bodies.len(), 40);
}

#[test]
fn kill_9_mid_write_loses_no_acknowledged_write() {
    let h = Home::init("Maya");
    h.ok(&["status"]);
    let first_pid = h.daemon_pid().unwrap();
    let acknowledged = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..60 {
                let out = h.run(&["journal", "write", &format!("durable {i}")]);
                if out.code == 0 {
                    acknowledged
                        .lock()
                        .unwrap()
                        .push(out.stdout.trim().to_string());
                }
            }
        });
        // Kill the daemon while writes are in flight.
        while acknowledged.lock().unwrap().len() < 15 {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        unsafe { libc::kill(first_pid, libc::SIGKILL) };
    });
    haven_tests::wait_gone(first_pid);
    let acknowledged = acknowledged.into_inner().unwrap();
    assert!(acknowledged.len() >= 15);
    // The next command starts a new daemon over the stale socket.
    let listed: Vec<String> = h
        .json(&["journal", "list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    for id in &acknowledged {
        assert!(listed.contains(id), "acknowledged write {id} was lost");
    }
    assert_ne!(h.daemon_pid(), Some(first_pid));
}

#[test]
fn a_stale_socket_is_replaced_and_a_second_daemon_refused() {
    let h = Home::init("Maya");
    h.write(&["x"]);
    h.kill_daemon(libc::SIGKILL);
    assert!(
        h.home.join("haven.sock").exists(),
        "kill -9 leaves the socket behind"
    );
    assert_eq!(h.entry_count(), 1);
    let second = h.command("havend").arg("--foreground").output().unwrap();
    assert_ne!(second.status.code(), Some(0));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("already running"), "{err}");
    assert_eq!(h.entry_count(), 1, "the first daemon is unharmed");
}

#[test]
fn a_full_disk_is_an_error_that_loses_nothing() {
    let mut h = Home::new();
    let disk = h.tmp.path().join("small");
    let _mount = SmallDisk::mount(&disk, "2m");
    h.home = disk.join("haven");
    h.ok(&["init", "--name", "Maya"]);
    let kept = h.write(&["written before the disk filled up"]);
    // Fill the disk.
    let filler = disk.join("filler");
    let mut f = std::fs::File::create(&filler).unwrap();
    let block = vec![0u8; 64 * 1024];
    while f.write_all(&block).is_ok() {}
    let _ = f.sync_all();
    let mut failed = None;
    for i in 0..50 {
        let out = h.run(&[
            "journal",
            "write",
            &format!("{} {i}", "a long entry ".repeat(400)),
        ]);
        if out.code != 0 {
            failed = Some(out);
            break;
        }
    }
    let out = failed.expect("writes should fail on a full disk");
    assert_one_error(&out, 6, "full disk");
    assert!(out.stderr.contains("disk is full"), "{}", out.stderr);
    h.ok(&["status"]);
    let ids: Vec<String> = h
        .json(&["journal", "list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.contains(&kept));
    drop(f);
    std::fs::remove_file(&filler).unwrap();
    h.write(&["written after space came back"]);
    let after = h.entry_count();
    assert_eq!(after, ids.len() + 1);
    // And the stored state reloads cleanly.
    h.ok(&["daemon", "stop"]);
    assert_eq!(h.entry_count(), after);
    let _ = PASSPHRASE;
}

#[test]
fn the_journal_locks_itself_when_idle_and_a_bad_config_is_named() {
    let h = Home::init("Maya");
    std::fs::write(h.home.join("config.toml"), "idle_lock = \"1s\"\n").unwrap();
    h.write(&["written just before going idle"]);
    // Polling status does not count as use, so the lock comes.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while h.json(&["status", "--json"])["locked"] == false {
        assert!(std::time::Instant::now() < deadline, "never locked itself");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(h.entry_count(), 1, "unlocks again on the next use");
    h.ok(&["daemon", "stop"]);

    std::fs::write(h.home.join("config.toml"), "idle_lock = \"whenever\"\n").unwrap();
    let err = h.fails(&["status"], 5);
    assert!(
        err.contains("config.toml is not valid") && err.contains("idle_lock"),
        "{err}"
    );
}

/// A panic inside one request ends that request, never the daemon: the next requests
/// are served, nothing saved is lost, and `daemon stop` still stops it. (Debug builds
/// honour `HAVEN_TEST_PANIC`; before the core caught panics, every request after this one
/// got "the daemon is shutting down" and stop could not stop it.)
#[test]
fn a_panic_in_one_request_leaves_the_daemon_serving_and_stoppable() {
    let mut h = Home::init("Maya");
    h.write(&["kept before the panic"]);
    h.ok(&["daemon", "stop"]);
    h.env.push(("HAVEN_TEST_PANIC".into(), "agree_list".into()));
    h.ok(&["unlock"]);
    let out = h.run(&["agree", "list"]);
    assert_one_error(&out, 1, "a request that panics");
    assert!(out.stderr.contains("internal error"), "{}", out.stderr);
    // Served again, with what was saved before, and writable.
    assert_eq!(h.json(&["status", "--json"])["locked"], false);
    h.write(&["written after the panic"]);
    assert_eq!(h.entry_count(), 2);
    let out = h.run(&["agree", "list"]);
    assert_one_error(&out, 1, "the same request again");
    let pid = h.daemon_pid().expect("a daemon");
    h.ok(&["daemon", "stop"]);
    haven_tests::wait_gone(pid);
    let log = std::fs::read_to_string(h.home.join("havend.log")).unwrap();
    assert!(
        log.contains("an internal error while handling this"),
        "{log}"
    );
    h.env.clear();
    h.ok(&["unlock"]);
    assert_eq!(h.entry_count(), 2);
}

/// An import whose id is not a Haven id (here one with a multi-byte character, which made
/// every later `journal list` panic on a byte slice) is refused whole, and lists still work.
#[test]
fn an_import_with_a_malformed_id_is_refused_and_lists_keep_working() {
    let h = Home::init("Maya");
    h.write(&["kept"]);
    let (mut r, mut w) = connect(&h);
    for id in [
        "01jx000000000000000000000é",
        "../../etc",
        "01JX0000000000000000000000",
        "",
    ] {
        let request = serde_json::json!({
            "op": "journal_import",
            "entries": [{
                "id": id, "kind": "note", "title": "", "body": "imported", "tags": [],
                "mood": null, "intensity": null,
                "created_at": "2026-11-01T10:00:00+01:00", "updated_at": "2026-11-01T10:00:00+01:00"
            }]
        });
        w.write_all(format!("{request}\n").as_bytes()).unwrap();
        let v = reply(&mut r);
        assert_eq!(v["Err"]["kind"], "invalid_input", "{id:?} -> {v}");
        assert!(
            v["Err"]["message"]
                .as_str()
                .unwrap()
                .contains("not a Haven id"),
            "{v}"
        );
    }
    h.ok(&["journal", "list"]);
    assert_eq!(h.entry_count(), 1);
}

/// A core that never returns (debug builds honour `HAVEN_TEST_HANG`) cannot keep the
/// daemon from stopping, nor its client from coming back: the waiting `haven` gives up
/// with one line after its timeout, `daemon stop` answers after the grace period and the
/// process exits; what was saved before is still there.
#[test]
fn a_wedged_core_still_stops() {
    let mut h = Home::init("Maya");
    h.write(&["kept"]);
    h.ok(&["daemon", "stop"]);
    h.env.push(("HAVEN_TEST_HANG".into(), "agree_list".into()));
    h.ok(&["unlock"]);
    let pid = h.daemon_pid().expect("a daemon");
    // This request wedges the core; its client must give up on its own.
    let mut stuck = h.command("haven");
    stuck
        .env("HAVEN_IPC_TIMEOUT", "2")
        .args(["agree", "list"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut stuck = stuck.spawn().unwrap();
    haven_tests::lan::eventually(
        "the core to hang",
        std::time::Duration::from_secs(20),
        || {
            std::fs::read_to_string(h.home.join("havend.log"))
                .unwrap()
                .contains("HAVEN_TEST_HANG: the core hangs here")
                .then_some(())
        },
    );
    let status = haven_tests::lan::eventually(
        "the waiting client to give up",
        std::time::Duration::from_secs(20),
        || stuck.try_wait().unwrap(),
    );
    let mut err = String::new();
    std::io::Read::read_to_string(&mut stuck.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(5), "{err}");
    assert!(
        err.starts_with("error: havend did not answer within 2 s\nhint: `haven daemon stop`"),
        "{err}"
    );
    h.ok(&["daemon", "stop"]);
    haven_tests::wait_gone(pid);
    let log = std::fs::read_to_string(h.home.join("havend.log")).unwrap();
    assert!(!haven_tests::alive(pid), "havend is still running:\n{log}");
    assert!(
        log.contains("the core did not answer the stop in time"),
        "{log}"
    );
    h.env.clear();
    h.ok(&["unlock"]);
    assert_eq!(h.entry_count(), 1);
}

/// Two commands at the same moment with no daemon running each start one; the one that
/// loses the race waits for the winner instead of failing.
#[test]
fn commands_started_at_once_all_find_one_daemon() {
    let h = Home::init("Maya");
    for round in 0..5 {
        h.ok(&["daemon", "stop"]);
        let running: Vec<_> = (0..4)
            .map(|_| {
                h.command("haven")
                    .arg("status")
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in running {
            let out = haven_tests::Out::from(child.wait_with_output().unwrap());
            assert_eq!(out.code, 0, "round {round}: {}", out.stderr);
        }
    }
    assert!(h.daemon_pid().is_some_and(haven_tests::alive));
}
