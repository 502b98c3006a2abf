//! The practice, alone: thought records with fields, pauses, the soothing plan, wins,
//! insights and the brief's "What changed", against real daemons and real files.
#![allow(clippy::unwrap_used, clippy::string_slice)]

use haven_tests::Home;
use serde_json::Value;

/// An "editor": a shell script given the file to edit as $1.
fn editor(h: &mut Home, name: &str, script: &str) {
    let path = h.tmp.path().join(name);
    haven_tests::script(&path, script);
    h.env.retain(|(k, _)| k != "EDITOR");
    h.env.push(("EDITOR".into(), path.display().to_string()));
}

fn record(h: &Home, id: &str) -> Value {
    h.json(&["journal", "show", id, "--json"])
}

#[test]
fn a_thought_record_in_one_line_measures_and_reads_back() {
    let h = Home::init("Maya");
    let id = h.write(&[
        "--situation",
        "He did not answer for three hours.\nI was at work.",
        "--story",
        "He is losing interest",
        "--feeling",
        "anxious",
        "--intensity",
        "8",
        "--need",
        "to know we are ok",
        "--did",
        "reassurance",
        "--did",
        "soothing",
        "--did",
        "reassurance",
        "--helped",
        "a walk",
        "--after",
        "3",
        "--tag",
        "phone",
    ]);
    let e = record(&h, &id);
    assert_eq!(e["kind"], "trigger", "record flags make a trigger entry");
    assert_eq!(e["title"], "He did not answer for three hours.");
    assert_eq!(e["intensity"], 8);
    assert_eq!(
        e["record"],
        serde_json::json!({
            "situation": "He did not answer for three hours.\nI was at work.",
            "story": "He is losing interest",
            "stories": [],
            "other_story": null,
            "feeling": "anxious",
            "need": "to know we are ok",
            "did": ["reassurance", "soothing"],
            "helped": "a walk",
            "intensity_after": 3
        })
    );
    let list = h.ok(&["journal", "list"]);
    assert!(list.contains("intensity 8→3"), "{list}");
    let show = h.ok(&["journal", "show", &id]);
    for line in [
        "intensity: 8/10, 3/10 once it passed",
        "## The story I told myself\nHe is losing interest\n",
        "## What I did\nreassurance, soothing\n",
    ] {
        assert!(show.contains(line), "{line:?} in:\n{show}");
    }

    // Re-rated later; the other fields stay.
    h.ok(&["journal", "edit", &id, "--after", "2"]);
    let e = record(&h, &id);
    assert_eq!(e["record"]["intensity_after"], 2);
    assert_eq!(e["record"]["story"], "He is losing interest");
    let found = h.ok(&["journal", "list", "--search", "losing interest"]);
    assert!(
        found.contains("intensity 8→2"),
        "the record's fields are searched: {found}"
    );

    // Bad input: one line, exit 2, nothing written or changed.
    for (args, says) in [
        (
            vec!["journal", "write", "--situation", "x", "--after", "11"],
            "not a number from 0 to 10",
        ),
        (
            vec!["journal", "write", "--situation", "x", "--did", "texting"],
            "use reassurance, protest, soothing, asked or other",
        ),
        (
            vec!["journal", "write", "--kind", "note", "--situation", "x"],
            "use --kind trigger",
        ),
        (
            vec!["journal", "edit", &id, "--after", "eleven"],
            "not a number from 0 to 10",
        ),
    ] {
        let err = h.run(&args);
        assert_eq!(err.code, 2, "{args:?}: {}", err.stderr);
        assert!(err.stderr.contains(says), "{args:?}: {}", err.stderr);
        assert!(!err.stderr.contains("panicked"));
    }
    assert_eq!(h.entry_count(), 1);
    assert_eq!(record(&h, &id)["record"]["intensity_after"], 2);
}

