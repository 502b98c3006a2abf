//! The practice together, on two laptops in network namespaces: shared notes and
//! appreciations, the weekly question with its commit-reveal, agreement renewals, and what
//! `status` lists as waiting. Every test keeps a canary in private entries and checks it
//! never reaches the partner's laptop (its disk, decrypted, and its outputs).
#![allow(clippy::string_slice, clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

use haven_tests::couple::{paired_pair, wait_status, SOON};
use haven_tests::lan::{eventually, Lan};
use haven_tests::{assert_one_error, Home};

const CANARY: &str = "CANARY-never-leaves-7f3a";

/// Everything the partner's laptop holds, decrypted: both documents saved whole, plus
/// every output a person could ask for. (The daemon is stopped first, so the documents
/// are read from disk.)
fn everything_on(h: &Home) -> String {
    let mut all = String::new();
    for args in [
        &["notes", "--json"][..],
        &["ask", "list", "--json"],
        &["status", "--json"],
        &["agree", "list", "--json"],
    ] {
        all.push_str(&h.ok(args));
    }
    h.ok(&["daemon", "stop"]);
    let mut home = h.open_directly();
    all.push_str(&String::from_utf8_lossy(
        &home.couple.automerge_mut().save(),
    ));
    all.push_str(&String::from_utf8_lossy(
        &home.journal.automerge_mut().save(),
    ));
    all
}

fn notes_of(h: &Home) -> Vec<Value> {
    h.json(&["notes", "--json"]).as_array().unwrap().clone()
}

