//! Post-quantum epochs against what happens to real couples and what an attacker on the
//! path can do: replies cut before the dialler kept them, a laptop restored from a
//! backup. Whatever epochs each side holds, the two laptops connect again, and their
//! session is post-quantum before anything syncs.
#![allow(clippy::unwrap_used)]

use haven_shared::crypto::pq;
use haven_shared::wire::padding::Chunk;
use haven_shared::wire::Message;
use haven_tests::couple::{log_of, paired_pair};
use haven_tests::lan::{eventually_explained, Lan};
use haven_tests::rogue::{
    finish_handshake, ik_first_with, listening_address, next_chunk, send_message,
};
use haven_tests::Home;
use std::time::Duration;

/// Long enough for both dialers to try the other choice of epoch.
const RECONNECT: Duration = Duration::from_secs(60);

fn both_post_quantum(a: &Home, b: &Home) {
    eventually_explained(
        RECONNECT,
        || {
            [a, b]
                .iter()
                .all(|h| {
                    let p = h.json(&["partner", "--json"]);
                    p["connected"] == true && p["post_quantum"] == true
                })
                .then_some(())
        },
        || format!("Maya:\n{}\nSam:\n{}", log_of(a), log_of(b)),
    );
}

#[test]
fn replies_cut_three_times_do_not_lock_the_couple_out() {
    let lan = Lan::new(3);
    let (a, b) = paired_pair(&lan);
    both_post_quantum(&a, &b);
    // Sam's keys and newest epoch, as his laptop holds them.
    b.ok(&["daemon", "stop"]);
    let (sam_static, psk, epoch, secret) = {
        let home = b.open_directly();
        let p = home.partner().unwrap().unwrap();
        let newest = p.pq.as_ref().and_then(|q| q.newest()).unwrap().clone();
        (
            *home.identity.noise_static(),
            *p.psk.bytes(),
            newest.epoch,
            *newest.secret.bytes(),
        )
    };
    let target = listening_address(&lan, 0, &a);
    let maya_key = a.identity().noise_public();
    // Someone on the path lets Sam's offer through and cuts Maya's reply, three times:
    // Maya keeps three epochs Sam never got, pushing out the one they share.
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                lan.enter(2);
                for _ in 0..3 {
                    let now = haven_tests::rogue::now_nanos();
                    let mixed = pq::handshake_psk(&psk, &secret);
                    let (hs, first) =
                        ik_first_with(&sam_static, &maya_key, &mixed, now, Some(epoch));
                    let (mut s, mut t, _, _) = finish_handshake(&target, hs, first);
                    send_message(&mut s, &mut t, &Message::Hello { version: 3 });
                    let (_, key) = pq::offer();
                    send_message(&mut s, &mut t, &Message::PqOffer { epoch, key });
                    // Maya's hello, her reply, her switch: then the line goes dead.
                    let mut padded = false;
                    loop {
                        match next_chunk(&mut s, &mut t, padded) {
                            Chunk::PqSwitch => break,
                            Chunk::Data(_) => padded = true,
                            Chunk::Rekey => {}
                        }
                    }
                    drop(s);
                }
            })
            .join()
            .unwrap();
    });
    b.ok(&["unlock"]);
    both_post_quantum(&a, &b);
}

#[test]
fn a_laptop_restored_from_a_backup_connects_again() {
    let lan = Lan::new(2);
    let (a, b) = paired_pair(&lan);
    both_post_quantum(&a, &b);
    let file = a.tmp.path().join("maya.backup");
    a.ok(&["backup", "-o", file.to_str().unwrap()]);
    // Four more sessions: each makes a new epoch on both laptops.
    for _ in 0..4 {
        let before = log_of(&a).matches("connected to the partner").count();
        b.ok(&["daemon", "stop"]);
        b.ok(&["unlock"]);
        eventually_explained(
            RECONNECT,
            || (log_of(&a).matches("connected to the partner").count() > before).then_some(()),
            || log_of(&a),
        );
        both_post_quantum(&a, &b);
    }
    // Maya's laptop loses its data and restores the backup: its epochs are four old.
    a.ok(&["daemon", "stop"]);
    for f in ["haven.db", "haven.db-wal", "haven.db-shm", "identity.age"] {
        let _ = std::fs::remove_file(a.home.join(f));
    }
    a.ok(&["restore", file.to_str().unwrap()]);
    a.ok(&["doctor", "--accept-older"]);
    both_post_quantum(&a, &b);
}
