//! Agreements on one laptop: propose from text or a template, revise, withdraw, and the
//! derived status, through the real binaries. (Accept and decline by a partner arrive with
//! pairing; the consent rule under concurrency is unit-tested in shared/documents.)
#![allow(clippy::string_slice, clippy::unwrap_used)]

use haven_tests::Home;

#[test]
fn propose_list_show_revise_withdraw() {
    let h = Home::init("Maya");
    let id = h.ok(&[
        "agree",
        "propose",
        "Evenings",
        "--text",
        "No texts after 22:00 on work nights",
        "--review-on",
        "2027-02-01",
    ]);
    let id = id.trim();
    let a = h.json(&["agree", "show", &id[..12], "--json"]);
    assert_eq!(a["id"], id);
    assert_eq!(a["title"], "Evenings");
    assert_eq!(a["text"], "No texts after 22:00 on work nights");
    assert_eq!(
        a["status"], "proposed",
        "alone, an agreement is only proposed"
    );
    assert_eq!(a["proposed_by"], "Maya");
    assert_eq!(a["review_on"], "2027-02-01");
    assert!(a["consents"]["Maya"].is_string());
    assert_eq!(a["revisions"].as_array().unwrap().len(), 1);

    h.ok(&[
        "agree",
        "revise",
        id,
        "--text",
        "No texts after 22:30 on work nights",
    ]);
    let a = h.json(&["agree", "show", id, "--json"]);
    assert_eq!(a["text"], "No texts after 22:30 on work nights");
    assert_eq!(a["revisions"].as_array().unwrap().len(), 2);
    assert_eq!(a["status"], "proposed");

    h.ok(&["agree", "withdraw", id, "--reason", "let us talk first"]);
    let a = h.json(&["agree", "show", id, "--json"]);
    assert_eq!(a["status"], "withdrawn");
    assert_eq!(a["withdrawn"]["reason"], "let us talk first");
    assert_eq!(a["withdrawn"]["by"], "Maya");

    let list = h.ok(&["agree", "list"]);
    assert!(
        list.contains("withdrawn") && list.contains("Evenings"),
        "{list}"
    );
    // Accepting again brings back one's own consent (still proposed: no partner yet).
    h.ok(&["agree", "accept", id]);
    assert_eq!(
        h.json(&["agree", "show", id, "--json"])["status"],
        "proposed"
    );
}

#[test]
fn templates_and_their_errors() {
    let h = Home::init("Maya");
    let id = h.ok(&["agree", "propose", "--template", "daily-check-in"]);
    let a = h.json(&["agree", "show", id.trim(), "--json"]);
    assert_eq!(a["title"], "A daily check-in");
    assert!(a["text"].as_str().unwrap().contains("check-in text a day"));
    let err = h.fails(&["agree", "propose", "x", "--template", "nope"], 2);
    assert!(err.contains("daily-check-in"), "lists the templates: {err}");
    h.fails(&["agree", "propose", "no text"], 2);
    h.fails(
        &[
            "agree",
            "propose",
            "x",
            "--text",
            "y",
            "--review-on",
            "next tuesday",
        ],
        2,
    );
    let err = h.fails(&["agree", "decline", id.trim()], 2);
    assert!(err.contains("you wrote the latest text"), "{err}");
    h.fails(&["agree", "accept", "zzzz"], 3);
    assert_eq!(
        h.json(&["agree", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
