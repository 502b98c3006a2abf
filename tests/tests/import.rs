//! `haven import`: from a file the real jrnl 4.6 wrote, and from a Day One export fixture
//! written to the format's documentation (as .json and as .zip); twice adds nothing; bad
//! files import nothing.
#![allow(clippy::string_slice, clippy::unwrap_used)]

use haven_tests::Home;
use std::path::{Path, PathBuf};
use std::process::Command;

/// jrnl 4.6 from PyPI: `.ci/run` installs it into target/jrnl-venv; `JRNL` overrides.
fn jrnl() -> PathBuf {
    let path = std::env::var_os("JRNL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            haven_tests::bin_dir()
                .parent()
                .unwrap()
                .join("jrnl-venv/bin/jrnl")
        });
    assert!(
        path.exists(),
        "jrnl is not installed at {}: run .ci/run, or `python3 -m venv target/jrnl-venv && target/jrnl-venv/bin/pip install jrnl==4.6`",
        path.display()
    );
    path
}

/// Writes `text` (jrnl's own text format) into a fresh jrnl journal and exports it as JSON.
fn jrnl_export(dir: &Path, text: &str) -> PathBuf {
    let config = dir.join("jrnl.yaml");
    std::fs::write(
        &config,
        format!(
            "colors: {{body: none, date: none, tags: none, title: none}}\ndefault_hour: 9\ndefault_minute: 0\neditor: ''\n\
             encrypt: false\nhighlight: false\nindent_character: '|'\njournals:\n  default:\n    journal: {}\n\
             linewrap: 79\ntagsymbols: '#@'\ntemplate: false\ntimeformat: '%Y-%m-%d %H:%M'\nversion: v4.6\n",
            dir.join("journal.txt").display()
        ),
    )
    .unwrap();
    let input = dir.join("in.txt");
    std::fs::write(&input, text).unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(jrnl())
            .arg("--config-file")
            .arg(&config)
            .args(args)
            .env("HOME", dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "jrnl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    run(&["--import", "--file", input.to_str().unwrap()]);
    let json = dir.join("export.json");
    std::fs::write(&json, run(&["--format", "json"])).unwrap();
    json
}

#[test]
fn a_jrnl_export_comes_in_once() {
    let h = Home::init("Maya");
    let file = jrnl_export(
        h.tmp.path(),
        "[2024-05-01 09:15] Woke up anxious. The phone was silent all night. @sleep @phone\n\n\
         [2024-05-02 21:40] A good talk with Sam about the weekend.\nWe agreed on a Sunday call. @weekend\n\n",
    );
    let out = h.run(&["import", "--from", "jrnl", file.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("Imported 2 entries"), "{}", out.stderr);
    let list = h.json(&["journal", "list", "--json"]);
    let entries = list.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let talk = &entries[0];
    assert_eq!(talk["title"], "A good talk with Sam about the weekend.");
    assert!(talk["body"].as_str().unwrap().contains("Sunday call"));
    assert_eq!(talk["tags"], serde_json::json!(["weekend"]));
    assert!(talk["created_at"]
        .as_str()
        .unwrap()
        .starts_with("2024-05-02T21:40:00"));
    let first = &entries[1];
    // jrnl lists an entry's tags in no fixed order.
    let mut tags: Vec<&str> = first["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    tags.sort();
    assert_eq!(tags, ["phone", "sleep"]);
    assert!(first["body"].as_str().unwrap().contains("Woke up anxious"));

    let again = h.run(&["import", "--from", "jrnl", file.to_str().unwrap()]);
    assert_eq!(again.code, 0);
    assert!(
        again.stderr.contains("Imported 0 entries") && again.stderr.contains("2 were already here"),
        "{}",
        again.stderr
    );
    assert_eq!(h.entry_count(), 2);
}

#[test]
fn a_day_one_export_comes_in_from_json_and_zip() {
    let h = Home::init("Maya");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/dayone/Journal.json");
    let out = h.run(&["import", "--from", "dayone", fixture.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let entries = h.json(&["journal", "list", "--json"]);
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let session = &entries[1];
    assert_eq!(session["title"], "After the session");
    assert!(session["body"]
        .as_str()
        .unwrap()
        .starts_with("We talked about the late-reply spiral"));
    assert_eq!(
        session["tags"],
        serde_json::json!(["morning", "Therapy-notes"])
    );
    assert!(session["created_at"]
        .as_str()
        .unwrap()
        .starts_with("2025-03-14T08:30:00"));
    assert!(entries[0]["body"].as_str().unwrap().contains("静かな夜"));

    // The same export as Day One's .zip adds nothing new.
    let zip = h.tmp.path().join("export.zip");
    let made = Command::new("python3")
        .args(["-c", "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1], 'w'); z.write(sys.argv[2], 'Journal.json'); z.close()"])
        .arg(&zip)
        .arg(&fixture)
        .status()
        .unwrap();
    assert!(made.success());
    let out = h.run(&["import", "--from", "dayone", zip.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("2 were already here"), "{}", out.stderr);
}

/// The same entry twice in one file comes in once, the second counted as already here
/// (before, both were counted as imported and written).
#[test]
fn an_entry_twice_in_one_file_comes_in_once() {
    let h = Home::init("Maya");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/dayone/Journal.json");
    let twice = h.tmp.path().join("twice.json");
    let made = Command::new("python3")
        .args([
            "-c",
            "import json, sys; d = json.load(open(sys.argv[1])); \
             d['entries'] = [d['entries'][0], dict(d['entries'][0])]; \
             json.dump(d, open(sys.argv[2], 'w'))",
        ])
        .arg(&fixture)
        .arg(&twice)
        .status()
        .unwrap();
    assert!(made.success());
    let out = h.run(&["import", "--from", "dayone", twice.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("Imported 1 entry from") && out.stderr.contains("(1 was already here)"),
        "{}",
        out.stderr
    );
    let bodies = |h: &Home| -> Vec<String> {
        h.json(&["journal", "list", "--json"])
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["body"].as_str().unwrap().to_string())
            .collect()
    };
    let before = bodies(&h);
    assert_eq!(before.len(), 1);
    h.ok(&["daemon", "stop"]);
    assert_eq!(bodies(&h), before, "the same after a restart");
}

#[test]
fn bad_files_import_nothing() {
    let h = Home::init("Maya");
    let dir = h.tmp.path();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let valid = r#"{"entries": [{"title": "ok", "body": "fine", "date": "2024-01-01", "time": "10:00", "tags": []}"#;
    let cases = [
        (
            "jrnl",
            write("truncated.json", valid),
            "not a jrnl JSON export",
        ),
        (
            "jrnl",
            write("dayone.json", r#"{"metadata": {}, "items": []}"#),
            "not a jrnl JSON export",
        ),
        (
            "jrnl",
            write(
                "nodate.json",
                r#"{"entries": [{"title": "a", "body": "b", "date": "2024-01-01", "time": "10:00"}, {"title": "c", "body": "d"}]}"#,
            ),
            "entry 2",
        ),
        (
            "dayone",
            write("jrnl.json", r#"{"entries": [{"title": "x"}]}"#),
            "no creationDate",
        ),
        (
            "dayone",
            write("garbage.zip", "PK\u{3}\u{4}not really a zip"),
            "not a readable zip",
        ),
        ("jrnl", dir.join("missing.json"), "cannot read"),
    ];
    for (from, file, needle) in cases {
        let err = h.fails(&["import", "--from", from, file.to_str().unwrap()], 2);
        assert!(err.contains(needle), "{}: {err}", file.display());
    }
    assert_eq!(h.entry_count(), 0);
}
