//! Criterion benchmarks of the storage core, on the 10-year journal.
//!
//! Run: `cargo bench -p haven-bench`. The whole-process figures (CLI round trips, daemon
//! load, memory, disk, jrnl side by side) come from `bench/run.sh`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use haven_shared::crypto::seal::{self, ChunkHeader, ChunkKind};
use haven_shared::documents::JournalDoc;
use haven_shared::store::{DocLog, DocName, Meta, Store};

fn bench(c: &mut Criterion) {
    let id = age::x25519::Identity::generate();
    let recipient = id.to_public();
    let header = ChunkHeader {
        doc_id: [1; 16],
        seq: 7,
        kind: ChunkKind::Changes,
    };
    let chunk = vec![b'x'; 600];
    c.bench_function("seal a 600-byte chunk", |b| {
        b.iter(|| seal::seal(&recipient, header, &chunk))
    });

    let dir = tempfile::tempdir().expect("tmp");
    let meta = Meta {
        journal_id: [1; 16],
        couple_id: [2; 16],
        recipient: recipient.to_string(),
    };
    let mut store = Store::create(
        &dir.path().join("haven.db"),
        &meta,
        haven_shared::crypto::RowKey::derive(&id),
    )
    .expect("store");
    let mut journal = JournalDoc::new();
    let entries = haven_bench::journal(10_000, haven_shared::when::now());
    for e in &entries {
        journal.put_entry(e).expect("put");
    }
    let mut log = DocLog::create(
        &mut store,
        &recipient,
        DocName::Journal,
        [1; 16],
        journal.automerge_mut(),
    )
    .expect("log");

    let mut group = c.benchmark_group("10,000-entry journal");
    group.sample_size(10);
    group.bench_function("load (decrypt + automerge load + read all entries)", |b| {
        b.iter(|| {
            let (_, doc) = DocLog::load(&store, &id, DocName::Journal, [1; 16]).expect("load");
            JournalDoc::from_automerge(doc)
                .entries()
                .expect("entries")
                .0
                .len()
        })
    });
    let mut i = 0;
    group.bench_function(
        "write one entry durably (put + seal + SQLite commit)",
        |b| {
            b.iter_batched(
                || {
                    i += 1;
                    let mut e = entries[i % entries.len()].clone();
                    e.id = format!("new{i}");
                    e
                },
                |e| {
                    journal.put_entry(&e).expect("put");
                    log.persist(&mut store, &recipient, journal.automerge_mut())
                        .expect("persist");
                },
                BatchSize::SmallInput,
            )
        },
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
