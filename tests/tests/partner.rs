//! Two (and three) laptops on one LAN made of network namespaces: pairing by code over
//! real mDNS, live sync of agreements, consent across the link, a partition, a restart,
//! unpairing, and strangers and garbage on the peer port.
#![allow(clippy::string_slice, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use haven_tests::couple::{
    connected, log_of, paired_pair, propose, sessions_sent, status_of, wait_status, SOON,
};
use haven_tests::lan::{eventually, eventually_explained, pair, show_code, Lan};
use haven_tests::rogue::{
    as_sam, ik_first, listening_address, read_to_close, refused_silently, send_message,
};
use haven_tests::Home;

const CANARY: &str = "CANARY-JOURNAL-0417";

#[test]
fn pairing_then_agreements_sync_live_and_the_journal_never_leaves() {
    let lan = Lan::new(2);
    let a = lan.laptop(0, "Maya");
    let b = lan.laptop(1, "Sam");
    a.write(&["--kind", "trigger", &format!("{CANARY} no reply for hours")]);

    let (shown, joined) = pair(&a, &b);
    assert!(shown.contains("Paired with Sam"), "{shown}");
    assert!(joined.contains("Paired with Maya"), "{joined}");
    let words = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("Safety words:"))
            .expect("safety words")
            .to_string()
    };
    assert_eq!(
        words(&shown),
        words(&joined),
        "both laptops show the same words"
    );
    assert_eq!(
        words(&shown).split_whitespace().count(),
        2 + 5,
        "five words, 40 bits: {}",
        words(&shown)
    );

    eventually("both laptops to connect", SOON, || {
        (connected(&a) && connected(&b)).then_some(())
    });
    let status = a.json(&["status", "--json"]);
    assert_eq!(status["paired"], true);
    assert_eq!(status["partner"], "Sam");

    // A proposal travels; the acceptance travels back and makes it active on both.
    let id = propose(&a, "Check-in", "A quick check-in text once a day");
    wait_status(&b, &id, "proposed");
    b.ok(&["agree", "accept", &id]);
    wait_status(&a, &id, "active");
    wait_status(&b, &id, "active");

    // A decline travels too.
    let other = propose(&b, "Dinner", "Phones away at dinner");
    wait_status(&a, &other, "proposed");
    a.ok(&["agree", "decline", &other]);
    wait_status(&b, &other, "declined");

    // `haven partner` on both sides.
    let info = eventually("nothing waiting", SOON, || {
        let p = a.json(&["partner", "--json"]);
        (p["waiting"] == 0).then_some(p)
    });
    assert_eq!(info["paired"], true);
    assert_eq!(info["name"], "Sam");
    assert_eq!(info["connected"], true);
    assert!(info["last_synced"].is_string());
    assert_eq!(
        info["safety_words"]
            .as_str()
            .map(|w| format!("Safety words: {w}")),
        Some(words(&shown))
    );
    let doctor = a.ok(&["doctor"]);
    assert!(
        doctor.contains("advertising and browsing on eth0"),
        "{doctor}"
    );
    assert!(doctor.contains("eth0 up with multicast"), "{doctor}");
    assert!(doctor.contains("connected to Sam at 10.88.0.2"), "{doctor}");
    let text = b.ok(&["partner"]);
    assert!(
        text.contains("Maya") && text.contains("connected    yes"),
        "{text}"
    );
    // Every session switches to post-quantum keys before it syncs.
    assert_eq!(info["post_quantum"], true, "{info}");
    assert!(
        text.contains("session      post-quantum (ML-KEM-768 and X25519)"),
        "{text}"
    );
    // The first session after pairing named no epoch; the next one does, from its first
    // byte: Maya's restart makes a new session.
    assert!(log_of(&a).contains("handshake=\"X25519 and the pairing's key\""));
    a.ok(&["daemon", "stop"]);
    a.ok(&["unlock"]);
    eventually("a post-quantum handshake after the restart", SOON, || {
        (log_of(&a).contains("handshake=\"post-quantum epoch\"")
            && a.json(&["partner", "--json"])["post_quantum"] == true)
            .then_some(())
    });

    // The session brief lists the active agreement as in force, the declined one apart.
    let brief = a.ok(&["export", "--since", "1d", "--format", "md"]);
    let (in_force, said_no) = brief
        .split_once("## Declined or withdrawn in this period")
        .expect("a section for the no's");
    assert!(
        in_force.contains("A quick check-in text once a day"),
        "{brief}"
    );
    assert!(!in_force.contains("Phones away at dinner"), "{brief}");
    assert!(
        said_no.contains("- **Dinner** (declined): Phones away at dinner"),
        "{brief}"
    );

    // Nothing of Maya's journal reached Sam's laptop: not its disk or log, not its couple
    // document (everything Sam ever received was merged into it), not its journal.
    assert_eq!(
        b.json(&["journal", "list", "--json"])
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    b.ok(&["daemon", "stop"]);
    assert_eq!(
        Home::grep(b.tmp.path(), CANARY),
        Vec::<std::path::PathBuf>::new()
    );
    let mut home = b.open_directly();
    // Uncompressed, so a string anywhere in the history would show as bytes.
    let received = home.couple.automerge_mut().save_nocompress();
    assert!(!received
        .windows(CANARY.len())
        .any(|w| w == CANARY.as_bytes()));
    assert!(received
        .windows(b"A quick check-in".len())
        .any(|w| w == b"A quick check-in"));
    // And none of it in plaintext on Maya's disk either.
    assert_eq!(
        Home::grep(a.tmp.path(), CANARY),
        Vec::<std::path::PathBuf>::new()
    );
}

