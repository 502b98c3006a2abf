//! What the partner's device can write beside agreements: notes, questions, commitments and
//! reveals, raw (`key<TAB>value`) or signed with the partner's real key (`+n<TAB>json`,
//! `+q`, `+c`, `+v`), so the verified paths (week labels, the question rotation, reveal
//! hashes, what is waiting) see arbitrary content too.
#![no_main]
use std::collections::{BTreeMap, BTreeSet};

use haven_shared::ed25519_dalek::SigningKey;
use haven_shared::model::agreement::{assemble as agreements, Keyring, Sources};
use haven_shared::model::ask::{self, CommitBody, QuestionBody, RevealBody};
use haven_shared::model::notes::{self, NoteBody};
use haven_shared::model::waiting;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let sam = SigningKey::from_bytes(&[2; 32]);
    let partner = haven_shared::model::agreement::member_id_of(&sam.verifying_key());
    // `"by":"sam"` in a signed line stands for Sam's member id, so signatures verify.
    let text = text.replace("\"by\":\"sam\"", &format!("\"by\":\"{partner}\""));
    let mut items = BTreeMap::new();
    for line in text.lines() {
        let Some((k, v)) = line.split_once('\t') else {
            continue;
        };
        let signed = match k {
            "+n" => serde_json::from_str::<NoteBody>(v).ok().map(|b| b.sign(&sam)),
            "+q" => serde_json::from_str::<QuestionBody>(v).ok().map(|b| b.sign(&sam)),
            "+c" => serde_json::from_str::<CommitBody>(v).ok().map(|b| b.sign(&sam)),
            "+v" => serde_json::from_str::<RevealBody>(v).ok().map(|b| b.sign(&sam)),
            _ => None,
        };
        match signed {
            Some(item) => items.insert(item.key, item.value),
            None => items.insert(k.to_string(), v.to_string()),
        };
    }
    let ring = Keyring::new()
        .with("Maya", SigningKey::from_bytes(&[1; 32]).verifying_key())
        .with("Sam", sam.verifying_key());
    let board = notes::assemble(&items, &ring);
    let _ = board.in_order();
    let _ = board.resolve(&text);
    let book = ask::assemble(&items, &ring);
    for week in book.weeks().iter().chain([&"2026-W49".to_string()]) {
        let _ = book.week(week, &ring, Some(&partner), &BTreeMap::new());
    }
    let _ = book.all_questions(&ring);
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default();
    let book_a = agreements(&Sources::default(), &ring);
    let found = waiting::from_partner(&book_a, &board, &book, &ring, &partner, today);
    let _ = waiting::unseen(found, &BTreeSet::new());
});
