//! Insights that say what changed: an eight-week journal written on its real dates
//! (`--at`), October anxious and November calmer, and the words, the JSON and the plain
//! form checked against figures this test works out itself.
#![allow(clippy::unwrap_used)]

use haven_tests::Home;
use serde_json::{json, Value};

struct Record {
    at: &'static str,
    before: u8,
    after: u8,
    did: &'static [&'static str],
    story: Option<&'static str>,
    tag: &'static str,
    helped: &'static str,
    mood: &'static str,
}

const RECORDS: [Record; 8] = [
    Record {
        at: "2026-10-05 21:00",
        before: 9,
        after: 5,
        did: &["reassurance"],
        story: Some("losing_interest"),
        tag: "phone",
        helped: "scrolling",
        mood: "2",
    },
    Record {
        at: "2026-10-12 22:00",
        before: 8,
        after: 4,
        did: &["protest"],
        story: Some("losing_interest"),
        tag: "phone",
        helped: "a walk",
        mood: "2",
    },
    Record {
        at: "2026-10-20 20:00",
        before: 9,
        after: 5,
        did: &["reassurance", "protest"],
        story: Some("abandonment"),
        tag: "evening",
        helped: "",
        mood: "1",
    },
    Record {
        at: "2026-10-28 23:00",
        before: 8,
        after: 4,
        did: &["protest"],
        story: Some("losing_interest"),
        tag: "evening",
        helped: "",
        mood: "2",
    },
    Record {
        at: "2026-11-03 21:00",
        before: 4,
        after: 2,
        did: &["soothing"],
        story: Some("losing_interest"),
        tag: "phone",
        helped: "a walk",
        mood: "4",
    },
    Record {
        at: "2026-11-10 21:00",
        before: 3,
        after: 1,
        did: &["asked"],
        story: None,
        tag: "phone",
        helped: "tea with honey",
        mood: "4",
    },
    Record {
        at: "2026-11-17 21:00",
        before: 4,
        after: 2,
        did: &["soothing"],
        story: None,
        tag: "evening",
        helped: "A walk.",
        mood: "4",
    },
    Record {
        at: "2026-11-25 21:00",
        before: 3,
        after: 1,
        did: &["soothing"],
        story: None,
        tag: "evening",
        helped: "",
        mood: "5",
    },
];

fn mean(values: impl Iterator<Item = u8>) -> f64 {
    let v: Vec<f64> = values.map(f64::from).collect();
    (v.iter().sum::<f64>() / v.len() as f64 * 10.0).round() / 10.0
}

fn eight_weeks() -> Home {
    let h = Home::init("Maya");
    h.ok(&[
        "soothe",
        "edit",
        "--text",
        "- make me a cup of tea with honey\n- a hand on my heart\n",
    ]);
    for r in &RECORDS {
        let (before, after) = (r.before.to_string(), r.after.to_string());
        let mut args = vec![
            "--at",
            r.at,
            "--situation",
            "no reply",
            "--intensity",
            &before,
            "--after",
            &after,
            "--tag",
            r.tag,
            "--mood",
            r.mood,
        ];
        for d in r.did {
            args.extend(["--did", d]);
        }
        if let Some(s) = r.story {
            args.extend(["--story-kind", s]);
        }
        if !r.helped.is_empty() {
            args.extend(["--helped", r.helped]);
        }
        h.write(&args);
    }
    for at in [
        "2026-10-14 22:00",
        "2026-11-04 20:00",
        "2026-11-12 20:00",
        "2026-11-19 20:00",
    ] {
        let id = h.ok(&["pause", "--urge", "8", "--at", at]);
        h.ok(&["pause", "done", id.trim(), "--urge", "3", "--not-sent"]);
    }
    h.write(&[
        "--kind",
        "needs",
        "--at",
        "2026-11-05 10:00",
        "I feel … when … I need …",
    ]);
    h.write(&[
        "--kind",
        "letter",
        "--at",
        "2026-11-06 10:00",
        "Dear younger me",
    ]);
    h
}

