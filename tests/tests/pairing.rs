//! Pairing against a LAN with a stranger on it, and a `haven pair` that is walked away from.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use haven_tests::couple::{log_of, SOON};
use haven_tests::lan::{eventually_explained, pair, show_code, Lan};

/// Ctrl-C on the laptop showing the code withdraws the code at once: before, it stayed
/// valid for its five minutes with nobody watching, and the next to type it paired.
#[test]
fn a_cancelled_haven_pair_withdraws_its_code_at_once() {
    let lan = Lan::new(2);
    let a = lan.laptop(0, "Maya");
    let b = lan.laptop(1, "Sam");
    let (mut shown, code) = show_code(&a);
    let pid = i32::try_from(shown.id()).unwrap();
    // SAFETY: a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    assert!(!shown.wait().unwrap().success());
    eventually_explained(
        SOON,
        || {
            log_of(&a)
                .contains("pairing cancelled: the code is withdrawn")
                .then_some(())
        },
        || format!("the code was not withdrawn:\n{}", log_of(&a)),
    );
    let out = b.run(&["pair", &code]);
    assert_eq!(
        out.code, 1,
        "the withdrawn code still paired: {}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("no laptop on this network shows a code")
            || out.stderr.contains("cannot reach the laptop"),
        "{}",
        out.stderr
    );
    assert_eq!(a.json(&["partner", "--json"])["paired"], false);
    assert_eq!(b.json(&["partner", "--json"])["paired"], false);
    // And a new code works.
    pair(&a, &b);
}

/// A stranger announces all 99 nameplates, each pointing at a port that hangs up. The
/// laptop showing the real code is renamed by mDNS (`N (2)`), and the joiner tries each
/// laptop with the nameplate in turn. Before, the joiner took the first one it heard (only
/// the exact name), the stranger's, and pairing failed every time.
#[test]
fn a_stranger_announcing_every_nameplate_does_not_stop_pairing() {
    let lan = Lan::new(3);
    let a = lan.laptop(0, "Maya");
    let b = lan.laptop(1, "Sam");
    let done = AtomicBool::new(false);
    let calls = AtomicUsize::new(0);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        let (lan, done, calls) = (&lan, &done, &calls);
        scope.spawn(move || {
            lan.enter(2);
            let listener = std::net::TcpListener::bind((lan.address(2).as_str(), 0)).unwrap();
            let port = listener.local_addr().unwrap().port();
            let mdns = mdns_sd::ServiceDaemon::new().unwrap();
            let squats = (1..=99)
                .map(|nameplate: u32| {
                    mdns_sd::ServiceInfo::new(
                        "_haven-pair._tcp.local.",
                        &nameplate.to_string(),
                        "squatter.local.",
                        lan.address(2),
                        port,
                        &[("v", "1")][..],
                    )
                    .unwrap()
                })
                .collect();
            // Announced (after mdns-sd's probing) before the real code is shown.
            haven_tests::lan::register_announced(&mdns, squats, Duration::from_secs(20));
            ready_tx.send(()).unwrap();
            listener.set_nonblocking(true).unwrap();
            while !done.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        calls.fetch_add(1, Ordering::SeqCst);
                        drop(stream);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
            let _ = mdns.shutdown();
        });
        ready_rx.recv().unwrap();
        // The stranger stops also when pairing fails (a panic here).
        struct Stop<'a>(&'a AtomicBool);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let stop = Stop(done);
        let (host, joined) = pair(&a, &b);
        drop(stop);
        assert!(host.contains("Paired with Sam"), "{host}");
        assert!(joined.contains("Paired with Maya"), "{joined}");
    });
    eprintln!(
        "the joiner called the stranger {} times",
        calls.load(Ordering::SeqCst)
    );
}