#[test]
fn a_wrong_code_fails_on_both_sides_burns_the_code_and_pairing_twice_is_refused() {
    let lan = Lan::new(2);
    let a = lan.laptop(0, "Maya");
    let b = lan.laptop(1, "Sam");

    let (host, code) = show_code(&a);
    let mut parts: Vec<&str> = code.split('-').collect();
    parts[2] = if parts[2] == "acorn" {
        "amber"
    } else {
        "acorn"
    };
    let wrong = parts.join("-");
    let err = b.fails(&["pair", &wrong], 1);
    assert!(err.contains("did not match"), "{err}");
    let shown = haven_tests::Out::from(host.wait_with_output().expect("wait"));
    haven_tests::assert_one_error(&shown, 1, "haven pair with a wrong code typed");
    assert!(shown.stderr.contains("did not match"), "{}", shown.stderr);

    // The code is spent: typing it right afterwards finds nobody.
    let err = b.fails(&["pair", &code], 1);
    assert!(err.contains("no laptop"), "{err}");
    assert_eq!(a.json(&["partner", "--json"])["paired"], false);
    assert_eq!(b.json(&["partner", "--json"])["paired"], false);

    // A malformed code never reaches the network.
    let err = b.fails(&["pair", "7-harbor"], 1);
    assert!(
        err.contains("is not a code (it looks like 7-harbor-violet)"),
        "{err}"
    );

    pair(&a, &b);
    let err = a.fails(&["pair"], 1);
    assert!(
        err.contains("already paired with Sam") && err.contains("haven partner unpair"),
        "{err}"
    );
    let err = b.fails(&["pair", "5-acorn-amber"], 1);
    assert!(err.contains("already paired with Maya"), "{err}");
}

