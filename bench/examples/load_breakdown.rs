//! Where the time of an unlock goes: `cargo run --release -p haven-bench --example
//! load_breakdown -- HOME PASSPHRASE_FILE [held]`.
#![allow(clippy::unwrap_used)]

/// The daemon's allocator, so the figures are the daemon's; with `--features system-alloc`
/// the system's, so that heaptrack (which sees only malloc) can profile the load.
#[cfg(not(feature = "system-alloc"))]
#[global_allocator]
static ALLOCATOR: haven_shared::wiping_alloc::WipingAlloc =
    haven_shared::wiping_alloc::WipingAlloc::new();

use haven_shared::documents::JournalDoc;
use haven_shared::paths::Paths;
use haven_shared::store::{DocLog, DocName, Store};
use std::time::Instant;

/// Resident memory now, in MB.
fn rss() -> u64 {
    haven_bench::resident_bytes() / 1_000_000
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let paths = Paths::under_home(std::path::Path::new(&args[1]));
    let pass = std::fs::read_to_string(&args[2]).unwrap();
    let pass = secrecy::SecretString::from(pass.trim_end().to_string());
    let t = Instant::now();
    let identity = haven_shared::home::read_identity(&paths, &pass).unwrap();
    println!("scrypt + identity     {:6} ms", t.elapsed().as_millis());
    let mut store = Store::open(&paths.database()).unwrap();
    let meta = store.meta().unwrap();
    store
        .authenticate(identity.row_key(), identity.rows_authenticated)
        .unwrap();
    let load_journal = || {
        DocLog::load(
            &store,
            identity.storage(),
            DocName::Journal,
            meta.journal_id,
        )
        .unwrap()
        .1
    };
    if args.get(3).map(String::as_str) == Some("held") {
        // What an unlocked daemon holds: the document and its entries read out
        // (`--features system-alloc` under heaptrack: bench/RESULTS.md).
        let doc = load_journal();
        println!("document loaded, resident {} MB", rss());
        let journal = JournalDoc::from_automerge(doc);
        let (entries, _) = journal.entries().unwrap();
        println!("{} entries read, resident {} MB", entries.len(), rss());
        // Kept to the end on purpose: heaptrack's report of what was never freed is then
        // what an unlocked daemon holds, by where it was allocated.
        std::mem::forget((journal, entries));
        return;
    }
    let t = Instant::now();
    let chunks = store.chunks_since_snapshot(DocName::Journal).unwrap();
    println!(
        "read rows             {:6} ms ({} rows)",
        t.elapsed().as_millis(),
        chunks.len()
    );
    let t = Instant::now();
    let mut bytes = Vec::new();
    for c in &chunks {
        let header = haven_shared::crypto::seal::ChunkHeader {
            doc_id: meta.journal_id,
            seq: c.seq,
            kind: c.kind,
        };
        bytes.extend_from_slice(
            &haven_shared::crypto::seal::open(identity.storage(), header, &c.data).unwrap(),
        );
    }
    println!(
        "decrypt               {:6} ms ({} bytes)",
        t.elapsed().as_millis(),
        bytes.len()
    );
    let t = Instant::now();
    drop(automerge::AutoCommit::load(&bytes).unwrap());
    println!("am load (checked)     {:6} ms", t.elapsed().as_millis());
    let t = Instant::now();
    drop(
        automerge::AutoCommit::load_with_options(
            &bytes,
            automerge::LoadOptions::new().verification_mode(automerge::VerificationMode::DontCheck),
        )
        .unwrap(),
    );
    println!("am load (unchecked)   {:6} ms", t.elapsed().as_millis());
    let mut plain = automerge::AutoCommit::load(&bytes).unwrap();
    let uncompressed = plain.save_nocompress();
    drop(plain);
    let t = Instant::now();
    drop(automerge::AutoCommit::load(&uncompressed).unwrap());
    println!(
        "am load (uncompressed) {:5} ms ({} bytes)",
        t.elapsed().as_millis(),
        uncompressed.len()
    );
    let t = Instant::now();
    let doc = load_journal();
    println!(
        "decrypt + am load     {:6} ms (resident {} MB)",
        t.elapsed().as_millis(),
        rss()
    );
    let journal = JournalDoc::from_automerge(doc);
    let t = Instant::now();
    let (entries, _) = journal.entries().unwrap();
    println!(
        "read {} entries    {:6} ms (resident {} MB)",
        entries.len(),
        t.elapsed().as_millis(),
        rss()
    );
    let t = Instant::now();
    let text: usize = entries.iter().map(|e| e.search_text().len()).sum();
    println!(
        "lowercase text        {:6} ms ({text} bytes)",
        t.elapsed().as_millis()
    );
    let t = Instant::now();
    let mut words: std::collections::HashMap<Box<str>, Vec<u32>, foldhash::fast::RandomState> =
        Default::default();
    let mut mine: Vec<&str> = Vec::new();
    let texts: Vec<String> = entries.iter().map(|e| e.search_text()).collect();
    println!("lowercase again       {:6} ms", t.elapsed().as_millis());
    let t = Instant::now();
    for (slot, text) in texts.iter().enumerate() {
        mine.clear();
        mine.extend(text.split_whitespace());
        mine.sort_unstable();
        mine.dedup();
        for w in &mine {
            match words.get_mut(*w) {
                Some(v) => v.push(slot as u32),
                None => {
                    words.insert((*w).into(), vec![slot as u32]);
                }
            }
        }
    }
    let postings: usize = words.values().map(Vec::len).sum();
    println!(
        "word index            {:6} ms ({} words, {} postings, resident {} MB)",
        t.elapsed().as_millis(),
        words.len(),
        postings,
        rss()
    );
    for needle in ["river", "self-soothing", "zebra"] {
        let t = Instant::now();
        let n = texts.iter().filter(|x| x.contains(needle)).count();
        let a = t.elapsed().as_micros();
        let finder = memchr::memmem::Finder::new(needle);
        let t = Instant::now();
        let m = texts
            .iter()
            .filter(|x| finder.find(x.as_bytes()).is_some())
            .count();
        println!(
            "search {needle:14} str::contains {a:6} µs, memmem {:6} µs ({n}={m} hits)",
            t.elapsed().as_micros()
        );
    }
}
