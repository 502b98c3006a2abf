//! The consent rule under concurrency: two replicas of the couple document edited apart,
//! then merged (the model of automerge's own `sync.rs` tests, with no network).

use super::*;
use crate::model::agreement::{assemble, propose, Agreement, Keyring, Status};
use crate::model::Kind;
use ed25519_dalek::SigningKey;
use proptest::prelude::*;

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn at(minute: u32) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(&format!("2026-11-01T10:{:02}:00+01:00", minute % 60))
        .expect("time")
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 10).expect("day")
}

const AG: &str = "01jag000000000000000000000";

struct Replica {
    doc: CoupleDoc,
    key: SigningKey,
    counter: u64,
}

impl Replica {
    fn agreement(&self, ring: &Keyring) -> Agreement {
        let sources = self.doc.sources().expect("sources");
        assemble(&sources, ring)
            .agreements
            .remove(AG)
            .expect("the agreement")
    }
    fn apply(&mut self, items: Vec<SignedItem>) {
        for i in items {
            self.doc.put_item(&i).expect("put");
        }
    }
    fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }
    fn respond(&mut self, ring: &Keyring, verb: Verb, t: DateTime<FixedOffset>) -> bool {
        let n = self.next();
        match self.agreement(ring).respond(&self.key, verb, None, n, t) {
            Ok(item) => {
                self.apply(vec![item]);
                true
            }
            Err(_) => false,
        }
    }
    fn revise(&mut self, ring: &Keyring, text: &str, t: DateTime<FixedOffset>) -> bool {
        let n = self.next();
        match self.agreement(ring).revise(&self.key, text, None, n, t) {
            Ok(items) => {
                self.apply(items);
                true
            }
            Err(_) => false,
        }
    }
}

struct Couple {
    ring: Keyring,
    a: Replica,
    b: Replica,
}

/// Maya proposes on replica `a`; replica `b` (Sam's device) starts as a copy.
fn couple(text: &str) -> Couple {
    let (maya, sam) = (key(1), key(2));
    let ring = Keyring::new()
        .with("Maya", maya.verifying_key())
        .with("Sam", sam.verifying_key());
    let mut a = CoupleDoc::new();
    for i in propose(&maya, AG, "check-in", text, None, 1, at(0)) {
        a.put_item(&i).expect("propose");
    }
    let b = CoupleDoc::from_automerge(
        a.automerge_mut()
            .fork()
            .with_actor(automerge::ActorId::random()),
    );
    Couple {
        ring,
        a: Replica {
            doc: a,
            key: maya,
            counter: 1,
        },
        b: Replica {
            doc: b,
            key: sam,
            counter: 0,
        },
    }
}

fn merge_both(c: &mut Couple) {
    c.a.doc
        .automerge_mut()
        .merge(c.b.doc.automerge_mut())
        .expect("merge a<-b");
    c.b.doc
        .automerge_mut()
        .merge(c.a.doc.automerge_mut())
        .expect("merge b<-a");
}

fn status(r: &Replica, ring: &Keyring) -> Status {
    r.agreement(ring).status(ring, today())
}

#[test]
fn accept_makes_it_active_on_both_replicas() {
    let mut c = couple("one text a day");
    assert!(c.b.respond(&c.ring, Verb::Consent, at(1)));
    assert_eq!(status(&c.a, &c.ring), Status::Proposed, "not yet merged");
    merge_both(&mut c);
    assert_eq!(status(&c.a, &c.ring), Status::Active);
    assert_eq!(status(&c.b, &c.ring), Status::Active);
}

#[test]
fn a_revision_concurrent_with_an_accept_is_not_active() {
    let mut c = couple("one text a day");
    assert!(c.a.revise(&c.ring, "two texts a day", at(1)));
    assert!(c.b.respond(&c.ring, Verb::Consent, at(1)));
    merge_both(&mut c);
    for r in [&c.a, &c.b] {
        let a = r.agreement(&c.ring);
        assert_eq!(a.revisions.len(), 2, "both revisions stay visible");
        assert_eq!(a.status(&c.ring, today()), Status::Proposed);
    }
    // Sam accepts the text he now sees: active on both.
    assert!(c.b.respond(&c.ring, Verb::Consent, at(2)));
    merge_both(&mut c);
    assert_eq!(status(&c.a, &c.ring), Status::Active);
    assert_eq!(
        c.a.agreement(&c.ring).latest().expect("l").body.text,
        "two texts a day"
    );
}