#[test]
fn edits_made_apart_merge_and_a_revision_racing_an_accept_is_not_active() {
    let lan = Lan::new(2);
    let (a, b) = paired_pair(&lan);
    let id = propose(&a, "Space", "An hour alone after work");
    wait_status(&b, &id, "proposed");

    // Sam's cable is pulled; both edit.
    lan.set_link(1, false);
    a.ok(&[
        "agree",
        "revise",
        &id,
        "--text",
        "Half an hour alone after work",
    ]);
    b.ok(&["agree", "accept", &id]);
    let apart = propose(&b, "Weekends", "One free evening each weekend");
    assert_eq!(status_of(&a, &apart), None, "not there while apart");
    lan.set_link(1, true);

    let both = eventually("both laptops to converge", Duration::from_secs(60), || {
        let (x, y) = (
            a.json(&["agree", "list", "--json"]),
            b.json(&["agree", "list", "--json"]),
        );
        (x == y && x.as_array().map(Vec::len) == Some(2)).then_some(x)
    });
    let raced = both
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == id.as_str())
        .expect("the raced agreement");
    assert_ne!(
        raced["status"], "active",
        "Sam accepted the old text only: {raced}"
    );
    assert_eq!(
        raced["revisions"].as_array().map(Vec::len),
        Some(2),
        "{raced}"
    );
    assert_eq!(status_of(&a, &apart).as_deref(), Some("proposed"));
}

#[test]
fn a_restart_resumes_with_an_incremental_sync() {
    let lan = Lan::new(2);
    let (a, b) = paired_pair(&lan);
    for i in 0..40 {
        propose(
            &a,
            &format!("Agreement {i}"),
            &format!("We agree on thing number {i}, with enough words to weigh something"),
        );
    }
    eventually("Sam to have all 40", SOON, || {
        (b.json(&["agree", "list", "--json"])
            .as_array()
            .map(Vec::len)
            == Some(40))
        .then_some(())
    });
    b.ok(&["daemon", "stop"]);
    eventually("Maya to notice", SOON, || (!connected(&a)).then_some(()));
    let doctor = a.run(&["doctor"]);
    assert_ne!(doctor.code, 0);
    assert!(
        doctor.stdout.contains("Sam is not reachable"),
        "{}",
        doctor.stdout
    );
    let first: u64 = sessions_sent(&a).iter().sum();
    let before = sessions_sent(&a).len();
    let id = propose(&a, "Late", "Made while Sam was away");
    b.ok(&["unlock"]);
    wait_status(&b, &id, "proposed");
    eventually("the sync to settle", SOON, || {
        (a.json(&["partner", "--json"])["waiting"] == 0).then_some(())
    });
    a.ok(&["daemon", "stop"]);
    let after: u64 = sessions_sent(&a)[before..].iter().sum();
    assert!(
        after > 0 && after * 5 < first,
        "after the restart Maya sent {after} bytes, the first sync {first}: {:?}",
        sessions_sent(&a)
    );
}