fn waiting_of(h: &Home) -> Vec<Value> {
    h.json(&["status", "--json"])["waiting"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn a_shared_need_an_answer_and_thanks_reach_the_partner_and_nothing_else_does() {
    let lan = Lan::new(2);
    let (maya, sam) = paired_pair(&lan);
    // Private entries with the canary, and one need to share.
    maya.write(&[&format!("private {CANARY}")]);
    maya.write(&[
        "--kind",
        "trigger",
        "--situation",
        &format!("no reply {CANARY}"),
        "--other-story",
        &format!("he is in a meeting {CANARY}"),
        "--intensity",
        "7",
    ]);
    // The practice's private words: the plan and its people, a pause and its rewrite.
    maya.ok(&[
        "soothe",
        "edit",
        "--text",
        &format!("- tea {CANARY}\n\n## People I can call\n\n- Ana {CANARY}\n"),
    ]);
    let pause = maya.ok(&["pause", "--message", &format!("where are you {CANARY}")]);
    maya.ok(&[
        "pause",
        "done",
        pause.trim(),
        "--urge",
        "2",
        "--rewrite",
        &format!("I feel scared {CANARY}"),
    ]);
    let need = maya.write(&[
        "--kind",
        "needs",
        "--title",
        "Checking in",
        "--tag",
        "secret-tag",
        "I feel anxious when we don't check in during the day. Can we send a quick text once a day?",
    ]);

    // Without a terminal and without --yes, nothing is shared.
    let out = maya.run(&["share", &need]);
    assert_one_error(&out, 2, "sharing needs a yes");
    assert!(notes_of(&maya).is_empty());
    // An unknown id: one line, exit 3.
    let out = maya.run(&["share", "01jzzzzzzzzzzzzzzzzzzzzzzz"]);
    assert_one_error(&out, 3, "no journal entry matches");

    let note = maya.ok(&["share", &need, "--yes"]).trim().to_string();
    // Sharing the same entry twice makes one note.
    let again = maya.run(&["share", &need[..10], "--yes"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.stdout.trim(), note);
    assert!(again.stderr.contains("shared before"), "{}", again.stderr);
    assert_eq!(notes_of(&maya).len(), 1);
    // Insights count what was shared, once, beside the pages written; Sam shared nothing.
    let x = maya.json(&["insights", "--json"]);
    assert_eq!(x["written"]["shared"], 1, "{}", x["written"]);
    assert!(maya
        .ok(&["insights"])
        .contains("1 note shared with your partner"));
    assert_eq!(sam.json(&["insights", "--json"])["written"]["shared"], 0);

    // Sam's laptop lists it as waiting, then shows it, signed by Maya.
    let w = eventually("the note waiting on Sam's laptop", SOON, || {
        waiting_of(&sam).into_iter().find(|w| w["about"] == note)
    });
    assert_eq!(w["what"], "Maya shared a need with you: “Checking in”");
    assert_eq!(w["command"], format!("haven notes show {note}"));
    let got = notes_of(&sam)
        .into_iter()
        .find(|n| n["id"] == note)
        .expect("the note");
    assert_eq!(got["by"], "Maya");
    assert_eq!(got["verified"], true);
    assert_eq!(got["mine"], false);
    assert_eq!(got["kind"], "needs");
    assert_eq!(got["title"], "Checking in");
    // `notes` marked it seen: status no longer lists it.
    let w = waiting_of(&sam);
    assert!(
        !w.iter().any(|w| w["about"] == note),
        "seen once listed: {w:?}"
    );

    // Sam answers, and thanks Maya; Maya sees both, and they wait for her until she looks.
    let answer = sam
        .ok(&["notes", "answer", &note[..12], "Yes. I'd love that."])
        .trim()
        .to_string();
    let thanks = sam
        .ok(&["thanks", "Thank you for saying it so kindly"])
        .trim()
        .to_string();
    let waiting = eventually("both waiting on Maya's laptop", SOON, || {
        let w = waiting_of(&maya);
        let kinds: Vec<&str> = w.iter().filter_map(|w| w["kind"].as_str()).collect();
        (kinds.contains(&"note") && kinds.contains(&"thanks")).then_some(w)
    });
    let status = maya.ok(&["status"]);
    assert!(
        status.contains(&format!(
            "Sam answered your note: `haven notes show {answer}`"
        )),
        "{status}"
    );
    assert!(
        status.contains(&format!("Sam thanked you: `haven notes show {thanks}`")),
        "{status}"
    );
    assert_eq!(waiting.len(), 2, "{waiting:?}");
    let shown = maya.json(&["notes", "show", &note, "--json"]);
    assert_eq!(shown["answers"][0]["text"], "Yes. I'd love that.");
    assert_eq!(shown["answers"][0]["by"], "Sam");
    // Showing the note marked its answer seen; the thanks still waits.
    let left: Vec<Value> = waiting_of(&maya);
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["kind"], "thanks");
    maya.ok(&["notes"]);
    assert!(waiting_of(&maya).is_empty());

    // The brief includes the appreciations received only when asked, redacted like the rest.
    let brief = maya.ok(&["export", "--since", "1d"]);
    assert!(!brief.contains("Appreciations received"), "{brief}");
    let brief = maya.ok(&[
        "export",
        "--since",
        "1d",
        "--thanks",
        "--redact",
        "Sam=partner",
    ]);
    assert!(
        brief.contains("## Appreciations received\n\n- partner (")
            && brief.contains("): Thank you for saying it so kindly"),
        "{brief}"
    );
    let (body, _) = brief
        .split_once("Redacted: Sam → partner")
        .expect("the redaction note");
    assert!(!body.contains("Sam"), "{brief}");
    for format in ["txt", "html"] {
        let out = maya.ok(&["export", "--since", "1d", "--thanks", "--format", format]);
        assert!(
            out.contains("Appreciations received")
                && out.contains("Thank you for saying it so kindly"),
            "{format}: {out}"
        );
    }
    let pdf = maya.tmp.path().join("brief.pdf");
    maya.ok(&[
        "export",
        "--since",
        "1d",
        "--thanks",
        "--format",
        "pdf",
        "-o",
        pdf.to_str().unwrap(),
    ]);
    let text = haven_tests::pdf_text(&pdf);
    assert!(
        text.contains("Appreciations received")
            && text.contains("Thank you for saying it so kindly"),
        "{text}"
    );
    let json = maya.json(&["export", "--since", "1d", "--thanks", "--format", "json"]);
    assert_eq!(json["thanks"][0]["by"], "Sam");
    assert_eq!(
        json["thanks"].as_array().unwrap().len(),
        1,
        "only thanks, only Sam's"
    );

    // Bad input: an empty note, an unknown note, one line each.
    assert_one_error(&sam.run(&["thanks", "  "]), 2, "the note is empty");
    assert_one_error(
        &sam.run(&["notes", "answer", "01jzzzzzzzzzzzzzzzzzzzzzzz", "hi"]),
        3,
        "no shared note matches",
    );

    // Nothing else of Maya's journal is on Sam's laptop: not the canary, not the tag.
    let seen = everything_on(&sam);
    assert!(seen.contains("quick text once a day"), "the note is there");
    assert!(!seen.contains(CANARY), "a private entry reached Sam");
    assert!(!seen.contains("secret-tag"), "a private tag reached Sam");
    assert!(Home::grep(sam.tmp.path(), CANARY).is_empty());
    assert!(Home::grep(maya.tmp.path(), CANARY).is_empty());
}

#[test]
fn the_partner_answers_a_need_in_a_frame_and_only_what_he_wrote_travels() {
    let lan = Lan::new(2);
    let (maya, mut sam) = paired_pair(&lan);
    let need = maya.write(&[
        "--kind",
        "needs",
        "I feel anxious when the day goes by without a word. I need one text a day.",
    ]);
    let note = maya.ok(&["share", &need, "--yes"]).trim().to_string();
    eventually("the note on Sam's laptop", SOON, || {
        notes_of(&sam).into_iter().find(|n| n["id"] == note)
    });
    // Sam's editor writes under one heading only, and only if Maya's note is there below
    // the frame as a comment.
    let tools = tempfile::tempdir().unwrap();
    let editor = tools.path().join("reply.sh");
    haven_tests::script(
        &editor,
        "grep -q '^#   I feel anxious when the day goes by' \"$1\" && \
         sed -i 's/^What I can do:$/What I can do:\\nText you when I leave work./' \"$1\"",
    );
    sam.env
        .push(("EDITOR".into(), editor.display().to_string()));
    let out = sam.run(&["notes", "reply", &note[..12]]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("Answered."), "{}", out.stderr);
    let answer = out.stdout.trim().to_string();
    let shown = eventually("the answer on Maya's laptop", SOON, || {
        let shown = maya.ok(&["notes", "show", &note]);
        shown
            .contains("Text you when I leave work.")
            .then_some(shown)
    });
    assert!(
        shown.contains("    What I can do:\n    Text you when I leave work.\n"),
        "{shown}"
    );
    assert!(
        !shown.contains("What I heard"),
        "empty headings stay behind: {shown}"
    );
    assert!(!shown.contains("offer instead"), "{shown}");
    let answers = notes_of(&maya);
    assert!(answers.iter().any(|n| n["id"] == answer), "{answers:?}");
    // A frame left as it was sends nothing, and says so kindly.
    let leave = tools.path().join("leave.sh");
    haven_tests::script(&leave, "true");
    sam.env.push(("EDITOR".into(), leave.display().to_string()));
    let out = sam.run(&["notes", "reply", &note]);
    assert_eq!(
        (out.code, out.stderr.trim()),
        (0, "Nothing sent: the frame came back empty.")
    );
    assert_eq!(
        notes_of(&sam).len(),
        2,
        "the note and one answer: {:?}",
        notes_of(&sam)
    );
}

#[test]
fn a_note_without_a_partner_is_one_line_and_changes_nothing() {
    let h = Home::init("Maya");
    h.ok(&["unlock"]);
    let id = h.write(&["hello"]);
    assert_one_error(&h.run(&["thanks", "hi"]), 3, "not paired with a partner");
    assert_one_error(
        &h.run(&["share", &id, "--yes"]),
        3,
        "not paired with a partner",
    );
    assert_one_error(
        &h.run(&["ask", "answer", "an answer"]),
        3,
        "not paired with a partner",
    );
    assert_eq!(h.json(&["notes", "--json"]), serde_json::json!([]));
    // A question can be added alone; it waits for the partner.
    h.ok(&["ask", "add", "What would you like more of?"]);
    let questions = h.json(&["ask", "list", "--json"])["questions"].clone();
    assert!(questions
        .as_array()
        .unwrap()
        .iter()
        .any(|q| q["text"] == "What would you like more of?" && q["added_by"] == "Maya"));
}

#[test]
fn an_answer_stays_a_hash_on_the_partners_laptop_until_they_answer_too() {
    let lan = Lan::new(2);
    let (maya, sam) = paired_pair(&lan);
    let secret = format!("our walk on Sunday {CANARY}");
    let mine = maya.json(&["ask", "--json"]);
    assert_eq!(mine["me"]["state"], "not_answered");
    let out = maya.run(&["ask", "answer", &secret]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains(&secret), "Maya sees her own answer");
    // A second answer the same week is refused.
    assert_one_error(
        &maya.run(&["ask", "answer", "another"]),
        2,
        "already answered",
    );

    // Sam's laptop learns that Maya answered, and holds only her commitment.
    let theirs = eventually("Maya's commitment on Sam's laptop", SOON, || {
        let w = sam.json(&["ask", "--json"]);
        (w["partner"]["state"] == "answered").then_some(w)
    });
    assert_eq!(theirs["question"], mine["question"]);
    assert!(theirs["partner"]["answer"].is_null());
    let text = sam.ok(&["ask"]);
    assert!(
        text.contains("you see it once you have answered too"),
        "{text}"
    );
    assert!(
        !everything_on(&sam).contains(CANARY),
        "the answer arrived before Sam answered"
    );
    sam.ok(&["unlock"]);

    // Sam answers: both reveal, both laptops show both answers.
    sam.ok(&["ask", "answer", "the film night"]);
    for (h, other) in [(&sam, "our walk on Sunday"), (&maya, "the film night")] {
        eventually("both answers revealed", SOON, || {
            let w = h.json(&["ask", "--json"]);
            (w["partner"]["state"] == "revealed").then_some(())
        });
        let w = h.json(&["ask", "--json"]);
        assert!(w["partner"]["answer"].as_str().unwrap().starts_with(other));
        let list = h.json(&["ask", "list", "--json"]);
        assert_eq!(list["weeks"][0]["me"]["state"], "revealed");
    }
}

#[test]
fn a_renewal_asks_for_consent_again_and_review_dates_wait_in_status() {
    let lan = Lan::new(2);
    let (maya, sam) = paired_pair(&lan);
    let today = chrono::Local::now().date_naive().to_string();
    let id = maya
        .ok(&[
            "agree",
            "propose",
            "Sunday talk",
            "--text",
            "We talk on Sunday evenings",
            "--review-on",
            &today,
        ])
        .trim()
        .to_string();
    // Sam learns of the proposal without polling the agreements.
    let w = eventually("the proposal waiting for Sam", SOON, || {
        waiting_of(&sam)
            .into_iter()
            .find(|w| w["kind"] == "proposed")
    });
    assert_eq!(
        w["what"],
        "Maya proposed “Sunday talk”; it needs your answer"
    );
    assert_eq!(w["needs_answer"], true);
    assert_eq!(w["command"], format!("haven agree show {id}"));
    sam.ok(&["agree", "accept", &id]);
    // Due for review, listed as waiting with the command to renew, beside Sam's accept.
    eventually("Sam's accept waiting for Maya", SOON, || {
        waiting_of(&maya)
            .into_iter()
            .find(|w| w["kind"] == "accepted")
    });
    let status = maya.ok(&["status"]);
    assert!(
        status.contains(&format!(
            "“Sunday talk” is due for review (since {today}): `haven agree renew {id} --review-on DATE`"
        )),
        "{status}"
    );
    assert!(status.contains("Sam accepted “Sunday talk”"), "{status}");
    // Looking at it marks the accept seen; the review date stays until it is dealt with.
    assert_eq!(
        maya.json(&["agree", "show", &id, "--json"])["status"],
        "due_for_review"
    );
    let kinds: Vec<Value> = waiting_of(&maya)
        .iter()
        .map(|w| w["kind"].clone())
        .collect();
    assert_eq!(kinds, vec![Value::from("review_due")]);

    // A date in the past, or today, is one line.
    assert_one_error(
        &maya.run(&["agree", "renew", &id, "--review-on", "2020-01-01"]),
        2,
        "is not in the future",
    );
    assert_one_error(
        &maya.run(&["agree", "renew", &id, "--review-on", "someday"]),
        2,
        "someday",
    );
    let next = (chrono::Local::now().date_naive() + chrono::Days::new(90)).to_string();
    maya.ok(&["agree", "renew", &id, "--review-on", &next]);
    let a = maya.json(&["agree", "show", &id, "--json"]);
    assert_eq!(a["status"], "proposed", "Sam consents again");
    assert_eq!(a["review_on"], next);
    assert_eq!(a["text"], "We talk on Sunday evenings");
    let w = eventually("the renewal waiting for Sam", SOON, || {
        waiting_of(&sam)
            .into_iter()
            .find(|w| w["kind"] == "revised")
    });
    assert_eq!(
        w["what"],
        format!("Maya renewed “Sunday talk” with a review on {next}; it needs your answer")
    );
    sam.ok(&["agree", "accept", &id]);
    wait_status(&maya, &id, "active");
    assert!(
        !waiting_of(&maya).iter().any(|w| w["kind"] == "review_due"),
        "renewed: no longer due"
    );
}

/// What a person reads, pinned whole in `tests/snapshots/together.txt` (`[..]` stands for
/// an id, a time, or this week's question). `SNAPSHOTS=overwrite` rewrites it.
#[test]
fn what_the_partner_reads_is_pinned() {
    let lan = Lan::new(2);
    let (maya, sam) = paired_pair(&lan);
    let need = maya.write(&[
        "--kind",
        "needs",
        "--title",
        "Checking in",
        "I feel anxious when we don't check in during the day.\nCan we send a quick text once a day?",
    ]);
    let note = maya.ok(&["share", &need, "--yes"]).trim().to_string();
    maya.ok(&["thanks", "Thank you for the walk on Sunday."]);
    maya.ok(&[
        "agree",
        "propose",
        "Check-in",
        "--text",
        "A quick text once a day",
    ]);
    maya.ok(&["ask", "answer", "When you waited for me at the station."]);
    eventually("four things waiting for Sam", SOON, || {
        (waiting_of(&sam).len() == 4).then_some(())
    });
    let mut out = String::new();
    let mut run = |h: &Home, args: &[&str]| {
        out.push_str(&format!("$ haven {}\n{}\n", args.join(" "), h.ok(args)));
    };
    run(&sam, &["status"]);
    run(&sam, &["notes"]);
    run(&sam, &["notes", "show", &note]);
    run(&sam, &["ask"]);
    sam.ok(&[
        "notes",
        "answer",
        &note,
        "Yes, let's. A text at lunch?\nAnd if I am late past seven, I will call before, not after.",
    ]);
    sam.ok(&["ask", "answer", "When you made tea after my long day."]);
    eventually("Sam's answer revealed on Maya's laptop", SOON, || {
        (maya.json(&["ask", "--json"])["partner"]["state"] == "revealed").then_some(())
    });
    run(&maya, &["notes", "show", &note]);
    run(&maya, &["ask", "list"]);
    for (h, args, code) in [
        (
            &maya,
            vec!["share", "01jzzzzzzzzzzzzzzzzzzzzzzz", "--yes"],
            3,
        ),
        (&maya, vec!["share", need.as_str()], 2),
        (&maya, vec!["thanks", ""], 2),
        (&maya, vec!["ask", "answer", "again"], 2),
        (&maya, vec!["notes", "show", "01jzzz"], 3),
    ] {
        out.push_str(&format!(
            "$ haven {}\n{}\n",
            args.join(" "),
            h.fails(&args, code)
        ));
    }
    snapbox::assert_data_eq!(out, snapbox::file!["../snapshots/together.txt"]);
}

/// On a terminal, `share` shows what will travel and says it cannot be taken back, and
/// only a yes shares it.
#[test]
fn share_asks_on_a_terminal_and_only_a_yes_shares() {
    use haven_tests::tmux::Tmux;
    let lan = Lan::new(2);
    let (maya, _sam) = paired_pair(&lan);
    let id = maya.write(&[
        "--kind",
        "letter",
        "--title",
        "To little me",
        "You were never too much.",
    ]);
    // Not sharing is a choice: it ends well (exit 0), and says the entry stays here.
    for answer in ["n", "y"] {
        let t = Tmux::haven(&maya, 100, 30, &format!("share {id}"), &[]);
        let screen = t.wait_for("Share it? [y/N]");
        assert!(
            screen.contains("This copies one letter entry to Sam's laptop:"),
            "{screen}"
        );
        assert!(
            screen.contains("To little me") && screen.contains("You were never too much."),
            "{screen}"
        );
        assert!(
            screen.contains("cannot be taken back from there"),
            "{screen}"
        );
        t.type_text(answer);
        t.press(&["Enter"]);
        let screen = t.wait_for("[exit 0]");
        let shared = maya.json(&["notes", "--json"]).as_array().unwrap().len();
        if answer == "y" {
            assert!(
                screen.contains("Shared. Sent to Sam's laptop.")
                    || screen
                        .contains("Shared. It goes to Sam's laptop the next time the two connect."),
                "{screen}"
            );
            assert_eq!(shared, 1);
        } else {
            assert!(screen.contains("Kept private."), "{screen}");
            assert!(!screen.contains("error"), "{screen}");
            assert_eq!(shared, 0);
        }
    }
}