#[test]
fn a_decline_of_the_partners_text_is_declined_and_own_text_cannot_be_declined() {
    let mut c = couple("one text a day");
    assert!(!c.a.respond(&c.ring, Verb::Decline, at(1)));
    assert!(c.b.respond(&c.ring, Verb::Decline, at(1)));
    merge_both(&mut c);
    assert_eq!(status(&c.a, &c.ring), Status::Declined);
}

#[test]
fn couple_documents_created_apart_merge_without_losing_items() {
    let (maya, sam) = (key(1), key(2));
    let ring = Keyring::new()
        .with("Maya", maya.verifying_key())
        .with("Sam", sam.verifying_key());
    let mut a = CoupleDoc::new();
    let mut b = CoupleDoc::new();
    let (x, y) = ("01jx0000000000000000000000", "01jy0000000000000000000000");
    for i in propose(&maya, x, "mine", "text a", None, 1, at(0)) {
        a.put_item(&i).expect("a");
    }
    for i in propose(&sam, y, "yours", "text b", None, 1, at(0)) {
        b.put_item(&i).expect("b");
    }
    a.automerge_mut().merge(b.automerge_mut()).expect("merge");
    let book = assemble(&a.sources().expect("s"), &ring);
    assert_eq!(
        book.agreements.keys().cloned().collect::<Vec<_>>(),
        vec![x.to_string(), y.to_string()]
    );
    assert_eq!(a.agreement_count(), 2);
}