#[test]
fn unpairing_stops_sync_at_once_on_both_sides_and_wipe_deletes_the_agreements() {
    let lan = Lan::new(2);
    let (a, b) = paired_pair(&lan);
    let id = propose(&a, "Check-in", "A text at lunch");
    wait_status(&b, &id, "proposed");

    let out = a.ok(&["partner", "unpair", "--wipe"]);
    assert!(out.contains("Unpaired from Sam"), "{out}");
    assert_eq!(
        a.json(&["agree", "list", "--json"])
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    assert_eq!(a.json(&["partner", "--json"])["paired"], false);
    eventually("Sam to see the unpairing", SOON, || {
        (b.json(&["partner", "--json"])["paired"] == false).then_some(())
    });
    // Sam keeps his copy; nothing syncs any more.
    assert_eq!(status_of(&b, &id).as_deref(), Some("proposed"));
    // No connection is left between the two (seen from the network, not from either
    // daemon's word), so nothing proposed now can reach Maya.
    eventually("the connection to close", SOON, || {
        links_between(&lan, 0).is_empty().then_some(())
    });
    assert!(!connected(&a) && !connected(&b));
    let later = propose(&b, "Later", "Never reaches Maya");
    assert_eq!(status_of(&a, &later), None);
    assert!(links_between(&lan, 0).is_empty());
    let err = a.fails(&["partner", "unpair"], 3);
    assert!(err.contains("not paired"), "{err}");
}

#[test]
fn a_partner_who_was_away_learns_of_the_unpairing_when_it_calls_and_can_pair_again() {
    let lan = Lan::new(2);
    let (a, b) = paired_pair(&lan);
    b.ok(&["daemon", "stop"]);
    eventually("Maya to notice", SOON, || (!connected(&a)).then_some(()));
    a.ok(&["partner", "unpair"]);
    b.ok(&["unlock"]);
    eventually("Sam to learn of the unpairing", SOON, || {
        (b.json(&["partner", "--json"])["paired"] == false).then_some(())
    });
    assert!(log_of(&a).contains("told the former partner it was unpaired"));
    assert!(!connected(&a) && !connected(&b));
    // Both are free to pair again.
    pair(&a, &b);
    eventually("the new pairing to connect", SOON, || {
        (connected(&a) && connected(&b)).then_some(())
    });
}

#[test]
fn strangers_replays_garbage_and_bad_sync_messages_are_refused_and_sync_goes_on() {
    use std::io::Write;
    let lan = Lan::new(3);
    let (a, b) = paired_pair(&lan);
    let target = listening_address(&lan, 0, &a);
    let maya_key = a.identity().noise_public();
    // Sam's keys, as a device that stole them (or Sam's own laptop gone rogue) would have.
    // Sam's real laptop is off meanwhile: it would otherwise win back its connection.
    b.ok(&["daemon", "stop"]);
    let sam = b.open_directly();
    let sam_static = *sam.identity.noise_static();
    let psk = *sam.partner().unwrap().expect("paired").psk.bytes();
    drop(sam);

    let before = a.json(&["agree", "list", "--json"]);
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                lan.enter(2);
                // A device that was never paired, even one that knows Maya's key.
                let (_, first) = ik_first(&[7u8; 32], &maya_key, &[9u8; 32]);
                refused_silently(&target, &first, "a stranger's handshake");
                refused_silently(&target, &[0, 0], "an empty frame");
                refused_silently(&target, &[0xff, 0xff, 1, 2, 3], "a frame that never ends");
                refused_silently(&target, &[0x42; 3000], "garbage");

                // A captured handshake replayed gets no answer.
                let (mut s, mut t, first) =
                    haven_tests::rogue::session_as_sam(&target, &sam_static, &maya_key, &psk);
                refused_silently(&target, &first, "a replayed handshake");

                // A valid session that sends a malformed automerge message is dropped.
                send_message(
                    &mut s,
                    &mut t,
                    &haven_shared::wire::Message::Sync(vec![0x42, 1, 2, 3]),
                );
                read_to_close(&mut s);

                // The replay is still refused after Maya's daemon restarts: the newest
                // accepted timestamp is stored with the partner.
                a.ok(&["daemon", "stop"]);
                a.ok(&["unlock"]);
                let target = listening_address(&lan, 0, &a);
                refused_silently(&target, &first, "a replay after a restart");

                // One that vanishes in the middle of a long message changes nothing.
                let (mut s, mut t, _) = as_sam(&target, &sam_static, &maya_key, &psk);
                send_message(
                    &mut s,
                    &mut t,
                    &haven_shared::wire::Message::Hello { version: 3 },
                );
                let mut half = vec![1u8, 2];
                half.extend(std::iter::repeat_n(0x42, 20_000));
                let mut buf = vec![0u8; 65535];
                let half = haven_shared::wire::padding::pad(&half).unwrap();
                let n = t.write_message(&half, &mut buf).unwrap();
                s.write_all(&haven_shared::wire::encode_frame(&buf[..n]).unwrap())
                    .unwrap();
                drop(s);
            })
            .join()
            .unwrap();
    });
    assert_eq!(
        a.json(&["agree", "list", "--json"]),
        before,
        "nothing changed on Maya's side"
    );

    let log = log_of(&a);
    assert!(log.contains("refused a connection"), "{log}");
    assert!(log.contains("a bad sync message"), "{log}");
    // Maya's daemon is still serving, and Sam's real laptop, back on, still syncs.
    a.ok(&["status"]);
    let id = propose(&b, "After", "Still in sync");
    eventually_explained(
        SOON,
        || (status_of(&a, &id).as_deref() == Some("proposed")).then_some(()),
        || {
            format!(
                "Sam's laptop did not sync again.\nMaya's log:\n{}\nSam's log:\n{}",
                log_of(&a),
                log_of(&b)
            )
        },
    );
}

