//! The consent rule under concurrency: two replicas of the couple document edited apart,
//! then merged (the model of automerge's own `sync.rs` tests, with no network).

use super::*;
use crate::model::agreement::{Keyring, Status};
use crate::model::Kind;
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

struct Couple {
    maya: SigningKey,
    sam: SigningKey,
    ring: Keyring,
    a: CoupleDoc,
    b: CoupleDoc,
}

/// Maya proposes on replica `a`; replica `b` (Sam's device) starts as a copy.
fn couple(text: &str) -> Couple {
    let (maya, sam) = (key(1), key(2));
    let ring = Keyring::new()
        .with("Maya", maya.verifying_key())
        .with("Sam", sam.verifying_key());
    let mut a = CoupleDoc::new();
    a.propose(&maya, "ag", "check-in", text, None, at(0))
        .expect("propose");
    let b = CoupleDoc::from_automerge(
        a.automerge_mut()
            .fork()
            .with_actor(automerge::ActorId::random()),
    );
    Couple {
        maya,
        sam,
        ring,
        a,
        b,
    }
}

fn merge_both(c: &mut Couple) {
    c.a.automerge_mut()
        .merge(c.b.automerge_mut())
        .expect("merge a<-b");
    c.b.automerge_mut()
        .merge(c.a.automerge_mut())
        .expect("merge b<-a");
}

fn status(doc: &CoupleDoc, ring: &Keyring) -> Status {
    doc.agreement("ag")
        .expect("read")
        .expect("exists")
        .status(ring, today())
}

#[test]
fn accept_makes_it_active_on_both_replicas() {
    let mut c = couple("one text a day");
    c.b.accept(&c.sam, "ag", at(1)).expect("accept");
    assert_eq!(status(&c.a, &c.ring), Status::Proposed, "not yet merged");
    merge_both(&mut c);
    assert_eq!(status(&c.a, &c.ring), Status::Active);
    assert_eq!(status(&c.b, &c.ring), Status::Active);
}

#[test]
fn a_revision_concurrent_with_an_accept_is_not_active() {
    let mut c = couple("one text a day");
    c.a.revise(&c.maya, "ag", "two texts a day", at(1))
        .expect("revise");
    c.b.accept(&c.sam, "ag", at(1)).expect("accept old text");
    merge_both(&mut c);
    for doc in [&c.a, &c.b] {
        let a = doc.agreement("ag").expect("read").expect("exists");
        assert_eq!(a.revisions.len(), 2, "both revisions stay visible");
        assert_eq!(a.status(&c.ring, today()), Status::Proposed);
    }
    // Sam accepts the text he now sees: active on both.
    c.b.accept(&c.sam, "ag", at(2)).expect("accept new");
    merge_both(&mut c);
    assert_eq!(status(&c.a, &c.ring), Status::Active);
    assert_eq!(
        c.a.agreement("ag")
            .expect("r")
            .expect("e")
            .latest()
            .expect("l")
            .text,
        "two texts a day"
    );
}

#[test]
fn two_concurrent_revisions_both_appear_and_neither_is_active() {
    let mut c = couple("one text a day");
    c.b.accept(&c.sam, "ag", at(1)).expect("accept");
    merge_both(&mut c);
    c.a.revise(&c.maya, "ag", "a text on weekdays", at(2))
        .expect("revise a");
    c.b.revise(&c.sam, "ag", "a call on Sundays", at(2))
        .expect("revise b");
    merge_both(&mut c);
    let a = c.a.agreement("ag").expect("r").expect("e");
    let b = c.b.agreement("ag").expect("r").expect("e");
    assert_eq!(a, b, "replicas converge");
    assert_eq!(a.revisions.len(), 3);
    assert_eq!(a.status(&c.ring, today()), Status::Proposed);
}

#[test]
fn a_withdrawal_concurrent_with_an_accept_wins() {
    let mut c = couple("one text a day");
    c.a.withdraw(&c.maya, "ag", Some("not ready".into()), at(1))
        .expect("withdraw");
    c.b.accept(&c.sam, "ag", at(1)).expect("accept");
    merge_both(&mut c);
    assert_eq!(status(&c.a, &c.ring), Status::Withdrawn);
    assert_eq!(status(&c.b, &c.ring), Status::Withdrawn);
}

