//! At the worst moment: `haven now` on a real terminal (tmux) and without one, the offer
//! after a record or a pause at 9–10, and the words for healthy choices (not an error,
//! exit 0), pinned in `snapshots/worst_moment.txt`.
#![allow(clippy::unwrap_used)]

use haven_tests::tmux::{terminal_restored, Tmux, THEN_STTY};
use haven_tests::Home;

const PLAN: &str = "## When I am hurting, a caring parent would…\n\n\
- breathe with me: in for two, out for three\n\
- remind me: a late reply is not a verdict on me\n\n\
## People I can call\n\n\
- Ana 0612 345 678\n\
- Mum\n";

#[test]
fn now_grounds_breathes_offers_the_plan_then_who_to_call_and_survives_a_resize() {
    let h = Home::init("Maya");
    h.ok(&["soothe", "edit", "--text", PLAN]);
    let t = Tmux::haven(&h, 60, 20, &format!("now{THEN_STTY}"), &[]);
    t.wait_for("You are here, and this will pass.");
    t.press(&["Enter"]);
    for (i, step) in [
        "five things you can see",
        "four things you can hear",
        "three things you can touch",
        "two things you can smell",
        "one thing you can taste",
    ]
    .iter()
    .enumerate()
    {
        let screen = t.wait_for(&format!("Ground yourself · {} of 5", i + 1));
        assert!(screen.contains(step), "{screen}");
        t.press(&["Enter"]);
    }
    // The plan's own rhythm, and a pacer that moves.
    let screen = t.wait_for("in for 2, out for 3");
    assert!(screen.contains("Breathe with the bar"), "{screen}");
    t.wait_until("the pacer breathing in", |s| {
        s.lines()
            .any(|l| l.starts_with("breathe in ") && l.contains(" of 6"))
    });
    t.wait_until("the pacer breathing out", |s| {
        s.lines()
            .any(|l| l.starts_with("breathe out ") && l.contains('█'))
    });
    t.press(&["Enter"]);
    t.wait_for("From your soothing plan · 1 of 2");
    // A narrow window: the line is wrapped at words and redrawn, nothing runs off it.
    t.resize(16, 20);
    let screen = t.wait_until("the page rewrapped in 16 columns", |s| {
        s.contains("breathe with")
            && s.contains("out for three")
            && s.lines().all(|l| l.trim_end().chars().count() <= 16)
    });
    assert!(!screen.contains("Ana"), "the people come last: {screen}");
    t.resize(60, 20);
    t.press(&["Enter"]);
    t.wait_for("From your soothing plan · 2 of 2");
    t.press(&["Enter"]);
    let screen = t.wait_for("People you can reach:");
    assert!(
        screen.contains("Ana 0612 345 678") && screen.contains("Mum"),
        "{screen}"
    );
    assert!(screen.contains("findahelpline.com"), "{screen}");
    t.press(&["Enter"]);
    let screen = t.wait_for("[exit ");
    assert!(screen.contains("[exit 0]"), "{screen}");
    // What stays on the screen once the steps are gone: the people and the crisis line.
    assert!(
        screen.contains("You took a few minutes for yourself.")
            && screen.contains("Ana 0612 345 678")
            && screen.contains("crisis line"),
        "{screen}"
    );
    assert!(terminal_restored(&screen), "{screen}");
    // Nothing was written.
    assert_eq!(h.entry_count(), 0);
}

#[test]
fn esc_ctrl_c_or_a_closed_terminal_end_it_at_once_and_kindly() {
    let h = Home::init("Maya");
    for (key, at) in [("Escape", "Ground yourself · 1 of 5"), ("C-c", "breathe ")] {
        let t = Tmux::haven(&h, 80, 24, &format!("now{THEN_STTY}"), &[]);
        t.wait_for("You are here");
        t.press(&["Enter"]);
        if at == "breathe " {
            for i in 1..=5 {
                t.wait_for(&format!("Ground yourself · {i} of 5"));
                t.press(&["Enter"]);
            }
        }
        t.wait_for(at);
        t.press(&[key]);
        let screen = t.wait_for("[exit ");
        assert!(screen.contains("[exit 0]"), "{key}: {screen}");
        assert!(
            screen.contains("Stopped. That is all right.") && screen.contains("crisis line"),
            "{key}: {screen}"
        );
        assert!(!screen.contains("error"), "{key}: {screen}");
        assert!(terminal_restored(&screen), "{key}: {screen}");
    }

    let t = Tmux::haven(&h, 80, 24, "now", &[]);
    t.wait_for("You are here");
    t.hang_up_and_see_haven_end();
}