/// Established TCP connections between Maya (10.88.0.1) and Sam (10.88.0.2), seen from
/// node `i`.
fn links_between(lan: &Lan, i: usize) -> Vec<String> {
    let out = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &lan.nodes[i],
            "ss",
            "-Htn",
            "state",
            "established",
        ])
        .output()
        .expect("ss");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("10.88.0.1:") && l.contains("10.88.0.2:"))
        .map(str::to_string)
        .collect()
}

#[test]
fn restarting_both_at_once_leaves_one_connection_and_a_third_laptop_is_ignored() {
    let lan = Lan::new(3);
    let (a, b) = paired_pair(&lan);
    let c = lan.laptop(2, "Alex");
    a.ok(&["daemon", "stop"]);
    b.ok(&["daemon", "stop"]);
    // Both come back at the same moment, so both find and dial each other.
    std::thread::scope(|s| {
        s.spawn(|| a.ok(&["unlock"]));
        s.spawn(|| b.ok(&["unlock"]));
    });
    eventually("both to connect", SOON, || {
        (connected(&a) && connected(&b)).then_some(())
    });
    // The duplicate (both dialled) is closed by the initiator rule: one link remains.
    let links = eventually("the duplicate connection to close", SOON, || {
        let links = links_between(&lan, 0);
        (links.len() == 1).then_some(links)
    });
    assert_eq!(links.len(), 1, "exactly one connection: {links:?}");
    assert!(connected(&a) && connected(&b));
    // Alex's laptop, unpaired on the same LAN, is neither dialled nor connected.
    assert!(!connected(&c));
    let out = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &lan.nodes[2],
            "ss",
            "-Htn",
            "state",
            "established",
        ])
        .output()
        .expect("ss");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "",
        "Alex has no peer connection"
    );
    // And the one connection carries changes both ways.
    let id = propose(&a, "Sleep", "Lights out by midnight");
    wait_status(&b, &id, "proposed");
}

#[test]
fn a_static_address_connects_where_multicast_finds_nothing() {
    let lan = Lan::new(2);
    let (mut a, mut b) = paired_pair(&lan);
    a.ok(&["daemon", "stop"]);
    b.ok(&["daemon", "stop"]);
    // mDNS on loopback only: the laptops can no longer find each other; Maya listens on a
    // fixed port (the old addresses either side remembers are gone with the restart).
    for (h, listen) in [(&mut a, Some("10.88.0.1:47000")), (&mut b, None)] {
        h.env.retain(|(k, _)| k != "HAVEN_MDNS_INTERFACE");
        h.env.push(("HAVEN_MDNS_INTERFACE".into(), "lo".into()));
        if let Some(l) = listen {
            h.env.push(("HAVEN_LISTEN".into(), l.into()));
        }
    }
    a.ok(&["unlock"]);
    b.ok(&["unlock"]);
    let err = b.fails(&["partner", "address", "not-an-address"], 2);
    assert!(err.contains("HOST:PORT"), "{err}");
    let info = b.json(&["partner", "address", "10.88.0.1:47000", "--json"]);
    assert_eq!(info["addresses"], serde_json::json!(["10.88.0.1:47000"]));
    eventually("Sam to reach Maya by address", SOON, || {
        (connected(&a) && connected(&b)).then_some(())
    });
    let id = propose(&a, "Calls", "A call before bed when apart");
    wait_status(&b, &id, "proposed");
}

