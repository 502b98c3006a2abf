//! Someone with the disk: a laptop left alone, a home folder copied by a sync tool or a
//! backup service. They can read the public recipient and the document ids in `haven.db`,
//! so they can write rows that decrypt; these tests do, with SQLite directly, and check
//! that Haven names the change, acts on nothing forged, and loses nothing that verifies.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::str::FromStr;

use automerge::transaction::Transactable;
use haven_shared::crypto::seal::{seal, ChunkHeader, ChunkKind};
use haven_tests::{assert_one_error, Home};

/// What the attacker reads in the clear: the recipient and a document id.
fn public_facts(home: &Path, doc: &str) -> (age::x25519::Recipient, [u8; 16]) {
    let c = rusqlite::Connection::open(home.join("haven.db")).unwrap();
    let get = |key: &str| -> String {
        c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .unwrap()
    };
    let recipient = age::x25519::Recipient::from_str(&get("recipient")).unwrap();
    let mut id = [0u8; 16];
    hex::decode_to_slice(get(&format!("{doc}_id")), &mut id).unwrap();
    (recipient, id)
}

fn sql(home: &Path, statement: &str) {
    rusqlite::Connection::open(home.join("haven.db"))
        .unwrap()
        .execute_batch(statement)
        .unwrap();
}

fn last_seq(home: &Path, doc: &str) -> i64 {
    rusqlite::Connection::open(home.join("haven.db"))
        .unwrap()
        .query_row("SELECT MAX(seq) FROM chunks WHERE doc = ?1", [doc], |r| {
            r.get(0)
        })
        .unwrap()
}

fn doctor_line(h: &Home, name: &str) -> String {
    let out = h.run(&["doctor"]);
    out.stdout
        .lines()
        .find(|l| l.contains(name))
        .unwrap_or_else(|| panic!("doctor has no {name} line:\n{}", out.stdout))
        .to_string()
}

#[test]
fn a_forged_journal_entry_is_refused_and_named() {
    let h = Home::init("Maya");
    h.write(&["the real entry"]);
    h.ok(&["daemon", "stop"]);
    // A new entry, as an automerge change from a document of the attacker's own, sealed to
    // Maya's recipient at the next place in the log.
    let (recipient, journal_id) = public_facts(&h.home, "journal");
    let mut doc = automerge::AutoCommit::new();
    let forged = serde_json::json!({
        "id": "01kc0000000000000000000000", "kind": "note", "title": "",
        "body": "FORGED-ENTRY-5150 you wrote this", "tags": [], "mood": null,
        "intensity": null, "created_at": "2026-11-30T10:00:00+00:00",
        "updated_at": "2026-11-30T10:00:00+00:00"
    });
    doc.put(
        automerge::ROOT,
        "e/01kc0000000000000000000000",
        forged.to_string(),
    )
    .unwrap();
    let seq = last_seq(&h.home, "journal") + 1;
    let header = ChunkHeader {
        doc_id: journal_id,
        seq: seq as u64,
        kind: ChunkKind::Changes,
    };
    let row = seal(&recipient, header, &doc.save()).unwrap();
    rusqlite::Connection::open(h.home.join("haven.db"))
        .unwrap()
        .execute(
            "INSERT INTO chunks (doc, seq, kind, data, mac) VALUES ('journal', ?1, 0, ?2, ?3)",
            rusqlite::params![seq, row, vec![0u8; 32]],
        )
        .unwrap();

    let out = h.run(&["journal", "list"]);
    assert_one_error(&out, 6, "a forged chunk");
    assert!(
        out.stderr.starts_with(
            "error: haven.db was changed outside Haven: 1 rows of the journal document were \
             not written by Haven\nhint: Haven changed nothing; restore your latest backup"
        ),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("FORGED-ENTRY-5150"));
    let line = doctor_line(&h, "database rows");
    assert!(
        line.contains("FAIL") && line.contains("1 rows of the journal document"),
        "{line}"
    );
    // The daemon still serves, and without the forged row everything real is there.
    assert_eq!(h.json(&["status", "--json"])["locked"], true);
    h.ok(&["daemon", "stop"]);
    sql(&h.home, &format!("DELETE FROM chunks WHERE seq = {seq}"));
    let list = h.ok(&["journal", "list"]);
    assert!(list.contains("the real entry"), "{list}");
    assert_eq!(h.entry_count(), 1);
    let line = doctor_line(&h, "database rows");
    assert!(line.contains("ok"), "{line}");
}

#[test]
fn a_dropped_tail_does_not_bring_a_deleted_entry_back() {
    let h = Home::init("Maya");
    h.write(&["stays"]);
    let gone = h.write(&["DELETED-ENTRY-7741 I deleted this"]);
    h.ok(&["journal", "delete", &gone, "--yes"]);
    h.ok(&["daemon", "stop"]);
    // Dropping the last chunk (the deletion) would bring the entry back.
    let last = last_seq(&h.home, "journal");
    sql(
        &h.home,
        &format!("DELETE FROM chunks WHERE doc = 'journal' AND seq = {last}"),
    );
    let out = h.run(&["journal", "list"]);
    assert_one_error(&out, 6, "a dropped tail");
    assert!(
        out.stderr.contains(&format!(
            "chunks {last} to {last} of the journal document were removed"
        )),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("DELETED-ENTRY-7741"));
}

