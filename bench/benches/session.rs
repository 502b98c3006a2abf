//! The partner session's handshake with and without the post-quantum exchange (issue 23's
//! target: under 10 ms more). Both sides run in one process, in memory: what is measured
//! is the CPU each laptop spends, not the network's round trip (one more, for the
//! exchange).

use criterion::{criterion_group, criterion_main, Criterion};
use haven_shared::crypto::pq;
use haven_shared::wire::cookie;

const PARAMS: &str = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";

fn keypair() -> ([u8; 32], [u8; 32]) {
    let kp = snow::Builder::new(PARAMS.parse().expect("params"))
        .generate_keypair()
        .expect("keypair");
    (
        kp.private.try_into().expect("32"),
        kp.public.try_into().expect("32"),
    )
}

/// One IKpsk2 handshake, both sides; the handshake hash.
fn handshake(sam: &[u8; 32], maya: &[u8; 32], maya_pub: &[u8; 32], psk: &[u8; 32]) -> Vec<u8> {
    let mut i = snow::Builder::new(PARAMS.parse().expect("params"))
        .prologue(b"haven/1 transport")
        .and_then(|b| b.psk(2, psk))
        .and_then(|b| b.local_private_key(sam))
        .and_then(|b| b.remote_public_key(maya_pub))
        .and_then(|b| b.build_initiator())
        .expect("initiator");
    let mut r = snow::Builder::new(PARAMS.parse().expect("params"))
        .prologue(b"haven/1 transport")
        .and_then(|b| b.psk(2, psk))
        .and_then(|b| b.local_private_key(maya))
        .and_then(|b| b.build_responder())
        .expect("responder");
    let (mut a, mut b) = (vec![0u8; 1024], vec![0u8; 1024]);
    let n = i.write_message(&[0; 14], &mut a).expect("first");
    r.read_message(&a[..n], &mut b).expect("read");
    let n = r.write_message(&[], &mut a).expect("second");
    i.read_message(&a[..n], &mut b).expect("read");
    i.get_handshake_hash().to_vec()
}

fn bench(c: &mut Criterion) {
    let (sam, _) = keypair();
    let (maya, maya_pub) = keypair();
    let psk = [7u8; 32];
    let mut group = c.benchmark_group("session opening");
    group.bench_function("X25519 handshake (IKpsk2)", |b| {
        b.iter(|| handshake(&sam, &maya, &maya_pub, &psk))
    });
    group.bench_function("handshake + ML-KEM-768 exchange + switch + epoch", |b| {
        b.iter(|| {
            let secret = [9u8; 32];
            let mixed = pq::handshake_psk(&psk, &secret);
            let hash = handshake(&sam, &maya, &maya_pub, &mixed);
            let (offer, key) = pq::offer();
            let (ct, theirs) = pq::answer(&key).expect("answer");
            let ours = pq::finish(&offer, &ct).expect("finish");
            let keys = pq::transport_keys(&ours, &hash);
            let next = pq::next_secret(&secret, &theirs);
            (keys, next, pq::epoch_of(&ours))
        })
    });
    // What the port's guard costs a first frame before any Diffie–Hellman (`wire::cookie`).
    let message = [5u8; 110];
    group.bench_function("first frame under load: mac1 checked, cookie sealed", |b| {
        b.iter(|| {
            let frame = cookie::first_frame(&maya_pub, &message, None);
            let first = cookie::FirstFrame::split(&frame, 110).expect("split");
            let ok = first.mac1_ok(&maya_pub);
            let cookie = cookie::cookie_of(&[3; 32], &"10.88.0.2".parse().expect("ip"));
            (
                ok,
                cookie::seal_reply(&maya_pub, &first.mac1, &cookie, [1; 24]),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