#[test]
fn insights_open_with_what_changed_between_october_and_november() {
    let h = eight_weeks();
    let (oct, nov) = RECORDS.split_at(4);
    let range = ["--since", "2026-10-01", "--until", "2026-11-30"];
    let mut args = vec!["insights"];
    args.extend(range);
    let text = h.ok(&args);
    let opening = format!(
        "What changed, 1 October 2026 to 30 November 2026\n\n\
         When you wrote it down, the feeling was {:.1} out of 10 on average in October, and {:.1} in November; once it had passed, {:.1} and then {:.1}.\n\
         In October you reached for reassurance or protest 5 times; in November, not once.\n\
         Soothing yourself or asking for what you needed: not once in October, 4 times in November.\n\
         Pauses before sending: 1 in October, 3 in November.\n",
        mean(oct.iter().map(|r| r.before)),
        mean(nov.iter().map(|r| r.before)),
        mean(oct.iter().map(|r| r.after)),
        mean(nov.iter().map(|r| r.after)),
    );
    assert!(text.starts_with(&opening), "{text}");
    for line in [
        "The usual story that came back most often: losing interest (4 times).",
        "You also wrote 1 needs statement and 1 letter.",
        // "a walk" came back three times; tea is in the plan; scrolling was once, and goes.
        "What helped most often: a walk (3), tea with honey (1).",
        "  #evening: 4 records, 6.0 on average; reassurance 1, protest 2, soothing 2",
        "  #phone: 4 records, 6.0 on average; reassurance 1, protest 1, soothing 1, asked 1",
        "Mood by week (1 low, 5 good): 2026-W41 2.0, 2026-W42 2.0, 2026-W43 1.0, 2026-W44 2.0, 2026-W45 4.0, 2026-W46 4.0, 2026-W47 4.0, 2026-W48 5.0",
        "  When written: 9.0 in week 41, 3.0 in week 48.",
    ] {
        assert!(text.contains(line), "{line:?} in:\n{text}");
    }
    assert!(!text.contains("scrolling"), "{text}");

    // The same in JSON.
    let mut args = vec!["insights", "--json"];
    args.extend(range);
    let x: Value = h.json(&args);
    assert_eq!(
        x["changes"][2],
        json!({"what": "reassurance_or_protest", "before": 5.0, "after": 0.0,
               "period_before": "2026-10", "period_after": "2026-11"})
    );
    assert_eq!(
        x["stories"][0],
        json!({"story": "losing_interest", "count": 4})
    );
    assert_eq!(
        x["written"],
        json!({"needs": 1, "letters": 1, "checkins": 0, "notes": 0, "shared": 0})
    );
    assert_eq!(x["by_tag"].as_array().unwrap().len(), 2);
    assert_eq!(x["mood_by_week"].as_array().unwrap().len(), 8);

    // Plain: no block characters at all, the words still there.
    let mut args = vec!["insights", "--plain"];
    args.extend(range);
    let plain = h.ok(&args);
    assert!(
        !plain
            .chars()
            .any(|c| ('\u{2580}'..='\u{259f}').contains(&c)),
        "{plain}"
    );
    assert!(plain.starts_with(&opening), "{plain}");
    assert!(plain.contains("  reassurance    2\n"), "{plain}");

    // The brief opens with the same words.
    let mut args = vec!["export"];
    args.extend(range);
    let brief = h.ok(&args);
    assert!(
        brief.contains(
            "In October you reached for reassurance or protest 5 times; in November, not once."
        ),
        "{brief}"
    );
}

#[test]
fn one_week_has_nothing_to_compare_and_says_no_more_than_it_knows() {
    let h = Home::init("Maya");
    h.write(&[
        "--at",
        "2026-11-03 21:00",
        "--situation",
        "x",
        "--intensity",
        "5",
    ]);
    let text = h.ok(&["insights", "--since", "2026-11-02", "--until", "2026-11-08"]);
    assert!(!text.contains("When you wrote it down"), "{text}");
    assert!(text.contains("You wrote 1 thought record."), "{text}");
    let x = h.json(&[
        "insights",
        "--since",
        "2026-11-02",
        "--until",
        "2026-11-08",
        "--json",
    ]);
    assert_eq!(x["changes"], json!([]));
}