#[test]
fn purge_rebuild_keeps_entries_and_own_items_and_drops_history() {
    let mut j = JournalDoc::new();
    let now = at(0);
    let mut e = Entry {
        id: "01".into(),
        kind: Kind::Trigger,
        title: "t".into(),
        body: "SECRET-OLD-TEXT".into(),
        tags: vec!["x".into()],
        mood: Some(2),
        intensity: Some(7),
        created_at: now,
        updated_at: now,
        record: Some(Box::new(crate::model::ThoughtRecord {
            situation: Some("late reply".into()),
            intensity_after: Some(3),
            ..Default::default()
        })),
        pause: None,
        feelings: Vec::new(),
    };
    j.put_entry(&e).expect("put");
    let plan = crate::model::SoothingPlan {
        text: "- soup".into(),
        updated_at: now,
    };
    j.put_soothing_plan(&plan).expect("plan");
    e.body = "new text".into();
    j.put_entry(&e).expect("update");
    let items = propose(&key(1), AG, "t", "x", None, 1, now);
    for i in &items {
        j.put_own_item(i).expect("own");
    }
    j.mark_agreements_migrated().expect("mark");
    let old = j.automerge_mut().save();
    assert!(contains(
        &automerge::AutoCommit::load(&old)
            .expect("load")
            .save_nocompress(),
        b"SECRET-OLD-TEXT"
    ));
    let mut fresh = j.rebuilt().expect("rebuild");
    assert_eq!(fresh.entries().expect("entries").0, vec![e]);
    assert_eq!(fresh.own_items().len(), 2);
    assert!(fresh.agreements_migrated().expect("m"));
    assert_eq!(
        fresh.soothing_plan().expect("plan"),
        Some(plan),
        "purge keeps the soothing plan"
    );
    assert!(!contains(
        &fresh.automerge_mut().save_nocompress(),
        b"SECRET-OLD-TEXT"
    ));
    fresh.clear_own().expect("clear");
    assert!(fresh.own_items().is_empty());
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[derive(Debug, Clone)]
enum Op {
    Revise(bool, u8),
    Accept(bool),
    Decline(bool),
    Withdraw(bool),
    Sync,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (any::<bool>(), 0u8..4).prop_map(|(m, t)| Op::Revise(m, t)),
        any::<bool>().prop_map(Op::Accept),
        any::<bool>().prop_map(Op::Decline),
        any::<bool>().prop_map(Op::Withdraw),
        Just(Op::Sync),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Random edits on two replicas with random sync points always converge, and an agreement
    /// is only ever active on terms that both members themselves signed a consent to.
    #[test]
    fn replicas_converge_and_never_activate_unseen_text(ops in proptest::collection::vec(op(), 1..24)) {
        let mut c = couple("text 0");
        let mut signed: [Vec<String>; 2] = [vec!["text 0".into()], vec![]];
        for (i, op) in ops.iter().enumerate() {
            let t = at(i as u32 + 1);
            match op {
                Op::Sync => merge_both(&mut c),
                Op::Revise(m, _) | Op::Accept(m) | Op::Decline(m) | Op::Withdraw(m) => {
                    let (r, who) = if *m { (&mut c.a, 0) } else { (&mut c.b, 1) };
                    let seen = r.agreement(&c.ring).latest().expect("l").body.text.clone();
                    match op {
                        Op::Revise(_, n) => {
                            let text = format!("text {n}");
                            if r.revise(&c.ring, &text, t) { signed[who].push(text); }
                        }
                        Op::Accept(_) => { prop_assert!(r.respond(&c.ring, Verb::Consent, t)); signed[who].push(seen); }
                        Op::Decline(_) => { r.respond(&c.ring, Verb::Decline, t); }
                        Op::Withdraw(_) => { prop_assert!(r.respond(&c.ring, Verb::Withdraw, t)); }
                        Op::Sync => {}
                    }
                }
            }
            for r in [&c.a, &c.b] {
                let a = r.agreement(&c.ring);
                if matches!(a.status(&c.ring, today()), Status::Active | Status::DueForReview) {
                    let text = &a.latest().expect("l").body.text;
                    prop_assert!(signed[0].contains(text) && signed[1].contains(text),
                        "active on {text:?}, signed {signed:?}");
                }
            }
        }
        merge_both(&mut c);
        let a = c.a.agreement(&c.ring);
        let b = c.b.agreement(&c.ring);
        prop_assert_eq!(a.status(&c.ring, today()), b.status(&c.ring, today()));
        prop_assert_eq!(a.revisions, b.revisions);
        prop_assert_eq!(a.newest, b.newest);
    }
}

/// A long journal is parsed on several threads: every entry comes back once, in the
/// document's order, and malformed ones anywhere (not text, not JSON, filed under another
/// id) are skipped and counted, whichever run they fall in.
#[test]
fn a_long_journal_reads_back_whole_and_in_order_with_its_bad_rows_counted() {
    let n = PARALLEL_FROM * 2 + 7;
    let mut j = JournalDoc::new();
    let mut ids = Vec::new();
    for i in 0..n {
        let id = format!("01{i:08}");
        let entry = Entry {
            id: id.clone(),
            kind: Kind::Note,
            title: String::new(),
            body: format!("entry {i}"),
            tags: Vec::new(),
            mood: None,
            intensity: None,
            created_at: at(0),
            updated_at: at(0),
            record: None,
            pause: None,
            feelings: Vec::new(),
        };
        j.put_entry(&entry).expect("put");
        ids.push(id);
    }
    let bad = [3, PARALLEL_FROM + 1, n - 1];
    for (k, &i) in bad.iter().enumerate() {
        let key = format!("{ENTRY}{}", ids[i]);
        match k {
            0 => j.doc.put(ROOT, key.as_str(), 42_i64),
            1 => j.doc.put(ROOT, key.as_str(), "{not json"),
            _ => j.doc.put(ROOT, key.as_str(), r#"{"id":"someone-else"}"#),
        }
        .expect("overwrite");
    }
    let (entries, skipped) = j.entries().expect("entries");
    assert_eq!(skipped, bad.len());
    let want: Vec<(String, String)> = (0..n)
        .filter(|i| !bad.contains(i))
        .map(|i| (ids[i].clone(), format!("entry {i}")))
        .collect();
    let got: Vec<(String, String)> = entries.into_iter().map(|e| (e.id, e.body)).collect();
    assert_eq!(got, want);
}

/// Device lists are read per member, after a version, oldest first; a value that is not
/// text, another member's list and the versions not after the known one are left out.
#[test]
fn device_lists_are_read_per_member_after_the_known_version() {
    let mut doc = CoupleDoc::new();
    assert!(doc.put_device_list("aaaa", 2, "two").expect("put"));
    assert!(!doc.put_device_list("aaaa", 2, "two").expect("same again"));
    doc.put_device_list("aaaa", 10, "ten").expect("put");
    doc.put_device_list("aaaa", 3, "three").expect("put");
    doc.put_device_list("aaab", 4, "another member's")
        .expect("put");
    doc.automerge_mut()
        .put(ROOT, format!("{DEVICE_LIST}aaaa/{:020}", 11), 11)
        .expect("a number");
    assert_eq!(doc.device_lists("aaaa", 0), ["two", "three", "ten"]);
    assert_eq!(doc.device_lists("aaaa", 2), ["three", "ten"]);
    assert_eq!(doc.device_lists("aaaa", 10), Vec::<String>::new());
    assert_eq!(doc.device_lists("aaab", 0), ["another member's"]);
    assert_eq!(doc.device_lists("aaaa", u64::MAX), Vec::<String>::new());
}