/// The step out of the story has words: what else could be true, which usual story it
/// was, and asking for what one needed counts as what one did.
#[test]
fn a_record_names_the_usual_story_what_else_could_be_true_and_asking() {
    let h = Home::init("Maya");
    let id = h.write(&[
        "--situation",
        "No answer all evening.",
        "--story-kind",
        "mind reading",
        "--story-kind",
        "abandonment",
        "--story-kind",
        "mind_reading",
        "--other-story",
        "His phone is in his bag at the gym.",
        "--did",
        "asked",
        "--intensity",
        "6",
    ]);
    let e = record(&h, &id);
    assert_eq!(
        e["record"]["stories"],
        serde_json::json!(["mind_reading", "abandonment"])
    );
    assert_eq!(
        e["record"]["other_story"],
        "His phone is in his bag at the gym."
    );
    assert_eq!(e["record"]["did"], serde_json::json!(["asked"]));
    let shown = h.ok(&["journal", "show", &id]);
    assert!(
        shown.contains("## The usual story\nmind_reading, abandonment\n")
            && shown.contains("## What else could be true\nHis phone is in his bag at the gym.\n")
            && shown.contains("## What I did\nasked\n"),
        "{shown}"
    );
    let x = h.json(&["insights", "--json"]);
    assert_eq!(x["did"]["asked"], 1, "{x}");
    let text = h.ok(&["insights"]);
    assert!(text.contains("asking for what you needed"), "{text}");
    // An edit can name them later.
    h.ok(&["journal", "edit", &id, "--story-kind", "too-much"]);
    assert_eq!(
        record(&h, &id)["record"]["stories"],
        serde_json::json!(["too_much"])
    );
    // A kind the list does not know: one line that names the known ones, nothing written.
    let before = h.entry_count();
    let err = h.fails(
        &[
            "journal",
            "write",
            "--situation",
            "x",
            "--story-kind",
            "jealousy",
        ],
        2,
    );
    assert!(
        err.contains("mind_reading") && err.contains("jealousy"),
        "{err}"
    );
    assert_eq!(h.entry_count(), before);
}

#[test]
fn a_thought_record_in_the_editor_takes_each_heading_as_a_field() {
    let mut h = Home::init("Maya");
    let seen = h.tmp.path().join("seen.txt");
    // Fills three sections under their headings, as a person would.
    editor(
        &mut h,
        "fill",
        &format!(
            "cp \"$1\" {seen}\n\
             sed -i -e '/^## Situation/a the phone was silent all evening' \
                    -e '/^## Intensity before/a 7' \
                    -e '/^## What I did/a protest, soothing' \
                    -e '/^## Intensity after/a 4' \"$1\"",
            seen = seen.display()
        ),
    );
    let id = h.write(&["--kind", "trigger", "--tag", "evening"]);
    let template = std::fs::read_to_string(&seen).unwrap();
    for heading in [
        "## Situation",
        "## The story I told myself",
        "## Feeling",
        "## Intensity before (0-10)",
        "## What I needed",
        "## What I did (any of: reassurance, protest, soothing, asked, other)",
        "## What else could be true?",
        "## What helped",
        "## Intensity after (0-10, once it has passed)",
    ] {
        assert!(template.contains(heading), "{heading}:\n{template}");
    }
    let e = record(&h, &id);
    assert_eq!(e["title"], "the phone was silent all evening");
    assert_eq!(e["intensity"], 7);
    assert_eq!(e["body"], "", "every line went to a field");
    assert_eq!(
        e["record"]["did"],
        serde_json::json!(["protest", "soothing"])
    );
    assert_eq!(e["record"]["intensity_after"], 4);
    assert_eq!(
        e["record"]["story"],
        Value::Null,
        "empty sections are dropped"
    );

    // Editing opens the same headings, filled in; what the editor changes is saved.
    editor(&mut h, "rerate", "sed -i -e 's/^4$/1/' \"$1\"");
    h.ok(&["journal", "edit", &id]);
    assert_eq!(record(&h, &id)["record"]["intensity_after"], 1);
}