/// A window that closes with no hang-up signal reaching haven (its own session): haven
/// sees the terminal is gone and ends, instead of spinning at full CPU on a dead terminal
/// (what crossterm's reader did: four such processes ran for two hours on this machine).
#[test]
fn a_terminal_gone_without_a_signal_ends_now_too() {
    let h = Home::init("Maya");
    let t = Tmux::haven_without_hangup_signal(&h, "now");
    t.wait_for("You are here");
    let haven = haven_tests::descendants(t.shell_pid())
        .into_iter()
        .find(|p| {
            std::fs::read_to_string(format!("/proc/{p}/cmdline"))
                .is_ok_and(|c| c.contains("now") && c.contains("haven"))
        })
        .expect("haven runs under the window's shell");
    t.hang_up();
    haven_tests::wait_gone(haven);
    let still = haven_tests::alive(haven);
    if still {
        // Never leave it spinning behind a failed test.
        unsafe { libc::kill(haven, libc::SIGKILL) };
    }
    assert!(!still, "haven went on after its terminal was gone");
}

#[test]
fn without_a_terminal_now_prints_the_help_and_never_fails() {
    let h = Home::init("Maya");
    // A 10-column terminal is the tmux test's; here stdin is closed, as in a script.
    let out = h.run(&["now"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("Something a caring parent might do"));
    assert!(out.stdout.contains("findahelpline.com"));
    // A plan with no people section: the steps and the crisis line, nobody invented.
    h.ok(&["soothe", "edit", "--text", "- tea\n"]);
    let out = h.ok(&["now"]);
    assert!(out.contains("From your soothing plan:\n  - tea\n"), "{out}");
    assert!(!out.contains("People you can reach"), "{out}");
    // Locked, with a passphrase that does not open it: the help still comes.
    h.ok(&["lock"]);
    let wrong = h.tmp.path().join("wrong");
    std::fs::write(&wrong, "not the passphrase\n").unwrap();
    let mut cmd = h.command("haven");
    cmd.env("HAVEN_PASSPHRASE_FILE", &wrong).arg("now");
    let out = haven_tests::Out::from(cmd.output().unwrap());
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("Your plan could not be opened: wrong passphrase"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("findahelpline.com"), "{}", out.stdout);
}

#[test]
fn a_record_or_a_pause_at_nine_or_ten_offers_now_and_nothing_below() {
    let h = Home::init("Maya");
    let offer = "This sounds very hard. `haven now` is here: a few minutes to ground yourself.";
    let write = |args: &[&str]| {
        let mut all = vec!["journal", "write", "--kind", "trigger"];
        all.extend_from_slice(args);
        h.run(&all)
    };
    let out = write(&["--intensity", "10", "--situation", "No answer all evening."]);
    assert_eq!(out.code, 0);
    assert!(out.stderr.contains(offer), "{}", out.stderr);
    let out = write(&["--intensity", "8", "--situation", "A short reply."]);
    assert!(!out.stderr.contains("haven now"), "{}", out.stderr);
    // Already passed: the record says how it ended, nothing to offer.
    let out = write(&["--intensity", "9", "--after", "3", "--situation", "Late."]);
    assert!(!out.stderr.contains("haven now"), "{}", out.stderr);
    // Judged by the number, never by the words.
    let out = write(&["--intensity", "2", "--situation", "I cannot do this alone."]);
    assert!(!out.stderr.contains("haven now"), "{}", out.stderr);
    let out = h.run(&["pause", "--urge", "9", "--message", "Fine. Whatever."]);
    assert_eq!(out.code, 0);
    assert!(out.stderr.contains(offer), "{}", out.stderr);
    let out = h.run(&["pause", "--urge", "7", "--message", "Where are you?"]);
    assert!(!out.stderr.contains("haven now"), "{}", out.stderr);
}

/// What a person reads when they choose not to, pinned: no `error:`, exit 0.
#[test]
fn healthy_choices_and_first_times_read_gently() {
    let h = Home::init("Maya");
    let mut out = String::new();
    let mut step = |args: &[&str], stdin: Option<&str>| {
        let o = match stdin {
            Some(text) => h.run_stdin(args, text),
            None => h.run(args),
        };
        assert_eq!(o.code, 0, "haven {args:?}: {}", o.stderr);
        // In the order a terminal shows them: these commands speak on stderr first.
        out.push_str(&format!(
            "$ haven {}\n{}{}\n",
            args.join(" "),
            o.stderr,
            o.stdout
        ));
    };
    step(&["lock"], None);
    step(&["status"], None);
    step(&["unlock"], None);
    step(&["journal", "list"], None);
    step(&["soothe"], None);
    let id = h.write(&["--kind", "letter", "Dear little me."]);
    step(&["journal", "list", "--kind", "win"], None);
    step(&["lock"], None);
    step(&["unlock"], None);
    let mut status = h.ok(&["status"]);
    status = status
        .lines()
        .filter(|l| !l.starts_with("daemon"))
        .collect::<Vec<_>>()
        .join("\n");
    out.push_str(&format!("$ haven status\n{status}\n"));
    snapbox::assert_data_eq!(out, snapbox::file!["../snapshots/worst_moment.txt"]);
    // Without a terminal, a delete needs --yes; with it, the entry goes.
    h.fails(&["journal", "delete", &id], 2);
    assert_eq!(h.entry_count(), 1);
    h.ok(&["journal", "delete", &id, "--yes"]);
    assert_eq!(h.entry_count(), 0);
}

#[test]
fn closing_an_empty_letter_saves_nothing_and_is_not_an_error() {
    let mut h = Home::init("Maya");
    let editor = h.tmp.path().join("leave-it");
    haven_tests::script(&editor, "true");
    h.env.push(("EDITOR".into(), editor.display().to_string()));
    for kind in ["letter", "trigger", "needs"] {
        let out = h.run(&["journal", "write", "--kind", kind]);
        assert_eq!(out.code, 0, "{kind}: {}", out.stderr);
        assert_eq!(
            out.stderr.trim(),
            "Nothing saved: the page was left empty.",
            "{kind}"
        );
    }
    assert_eq!(h.entry_count(), 0);
    // Saved as it opened by an editor that strips trailing spaces ("I feel " becomes
    // "I feel"): still untouched.
    let stripper = h.tmp.path().join("strip-spaces");
    haven_tests::script(&stripper, "sed -i 's/[ \t]*$//' \"$1\"");
    h.env
        .push(("EDITOR".into(), stripper.display().to_string()));
    for kind in ["needs", "letter"] {
        let out = h.run(&["journal", "write", "--kind", kind]);
        assert_eq!(
            (out.code, out.stderr.trim()),
            (0, "Nothing saved: the page was left empty."),
            "{kind}"
        );
    }
    assert_eq!(h.entry_count(), 0);
    // A page emptied by hand is empty too, not an error.
    let emptier = h.tmp.path().join("empty-it");
    haven_tests::script(&emptier, ": > \"$1\"");
    h.env.push(("EDITOR".into(), emptier.display().to_string()));
    let out = h.run(&["journal", "write", "--kind", "letter"]);
    assert_eq!(
        (out.code, out.stderr.trim()),
        (0, "Nothing saved: the page was left empty.")
    );
}

#[test]
fn the_needs_frame_names_a_behaviour_not_a_character_and_keeps_only_what_was_written() {
    let mut h = Home::init("Maya");
    let editor = h.tmp.path().join("fill-in");
    haven_tests::script(
        &editor,
        "grep -q '^# tip: name what happened, not who they are' \"$1\" && \
         sed -i 's/^I need $/I need a short text when you run late/' \"$1\"",
    );
    h.env.push(("EDITOR".into(), editor.display().to_string()));
    let id = h.write(&["--kind", "needs"]);
    let body = h.json(&["journal", "list", "--json"])[0]["body"].clone();
    assert_eq!(
        body, "I feel \nwhen \nI need a short text when you run late\n",
        "the tip is not kept ({id})"
    );
}

#[test]
fn a_delete_on_a_terminal_asks_and_no_keeps_the_letter() {
    let h = Home::init("Maya");
    let id = h.write(&[
        "--kind",
        "letter",
        "--title",
        "To little me",
        "You were enough.",
    ]);
    for (answer, left, said) in [("n", 1, "Kept."), ("y", 0, "Deleted ")] {
        let t = Tmux::haven(&h, 100, 20, &format!("journal delete {id}"), &[]);
        let screen = t.wait_for("Delete it? [y/N]");
        assert!(screen.contains("This letter entry:") && screen.contains("To little me"));
        t.type_text(answer);
        t.press(&["Enter"]);
        let screen = t.wait_for("[exit 0]");
        assert!(screen.contains(said), "{screen}");
        assert_eq!(h.entry_count(), left);
    }
}
