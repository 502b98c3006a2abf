//! A no carries its words: `agree decline|withdraw|revise --why` and `agree renew --note`
//! are signed with the statement, reach the partner's `status`, `agree show` and brief, and
//! a partner's device can neither change nor strip them. A proposal that needs my answer
//! stays waiting until I answer it (seen is not answered).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use automerge::transaction::Transactable;
use haven_shared::model::agreement::{sign_statement, StatementBody};
use haven_shared::model::Verb;
use haven_tests::couple::{paired_pair, propose, wait_status, SOON};
use haven_tests::lan::{eventually, Lan};
use haven_tests::Home;

const WHY: &str = "I'd like phones away for the first half hour, then it's fine.";

fn waiting_line(h: &Home, id: &str) -> Option<String> {
    h.ok(&["status"])
        .lines()
        .find(|l| l.contains(&format!("haven agree show {id}")))
        .map(str::to_string)
}

fn show(h: &Home, id: &str) -> serde_json::Value {
    h.json(&["agree", "show", id, "--json"])
}

#[test]
fn a_decline_and_a_revision_carry_their_words_to_the_partner_and_an_answer_stays_waiting() {
    let lan = Lan::new(2);
    let (maya, sam) = paired_pair(&lan);
    let id = propose(&sam, "Phones at dinner", "No phones at the table");
    wait_status(&maya, &id, "proposed");

    // Seen is not answered: the proposal stays in Maya's status after she reads it.
    let line = waiting_line(&maya, &id).expect("the proposal waits");
    assert!(
        line.contains("Sam proposed “Phones at dinner”; it needs your answer"),
        "{line}"
    );
    maya.ok(&["agree", "show", &id]);
    maya.ok(&["agree", "list"]);
    assert!(
        waiting_line(&maya, &id).is_some(),
        "{}",
        maya.ok(&["status"])
    );

    // Her no, with its words; once answered it leaves her status.
    maya.ok(&["agree", "decline", &id, "--why", WHY]);
    assert_eq!(waiting_line(&maya, &id), None, "{}", maya.ok(&["status"]));
    // Waited for on `status`, which marks nothing seen (`agree show` would).
    let line = eventually("the decline to reach Sam", SOON, || {
        waiting_line(&sam, &id).filter(|l| l.contains("declined"))
    });
    assert!(
        line.contains(
            "Maya declined “Phones at dinner”: “I'd like phones away for the first half hour,"
        ),
        "{line}"
    );
    let shown = sam.ok(&["agree", "show", &id]);
    assert!(
        shown.contains("In their words:\n  Maya, declining (")
            && shown.contains(&format!("    {WHY}\n")),
        "{shown}"
    );
    let v = show(&sam, &id);
    assert_eq!(v["reasons"][0]["said"], "declined", "{v}");
    assert_eq!(v["reasons"][0]["text"], WHY, "{v}");
    assert_eq!(v["reasons"][0]["by"], "Maya", "{v}");

    // Sam revises, saying why; it needs Maya's answer again, with his words in her status.
    sam.ok(&[
        "agree",
        "revise",
        &id,
        "--text",
        "No phones for the first half hour of dinner",
        "--why",
        "Your idea is better",
    ]);
    let line = eventually("the revision to reach Maya", SOON, || {
        waiting_line(&maya, &id).filter(|l| l.contains("revised"))
    });
    assert!(
        line.contains(
            "Sam revised “Phones at dinner”: “Your idea is better”; it needs your answer"
        ),
        "{line}"
    );
    maya.ok(&["agree", "accept", &id]);
    wait_status(&sam, &id, "active");

    // The brief lists the no's of the period with their words.
    maya.write(&["an entry, so the brief has a range"]);
    maya.ok(&[
        "agree",
        "withdraw",
        &id,
        "--why",
        "We need a calmer week first",
    ]);
    let brief = maya.ok(&["export", "--since", "1d"]);
    assert!(
        brief.contains("## Declined or withdrawn in this period")
            && brief.contains("*Maya, withdrawing: We need a calmer week first*"),
        "{brief}"
    );
    let line = eventually("the withdrawal to reach Sam", SOON, || {
        waiting_line(&sam, &id).filter(|l| l.contains("withdrew"))
    });
    assert!(
        line.contains("Maya withdrew from “Phones at dinner”: “We need a calmer week first”"),
        "{line}"
    );
}

