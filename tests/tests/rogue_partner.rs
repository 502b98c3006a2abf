//! The partner's own device, running modified software (DESIGN.md, "Who Haven defends
//! against"): it holds valid keys, writes any automerge change into its couple document and
//! sends any bytes inside a valid session. After each attack this laptop shows the truth,
//! exports the truth, keeps serving, and the honest partner syncs again.
#![allow(clippy::string_slice, clippy::unwrap_used, clippy::expect_used)]

use haven_shared::wire::Message;
use haven_tests::couple::{log_of, paired_pair, propose, status_of, wait_status, SOON};
use haven_tests::lan::{eventually_explained, Lan};
use haven_tests::rogue::{as_sam, listening_address, read_to_close, send_message, session_as_sam};
use haven_tests::Home;

/// Sam's keys, read from his stopped home: what a rogue build on his laptop holds.
struct SamKeys {
    noise_static: [u8; 32],
    psk: [u8; 32],
}

fn sam_keys(b: &Home) -> SamKeys {
    b.ok(&["daemon", "stop"]);
    let sam = b.open_directly();
    SamKeys {
        noise_static: *sam.identity.noise_static(),
        psk: *sam.partner().unwrap().expect("paired").psk.bytes(),
    }
}

/// Sends `messages` to Maya in one session as Sam, and waits for Maya to close it.
fn inside_a_session(lan: &Lan, a: &Home, keys: &SamKeys, messages: &[Message]) {
    let target = listening_address(lan, 0, a);
    let maya_key = a.identity().noise_public();
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                lan.enter(2);
                let (mut s, mut t, _) =
                    session_as_sam(&target, &keys.noise_static, &maya_key, &keys.psk);
                for m in messages {
                    send_message(&mut s, &mut t, m);
                }
                read_to_close(&mut s);
            })
            .join()
            .unwrap();
    });
}

/// Maya's laptop still answers, lists, stops and starts, and Sam's honest laptop syncs.
fn maya_serves_and_sam_syncs_again(a: &Home, b: &Home) {
    a.ok(&["status"]);
    a.ok(&["agree", "list"]);
    let pid = a.daemon_pid().expect("Maya's daemon");
    a.ok(&["daemon", "stop"]);
    haven_tests::wait_gone(pid);
    a.ok(&["unlock"]);
    b.ok(&["unlock"]);
    let id = propose(b, "After", "Still in sync");
    eventually_explained(
        SOON,
        || (status_of(a, &id).as_deref() == Some("proposed")).then_some(()),
        || {
            format!(
                "Sam's laptop did not sync again.\nMaya's log:\n{}",
                log_of(a)
            )
        },
    );
}

/// The review's 10-byte message: one "have" whose Bloom filter has 1 entry and 0 bits.
/// automerge accepts it and panics on the next message it generates; the core died with it,
/// and Sam would send it again after every restart.
#[test]
fn a_bloom_filter_with_no_bits_is_refused_and_the_daemon_keeps_serving() {
    let lan = Lan::new(3);
    let (a, b) = paired_pair(&lan);
    let id = propose(&a, "Check-in", "A quick check-in text once a day");
    wait_status(&b, &id, "proposed");
    let keys = sam_keys(&b);
    let bloom = vec![0x42, 0, 0, 1, 0, 3, 1, 0, 7, 0];
    inside_a_session(&lan, &a, &keys, &[Message::Sync(bloom)]);
    let log = log_of(&a);
    assert!(log.contains("a Bloom filter with"), "{log}");
    maya_serves_and_sam_syncs_again(&a, &b);
}

