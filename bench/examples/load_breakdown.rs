//! Where the time of an unlock goes: `cargo run --release -p haven-bench --example
//! load_breakdown -- HOME PASSPHRASE_FILE`.
#![allow(clippy::unwrap_used)]

use haven_shared::documents::JournalDoc;
use haven_shared::paths::Paths;
use haven_shared::store::{DocLog, DocName, Store};
use std::time::Instant;

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
    let t = Instant::now();
    let chunks = store.chunks_since_snapshot(DocName::Journal).unwrap();
    println!(
        "read rows             {:6} ms ({} rows)",
        t.elapsed().as_millis(),
        chunks.len()
    );
    let t = Instant::now();
    let (_, doc) = DocLog::load(
        &store,
        identity.storage(),
        DocName::Journal,
        meta.journal_id,
    )
    .unwrap();
    println!("decrypt + am load     {:6} ms", t.elapsed().as_millis());
    let journal = JournalDoc::from_automerge(doc);
    let t = Instant::now();
    let (entries, _) = journal.entries().unwrap();
    println!(
        "read {} entries    {:6} ms",
        entries.len(),
        t.elapsed().as_millis()
    );
    let t = Instant::now();
    let text: usize = entries.iter().map(|e| e.search_text().len()).sum();
    println!(
        "lowercase text        {:6} ms ({text} bytes)",
        t.elapsed().as_millis()
    );
}