#[test]
fn a_word_where_a_number_belongs_brings_the_editor_back_and_loses_nothing() {
    let mut h = Home::init("Maya");
    let rounds = h.tmp.path().join("rounds.txt");
    // First round: a word under the intensity. Second round: the problem is named at the
    // top of the file; the editor fixes the word.
    editor(
        &mut h,
        "typo",
        &format!(
            "if grep -q '^# Haven: ' \"$1\"; then\n\
               head -1 \"$1\" >> {rounds}\n\
               sed -i -e 's/^eight$/8/' \"$1\"\n\
             else\n\
               sed -i -e '/^## Situation/a CANARY-RECORD-SITUATION' -e '/^## Intensity before/a eight' \"$1\"\n\
             fi",
            rounds = rounds.display()
        ),
    );
    let id = h.write(&["--kind", "trigger"]);
    let banner = std::fs::read_to_string(&rounds).unwrap();
    assert_eq!(
        banner.trim(),
        "# Haven: under \"Intensity before (0-10)\": \"eight\" is not a number from 0 to 10. Fix it and save; this line goes away."
    );
    let e = record(&h, &id);
    assert_eq!(
        (e["intensity"].as_i64(), e["body"].as_str()),
        (Some(8), Some(""))
    );

    // Saving again without fixing it: the text is kept encrypted, nothing is written.
    editor(
        &mut h,
        "stubborn",
        "grep -q '^# Haven: ' \"$1\" || sed -i -e '/^## Intensity before/a eight' \"$1\"",
    );
    let err = h.fails(&["journal", "write", "--kind", "trigger"], 2);
    assert!(
        err.contains("the record was not saved") && err.contains("kept encrypted in"),
        "{err}"
    );
    assert_eq!(h.entry_count(), 1);
    let kept: Vec<_> = std::fs::read_dir(h.home.join("recovery"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(kept.len(), 1);
    // Sealed to the home's key: the recovery copy holds no plaintext.
    let sealed = std::fs::read(kept[0].path()).unwrap();
    assert!(!sealed.windows(5).any(|w| w == b"eight"));
}

#[test]
fn entries_written_before_records_had_fields_show_and_export_as_before() {
    let h = Home::init("Maya");
    let id = h.write(&[
        "--kind",
        "trigger",
        "--intensity",
        "6",
        "## Situation\nlate reply\n\n## What helped\ntea\n",
    ]);
    let e = record(&h, &id);
    assert!(e.get("record").is_none(), "no record field: {e}");
    let show = h.ok(&["journal", "show", &id]);
    assert!(
        show.ends_with("\n## Situation\nlate reply\n\n## What helped\ntea\n"),
        "{show}"
    );
    assert!(h.ok(&["journal", "list"]).contains("intensity 6\n"));
    let md = h.ok(&["export", &id]);
    assert!(md.contains("## Situation\nlate reply"), "{md}");
    let brief = h.json(&["export", "--since", "1d", "--format", "json"]);
    assert_eq!(brief["insights"]["triggers"]["mean_intensity"], 6.0);
    assert_eq!(brief["insights"]["triggers"]["mean_after"], Value::Null);
}

#[test]
fn a_pause_without_a_terminal_starts_then_finishes_with_pause_done() {
    let h = Home::init("Maya");
    h.ok(&[
        "agree",
        "propose",
        "Texting",
        "--text",
        "A quick check-in text once a day",
    ]);
    h.fails(&["pause", "done", "--urge", "3", "--sent"], 3);
    let id = h
        .ok(&[
            "pause",
            "--for",
            "20m",
            "--urge",
            "9",
            "--message",
            "CANARY-PAUSE-MESSAGE why",
        ])
        .trim()
        .to_string();
    let status = h.json(&["status", "--json"]);
    assert_eq!(status["open_pauses"].as_array().unwrap().len(), 1);
    assert_eq!(status["open_pauses"][0]["id"], id.as_str());
    assert!(h.ok(&["status"]).contains("pause       open since"));

    let second = h.ok(&["pause", "--for", "1h30m"]).trim().to_string();
    let err = h.fails(&["pause", "done", "--urge", "2", "--not-sent"], 3);
    assert!(err.contains("2 pauses are open"), "{err}");
    h.ok(&["pause", "done", &second, "--urge", "2", "--sent"]);
    h.ok(&["pause", "done", "--urge", "4", "--not-sent"]);
    assert!(h.json(&["status", "--json"])["open_pauses"]
        .as_array()
        .unwrap()
        .is_empty());

    let list = h.json(&["pause", "list", "--json"]);
    let first = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id.as_str())
        .unwrap();
    assert_eq!(first["kind"], "pause");
    let p = &first["pause"];
    assert_eq!(
        (
            p["urge_before"].as_i64(),
            p["urge_after"].as_i64(),
            p["sent"].as_bool(),
            p["minutes"].as_i64()
        ),
        (Some(9), Some(4), Some(false), Some(20))
    );
    assert_eq!(p["message"], "CANARY-PAUSE-MESSAGE why");
    assert_eq!(
        p["agreement"],
        Value::Null,
        "a proposal is not in force: {p}"
    );
    let rows = h.ok(&["pause", "list"]);
    assert!(
        rows.contains("urge 9→4, not sent") && rows.contains("sent\n"),
        "{rows}"
    );

    for (args, code, says) in [
        (
            vec!["pause", "--for", "0"],
            2,
            "from 1 minute to 12 hours, not 0",
        ),
        (vec!["pause", "--for", "99h"], 2, "not 5940 minutes"),
        (vec!["pause", "--for", "soon"], 2, "not a length like 20m"),
        (
            vec!["pause", "--urge", "12"],
            2,
            "not a number from 0 to 10",
        ),
        (vec!["pause", "done", "--urge", "3"], 2, "--sent"),
        (
            vec!["pause", "done", "--urge", "3", "--sent"],
            3,
            "no pause is open",
        ),
    ] {
        let err = h.run(&args);
        assert_eq!(err.code, code, "{args:?}: {}", err.stderr);
        assert!(err.stderr.contains(says), "{args:?}: {}", err.stderr);
    }
    assert_eq!(
        h.json(&["pause", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(p["outcome"], "not_sent", "{p}");
    assert_eq!(p["rewrite"], Value::Null, "{p}");
}

#[test]
fn a_pause_ends_with_a_rewrite_from_the_command_line_or_stdin() {
    let h = Home::init("Maya");
    let id = h.ok(&["pause", "--urge", "8", "--message", "You said 7. It is 9."]);
    let id = id.trim();
    h.ok(&[
        "pause",
        "done",
        id,
        "--urge",
        "3",
        "--rewrite",
        "I feel scared when 9 comes and no word. I need a short text.",
    ]);
    let p = &h.json(&["pause", "list", "--json"])[0]["pause"];
    assert_eq!(
        (p["outcome"].as_str(), p["sent"].as_bool()),
        (Some("sent_rewritten"), Some(true)),
        "{p}"
    );
    assert_eq!(p["message"], "You said 7. It is 9.", "both are kept");
    assert!(h
        .ok(&["pause", "list"])
        .contains("urge 8→3, sent as a needs statement"));
    let shown = h.ok(&["journal", "show", id]);
    assert!(
        shown.contains("## Rewritten as a needs statement\nI feel scared"),
        "{shown}"
    );
    let insights = h.ok(&["insights"]);
    assert!(
        insights.contains("1 rewritten as a needs statement"),
        "{insights}"
    );

    // Said once, kept as said.
    let err = h.fails(
        &["pause", "done", id, "--urge", "1", "--rewrite", "again"],
        2,
    );
    assert!(err.contains("already ended, on "), "{err}");
    assert_eq!(err.lines().filter(|l| l.starts_with("error:")).count(), 1);

    // From stdin, with a terminal escape that must not reach the screen raw; and a huge one.
    let second = h.ok(&["pause"]);
    let out = h.run_stdin(
        &[
            "pause",
            "done",
            second.trim(),
            "--urge",
            "2",
            "--rewrite",
            "-",
        ],
        "I feel \u{1b}[2J lost\nI need you\n",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let shown = h.ok(&["journal", "show", second.trim()]);
    assert!(!shown.contains('\u{1b}'), "{shown:?}");
    let third = h.ok(&["pause"]);
    let huge = "x".repeat(100 * 1024);
    let out = h.run(&[
        "pause",
        "done",
        third.trim(),
        "--urge",
        "2",
        "--rewrite",
        &huge,
    ]);
    assert_eq!(
        out.code, 0,
        "100 KB is a long letter, not an attack: {}",
        out.stderr
    );

    // An empty rewrite is not a needs statement: refused, the pause stays open.
    let open = h.ok(&["pause"]);
    let err = h.fails(
        &[
            "pause",
            "done",
            open.trim(),
            "--urge",
            "2",
            "--rewrite",
            " ",
        ],
        2,
    );
    assert!(err.contains("the rewrite is empty"), "{err}");
    h.ok(&["pause", "done", open.trim(), "--urge", "2", "--not-sent"]);

    // Contradictions are caught before anything is written.
    let fourth = h.ok(&["pause"]);
    let err = h.fails(
        &[
            "pause",
            "done",
            fourth.trim(),
            "--urge",
            "2",
            "--not-sent",
            "--rewrite",
            "x",
        ],
        2,
    );
    assert!(err.contains("cannot be used with"), "{err}");
    assert_eq!(
        h.json(&["status", "--json"])["open_pauses"][0]["id"],
        fourth.trim()
    );
}

#[test]
fn the_soothing_plan_is_kept_and_offered_after_a_strong_record() {
    let h = Home::init("Maya");
    // No plan yet: the suggestions, never an error.
    assert!(h.ok(&["soothe"]).contains("a long walk outside"));
    // A strong record with no plan: no line of a plan, only the offer of `haven now`
    // (at 9 or 10).
    let out = h.run(&["journal", "write", "--situation", "x", "--intensity", "8"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    let out = h.run(&["journal", "write", "--situation", "x", "--intensity", "9"]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (
            0,
            "This sounds very hard. `haven now` is here: a few minutes to ground yourself.\n"
        )
    );

    h.ok(&[
        "soothe",
        "edit",
        "--text",
        "## When I am hurting\n- CANARY-SOOTHE soup\n- a long walk\n",
    ]);
    assert_eq!(
        h.ok(&["soothe"]),
        "## When I am hurting\n- CANARY-SOOTHE soup\n- a long walk\n"
    );
    // An empty plan is refused; the written one stays.
    let err = h.fails(&["soothe", "edit", "--text", "## only a heading\n\n"], 2);
    assert!(err.contains("the soothing plan is empty"), "{err}");
    assert!(h.ok(&["soothe"]).contains("a long walk"));

    let out = h.run(&["journal", "write", "--situation", "y", "--intensity", "7"]);
    assert_eq!(out.code, 0);
    let line = out.stderr.trim();
    assert!(
        line == "From your soothing plan: CANARY-SOOTHE soup"
            || line == "From your soothing plan: a long walk",
        "{line}"
    );
    let out = h.run(&["journal", "write", "--situation", "z", "--intensity", "6"]);
    assert_eq!(out.stderr, "", "below 7, nothing");
    // A pause shows a line of it too (in its reply; the terminal test sees it on screen).
    h.ok(&["pause", "--urge", "5"]);

    // The plan survives a purge (it is not an entry).
    h.ok(&["journal", "purge"]);
    assert!(h.ok(&["soothe"]).contains("CANARY-SOOTHE"));
}

#[test]
fn wins_are_entries_of_their_own_kind() {
    let h = Home::init("Maya");
    let id = h
        .ok(&["win", "asked for a hug instead of sulking"])
        .trim()
        .to_string();
    let e = record(&h, &id);
    assert_eq!(
        (e["kind"].as_str(), e["body"].as_str()),
        (Some("win"), Some("asked for a hug instead of sulking"))
    );
    let id2 = h.write(&["--kind", "win", "said no to a late call"]);
    assert_eq!(record(&h, &id2)["kind"], "win");
    assert!(h.ok(&["journal", "list", "--kind", "win"]).lines().count() == 2);
    h.fails(&["win", "  "], 2);
    h.fails(&["journal", "write", "--kind", "pause", "x"], 2);
    let err = h.fails(&["journal", "edit", &id2, "--kind", "pause"], 2);
    assert!(err.contains("cannot become a pause"), "{err}");
    assert_eq!(record(&h, &id2)["kind"], "win");
}

/// A small deterministic generator, so the expected figures are the test's own sums.
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn mean(values: &[u64]) -> Value {
    if values.is_empty() {
        return Value::Null;
    }
    let m = values.iter().sum::<u64>() as f64 / values.len() as f64;
    serde_json::json!((m * 10.0).round() / 10.0)
}

#[test]
fn insights_match_the_figures_the_test_computes_itself() {
    let h = Home::init("Maya");
    let mut rng = Lcg(7);
    let dids = ["reassurance", "protest", "soothing", "other"];
    let (mut before, mut after) = (Vec::new(), Vec::new());
    let mut did_counts = [0usize; 4];
    for i in 0..12 {
        let b = rng.below(11);
        let mut args: Vec<String> = vec![
            "journal".into(),
            "write".into(),
            "--situation".into(),
            format!("record {i}"),
            "--intensity".into(),
            b.to_string(),
            "--tag".into(),
            if i % 3 == 0 {
                "work".into()
            } else {
                "phone".into()
            },
        ];
        before.push(b);
        if i % 4 != 0 {
            let a = rng.below(11);
            after.push(a);
            args.extend(["--after".into(), a.to_string()]);
        }
        let d = usize::try_from(rng.below(4)).unwrap();
        did_counts[d] += 1;
        args.extend(["--did".into(), dids[d].into()]);
        args.extend([
            "--helped".into(),
            if i % 2 == 0 {
                "A walk".into()
            } else {
                "tea".into()
            },
        ]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        h.ok(&args);
    }
    let (mut urges_before, mut urges_after, mut not_sent) = (Vec::new(), Vec::new(), 0);
    for i in 0..5 {
        let u = rng.below(11);
        urges_before.push(u);
        let id = h
            .ok(&["pause", "--urge", &u.to_string()])
            .trim()
            .to_string();
        if i < 4 {
            let a = rng.below(11);
            urges_after.push(a);
            let sent = if i % 2 == 0 { "--sent" } else { "--not-sent" };
            not_sent += usize::from(i % 2 == 1);
            h.ok(&["pause", "done", &id, "--urge", &a.to_string(), sent]);
        }
    }
    h.ok(&["win", "a small step"]);
    h.write(&["a plain note"]);

    let x = h.json(&["insights", "--json"]);
    assert_eq!(x["triggers"]["count"], 12);
    assert_eq!(x["triggers"]["mean_intensity"], mean(&before));
    assert_eq!(x["triggers"]["mean_after"], mean(&after));
    let this_week = x["triggers"]["by_week"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(this_week["count"], 12);
    assert_eq!(
        x["triggers"]["by_week"].as_array().unwrap().len(),
        13,
        "12 weeks back, and this one"
    );
    for (i, d) in dids.iter().enumerate() {
        assert_eq!(x["did"][d], did_counts[i], "{d}");
    }
    assert_eq!(
        x["pauses"],
        serde_json::json!({
            "count": 5,
            "finished": 4,
            "not_sent": not_sent,
            "rewritten": 0,
            "mean_urge_before": mean(&urges_before),
            "mean_urge_after": mean(&urges_after),
        })
    );
    assert_eq!(x["wins"]["count"], 1);
    assert_eq!(
        x["tags"],
        serde_json::json!([{"tag": "phone", "count": 8}, {"tag": "work", "count": 4}])
    );
    assert_eq!(
        x["helped"],
        serde_json::json!([{"text": "A walk", "count": 6}, {"text": "tea", "count": 6}])
    );

    let text = h.ok(&["insights"]);
    assert!(text.contains("You wrote 12 thought records."), "{text}");
    assert!(!text.contains('\u{1b}'), "no colour through a pipe");
    let err = h.fails(&["insights", "--since", "2099-01-01"], 2);
    assert!(err.contains("is in the future"), "{err}");
    h.fails(&["insights", "--since", "someday"], 2);
    // A range reaching back 200,000 years counts the same entries and lists a century of
    // weeks (it used to walk every week since then).
    let far = h.json(&["insights", "--since", "200000y", "--json"]);
    assert_eq!(far["triggers"]["count"], 12);
    assert!(far["triggers"]["by_week"].as_array().unwrap().len() <= 5301);
    let brief = h.json(&["export", "--since", "200000y", "--format", "json"]);
    assert_eq!(brief["insights"]["triggers"]["count"], 12);
}

#[test]
fn the_brief_has_what_changed_in_every_format() {
    let h = Home::init("Maya");
    h.write(&[
        "--situation",
        "CANARY late reply",
        "--intensity",
        "8",
        "--after",
        "3",
        "--did",
        "soothing",
        "--helped",
        "a walk with Sam",
    ]);
    let pause = h
        .ok(&["pause", "--urge", "9", "--message", "where are you Sam"])
        .trim()
        .to_string();
    h.ok(&["pause", "done", &pause, "--urge", "4", "--not-sent"]);
    h.ok(&["win", "told Sam what I needed"]);

    let md = h.ok(&[
        "export",
        "--since",
        "1d",
        "--redact",
        "Sam=partner",
        "--messages",
    ]);
    for needle in [
        "## What changed\n\nYou wrote 1 thought record. The feeling was 8.0 out of 10 on average when you wrote it down, and 3.0 once it had passed.",
        "You took 1 pause before sending; 1 finished, 1 with the message not sent.",
        "**The message, not sent**\n\nwhere are you partner",
        "*pause · 20 minutes, urge 9→4, not sent*",
        "told partner what I needed",
        "*trigger · intensity 8/10 → 3/10*",
    ] {
        assert!(md.contains(needle), "{needle:?} in:\n{md}");
    }
    assert!(
        !md.replace("Redacted: Sam → partner", "").contains("Sam"),
        "redacted everywhere, record fields and insights too:\n{md}"
    );

    let html = h.ok(&["export", "--since", "1d", "--format", "html"]);
    assert!(
        html.contains("<h2>What changed</h2>") && html.contains("aria-label=\"What you did\""),
        "{html}"
    );
    let txt = h.ok(&["export", "--since", "1d", "--format", "txt"]);
    assert!(
        txt.contains("What changed\n------------\n\nYou wrote 1 thought record."),
        "{txt}"
    );

    let pdf = h.tmp.path().join("brief.pdf");
    h.ok(&[
        "export",
        "--since",
        "1d",
        "--format",
        "pdf",
        "--messages",
        "-o",
        pdf.to_str().unwrap(),
    ]);
    let text = haven_tests::pdf_text(&pdf);
    for needle in [
        "What changed",
        "You wrote 1 thought record.",
        "reassurance protest soothing asked other 0 0 1 0 0",
        "The message, not sent",
        "where are you Sam",
    ] {
        assert!(text.contains(needle), "{needle:?} in:\n{text}");
    }
}

#[test]
fn a_brief_says_how_each_pause_ended_and_shows_its_words_only_when_asked() {
    let h = Home::init("Maya");
    let sent = h.ok(&["pause", "--urge", "7", "--message", "CANARY-SENT call me"]);
    h.ok(&["pause", "done", sent.trim(), "--urge", "5", "--sent"]);
    let kept = h.ok(&[
        "pause",
        "--urge",
        "9",
        "--message",
        "CANARY-KEPT where are you",
    ]);
    h.ok(&["pause", "done", kept.trim(), "--urge", "3", "--not-sent"]);
    let rewritten = h.ok(&["pause", "--message", "CANARY-FIRST you never"]);
    h.ok(&[
        "pause",
        "done",
        rewritten.trim(),
        "--urge",
        "2",
        "--rewrite",
        "CANARY-REWRITE I feel lonely when evenings are quiet; I need a call",
    ]);
    for format in ["md", "txt", "html", "json"] {
        let brief = h.ok(&["export", "--since", "1d", "--format", format]);
        assert!(
            !brief.contains("CANARY"),
            "{format}: no words by default:\n{brief}"
        );
        if format == "json" {
            let v: Value = serde_json::from_str(&brief).unwrap();
            let outcomes: Vec<&str> = v["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["pause"]["outcome"].as_str().unwrap())
                .collect();
            assert_eq!(outcomes, ["sent", "not_sent", "sent_rewritten"], "{v}");
            continue;
        }
        assert!(brief.contains("urge 7→5, sent"), "{format}: {brief}");
        assert!(brief.contains("urge 9→3, not sent"), "{format}: {brief}");
        assert!(
            brief.contains("sent as a needs statement"),
            "{format}: {brief}"
        );
    }
    let md = h.ok(&["export", "--since", "1d", "--messages"]);
    for needle in [
        "**The message, sent as it was**\n\nCANARY-SENT call me",
        "**The message, not sent**\n\nCANARY-KEPT where are you",
        "**The first message, not sent as it was**\n\nCANARY-FIRST you never",
        "**Rewritten as a needs statement**\n\nCANARY-REWRITE I feel lonely",
    ] {
        assert!(md.contains(needle), "{needle:?} in:\n{md}");
    }
    assert!(!md.contains("kept unsent"), "{md}");
}

#[test]
fn what_the_practice_writes_stays_encrypted_on_disk() {
    let h = Home::init("Maya");
    h.write(&[
        "--situation",
        "CANARY-REC-SITUATION",
        "--helped",
        "CANARY-REC-HELPED",
        "--other-story",
        "CANARY-REC-OTHER-STORY",
    ]);
    h.ok(&["pause", "--message", "CANARY-PAUSE-TEXT"]);
    h.ok(&[
        "soothe",
        "edit",
        "--text",
        "- CANARY-PLAN-LINE\n## People I can call\n- CANARY-PLAN-PERSON",
    ]);
    h.ok(&["win", "CANARY-WIN-TEXT"]);
    h.ok(&["daemon", "stop"]);
    for canary in [
        "CANARY-REC-SITUATION",
        "CANARY-REC-HELPED",
        "CANARY-REC-OTHER-STORY",
        "CANARY-PAUSE-TEXT",
        "CANARY-PLAN-LINE",
        "CANARY-PLAN-PERSON",
        "CANARY-WIN-TEXT",
    ] {
        for dir in [h.tmp.path(), h.runtime.as_path()] {
            assert!(
                Home::grep(dir, canary).is_empty(),
                "{canary} in plaintext under {}",
                dir.display()
            );
        }
    }
}

#[test]
fn a_pause_shows_the_texting_agreement_in_force_with_the_partner() {
    use haven_tests::couple::{paired_pair, propose, wait_status};
    let lan = haven_tests::lan::Lan::new(2);
    let (maya, sam) = paired_pair(&lan);
    let meals = propose(&maya, "Dinner", "We cook together on Sundays");
    let texting = propose(&maya, "Check-ins", "A quick check-in text once a day");
    for id in [&meals, &texting] {
        wait_status(&sam, id, "proposed");
        sam.ok(&["agree", "accept", id]);
        wait_status(&maya, id, "active");
    }
    let id = maya.ok(&["pause", "--urge", "7"]).trim().to_string();
    let entry = maya.json(&["journal", "show", &id, "--json"]);
    assert_eq!(
        entry["pause"]["agreement"],
        texting.as_str(),
        "the one about texting: {entry}"
    );
}

/// What a person reads, pinned whole in `tests/snapshots/` (`[..]` stands for an id, a
/// date or a time). `SNAPSHOTS=overwrite` rewrites them after a deliberate change.
#[test]
fn what_people_read_is_pinned() {
    let h = Home::init("Maya");
    let id = h.write(&[
        "--situation",
        "He did not answer for three hours.",
        "--story",
        "He is losing interest.",
        "--feeling",
        "anxious, a tight chest",
        "--intensity",
        "8",
        "--need",
        "to know we are ok",
        "--did",
        "reassurance",
        "--did",
        "soothing",
        "--helped",
        "a walk, then asking him plainly",
        "--after",
        "3",
        "--tag",
        "phone",
    ]);
    h.write(&[
        "--situation",
        "Plans changed at the last minute.",
        "--intensity",
        "6",
        "--did",
        "protest",
        "--tag",
        "plans",
    ]);
    h.ok(&["win", "Asked for a hug instead of sulking."]);
    let pause = h
        .ok(&["pause", "--urge", "8", "--message", "Why don't you answer?"])
        .trim()
        .to_string();
    h.ok(&["pause", "done", &pause, "--urge", "3", "--not-sent"]);

    let mut out = String::new();
    for args in [
        vec!["journal", "show", id.as_str()],
        vec!["journal", "list"],
        vec!["pause", "list"],
        vec!["insights"],
    ] {
        out.push_str(&format!("$ haven {}\n{}\n", args.join(" "), h.ok(&args)));
    }
    for (args, code) in [
        (
            vec!["journal", "write", "--situation", "x", "--after", "11"],
            2,
        ),
        (
            vec!["journal", "write", "--kind", "note", "--situation", "x"],
            2,
        ),
        (vec!["pause", "--for", "0"], 2),
        (vec!["pause", "--for", "99h"], 2),
        (vec!["pause", "done", "--urge", "3", "--sent"], 3),
        (vec!["soothe", "edit", "--text", "## a heading only"], 2),
        (vec!["insights", "--since", "2099-01-01"], 2),
    ] {
        out.push_str(&format!(
            "$ haven {}\n{}\n",
            args.join(" "),
            h.fails(&args, code)
        ));
    }
    snapbox::assert_data_eq!(out, snapbox::file!["../snapshots/practice.txt"]);
}

#[test]
fn the_soothing_plan_is_written_in_the_editor_from_suggestions() {
    let mut h = Home::init("Maya");
    // Left as suggested: nothing is saved, and the hint says how to keep them.
    editor(&mut h, "untouched", "true");
    let out = h.run(&["soothe", "edit"]);
    assert_eq!(
        out.code, 0,
        "leaving the suggestions is not a failure: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("Nothing saved") && out.stderr.contains("To keep them"),
        "{}",
        out.stderr
    );
    // Before a plan exists, `soothe` shows the suggestions, never an error.
    let out = h.run(&["soothe"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("- put a hand on my heart"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("`haven soothe edit` makes them yours"));
    // One suggestion deleted, one of their own added.
    editor(
        &mut h,
        "mine",
        "sed -i -e '/bowl of soup/d' \"$1\" && printf -- '- listen to the rain\\n' >> \"$1\"",
    );
    h.ok(&["soothe", "edit"]);
    let plan = h.ok(&["soothe"]);
    assert!(
        plan.starts_with("## When I am hurting, a caring parent would…\n"),
        "{plan}"
    );
    assert!(
        plan.contains("- put a hand on my heart") && plan.ends_with("- listen to the rain\n"),
        "{plan}"
    );
    assert!(!plan.contains("bowl of soup"), "{plan}");
    // Editing again opens the plan as written (the editor empties it: refused, kept).
    editor(&mut h, "empty", "printf '' > \"$1\"");
    let err = h.fails(&["soothe", "edit"], 2);
    assert!(err.contains("the soothing plan is empty"), "{err}");
    assert_eq!(h.ok(&["soothe"]), plan);
}
