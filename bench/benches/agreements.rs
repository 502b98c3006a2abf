//! Consent v2 at 1,000 agreements: what signed items cost in bytes and in verification.
//!
//! Run: `cargo bench -p haven-bench --bench agreements`. Each agreement is proposed by Maya
//! (a signed revision and a signed consent) and accepted by Sam (a signed consent).
//! Printed before the timings: the couple document's size per agreement, on disk and in
//! memory.

use criterion::{criterion_group, criterion_main, Criterion};
use haven_shared::documents::CoupleDoc;
use haven_shared::ed25519_dalek::SigningKey;
use haven_shared::model::agreement::{assemble, propose, Keyring, Verb};
use haven_shared::model::new_id;

fn bench(c: &mut Criterion) {
    let (maya, sam) = (
        SigningKey::from_bytes(&[1; 32]),
        SigningKey::from_bytes(&[2; 32]),
    );
    let ring = || {
        Keyring::new()
            .with("Maya", maya.verifying_key())
            .with("Sam", sam.verifying_key())
    };
    let mut doc = CoupleDoc::new();
    let now = haven_shared::when::now();
    for n in 0..1_000u64 {
        let id = new_id();
        let text = format!("Agreement {n}: a quick check-in text once a day, even on busy days.");
        for item in propose(&maya, &id, "Check-in", &text, None, n + 1, now) {
            doc.put_item(&item).expect("put");
        }
        let book = assemble(&doc.sources().expect("sources"), &ring());
        let consent = book.agreements[&id]
            .respond(&sam, Verb::Consent, None, n + 1, now)
            .expect("accept");
        doc.put_item(&consent).expect("put");
        doc.automerge_mut().commit();
    }
    let bytes = doc.automerge_mut().save().len();
    println!(
        "couple document with 1,000 accepted agreements: {bytes} bytes compressed, {} per agreement",
        bytes / 1_000
    );
    // What the document holds in memory once loaded: the growth of the resident set while
    // ten copies of it are loaded side by side, over ten.
    let saved = doc.automerge_mut().save();
    let before = haven_bench::resident_bytes();
    let copies: Vec<CoupleDoc> = (0..10)
        .map(|_| CoupleDoc::from_automerge(automerge::AutoCommit::load(&saved).expect("load")))
        .collect();
    let held = haven_bench::resident_bytes().saturating_sub(before) / 10;
    println!(
        "couple document with 1,000 accepted agreements in memory: {held} bytes, {} per agreement",
        held / 1_000
    );
    drop(copies);
    let sources = doc.sources().expect("sources");
    c.bench_function("read the couple document's items (1,000 agreements)", |b| {
        b.iter(|| doc.sources().expect("sources"))
    });
    c.bench_function(
        "assemble 1,000 agreements, signatures not yet checked",
        |b| b.iter(|| assemble(&sources, &ring())),
    );
    let warm = ring();
    assemble(&sources, &warm);
    c.bench_function(
        "assemble 1,000 agreements, signatures checked before",
        |b| b.iter(|| assemble(&sources, &warm)),
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