/// `haven partner unpair` on a full disk fails with one line and changes nothing: still
/// paired and connected, on disk and in memory, and the farewell not half-written. With
/// room again, it works and stays done across a restart.
#[test]
fn an_unpair_that_cannot_be_written_changes_nothing() {
    let lan = Lan::new(2);
    let mut a = Home::in_netns(&lan.nodes[0], "eth0");
    let disk = a.tmp.path().join("small");
    let _mount = haven_tests::SmallDisk::mount(&disk, "4m");
    a.home = disk.join("haven");
    a.ok(&["init", "--name", "Maya"]);
    a.ok(&["unlock"]);
    let b = lan.laptop(1, "Sam");
    pair(&a, &b);
    eventually("both laptops to connect", SOON, || {
        (connected(&a) && connected(&b)).then_some(())
    });
    // Fill the disk.
    let filler = disk.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        let _ = f.sync_all();
    }
    let out = a.run(&["partner", "unpair"]);
    haven_tests::assert_one_error(&out, 6, "unpair on a full disk");
    assert!(out.stderr.contains("the disk is full"), "{}", out.stderr);
    assert_eq!(a.json(&["partner", "--json"])["paired"], true);
    assert!(connected(&a), "the session went on");
    std::fs::remove_file(&filler).unwrap();
    a.ok(&["daemon", "stop"]);
    a.ok(&["unlock"]);
    assert_eq!(
        a.json(&["partner", "--json"])["paired"],
        true,
        "nothing of the failed unpair reached the disk"
    );
    a.ok(&["partner", "unpair"]);
    a.ok(&["daemon", "stop"]);
    a.ok(&["unlock"]);
    assert_eq!(a.json(&["partner", "--json"])["paired"], false);
    eventually("Sam to learn of the unpairing", SOON, || {
        (b.json(&["partner", "--json"])["paired"] == false).then_some(())
    });
}

/// Sam's laptop once had its clock a day ahead: its handshake is refused (and says so in
/// Maya's log) and not remembered, so when its clock is right again it connects at once.
/// Before, the stamp from the future was stored, and every later handshake of Sam's was
/// "stale" until real time caught up: a day without sync.
#[test]
fn a_partner_whose_clock_jumped_ahead_is_not_locked_out() {
    let lan = Lan::new(3);
    let (a, b) = paired_pair(&lan);
    b.ok(&["daemon", "stop"]);
    let sam = b.open_directly();
    let sam_static = *sam.identity.noise_static();
    let psk = *sam.partner().unwrap().expect("paired").psk.bytes();
    drop(sam);
    let maya_key = a.identity().noise_public();
    let target = listening_address(&lan, 0, &a);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            lan.enter(2);
            let a_day_ahead = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                + 24 * 3600 * 1_000_000_000;
            let (_, first) =
                haven_tests::rogue::ik_first_at(&sam_static, &maya_key, &psk, a_day_ahead);
            refused_silently(&target, &first, "a handshake from a clock a day ahead");
            // The clock set right: a handshake now is answered (before, it was refused as
            // older than the day-ahead stamp Maya had kept).
            let (mut s, mut t, _) = as_sam(&target, &sam_static, &maya_key, &psk);
            send_message(
                &mut s,
                &mut t,
                &haven_shared::wire::Message::Hello { version: 3 },
            );
        });
    });
    assert!(
        log_of(&a).contains("clock is more than 10 minutes ahead"),
        "{}",
        log_of(&a)
    );
    b.ok(&["unlock"]);
    eventually_explained(
        SOON,
        || (connected(&a) && connected(&b)).then_some(()),
        || {
            format!(
                "Sam, its clock right again, was locked out:\n{}",
                log_of(&a)
            )
        },
    );
}

