//! Haven's files stay readable without Haven: every stored row is an age file that the
//! reference `age` CLI decrypts with `identity.age` and the passphrase (DESIGN.md,
//! "Storage and encryption at rest").
#![allow(clippy::string_slice, clippy::unwrap_used)]

use haven_tests::{Home, PASSPHRASE};
use std::process::Command;

/// Runs the reference `age -d -i identity.age` on `file`, typing the passphrase into a
/// pseudo-terminal (age reads it from the terminal only).
fn age_decrypt(h: &Home, file: &std::path::Path) -> Vec<u8> {
    let out = h.tmp.path().join("decrypted");
    let script = format!(
        "age -d -i {} -o {} {}",
        h.home.join("identity.age").display(),
        out.display(),
        file.display()
    );
    let status = Command::new("sh")
        .arg("-c")
        .arg("printf '%s\\n' \"$PASS\" | script -qec \"$AGE_CMD\" /dev/null")
        .env("PASS", PASSPHRASE)
        .env("AGE_CMD", &script)
        .output()
        .expect("run age under script (install the Debian packages age and bsdutils)");
    assert!(
        status.status.success(),
        "age failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let bytes =
        std::fs::read(&out).expect("age wrote nothing: is the reference age CLI installed?");
    std::fs::remove_file(&out).unwrap();
    bytes
}

#[test]
fn the_reference_age_cli_recovers_the_journal_without_haven() {
    let h = Home::init("Maya");
    h.write(&["RECOVERABLE-ENTRY-ONE"]);
    h.write(&["--tag", "x", "RECOVERABLE-ENTRY-TWO"]);
    h.ok(&["daemon", "stop"]);

    let db = rusqlite::Connection::open(h.home.join("haven.db")).unwrap();
    let mut stmt = db
        .prepare("SELECT seq, data FROM chunks WHERE doc = 'journal' ORDER BY seq")
        .unwrap();
    let rows: Vec<(i64, Vec<u8>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(rows.len() >= 3, "a snapshot and two change chunks");
    let mut automerge_bytes = Vec::new();
    for (seq, data) in rows {
        let file = h.tmp.path().join(format!("row-{seq}.age"));
        std::fs::write(&file, data).unwrap();
        let plain = age_decrypt(&h, &file);
        // The header: magic, 16-byte document id, sequence number, kind; then the
        // length of the automerge bytes, which zeros pad to a size bucket.
        assert_eq!(&plain[..4], b"HVN2");
        assert_eq!(
            u64::from_be_bytes(plain[20..28].try_into().unwrap()),
            seq as u64
        );
        let len = u64::from_be_bytes(plain[29..37].try_into().unwrap()) as usize;
        assert!(plain.len().is_power_of_two() || plain.len().is_multiple_of(65536));
        assert!(plain[37 + len..].iter().all(|b| *b == 0));
        automerge_bytes.extend_from_slice(&plain[37..37 + len]);
    }
    let doc = automerge::AutoCommit::load(&automerge_bytes).unwrap();
    let journal = haven_shared::documents::JournalDoc::from_automerge(doc);
    let mut bodies: Vec<String> = journal
        .entries()
        .unwrap()
        .0
        .into_iter()
        .map(|e| e.body)
        .collect();
    bodies.sort();
    assert_eq!(bodies, ["RECOVERABLE-ENTRY-ONE", "RECOVERABLE-ENTRY-TWO"]);
}
