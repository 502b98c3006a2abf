//! A person's own devices, as network namespaces on one LAN: linking a new device with
//! `haven init --join` and `haven device add`, the journal's first sync to it, and every
//! change after carried both ways.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;
use std::time::Duration;

use haven_tests::couple::log_of;
use haven_tests::lan::{eventually_explained, read_code, Lan};
use haven_tests::Home;

const SOON: Duration = Duration::from_secs(20);

/// Runs `haven init --join --name NAME` on `new` and `haven device add CODE --yes` on
/// `existing`; returns both outputs.
fn link(existing: &Home, new: &Home, name: &str) -> (String, String) {
    let mut joining = new
        .command("haven")
        .args(["init", "--join", "--name", name])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("haven init --join");
    let code = read_code(
        joining.stdout.as_mut().expect("stdout"),
        "haven device add ",
    );
    let added = existing.ok(&["device", "add", &code, "--yes"]);
    let out = joining.wait_with_output().expect("wait");
    let joined = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "init --join failed: {joined}{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        log_of(new)
    );
    (added, joined)
}

fn bodies(h: &Home) -> Vec<String> {
    let list = h.json(&["journal", "list", "--json"]);
    let mut out: Vec<String> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|e| e["body"].as_str().unwrap_or_default().to_string())
        .collect();
    out.sort();
    out
}

fn wait_for(h: &Home, what: &str, check: impl Fn(&[String]) -> bool) {
    eventually_explained(
        SOON,
        || check(&bodies(h)).then_some(()),
        || format!("{what}: {:?}\n{}", bodies(h), log_of(h)),
    );
}

#[test]
fn a_linked_device_gets_the_journal_and_every_change_after_travels_both_ways() {
    let lan = Lan::new(2);
    let laptop = lan.laptop(0, "Maya");
    laptop.write(&["the first entry"]);
    laptop.write(&["DEVICE-CANARY-ONE"]);
    let desk = Home::in_netns(&lan.nodes[1], "eth0");
    let (added, joined) = link(&laptop, &desk, "desk");
    assert!(added.contains("Linked desk."), "{added}");
    assert!(added.contains("(2 entries)"), "{added}");
    assert!(
        joined.contains("Both screens show these words:"),
        "{joined}"
    );
    assert!(joined.contains("Linked to Maya's devices"), "{joined}");
    assert_eq!(bodies(&desk), ["DEVICE-CANARY-ONE", "the first entry"]);

    // Live, both ways, on the LAN.
    laptop.write(&["written on the laptop after"]);
    wait_for(&desk, "the laptop's new entry on the desk", |b| {
        b.iter().any(|x| x == "written on the laptop after")
    });
    let id = desk.write(&["written on the desk"]);
    wait_for(&laptop, "the desk's entry on the laptop", |b| {
        b.iter().any(|x| x == "written on the desk")
    });
    desk.ok(&["journal", "delete", &id, "--yes"]);
    wait_for(&laptop, "the deletion on the laptop", |b| {
        !b.iter().any(|x| x == "written on the desk")
    });

    // Both say they hold the same journal, with the same fingerprint.
    let listed = eventually_explained(
        SOON,
        || {
            let l = laptop.json(&["device", "list", "--json"]);
            let d = desk.json(&["device", "list", "--json"]);
            let in_sync =
                |v: &serde_json::Value| v.as_array().unwrap().iter().all(|d| d["in_sync"] == true);
            (in_sync(&l) && in_sync(&d)).then_some((l, d))
        },
        || "the two devices never said they were in sync".into(),
    );
    let (l, d) = listed;
    assert_eq!(l.as_array().unwrap().len(), 2);
    let heads = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|d| d["heads"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let all: Vec<String> = heads(&l).into_iter().chain(heads(&d)).collect();
    assert!(all.iter().all(|h| h == &all[0] && !h.is_empty()), "{all:?}");
    let names: Vec<&str> = l
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names[1], "desk");
    assert_eq!(
        desk.json(&["status", "--json"])["name"],
        "Maya",
        "the desk acts for Maya"
    );
}