#[test]
fn a_consent_forged_in_the_other_members_name_never_counts() {
    let mut c = couple("one text a day");
    // Maya's device writes a consent under Sam's member id, signed with Maya's own key,
    // and another with no signature at all.
    let sam_id = member_id_of(&c.sam.verifying_key());
    let hash = text_hash("one text a day");
    let forged = ConsentRecord::sign(&c.maya, "ag", &hash, Verb::Consent, at(1), None);
    c.a.put_record("ag", Verb::Consent, &sam_id, &forged)
        .expect("write forged");
    merge_both(&mut c);
    assert_eq!(status(&c.b, &c.ring), Status::Proposed);
    let unsigned = ConsentRecord {
        sig: String::new(),
        ..forged
    };
    c.a.put_record("ag", Verb::Consent, &sam_id, &unsigned)
        .expect("write unsigned");
    merge_both(&mut c);
    assert_eq!(status(&c.b, &c.ring), Status::Proposed);
    let view =
        c.b.agreement("ag")
            .expect("r")
            .expect("e")
            .view(&c.ring, today());
    assert!(view.consents.keys().all(|n| n != "Sam"));
    assert_eq!(view.unverified.len(), 1);
}

#[test]
fn a_decline_of_the_partners_text_is_declined_and_own_text_cannot_be_declined() {
    let mut c = couple("one text a day");
    assert!(matches!(
        c.a.decline(&c.maya, "ag", at(1)),
        Err(VerbError::OwnRevision)
    ));
    c.b.decline(&c.sam, "ag", at(1)).expect("decline");
    merge_both(&mut c);
    assert_eq!(status(&c.a, &c.ring), Status::Declined);
}

#[test]
fn couple_documents_created_apart_merge_without_losing_items() {
    let (maya, sam) = (key(1), key(2));
    let mut a = CoupleDoc::new();
    let mut b = CoupleDoc::new();
    a.propose(&maya, "x", "mine", "text a", None, at(0))
        .expect("a");
    b.propose(&sam, "y", "yours", "text b", None, at(0))
        .expect("b");
    a.automerge_mut().merge(b.automerge_mut()).expect("merge");
    assert_eq!(a.agreement_ids(), vec!["x".to_string(), "y".to_string()]);
}

#[test]
fn purge_rebuild_keeps_entries_and_drops_history() {
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
    };
    j.put_entry(&e).expect("put");
    e.body = "new text".into();
    j.put_entry(&e).expect("update");
    let old = j.automerge_mut().save();
    assert!(contains(
        &automerge::AutoCommit::load(&old)
            .expect("load")
            .save_nocompress(),
        b"SECRET-OLD-TEXT"
    ));
    let mut fresh = j.rebuilt().expect("rebuild");
    assert_eq!(fresh.entries().expect("entries").0, vec![e]);
    assert!(!contains(
        &fresh.automerge_mut().save_nocompress(),
        b"SECRET-OLD-TEXT"
    ));
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
    /// is only ever active on a text that both members themselves signed a consent to.
    #[test]
    fn replicas_converge_and_never_activate_unseen_text(ops in proptest::collection::vec(op(), 1..24)) {
        let mut c = couple("text 0");
        // Which texts each member has signed a consent to (Maya proposed "text 0").
        let mut signed: [Vec<String>; 2] = [vec!["text 0".into()], vec![]];
        for (i, op) in ops.iter().enumerate() {
            let t = at(i as u32 + 1);
            match op {
                Op::Sync => merge_both(&mut c),
                Op::Revise(m, _) | Op::Accept(m) | Op::Decline(m) | Op::Withdraw(m) => {
                    let (doc, key, who) = if *m { (&mut c.a, &c.maya, 0) } else { (&mut c.b, &c.sam, 1) };
                    let seen = doc.agreement("ag").expect("r").expect("e").latest().expect("l").text.clone();
                    match op {
                        Op::Revise(_, n) => {
                            let text = format!("text {n}");
                            if doc.revise(key, "ag", &text, t).is_ok() { signed[who].push(text); }
                        }
                        Op::Accept(_) => { doc.accept(key, "ag", t).expect("accept"); signed[who].push(seen); }
                        Op::Decline(_) => { let _ = doc.decline(key, "ag", t); }
                        Op::Withdraw(_) => { doc.withdraw(key, "ag", None, t).expect("withdraw"); }
                        Op::Sync => {}
                    }
                }
            }
            for doc in [&c.a, &c.b] {
                let a = doc.agreement("ag").expect("r").expect("e");
                if matches!(a.status(&c.ring, today()), Status::Active | Status::DueForReview) {
                    let text = &a.latest().expect("l").text;
                    prop_assert!(signed[0].contains(text) && signed[1].contains(text),
                        "active on {text:?}, signed {signed:?}");
                }
            }
        }
        merge_both(&mut c);
        let a = c.a.agreement("ag").expect("r").expect("e");
        let b = c.b.agreement("ag").expect("r").expect("e");
        prop_assert_eq!(a.status(&c.ring, today()), b.status(&c.ring, today()));
        prop_assert_eq!(a, b);
    }
}