#[test]
fn a_laptop_on_an_older_peer_protocol_is_named_under_partner_and_doctor() {
    let lan = Lan::new(3);
    let (a, b) = paired_pair(&lan);
    let keys = sam_keys(&b);
    let target = listening_address(&lan, 0, &a);
    let maya_key = a.identity().noise_public();
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                lan.enter(2);
                // As a laptop on protocol 2 sends it: no post-quantum epoch in its first
                // handshake message.
                let now = haven_tests::rogue::now_nanos();
                let (hs, first) = haven_tests::rogue::ik_first_with(
                    &keys.noise_static,
                    &maya_key,
                    &keys.psk,
                    now,
                    None,
                );
                let (mut s, mut t, _, _) = haven_tests::rogue::finish_handshake(&target, hs, first);
                send_message(&mut s, &mut t, &Message::Hello { version: 2 });
                read_to_close(&mut s);
            })
            .join()
            .unwrap();
    });
    let said =
        "the partner's laptop speaks peer protocol 2 and this one 3: update Haven on both laptops";
    let partner = a.ok(&["partner"]);
    assert!(
        partner.contains(&format!("problem      {said}")),
        "{partner}"
    );
    assert_eq!(a.json(&["partner", "--json"])["problem"], said);
    let doctor = a.run(&["doctor"]);
    let line = doctor
        .stdout
        .lines()
        .find(|l| l.get(5..31).map(str::trim) == Some("partner"))
        .unwrap_or_default();
    assert!(
        line.starts_with("FAIL") && line.contains(said),
        "{}",
        doctor.stdout
    );
    // Sam's honest laptop connects: the line goes.
    maya_serves_and_sam_syncs_again(&a, &b);
    let partner = a.ok(&["partner"]);
    assert!(!partner.contains("problem"), "{partner}");
}

#[test]
fn a_post_quantum_exchange_that_is_not_one_closes_the_session_and_nothing_else() {
    let lan = Lan::new(3);
    let (a, b) = paired_pair(&lan);
    let keys = sam_keys(&b);
    let target = listening_address(&lan, 0, &a);
    let maya_key = a.identity().noise_public();
    let offer = |epoch: u32, key_len: usize| {
        let mut bytes = vec![7u8];
        bytes.extend_from_slice(&epoch.to_be_bytes());
        bytes.extend(vec![0x42; key_len]);
        bytes
    };
    let attempts: Vec<(Vec<u8>, &str)> = vec![
        (offer(0, 10), "a malformed post-quantum offer"),
        (offer(0, 4000), "a malformed post-quantum offer"),
        (
            offer(99, haven_shared::wire::PQ_ENCAPSULATION_KEY),
            "a post-quantum offer for an epoch the handshake did not name",
        ),
        (
            Message::Sync(vec![1, 2, 3]).encode(),
            "the partner did not start the post-quantum exchange",
        ),
    ];
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                lan.enter(2);
                for (bytes, _) in &attempts {
                    let (mut s, mut t, _) =
                        as_sam(&target, &keys.noise_static, &maya_key, &keys.psk);
                    send_message(&mut s, &mut t, &Message::Hello { version: 3 });
                    haven_tests::rogue::send_encoded(&mut s, &mut t, bytes, true);
                    read_to_close(&mut s);
                }
                // A whole exchange, then a second offer inside the session.
                let (mut s, mut t, _) =
                    session_as_sam(&target, &keys.noise_static, &maya_key, &keys.psk);
                let (_, key) = haven_shared::crypto::pq::offer();
                send_message(&mut s, &mut t, &Message::PqOffer { epoch: 0, key });
                read_to_close(&mut s);
            })
            .join()
            .unwrap();
    });
    let log = log_of(&a);
    for (_, said) in &attempts {
        assert!(log.contains(said), "{said}:\n{log}");
    }
    assert!(
        log.contains("a second post-quantum exchange in one session"),
        "{log}"
    );
    maya_serves_and_sam_syncs_again(&a, &b);
    assert_eq!(a.json(&["partner", "--json"])["post_quantum"], true);
}