/// An unpair whose wipe cannot finish (another program holds haven.db's log open, as a
/// backup tool reading it does) still leaves this laptop unpaired and says so: nothing
/// syncs on, the partner is told, and `unpair --wipe` run again deletes the copy. Before,
/// the session went on after the failed wipe, and writing the partner's last-seen time
/// put the forgotten record back.
#[test]
fn an_unpair_whose_wipe_fails_still_stops_syncing_and_the_wipe_can_be_run_again() {
    let lan = Lan::new(2);
    let (a, b) = paired_pair(&lan);
    let id = propose(&a, "Check-in", "A text at lunch");
    wait_status(&b, &id, "proposed");
    let reader = rusqlite::Connection::open(a.home.join("haven.db")).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let rows: i64 = reader
        .query_row("SELECT count(*) FROM chunks", [], |r| r.get(0))
        .unwrap();
    assert!(rows > 0);
    let out = a.run(&["partner", "unpair", "--wipe"]);
    haven_tests::assert_one_error(&out, 6, "a wipe that cannot finish");
    assert!(
        out.stderr.starts_with(
            "error: unpaired from Sam, but this laptop's copy of the agreements is not deleted yet"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("`haven partner unpair --wipe` again"),
        "{}",
        out.stderr
    );
    reader.execute_batch("ROLLBACK").unwrap();
    drop(reader);
    assert_eq!(a.json(&["partner", "--json"])["paired"], false);
    // No connection is left between the two (seen from the network), and Sam was told.
    eventually("the connection to close", SOON, || {
        links_between(&lan, 0).is_empty().then_some(())
    });
    eventually("Sam to see the unpairing", SOON, || {
        (b.json(&["partner", "--json"])["paired"] == false).then_some(())
    });
    let out = a.ok(&["partner", "unpair", "--wipe"]);
    assert_eq!(out, "This laptop's copy of the agreements was deleted.\n");
    assert_eq!(status_of(&a, &id), None);
    // On disk too.
    a.ok(&["daemon", "stop"]);
    a.ok(&["unlock"]);
    assert_eq!(a.json(&["partner", "--json"])["paired"], false);
    assert_eq!(status_of(&a, &id), None);
    let err = a.fails(&["partner", "unpair"], 3);
    assert!(err.contains("not paired"), "{err}");
}

/// `haven partner` says "in sync" only when the partner's copy holds exactly the changes
/// this one does, and shows a fingerprint both laptops share then; a change made while the
/// partner is away moves the fingerprint and the answer is "not known" until they are back.
#[test]
fn in_sync_is_said_only_when_both_copies_hold_the_same_changes() {
    let lan = Lan::new(2);
    let (a, b) = paired_pair(&lan);
    let id = propose(&a, "Check-in", "A quick check-in text once a day");
    wait_status(&b, &id, "proposed");
    let both_in_sync = |a: &Home, b: &Home| {
        let (pa, pb) = (
            a.json(&["partner", "--json"]),
            b.json(&["partner", "--json"]),
        );
        (pa["in_sync"] == true && pb["in_sync"] == true && pa["heads"] == pb["heads"]).then_some(pa)
    };
    let first = eventually("both laptops to say in sync", SOON, || both_in_sync(&a, &b));
    let heads = first["heads"].as_str().expect("heads").to_string();
    assert_eq!(first["partner_heads"], first["heads"]);
    assert!(
        a.ok(&["partner"]).contains(&format!(
            "in sync      yes: {heads} here and on Sam's laptop\n"
        )),
        "{}",
        a.ok(&["partner"])
    );

    b.ok(&["daemon", "stop"]);
    eventually("Maya to notice", SOON, || (!connected(&a)).then_some(()));
    let late = propose(&a, "Late", "Made while Sam was away");
    let apart = a.json(&["partner", "--json"]);
    assert_eq!(apart["in_sync"], false, "{apart}");
    assert_ne!(
        apart["heads"], first["heads"],
        "a change moves the fingerprint"
    );
    assert!(apart["waiting"].as_u64() >= Some(1), "{apart}");
    assert!(apart.get("partner_heads").is_none(), "{apart}");
    assert!(a
        .ok(&["partner"])
        .contains("in sync      not known while not connected ("));

    b.ok(&["unlock"]);
    wait_status(&b, &late, "proposed");
    let again = eventually("both laptops in sync again", SOON, || both_in_sync(&a, &b));
    assert_eq!(again["heads"], apart["heads"]);
}