#[test]
fn looking_back_shows_wins_letters_and_hard_moments_with_how_they_ended() {
    use chrono::{Local, Months};
    let h = Home::init("Maya");
    let err = h.run(&["look-back"]);
    assert_eq!(
        (err.code, err.stderr.trim()),
        (
            0,
            "Nothing to look back on from this day a week, a month or a year ago."
        )
    );
    let today = Local::now().date_naive();
    let week = today - chrono::Duration::days(7);
    let month = today.checked_sub_months(Months::new(1)).unwrap();
    let year = today.checked_sub_months(Months::new(12)).unwrap();
    let at = |d: chrono::NaiveDate| format!("{d} 20:00");
    h.ok(&[
        "win",
        "asked for a hug instead of sulking",
        "--at",
        &at(week),
    ]);
    // A hard moment with no ending yet is not shown alone.
    h.write(&[
        "--at",
        &at(week),
        "--situation",
        "CANARY unended",
        "--intensity",
        "9",
    ]);
    h.write(&[
        "--kind",
        "letter",
        "--at",
        &at(month),
        "Dear younger me,\nyou were not too much.",
    ]);
    h.write(&[
        "--at",
        &at(year),
        "--situation",
        "no reply all evening",
        "--intensity",
        "8",
        "--after",
        "2",
    ]);
    // Something the day before a week ago is not this day.
    h.ok(&[
        "win",
        "CANARY the wrong day",
        "--at",
        &at(week - chrono::Duration::days(1)),
    ]);

    let text = h.ok(&["look-back"]);
    let expected = format!(
        "A week ago, {}:\n  a win:\n    asked for a hug instead of sulking\n\n\
         A month ago, {}:\n  a letter:\n    Dear younger me,\n    you were not too much.\n\n\
         A year ago, {}:\n  a hard moment, “no reply all evening”: came at 8, passed at 2\n",
        week.format("%A %-d %B %Y"),
        month.format("%A %-d %B %Y"),
        year.format("%A %-d %B %Y"),
    );
    assert_eq!(text, expected);
    assert!(!text.contains("CANARY"));
    let v = h.json(&["look-back", "--json"]);
    assert_eq!(v["moments"][0]["ago"], "a_week");
    assert_eq!(v["moments"][2]["items"][0]["kind"], "trigger");
    assert_eq!(v["moments"][2]["items"][0]["passed_at"], 2);
}