#[test]
fn a_partner_laptop_that_keeps_changing_its_iroh_key_is_followed_once_per_pause() {
    let lan = Lan::new(3);
    let (a, b) = paired_pair(&lan);
    // A relay (nobody answers at it): Maya's laptop makes an iroh endpoint for Sam's key.
    let relay = format!(
        "https://10.88.0.9:7443/?cert={}&token={}",
        "ab".repeat(32),
        "cd".repeat(haven_shared::relay_url::TOKEN_BYTES)
    );
    a.ok(&["partner", "relay", &relay]);
    let binds = || {
        log_of(&a)
            .matches("ready to meet the partner across networks")
            .count()
    };
    eventually_explained(
        SOON,
        || log_of(&a).contains("partner_known=true").then_some(()),
        || log_of(&a),
    );
    let before = binds();
    // Sam's laptop makes a new iroh key three times (as a reinstall, or modified software).
    for round in 0..3 {
        as_rogue_sam(&b, |home| {
            let mut p = home.partner().unwrap().unwrap();
            p.endpoint_secret = Some(haven_shared::partner_record::Key32::new([round + 1; 32]));
            home.save_partner(&p).unwrap();
        });
        let id = propose(&b, &format!("Round {round}"), "A new key travels with this");
        wait_status(&a, &id, "proposed");
    }
    // Maya's doctor names it once the third key has arrived...
    let line = eventually_explained(
        SOON,
        || {
            let out = a.run(&["doctor"]);
            out.stdout
                .lines()
                .find(|l| l.contains("partner's iroh key") && l.contains("3 new iroh keys"))
                .map(str::to_string)
        },
        || a.run(&["doctor"]).stdout,
    );
    assert!(line.starts_with("FAIL"), "{line}");
    assert!(line.contains("and the newest waits"), "{line}");
    // ...and the endpoint was not remade for any of them: the newest waits out the pause.
    assert_eq!(binds(), before, "{}", log_of(&a));
    assert!(log_of(&a).contains("named another iroh key within 10 minutes"));
}

/// Sam's laptop, stopped, edits its couple document directly (any automerge change it
/// likes), then comes back online so the change syncs to Maya.
fn as_rogue_sam(b: &Home, edit: impl FnOnce(&mut haven_shared::home::OpenHome)) {
    b.ok(&["daemon", "stop"]);
    {
        let mut home = b.open_directly();
        edit(&mut home);
        home.persist_couple().unwrap();
    }
    b.ok(&["unlock"]);
}

fn statements(home: &haven_shared::home::OpenHome) -> Vec<(String, StatementBody)> {
    home.couple
        .sources()
        .unwrap()
        .items
        .into_iter()
        .filter_map(|(k, v)| Some((k, serde_json::from_str::<StatementBody>(&v).ok()?)))
        .collect()
}

fn show(h: &Home, id: &str) -> serde_json::Value {
    h.json(&["agree", "show", id, "--json"])
}

use automerge::transaction::Transactable;
use haven_shared::model::agreement::{sign_revision, sign_statement, RevisionBody, StatementBody};
use haven_shared::model::Verb;
use std::time::Duration;

/// The review's first attack: Sam's device deletes Maya's withdrawal (the earlier consent
/// is still there and its signature verifies). Maya's laptop keeps showing the withdrawal,
/// the brief does not list the agreement as in force, and Maya's daemon puts the withdrawal
/// back so Sam's own laptop shows it again.
#[test]
fn a_deleted_withdrawal_stays_withdrawn_and_comes_back() {
    let lan = Lan::new(2);
    let (a, b) = paired_pair(&lan);
    a.write(&["an entry, so the brief has a range"]);
    let id = propose(&a, "Check-in", "A quick check-in text once a day");
    wait_status(&b, &id, "proposed");
    b.ok(&["agree", "accept", &id]);
    wait_status(&a, &id, "active");
    let brief = a.ok(&["export", "--since", "1d", "--format", "md"]);
    assert!(
        brief.contains("A quick check-in text once a day"),
        "{brief}"
    );
    a.ok(&["agree", "withdraw", &id, "--reason", "I need a pause"]);
    wait_status(&b, &id, "withdrawn");
    let maya = a.identity().member_id();

    as_rogue_sam(&b, |home| {
        let withdrawals: Vec<String> = statements(home)
            .into_iter()
            .filter(|(_, s)| s.by == maya && s.verb == Verb::Withdraw)
            .map(|(k, _)| k)
            .collect();
        assert_eq!(withdrawals.len(), 1);
        for k in withdrawals {
            home.couple
                .automerge_mut()
                .delete(automerge::ROOT, k.as_str())
                .unwrap();
        }
    });
    // Sam's laptop, reading only its own tampered document for a moment, would say active;
    // once Maya's laptop puts the withdrawal back it says withdrawn again.
    wait_status(&b, &id, "withdrawn");
    let seen = show(&a, &id);
    assert_eq!(seen["status"], "withdrawn", "{seen}");
    assert_eq!(seen["withdrawn"]["reason"], "I need a pause", "{seen}");
    let log = log_of(&a);
    assert!(log.contains("put them back"), "{log}");
    let brief = a.ok(&["export", "--since", "1d", "--format", "md"]);
    assert!(!brief.contains("## Agreements in force"), "{brief}");
    assert!(
        brief.contains("## Declined or withdrawn in this period\n\n- **Check-in** (withdrawn)"),
        "{brief}"
    );
    // And after a restart, with nothing from Sam yet.
    b.ok(&["lock"]);
    a.ok(&["daemon", "stop"]);
    a.ok(&["unlock"]);
    assert_eq!(show(&a, &id)["status"], "withdrawn");
}

