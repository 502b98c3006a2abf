//! A stranger on the LAN who copies the partner's name into advertisements of its own, and
//! one who relays a handshake it cannot finish: neither stalls discovery nor ends a live
//! session.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use haven_tests::couple::{connected, log_of, paired_pair, propose, wait_status};
use haven_tests::lan::{eventually_explained, Lan};
use haven_tests::rogue::{ik_first, listening_address, read_to_close};
use haven_tests::Home;

const SERVICE: &str = "_haven._tcp.local.";

/// The instance names heard on the LAN, until `want` different ones were heard.
fn hear_names(mdns: &mdns_sd::ServiceDaemon, want: usize) -> BTreeSet<String> {
    let events = mdns.browse(SERVICE).unwrap();
    let mut names = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while names.len() < want && Instant::now() < deadline {
        if let Ok(mdns_sd::ServiceEvent::ServiceResolved(info)) =
            events.recv_timeout(Duration::from_millis(200))
        {
            if let Some(name) = info.get_fullname().strip_suffix(&format!(".{SERVICE}")) {
                names.insert(name.to_string());
            }
        }
    }
    let _ = mdns.stop_browse(SERVICE);
    assert_eq!(names.len(), want, "the stranger heard {names:?}");
    names
}

/// The stranger announces both laptops' current names first, each with thirty addresses on
/// the LAN where nobody answers. When the laptops come back, mDNS renames their own
/// advertisements (`NAME (2)`), so the plain names point only at the stranger's addresses.
/// Before: each laptop dialled those one by one, 3 s each, and never recognised the
/// renamed partner, so they stayed apart for the rest of the 15-minute window.
#[test]
fn a_spoofed_advertisement_of_the_partners_name_stalls_nothing() {
    let lan = Lan::new(3);
    let (a, b) = paired_pair(&lan);
    let (to_main, from_stranger) = mpsc::channel::<&str>();
    let (to_stranger, from_main) = mpsc::channel::<&str>();
    std::thread::scope(|scope| {
        // Dropped if this side fails, which ends the stranger's wait too.
        let to_stranger = to_stranger;
        let lan = &lan;
        scope.spawn(move || {
            lan.enter(2);
            let mdns = mdns_sd::ServiceDaemon::new().unwrap();
            let names = hear_names(&mdns, 2);
            to_main.send("heard").unwrap();
            assert_eq!(from_main.recv().unwrap(), "both off");
            let blackholes: Vec<String> = (50..80).map(|i| format!("10.88.0.{i}")).collect();
            let spoofs = names
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    mdns_sd::ServiceInfo::new(
                        SERVICE,
                        name,
                        &format!("stranger{i}.local."),
                        blackholes.join(","),
                        40_000 + i as u16,
                        &[("v", "1")][..],
                    )
                    .unwrap()
                })
                .collect();
            // Announced before the laptops come back.
            haven_tests::lan::register_announced(&mdns, spoofs, Duration::from_secs(20));
            to_main.send("spoofed").unwrap();
            assert_eq!(from_main.recv().unwrap(), "done");
            let _ = mdns.shutdown();
        });

        assert_eq!(from_stranger.recv().unwrap(), "heard");
        a.ok(&["daemon", "stop"]);
        b.ok(&["daemon", "stop"]);
        to_stranger.send("both off").unwrap();
        assert_eq!(from_stranger.recv().unwrap(), "spoofed");
        // Back on, each on a new port: the last address each knows of the other is stale,
        // so only mDNS can bring them together.
        a.ok(&["unlock"]);
        b.ok(&["unlock"]);
        eventually_explained(
            Duration::from_secs(30),
            || (connected(&a) && connected(&b)).then_some(()),
            || {
                format!(
                    "the laptops did not find each other past the spoofed names.\nMaya:\n{}\nSam:\n{}",
                    log_of(&a),
                    log_of(&b)
                )
            },
        );
        to_stranger.send("done").unwrap();
    });
    let renamed = |h: &Home| log_of(h).contains("mDNS renamed our advertisement");
    assert!(
        renamed(&a) || renamed(&b),
        "the stranger's names did not collide with the laptops' (the test proved nothing):\n{}",
        log_of(&a)
    );
}

/// Someone who makes the partner dial it (a spoofed advertisement) can pass the partner's
/// fresh first handshake message on, read the answer, and fall silent. Before, that
/// answer alone made a session, which replaced the live one by the duplicate rule; now a
/// session needs the caller's first transport message, which only the partner can write.
#[test]
fn a_handshake_relayed_by_someone_else_does_not_end_the_live_session() {
    let lan = Lan::new(3);
    let (a, b) = paired_pair(&lan);
    // Both laptops' keys, as the first message of either could be relayed.
    b.ok(&["daemon", "stop"]);
    let psk = *b
        .open_directly()
        .partner()
        .unwrap()
        .expect("paired")
        .psk
        .bytes();
    b.ok(&["unlock"]);
    eventually_explained(
        Duration::from_secs(20),
        || (connected(&a) && connected(&b)).then_some(()),
        || format!("no reconnection:\n{}", log_of(&b)),
    );
    let (maya, sam) = (a.identity(), b.identity());
    let ends = |h: &Home| {
        log_of(h)
            .lines()
            .filter(|l| {
                l.contains("disconnected from the partner") || l.contains("dropped the connection")
            })
            .count()
    };
    let ends_before = (ends(&a), ends(&b));
    let targets = [
        (
            listening_address(&lan, 0, &a),
            *sam.noise_static(),
            maya.noise_public(),
        ),
        (
            listening_address(&lan, 1, &b),
            *maya.noise_static(),
            sam.noise_public(),
        ),
    ];
    std::thread::scope(|scope| {
        scope.spawn(|| {
            lan.enter(2);
            for (target, from, to) in &targets {
                use std::io::Write;
                let (_, first) = ik_first(from, to, &psk);
                let mut s = haven_tests::rogue::connect(target);
                s.write_all(&first).unwrap();
                // The answer comes (the handshake is valid), then nothing more from us.
                let answer = read_to_close(&mut s);
                assert!(
                    !answer.is_empty(),
                    "{target} did not answer a valid handshake"
                );
            }
        });
    });
    let refused = |h: &Home| log_of(h).contains("sent no message after it");
    eventually_explained(
        Duration::from_secs(20),
        || (refused(&a) && refused(&b)).then_some(()),
        || {
            format!(
                "the silent handshakes were not refused.\nMaya:\n{}\nSam:\n{}",
                log_of(&a),
                log_of(&b)
            )
        },
    );
    assert_eq!(
        (ends(&a), ends(&b)),
        ends_before,
        "a live session ended.\nMaya:\n{}\nSam:\n{}",
        log_of(&a),
        log_of(&b)
    );
    assert!(connected(&a) && connected(&b));
    let id = propose(&a, "Still here", "The session never dropped");
    wait_status(&b, &id, "proposed");
}