#[test]
fn the_brief_opens_with_a_first_page_for_a_fifty_minute_session() {
    let h = eight_weeks();
    h.ok(&[
        "bring",
        "Why evenings are the hardest",
        "--at",
        "2026-11-20 08:00",
    ]);
    h.ok(&[
        "bring",
        "The letter to my younger self",
        "--at",
        "2026-11-26 08:00",
    ]);
    let id = h.ok(&[
        "agree",
        "propose",
        "Phones",
        "--text",
        "No phones at dinner",
    ]);
    h.ok(&[
        "agree",
        "withdraw",
        id.trim(),
        "--why",
        "Let us talk it over first",
    ]);
    // Up to today: the withdrawal above is in the range.
    let range = ["--since", "2026-10-01"];

    let mut args = vec!["export", "--summary"];
    args.extend(range);
    let md = h.ok(&args);
    let first = md.split("## What changed").next().unwrap();
    assert!(
        first.ends_with(
            "## What I want to bring\n\n- Why evenings are the hardest\n- The letter to my younger self\n\n"
        ),
        "what to bring comes first:\n{md}"
    );
    for needle in [
        "In October you reached for reassurance or protest 5 times; in November and December, not once.",
        "## The hardest moments\n\n\
         - Monday 5 October 2026: “no reply”, came at 9, passed at 5; reached for reassurance.\n\
         - Tuesday 20 October 2026: “no reply”, came at 9, passed at 5; reached for reassurance, protest.\n\
         - Monday 12 October 2026: “no reply”, came at 8, passed at 4; reached for protest.\n",
        "## Pauses before sending\n\n- 4 pauses: 4 not sent.\n",
        "## Agreements that changed\n\n- “Phones” (withdrawn): Maya, withdrawing: Let us talk it over first.\n",
    ] {
        assert!(md.contains(needle), "{needle:?} in:\n{md}");
    }
    // --summary stops after the first page.
    assert!(
        !md.contains("## Entries") && !md.contains("Dear younger me"),
        "{md}"
    );

    // Without it the entries follow as an appendix, in every format.
    for format in ["md", "txt", "html"] {
        let mut args = vec!["export", "--format", format];
        args.extend(range);
        let out = h.ok(&args);
        let bring = out.find("What I want to bring").unwrap();
        let hardest = out.find("The hardest moments").unwrap();
        let entries = out
            .find("Entries")
            .unwrap_or(out.find("Dear younger me").unwrap());
        assert!(bring < hardest && hardest < entries, "{format}:\n{out}");
        // The charts have their words, in every format.
        assert!(
            out.contains("What you did by month: 2026-10: reassurance 2, protest 3; 2026-11: soothing 3, asked 1.")
                && out.contains("When written: 9.0 in week 41, 3.0 in week 48."),
            "{format}:\n{out}"
        );
    }
    let pdf = h.tmp.path().join("brief.pdf");
    let mut args = vec!["export", "--format", "pdf", "-o", pdf.to_str().unwrap()];
    args.extend(range);
    h.ok(&args);
    let text = haven_tests::pdf_text(&pdf);
    assert!(
        text.contains("What I want to bring")
            && text.contains("The hardest moments")
            && text.contains("What you did by month:"),
        "{text}"
    );
    // The first page is the summary, whole, on one page; the entries start on the next.
    let pages = haven_tests::pdf_pages(&pdf);
    assert!(pages.len() > 2, "{pages:?}");
    for heading in [
        "What I want to bring",
        "What changed",
        "The hardest moments",
        "Pauses before sending",
        "Agreements that changed",
    ] {
        assert!(
            pages[0].contains(heading),
            "{heading} on page 1: {}",
            pages[0]
        );
        assert!(!pages[1].contains(heading), "{heading} again on page 2");
    }
    let summary = h.tmp.path().join("summary.pdf");
    let mut args = vec!["export", "--format", "pdf", "--summary", "-o"];
    args.push(summary.to_str().unwrap());
    args.extend(range);
    h.ok(&args);
    assert_eq!(
        haven_tests::pdf_pages(&summary).len(),
        1,
        "the eight weeks' summary fits on one page"
    );

    // A brief that ends before the withdrawal does not list it.
    let before = h.ok(&[
        "export",
        "--since",
        "2026-10-01",
        "--until",
        "2026-11-30",
        "--summary",
    ]);
    assert!(!before.contains("Agreements that changed"), "{before}");

    // --weeks, and its bounds.
    h.ok(&["export", "--weeks", "8", "--summary"]);
    for bad in ["0", "999"] {
        haven_tests::assert_one_error(&h.run(&["export", "--weeks", bad]), 2, "1..=52");
    }
}

#[test]
fn a_check_in_names_feelings_from_the_vocabulary_and_insights_count_them() {
    let h = Home::init("Maya");
    h.ok(&[
        "checkin",
        "--mood",
        "2",
        "--feeling",
        "Anxious",
        "--feeling",
        "lonely",
    ]);
    h.ok(&["checkin", "--feeling", "anxious", "a long day"]);
    h.ok(&["checkin", "--feeling", "calm", "--at", "yesterday 21:00"]);
    let x = h.json(&["insights", "--json"]);
    assert_eq!(
        x["feelings"],
        json!([
            {"word": "anxious", "group": "high_unpleasant", "count": 2},
            {"word": "calm", "group": "low_pleasant", "count": 1},
            {"word": "lonely", "group": "low_unpleasant", "count": 1},
        ])
    );
    assert!(h
        .ok(&["insights"])
        .contains("The feelings you named most often: anxious (2), calm (1) and lonely (1)."));
    let list = h.json(&["journal", "list", "--kind", "checkin", "--json"]);
    let first = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["mood"] == 2)
        .unwrap();
    assert_eq!(first["feelings"], json!(["anxious", "lonely"]), "{first}");
    assert_eq!(first["mood"], 2);

    // A typo gets the nearest word; nothing is written.
    let out = h.run(&["checkin", "--feeling", "lonley"]);
    haven_tests::assert_one_error(&out, 2, "did you mean \"lonely\"");
    assert_eq!(h.entry_count(), 3);
    // The vocabulary is in --help.
    let help = h.ok(&["checkin", "--help"]);
    assert!(
        help.contains("low energy, pleasant:    calm, content"),
        "{help}"
    );
}