/// The review's second, third and fifth attacks, from Sam's device at once: a consent in
/// Maya's name, a revision that renames the agreement and moves its review date "by Maya",
/// a decoy key beside the real id, and escape sequences in a title and a text.
#[test]
fn forged_consents_renames_decoys_and_escape_sequences_change_nothing_here() {
    let lan = Lan::new(2);
    let (a, b) = paired_pair(&lan);
    let id = propose(&b, "Money", "We split the rent evenly");
    wait_status(&a, &id, "proposed");
    let maya = a.identity().member_id();
    let sam_key = b.identity().signing_key().clone();
    let ansi = "\u{1b}[2J\u{1b}]52;c;cHduZWQ=\u{7}\u{9b}31mactive";
    let mut evil_id = String::new();

    as_rogue_sam(&b, |home| {
        let sources = home.couple.sources().unwrap();
        let (rev_key, rev) = sources
            .items
            .iter()
            .find(|(k, _)| k.starts_with("r/"))
            .map(|(k, v)| (k.clone(), serde_json::from_str::<RevisionBody>(v).unwrap()))
            .unwrap();
        // A consent "by Maya", signed with Sam's key.
        let forged = sign_statement(
            &sam_key,
            &StatementBody {
                agreement: id.clone(),
                revision: rev.hash(),
                verb: Verb::Consent,
                by: maya.clone(),
                counter: 1_000,
                at: haven_shared::when::now(),
                reason: None,
            },
        );
        // A renamed title and a moved review date, "by Maya".
        let renamed = sign_revision(
            &sam_key,
            &RevisionBody {
                seq: 2,
                title: "Sam keeps the rent".into(),
                review_on: chrono::NaiveDate::from_ymd_opt(2099, 1, 1),
                by: maya.clone(),
                ..rev.clone()
            },
        );
        // A decoy key whose id starts with the real one.
        let (_, sig) = rev_key.rsplit_once('/').unwrap();
        let decoy = format!("r/{id}z/{sig}");
        // An agreement whose title and text carry escape sequences (Sam's own, signed).
        evil_id = "01jevxk000000000000000000z".to_string();
        let evil = haven_shared::model::agreement::propose(
            &sam_key,
            &evil_id,
            &format!("Title {ansi}"),
            &format!("Text {ansi}"),
            None,
            1_001,
            haven_shared::when::now(),
        );
        for item in [forged, renamed].iter().chain(evil.iter()) {
            home.couple.put_item(item).unwrap();
        }
        home.couple
            .automerge_mut()
            .put(automerge::ROOT, decoy.as_str(), rev_key.as_str())
            .unwrap();
    });
    let seen = haven_tests::lan::eventually("the forgeries to arrive", SOON, || {
        let v = show(&a, &id);
        v["unverified"]
            .as_array()
            .is_some_and(|u| u.len() >= 2)
            .then_some(v)
    });
    assert_eq!(seen["status"], "proposed", "{seen}");
    assert_eq!(seen["title"], "Money", "{seen}");
    assert_eq!(seen["review_on"], serde_json::Value::Null, "{seen}");
    assert_eq!(seen["revisions"].as_array().unwrap().len(), 1, "{seen}");
    assert_eq!(seen["consents"].as_object().unwrap().len(), 1, "{seen}");
    assert!(seen["consents"].get("Sam").is_some(), "{seen}");
    // The exact id always resolves, whatever sits beside it; Maya can always decline.
    a.ok(&["agree", "decline", &id]);
    wait_status(&b, &id, "declined");
    // Nothing the partner wrote reaches the terminal raw; --json stays exact.
    haven_tests::lan::eventually("the evil agreement", SOON, || {
        (a.run(&["agree", "show", &evil_id]).code == 0).then_some(())
    });
    for args in [
        vec!["agree", "list"],
        vec!["agree", "show", evil_id.as_str()],
    ] {
        let out = a.run(&args);
        assert_eq!(out.code, 0, "{}", out.stderr);
        for bad in ['\u{1b}', '\u{7}', '\u{9b}'] {
            assert!(
                !out.stdout.contains(bad) && !out.stderr.contains(bad),
                "{args:?} printed {bad:?} raw:\n{}",
                out.stdout
            );
        }
        assert!(out.stdout.contains("\\u{1b}"), "{}", out.stdout);
    }
    let listed = a.run(&["agree", "list"]);
    assert!(listed.stderr.contains("ignored"), "{}", listed.stderr);
    let json = show(&a, &evil_id);
    assert_eq!(json["title"], format!("Title {ansi}"));
    // A withdrawal by full id works despite the decoy.
    a.ok(&["agree", "withdraw", &id]);
    assert_eq!(show(&a, &id)["status"], "withdrawn");
}

