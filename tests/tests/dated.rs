//! Entries written down afterwards (`--at`) and ranges with an end (`--until`, `last
//! week`): the paper thought records of a session back-filled on their real dates, and
//! every count of a brief over one range.
#![allow(clippy::unwrap_used)]

use chrono::{Datelike, Duration, Local};
use haven_tests::{assert_one_error, Home};
use serde_json::Value;

fn created(h: &Home, id: &str) -> String {
    let list = h.json(&["journal", "list", "--json"]);
    list.as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .map(|e| e["created_at"].as_str().unwrap().to_string())
        .unwrap()
}

#[test]
fn entries_wins_and_pauses_can_be_written_down_on_the_day_they_happened() {
    let h = Home::init("Maya");
    let record = h.write(&[
        "--at",
        "2026-11-02 20:00",
        "--situation",
        "no reply all evening",
        "--intensity",
        "8",
    ]);
    assert!(
        created(&h, &record).starts_with("2026-11-02T20:00:00"),
        "{}",
        created(&h, &record)
    );
    let win = h.ok(&["win", "asked for a call, calmly", "--at", "3d ago"]);
    let three_days_ago = (Local::now() - Duration::days(3)).date_naive().to_string();
    assert!(created(&h, win.trim()).starts_with(&three_days_ago));
    let pause = h.ok(&["pause", "--urge", "7", "--at", "yesterday 21:00"]);
    let yesterday = (Local::now() - Duration::days(1)).date_naive().to_string();
    assert!(created(&h, pause.trim()).starts_with(&format!("{yesterday}T21:00:00")));
    let status = h.ok(&["status"]);
    assert!(status.contains("its time is up"), "{status}");
    h.ok(&["pause", "done", pause.trim(), "--urge", "3", "--not-sent"]);

    // Newest first by when it happened, not by when it was typed.
    let list = h.json(&["journal", "list", "--json"]);
    let order: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(order, [pause.trim(), win.trim(), record.as_str()]);

    // The future, before 1970, an hour that does not exist: one line each, nothing written.
    for (when, says) in [
        ("2099-01-01 10:00", "is in the future"),
        ("1969-07-20 20:17", "before 1970"),
        ("yesterday 25:00", "cannot read the time"),
        ("next tuesday", "cannot read the time"),
    ] {
        let out = h.run(&["journal", "write", "--at", when, "text"]);
        assert_eq!(out.code, 2, "{when}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{when}: {}", out.stderr);
        assert_eq!(
            out.stderr
                .lines()
                .filter(|l| l.starts_with("error:"))
                .count(),
            1
        );
    }
    assert_eq!(h.entry_count(), 3);
}

#[test]
fn until_closes_every_range_and_calendar_words_are_understood() {
    let h = Home::init("Maya");
    for (at, intensity) in [
        ("2026-10-30 09:00", "9"),
        ("2026-11-02 20:00", "8"),
        ("2026-11-20 23:30", "6"),
        ("2026-11-21 00:30", "4"),
    ] {
        h.write(&[
            "--at",
            at,
            "--situation",
            &format!("at {at}"),
            "--intensity",
            intensity,
        ]);
    }
    let titles = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["journal", "list", "--json"];
        all.extend_from_slice(args);
        h.json(&all)
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["title"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        titles(&["--since", "2026-11-01", "--until", "2026-11-20"]),
        ["at 2026-11-20 23:30", "at 2026-11-02 20:00"],
        "the --until day is included whole"
    );
    assert_one_error(
        &h.run(&[
            "journal",
            "list",
            "--since",
            "2026-11-20",
            "--until",
            "2026-11-01",
        ]),
        2,
        "is not after --since",
    );
    for words in ["last week", "this week", "last month", "this month"] {
        h.ok(&["journal", "list", "--since", words]);
        h.ok(&["insights", "--since", words]);
    }

    let x = h.json(&[
        "insights",
        "--since",
        "2026-11-01",
        "--until",
        "2026-11-20",
        "--json",
    ]);
    assert_eq!(
        (x["since"].as_str(), x["until"].as_str()),
        (Some("2026-11-01"), Some("2026-11-20"))
    );
    assert_eq!(x["triggers"]["count"], 2, "{x}");

    // The brief: one range for every count on its first page.
    let brief = h.ok(&["export", "--since", "2026-11-01", "--until", "2026-11-20"]);
    assert!(
        brief.starts_with(
            "# Session brief: Sunday 1 November 2026 to Friday 20 November 2026\n\nMaya · 2 entries"
        ),
        "{brief}"
    );
    assert!(
        brief.contains("2 trigger entries, average intensity 7.0, highest 8.")
            && brief.contains("You wrote 2 thought records."),
        "{brief}"
    );
    assert!(!brief.contains("at 2026-11-21") && !brief.contains("at 2026-10-30"));
    assert_one_error(&h.run(&["export", "--until", "2026-11-20"]), 2, "--since");
}

#[test]
fn a_brief_since_a_day_counts_that_whole_day_everywhere() {
    let h = Home::init("Maya");
    // Two records on the first day of the range: one early, one late.
    let first = (Local::now() - Duration::days(7)).date_naive();
    for time in ["00:05", "23:55"] {
        h.write(&[
            "--at",
            &format!("{first} {time}"),
            "--situation",
            &format!("at {time}"),
            "--intensity",
            "5",
        ]);
    }
    // `1w` counts back to this moment a week ago; the brief still starts at midnight, so
    // the listing and "what changed" agree.
    let brief = h.ok(&["export", "--since", "1w", "--format", "json"]);
    let v: Value = serde_json::from_str(&brief).unwrap();
    assert_eq!(v["entries"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["insights"]["triggers"]["count"], 2, "{v}");
    assert_eq!(v["intensity"]["triggers"], 2, "{v}");
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(v["since"].as_str().unwrap())
            .unwrap()
            .with_timezone(&Local)
            .day(),
        first.day()
    );
}
