//! The hello between `haven` and `havend`: a client and a daemon of different protocols
//! say so in one line, a client that does not greet is refused in one line, and across
//! versions a stop still works. The daemon keeps serving everyone else throughout.
//!
//! Debug builds of havend announce `HAVEN_TEST_PROTOCOL` instead of their own protocol, so
//! a real daemon of "another version" can be started here.
#![allow(clippy::unwrap_used)]

use haven_tests::{assert_one_error, Home};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;

fn raw(h: &Home) -> (BufReader<UnixStream>, UnixStream) {
    h.ok(&["status"]);
    let s = UnixStream::connect(h.home.join("haven.sock")).unwrap();
    (BufReader::new(s.try_clone().unwrap()), s)
}

fn line(r: &mut BufReader<UnixStream>) -> serde_json::Value {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    serde_json::from_str(&line).unwrap_or(serde_json::Value::Null)
}

/// What an older haven (it sends its request first) or a stranger gets: one error with
/// what to do, then the connection closes. Nothing else is answered on it.
fn assert_refused_and_closed(r: &mut BufReader<UnixStream>) {
    let v = line(r);
    assert_eq!(v["Err"]["kind"], "bad_request", "{v}");
    let message = v["Err"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("this haven is not the version of havend"),
        "{message}"
    );
    assert_eq!(
        v["Err"]["hint"],
        "`haven daemon stop`, then run the command again"
    );
    let mut rest = Vec::new();
    r.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "nothing more on a refused connection");
}

#[test]
fn a_client_that_does_not_greet_is_refused_in_one_line_and_the_daemon_keeps_serving() {
    let h = Home::init("Maya");
    h.write(&["kept"]);
    // An older haven: its request comes first.
    let (mut r, mut w) = raw(&h);
    w.write_all(b"{\"op\":\"journal_list\",\"query\":{}}\n")
        .unwrap();
    assert_refused_and_closed(&mut r);
    // Not Haven at all.
    for garbage in ["hello\n", "{\"protocol\":2}\n", "\u{1}\u{2}\n", "[1,2]\n"] {
        let (mut r, mut w) = raw(&h);
        w.write_all(garbage.as_bytes()).unwrap();
        assert_refused_and_closed(&mut r);
    }
    // A hello of another protocol: the daemon greets with its own, then refuses a request.
    let (mut r, mut w) = raw(&h);
    w.write_all(b"{\"hello\":\"haven\",\"protocol\":1,\"version\":\"0.0.1\"}\n")
        .unwrap();
    let theirs = line(&mut r);
    assert_eq!(theirs["hello"], "haven");
    assert_eq!(theirs["protocol"], haven_shared::ipc::PROTOCOL_VERSION);
    w.write_all(b"{\"op\":\"status\"}\n").unwrap();
    assert_refused_and_closed(&mut r);
    // Everyone else is still served, and nothing was lost.
    assert_eq!(h.entry_count(), 1);
    let log = std::fs::read_to_string(h.home.join("havend.log")).unwrap();
    assert!(
        log.contains("a haven of another protocol connected"),
        "{log}"
    );
}

#[test]
fn an_older_haven_can_still_stop_the_daemon() {
    let h = Home::init("Maya");
    h.ok(&["status"]);
    let pid = h.daemon_pid().unwrap();
    let (mut r, mut w) = raw(&h);
    // Protocol 1's stop, sent without a hello.
    w.write_all(b"{\"op\":\"shutdown\"}\n").unwrap();
    assert_eq!(line(&mut r)["Ok"]["type"], "done");
    haven_tests::wait_gone(pid);
    assert!(!haven_tests::alive(pid));
}

#[test]
fn a_daemon_of_another_protocol_is_named_in_one_line_and_can_still_be_stopped() {
    let mut h = Home::init("Maya");
    h.write(&["kept"]);
    h.ok(&["daemon", "stop"]);
    // A protocol this haven does not speak (the next one).
    let other = haven_shared::ipc::PROTOCOL_VERSION + 1;
    h.env
        .push(("HAVEN_TEST_PROTOCOL".into(), other.to_string()));
    h.ok(&["daemon", "start"]);
    let pid = h.daemon_pid().unwrap();
    h.env.clear();
    let out = h.run(&["journal", "list"]);
    assert_one_error(&out, 5, "a daemon of another protocol");
    let version = haven_shared::VERSION;
    let protocol = haven_shared::ipc::PROTOCOL_VERSION;
    assert_eq!(
        out.stderr,
        format!(
            "error: haven {version} (protocol {protocol}) cannot talk to havend {version} (protocol {other}) still running\nhint: `haven daemon stop`, then run the command again\n"
        )
    );
    // `doctor` reports it rather than failing on it.
    let out = h.run(&["doctor"]);
    assert!(
        out.stdout.contains("cannot talk to havend")
            && out.stdout.contains(&format!("(protocol {other})")),
        "{}",
        out.stdout
    );
    // The way out the hint names works.
    h.ok(&["daemon", "stop"]);
    haven_tests::wait_gone(pid);
    assert_eq!(h.entry_count(), 1, "a daemon of this version serves again");
}
