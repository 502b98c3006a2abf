//! gen-journal: creates a Haven home holding a generated journal, and the same entries in
//! jrnl's text format, for the whole-process benchmark.
//!
//! Usage: gen-journal HOME PASSPHRASE_FILE ENTRIES JRNL_TXT_OUT
//! (`HAVEN_GEN_BODY_CHARS=N`: bodies of about N characters instead of 800)

use std::io::Write;

use haven_shared::home;
use haven_shared::paths::Paths;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        return Err("usage: gen-journal HOME PASSPHRASE_FILE ENTRIES JRNL_TXT_OUT".into());
    }
    let paths = Paths::under_home(std::path::Path::new(&args[1]));
    let pass = std::fs::read_to_string(&args[2])?;
    let pass = secrecy::SecretString::from(pass.trim_end_matches('\n').to_string());
    let n: usize = args[3].parse()?;
    home::create(&paths, "Maya", &pass)?;
    let mut open = home::open(&paths, &pass)?;
    // HAVEN_GEN_BODY_CHARS: smaller (or larger) entries than the ~800 characters default.
    let body_chars = std::env::var("HAVEN_GEN_BODY_CHARS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(800);
    let entries = haven_bench::journal_sized(n, haven_shared::when::now(), body_chars);
    let mut plaintext = 0usize;
    let mut jrnl = std::io::BufWriter::new(std::fs::File::create(&args[4])?);
    for e in &entries {
        open.journal.put_entry(e)?;
        plaintext += e.title.len() + e.body.len();
        let tags: String = e.tags.iter().map(|t| format!(" @{t}")).collect();
        writeln!(
            jrnl,
            "[{}] {}.{tags}\n{}\n",
            e.created_at.format("%Y-%m-%d %H:%M"),
            e.title,
            e.body
        )?;
    }
    // Store the generated journal as one compacted snapshot, as a long-used journal is.
    let recipient = open.identity.recipient();
    open.journal_log
        .compact(&mut open.store, &recipient, open.journal.automerge_mut())?;
    open.store.checkpoint()?;
    println!("{n} entries, {plaintext} bytes of plaintext");
    Ok(())
}
