//! The partner's own device, running modified software (DESIGN.md, "Who Haven defends
//! against"): it holds valid keys, writes any automerge change into its couple document and
//! sends any bytes inside a valid session. After each attack this laptop shows the truth,
//! exports the truth, keeps serving, and the honest partner syncs again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use haven_shared::wire::Message;
use haven_tests::couple::{log_of, paired_pair, propose, status_of, wait_status, SOON};
use haven_tests::lan::{eventually_explained, Lan};
use haven_tests::rogue::{as_sam, listening_address, read_to_close, send_message};
use haven_tests::Home;

/// Sam's keys, read from his stopped home: what a rogue build on his laptop holds.
struct SamKeys {
    noise_static: [u8; 32],
    psk: [u8; 32],
}

fn sam_keys(b: &Home) -> SamKeys {
    b.ok(&["daemon", "stop"]);
    let sam = b.open_directly();
    SamKeys {
        noise_static: *sam.identity.noise_static(),
        psk: *sam.partner().unwrap().expect("paired").psk.bytes(),
    }
}

/// Sends `messages` to Maya in one session as Sam, and waits for Maya to close it.
fn inside_a_session(lan: &Lan, a: &Home, keys: &SamKeys, messages: &[Message]) {
    let target = listening_address(lan, 0, a);
    let maya_key = a.identity().noise_public();
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                lan.enter(2);
                let (mut s, mut t, _) = as_sam(&target, &keys.noise_static, &maya_key, &keys.psk);
                send_message(&mut s, &mut t, &Message::Hello { version: 1 });
                for m in messages {
                    send_message(&mut s, &mut t, m);
                }
                read_to_close(&mut s);
            })
            .join()
            .unwrap();
    });
}

/// Maya's laptop still answers, lists, stops and starts, and Sam's honest laptop syncs.
fn maya_serves_and_sam_syncs_again(a: &Home, b: &Home) {
    a.ok(&["status"]);
    a.ok(&["agree", "list"]);
    let pid = a.daemon_pid().expect("Maya's daemon");
    a.ok(&["daemon", "stop"]);
    haven_tests::wait_gone(pid);
    a.ok(&["unlock"]);
    b.ok(&["unlock"]);
    let id = propose(b, "After", "Still in sync");
    eventually_explained(
        SOON,
        || (status_of(a, &id).as_deref() == Some("proposed")).then_some(()),
        || {
            format!(
                "Sam's laptop did not sync again.\nMaya's log:\n{}",
                log_of(a)
            )
        },
    );
}

/// The review's 10-byte message: one "have" whose Bloom filter has 1 entry and 0 bits.
/// automerge accepts it and panics on the next message it generates; the core died with it,
/// and Sam would send it again after every restart.
#[test]
fn a_bloom_filter_with_no_bits_is_refused_and_the_daemon_keeps_serving() {
    let lan = Lan::new(3);
    let (a, b) = paired_pair(&lan);
    let id = propose(&a, "Check-in", "A quick check-in text once a day");
    wait_status(&b, &id, "proposed");
    let keys = sam_keys(&b);
    let bloom = vec![0x42, 0, 0, 1, 0, 3, 1, 0, 7, 0];
    inside_a_session(&lan, &a, &keys, &[Message::Sync(bloom)]);
    let log = log_of(&a);
    assert!(log.contains("a Bloom filter with"), "{log}");
    maya_serves_and_sam_syncs_again(&a, &b);
}