#[test]
fn a_stripped_head_is_refused() {
    let h = Home::init("Maya");
    h.write(&["kept"]);
    h.ok(&["daemon", "stop"]);
    // Every tag gone and the schema set back: what a home from before tags looks like.
    sql(
        &h.home,
        "DELETE FROM head; UPDATE chunks SET mac = NULL; UPDATE peer SET mac = NULL;",
    );
    let out = h.run(&["journal", "list"]);
    assert_one_error(&out, 6, "a stripped head");
    assert!(
        out.stderr
            .contains("the head record is missing (the rows' tags were stripped)"),
        "{}",
        out.stderr
    );
}

/// A partner row written by someone with the disk: their own keys and a public address.
/// The daemon must neither dial it nor sync with it; the journal still opens.
#[test]
fn a_forged_partner_row_is_never_dialled() {
    let h = Home::init("Maya");
    h.write(&["my journal"]);
    h.ok(&["daemon", "stop"]);
    // The attacker's listener, where the forged record says the partner was last seen.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let partner = serde_json::json!({
        "name": "Sam", "member_id": "ab".repeat(16), "signing_key": "11".repeat(32),
        "noise_key": "22".repeat(32), "psk": "33".repeat(32), "discovery": "44".repeat(32),
        "paired_at": "2026-11-01T10:00:00+00:00", "addresses": [&address],
        "last_address": &address, "last_handshake": 0
    });
    let (recipient, _) = public_facts(&h.home, "journal");
    let row = haven_shared::crypto::seal_blob(
        &recipient,
        haven_shared::home::PARTNER_KEY,
        partner.to_string().as_bytes(),
    )
    .unwrap();
    rusqlite::Connection::open(h.home.join("haven.db"))
        .unwrap()
        .execute(
            "INSERT INTO peer (key, data) VALUES ('partner', ?1)",
            rusqlite::params![row],
        )
        .unwrap();

    h.ok(&["unlock"]);
    assert!(h.ok(&["journal", "list"]).contains("my journal"));
    let out = h.run(&["partner"]);
    assert_one_error(&out, 6, "a forged partner row");
    assert!(
        out.stderr.starts_with(
            "error: the partner record in haven.db was changed outside Haven (the peer row \
             `partner` does not verify); Haven connects to nobody"
        ),
        "{}",
        out.stderr
    );
    let line = doctor_line(&h, "partner record");
    assert!(line.contains("FAIL"), "{line}");
    // The unlock has been handled (the log says it refused the record); a dialler would
    // have called at once. Give it the whole first backoff step too.
    let log = std::fs::read_to_string(h.home.join("havend.log")).unwrap();
    assert!(
        log.contains("do not verify: not connecting to anyone"),
        "{log}"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while std::time::Instant::now() < deadline {
        match listener.accept() {
            Ok((_, from)) => panic!("havend dialled the forged partner (from {from})"),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            Err(e) => panic!("{e}"),
        }
    }
    let status = h.json(&["status", "--json"]);
    assert_eq!(status["paired"], false, "{status}");

    // Unpairing forgets the rows; a restart finds a clean, unpaired home.
    let out = h.ok(&["partner", "unpair"]);
    assert!(
        out.starts_with("Unpaired from the partner record that did not verify"),
        "{out}"
    );
    h.ok(&["daemon", "stop"]);
    h.ok(&["unlock"]);
    let info = h.json(&["partner", "--json"]);
    assert_eq!(info["paired"], false, "{info}");
}

/// A home written before rows had tags (the v1 fixture) is upgraded at its first unlock:
/// everything in it still reads, the identity is marked, and from then on a database
/// without tags is refused.
#[test]
fn a_home_from_before_tags_is_upgraded_once_and_then_protected() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/v1/maya");
    let h = Home::new();
    h.copy_home_from(&fixture);
    assert!(!h.identity().rows_authenticated);
    let before = h.json(&["agree", "list", "--json"]);
    assert_eq!(before.as_array().unwrap().len(), 6);
    h.ok(&["daemon", "stop"]);
    assert!(h.identity().rows_authenticated, "identity.age is marked");
    // A second unlock verifies what the first one tagged.
    assert_eq!(h.json(&["agree", "list", "--json"]), before);
    h.ok(&["daemon", "stop"]);
    sql(&h.home, "DELETE FROM head");
    let out = h.run(&["agree", "list"]);
    assert_one_error(&out, 6, "a stripped head after the upgrade");
    assert!(
        out.stderr.contains("the head record is missing"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_row_on_disk_does_not_tell_how_long_its_entry_is() {
    let h = Home::init("Maya");
    let first = last_seq(&h.home, "journal");
    // Ten entries of 30 characters and ten of 600 that do not compress: one bucket (1 KiB).
    let mut state = 0x2545_f491_u32;
    let mut noise = |n: usize| -> String {
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                char::from(b'a' + (state % 26) as u8)
            })
            .collect()
    };
    for _ in 0..10 {
        h.write(&[&noise(30)]);
        h.write(&[&noise(600)]);
    }
    let sizes: Vec<i64> = {
        let db = rusqlite::Connection::open(h.home.join("haven.db")).unwrap();
        let mut stmt = db
            .prepare(
                "SELECT length(data) FROM chunks WHERE doc = 'journal' AND seq > ?1 ORDER BY seq",
            )
            .unwrap();
        stmt.query_map([first], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    // One row per entry (the first write may add one before its own).
    assert!(sizes.len() >= 20, "{sizes:?}");
    let sizes = &sizes[sizes.len() - 20..];
    // age's header varies by up to ~200 bytes (a random "grease" stanza); 570 more
    // characters would show above that.
    let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
    assert!(max - min < 300, "row sizes tell short from long: {sizes:?}");
}