/// A compressed change chunk that inflates to 300 MiB, inside a valid session: refused
/// before automerge allocates it.
#[test]
fn an_inflation_bomb_is_refused_and_the_daemon_keeps_serving() {
    use std::io::Read;
    let lan = Lan::new(3);
    let (a, b) = paired_pair(&lan);
    let keys = sam_keys(&b);
    let mut deflated = Vec::new();
    flate2::read::DeflateEncoder::new(
        std::io::repeat(0).take(300 << 20),
        flate2::Compression::best(),
    )
    .read_to_end(&mut deflated)
    .unwrap();
    let leb = |mut v: usize, out: &mut Vec<u8>| loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    };
    let mut chunk = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 2];
    leb(deflated.len(), &mut chunk);
    chunk.extend(&deflated);
    let mut message = vec![0x42, 0, 0, 0, 1];
    leb(chunk.len(), &mut message);
    message.extend(&chunk);
    let before = std::time::Instant::now();
    inside_a_session(&lan, &a, &keys, &[Message::Sync(message)]);
    assert!(before.elapsed() < Duration::from_secs(60));
    let log = log_of(&a);
    assert!(log.contains("inflates to more than"), "{log}");
    let rss = a.json(&["status", "--json"])["memory_bytes"]
        .as_u64()
        .unwrap();
    assert!(rss < 200 << 20, "havend holds {rss} bytes after the bomb");
    maya_serves_and_sam_syncs_again(&a, &b);
}