#[test]
fn a_partner_device_cannot_change_or_strip_the_words_and_its_own_are_shown_safely() {
    let lan = Lan::new(2);
    let (maya, sam) = paired_pair(&lan);
    let id = propose(&sam, "Texting", "A quick check-in text once a day");
    wait_status(&maya, &id, "proposed");
    maya.ok(&["agree", "decline", &id, "--why", WHY]);
    wait_status(&sam, &id, "declined");
    let maya_id = maya.identity().member_id();
    let sam_key = sam.identity().signing_key().clone();
    let ansi = "\u{1b}[2J\u{1b}]52;c;cHduZWQ=\u{7}";
    let other = propose(&maya, "Sundays", "Sunday mornings are ours");
    wait_status(&sam, &other, "proposed");

    // Sam's device rewrites Maya's words (keeping her signature) and strips them in a
    // copy; and declines Maya's other proposal with 100 KB and escape sequences of its own.
    sam.ok(&["daemon", "stop"]);
    {
        let mut home = sam.open_directly();
        let sources = home.couple.sources().unwrap();
        let (key, mut body) = sources
            .items
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), serde_json::from_str::<StatementBody>(v).ok()?)))
            .find(|(_, s)| s.by == maya_id && s.verb == Verb::Decline)
            .unwrap();
        body.reason = Some("Fine, do what you want".into());
        let changed = serde_json::to_string(&body).unwrap();
        home.couple
            .automerge_mut()
            .put(automerge::ROOT, key.as_str(), changed)
            .unwrap();
        let rev = sources
            .items
            .iter()
            .find_map(|(k, v)| {
                k.starts_with(&format!("r/{other}/")).then(|| {
                    serde_json::from_str::<haven_shared::model::agreement::RevisionBody>(v).unwrap()
                })
            })
            .unwrap();
        let evil = sign_statement(
            &sam_key,
            &StatementBody {
                agreement: other.clone(),
                revision: rev.hash(),
                verb: Verb::Decline,
                by: haven_shared::model::agreement::member_id_of(&sam_key.verifying_key()),
                counter: 10_000,
                at: haven_shared::when::now(),
                reason: Some(format!("{ansi}{}", "x".repeat(100 * 1024))),
            },
        );
        home.couple.put_item(&evil).unwrap();
        home.persist_couple().unwrap();
    }
    sam.ok(&["unlock"]);

    // Maya's laptop keeps her own words, and puts them back for Sam.
    let line = eventually("Sam's decline to reach Maya", SOON, || {
        waiting_line(&maya, &other).filter(|l| l.contains("declined"))
    });
    assert!(line.chars().count() < 200, "one short line: {line}");
    assert!(!line.contains('\u{1b}'), "{line}");
    let v = show(&maya, &id);
    assert_eq!(v["reasons"][0]["text"], WHY, "{v}");
    eventually("Sam's laptop to show Maya's words again", SOON, || {
        (show(&sam, &id)["reasons"][0]["text"] == WHY).then_some(())
    });
    // Sam's own words, huge and escaped, are his (signed by him), shown but never raw.
    for args in [vec!["status"], vec!["agree", "show", other.as_str()]] {
        let out = maya.run(&args);
        assert_eq!(out.code, 0, "{}", out.stderr);
        for bad in ['\u{1b}', '\u{7}'] {
            assert!(!out.stdout.contains(bad), "{args:?}: {}", out.stdout);
        }
    }
}

#[test]
fn words_too_long_are_refused_before_anything_is_signed_and_renew_takes_a_note() {
    let h = Home::init("Maya");
    let id = propose(&h, "Texting", "A quick check-in text once a day");
    let before = show(&h, &id);
    let huge = "x".repeat(100 * 1024);
    for args in [
        vec!["agree", "withdraw", id.as_str(), "--why", huge.as_str()],
        vec![
            "agree",
            "revise",
            id.as_str(),
            "--text",
            "Two texts",
            "--why",
            huge.as_str(),
        ],
        vec![
            "agree",
            "renew",
            id.as_str(),
            "--review-on",
            "2099-01-01",
            "--note",
            huge.as_str(),
        ],
    ] {
        let out = h.run(&args);
        haven_tests::assert_one_error(&out, 2, "keep them under 1000");
    }
    assert_eq!(show(&h, &id), before, "nothing was signed");
    h.ok(&[
        "agree",
        "renew",
        &id,
        "--review-on",
        "2099-01-01",
        "--note",
        "It helped on the busy days",
    ]);
    let shown = h.ok(&["agree", "show", &id]);
    assert!(
        shown.contains("Maya, renewing it, on how it has worked (")
            && shown.contains("    It helped on the busy days\n"),
        "{shown}"
    );
    // --reason still works for a withdrawal, as before.
    h.ok(&["agree", "withdraw", &id, "--reason", "a calmer week first"]);
    assert_eq!(show(&h, &id)["withdrawn"]["reason"], "a calmer week first");
}

#[test]
fn renew_on_a_terminal_asks_how_it_has_worked_and_enter_skips() {
    use haven_tests::tmux::Tmux;
    let h = Home::init("Maya");
    let id = propose(&h, "Texting", "A quick check-in text once a day");
    // A date that cannot be is refused before anyone is asked to write.
    let t = Tmux::haven(
        &h,
        100,
        20,
        &format!("agree renew {id} --review-on 2020-01-01"),
        &[],
    );
    let screen = t.wait_for("[exit ");
    assert!(
        screen.contains("is not in the future") && !screen.contains("How has this worked"),
        "{screen}"
    );
    drop(t);
    for (answer, note) in [("It helped on the busy days", true), ("", false)] {
        let day = if note { "2099-01-01" } else { "2099-02-01" };
        let t = Tmux::haven(
            &h,
            100,
            20,
            &format!("agree renew {id} --review-on {day}"),
            &[],
        );
        t.wait_for("How has this worked for us? (a few words, or Enter to skip)");
        if !answer.is_empty() {
            t.type_text(answer);
        }
        t.press(&["Enter"]);
        let screen = t.wait_for("[exit ");
        assert!(screen.contains("[exit 0]"), "{screen}");
        let v = show(&h, &id);
        let reasons = v["reasons"].as_array().unwrap();
        if note {
            assert_eq!(reasons[0]["text"], answer, "{v}");
            assert_eq!(reasons[0]["said"], "renewed", "{v}");
        } else {
            assert!(reasons.is_empty(), "Enter skips: {v}");
            assert_eq!(v["review_on"], day);
        }
    }
}