/// Notes and answers from a modified device: a note "by Maya" signed with Sam's key, notes
/// with escape sequences and with 1 MB of text, Maya's own note deleted, and two
/// commitments to this week's question (so he could reveal whichever fits). Maya's laptop
/// shows the forgery apart and never as hers or his, escapes what it prints, ignores the
/// oversized note, puts her note back, and never reveals her answer.
#[test]
fn forged_huge_and_escaped_notes_and_double_commitments_change_nothing_here() {
    use haven_shared::model::ask;
    use haven_shared::model::notes::{NoteBody, NoteKind};
    const CANARY: &str = "CANARY-answer-4c21";
    let lan = Lan::new(3);
    let (a, b) = paired_pair(&lan);
    let entry = a.write(&["--kind", "win", "I asked for what I needed"]);
    let shared = a.ok(&["share", &entry, "--yes"]).trim().to_string();
    haven_tests::lan::eventually("the note on Sam's laptop", SOON, || {
        b.ok(&["notes", "--json"]).contains(&shared).then_some(())
    });
    let maya = a.identity().member_id();
    let sam = b.identity().member_id();
    let sam_key = b.identity().signing_key().clone();
    let ansi = "\u{1b}[2J\u{1b}]52;c;cHduZWQ=\u{7}\u{9b}31m";
    let note = |id: &str, by: &str, title: &str, text: String| NoteBody {
        id: id.into(),
        kind: NoteKind::Thanks,
        title: title.into(),
        text,
        answers: None,
        by: by.into(),
        at: haven_shared::when::now(),
    };
    as_rogue_sam(&b, |home| {
        let items = [
            note(
                "01jf0rged00000000000000000",
                &maya,
                "",
                "forged by sam".into(),
            )
            .sign(&sam_key),
            note(
                "01jescape00000000000000000",
                &sam,
                &format!("T {ansi}"),
                format!("X {ansi}"),
            )
            .sign(&sam_key),
            note("01jhvge000000000000000000a", &sam, "", "y".repeat(1 << 20)).sign(&sam_key),
        ];
        for item in &items {
            home.couple.put_item(item).unwrap();
        }
        // Maya's shared note, deleted.
        let keys: Vec<String> = home
            .couple
            .together_items()
            .into_keys()
            .filter(|k| k.contains(&shared))
            .collect();
        for k in keys {
            home.couple
                .automerge_mut()
                .delete(automerge::ROOT, k.as_str())
                .unwrap();
        }
        // Two commitments to this week's question.
        let week = ask::week_of(chrono::Local::now().date_naive());
        let q = ask::AskBook::default().question_of(&week);
        for (id, answer) in [
            ("01jc0mm1t0000000000000000a", "one"),
            ("01jc0mm1t0000000000000000b", "two"),
        ] {
            let (c, _) = ask::commit(
                &sam_key,
                id,
                &week,
                &q,
                answer,
                [5; 32],
                haven_shared::when::now(),
            )
            .unwrap();
            home.couple.put_item(&c).unwrap();
        }
    });
    let notes = haven_tests::lan::eventually("the rogue notes on Maya's laptop", SOON, || {
        let v = a.json(&["notes", "--json"]);
        let all = v.as_array().unwrap().clone();
        all.iter()
            .any(|n| n["id"] == "01jescape00000000000000000")
            .then_some(all)
    });
    let forged = notes
        .iter()
        .find(|n| n["id"] == "01jf0rged00000000000000000")
        .expect("the forgery is listed");
    assert_eq!(forged["verified"], false);
    assert_eq!(forged["by"], "unverified");
    assert_eq!(forged["mine"], false);
    assert!(
        !notes
            .iter()
            .any(|n| n["id"] == "01jhvge000000000000000000a"),
        "1 MB note shown"
    );
    assert!(
        notes.iter().any(|n| n["id"] == shared && n["mine"] == true),
        "Maya's note is kept"
    );
    // Printed, escaped; the forgery never waits as anyone's.
    for args in [
        vec!["notes"],
        vec!["notes", "show", "01jescape"],
        vec!["status"],
    ] {
        let out = a.run(&args);
        assert_eq!(out.code, 0, "{}", out.stderr);
        for bad in ['\u{1b}', '\u{7}', '\u{9b}'] {
            assert!(
                !out.stdout.contains(bad),
                "{args:?} printed {bad:?} raw:\n{}",
                out.stdout
            );
        }
    }
    let listed = a.run(&["notes"]);
    assert!(listed.stdout.contains("\\u{1b}"), "{}", listed.stdout);
    assert!(
        listed.stdout.contains("Not signed by either of you (1)"),
        "{}",
        listed.stdout
    );
    assert!(
        listed.stderr.contains("1 malformed or oversized"),
        "{}",
        listed.stderr
    );
    let waiting = a.json(&["status", "--json"])["waiting"].clone();
    assert!(!waiting.to_string().contains("01jf0rged"), "{waiting}");
    // Two commitments: none counts, and Maya's answer is never revealed.
    a.ok(&["ask", "answer", CANARY]);
    assert_eq!(a.json(&["ask", "--json"])["partner"]["state"], "several");
    // Sam's laptop gets Maya's note back, and her commitment, but not her answer.
    haven_tests::lan::eventually("Maya's note back on Sam's laptop", SOON, || {
        let v = b.json(&["notes", "--json"]);
        let back = v.as_array().unwrap().iter().any(|n| n["id"] == shared);
        let committed = b.json(&["ask", "--json"])["partner"]["state"] == "answered";
        (back && committed).then_some(())
    });
    b.ok(&["daemon", "stop"]);
    let mut home = b.open_directly();
    let saved = home.couple.automerge_mut().save();
    assert!(
        !String::from_utf8_lossy(&saved).contains(CANARY),
        "the answer was revealed"
    );
    drop(home);
    maya_serves_and_sam_syncs_again(&a, &b);
}
