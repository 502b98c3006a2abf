//! The practice on a real terminal (tmux): a thought record written in the real vim and
//! neovim, and the pause's countdown, its resize, Ctrl-C and a closed terminal.
#![allow(clippy::unwrap_used)]

use haven_tests::tmux::Tmux;
use haven_tests::Home;

/// Writes a thought record in `editor`, as a person would: the situation under its
/// heading, then save and quit.
fn record_in(editor: &str) {
    let h = Home::init("Maya");
    let t = Tmux::haven(
        &h,
        100,
        40,
        "journal write --kind trigger",
        &[("EDITOR", editor)],
    );
    let screen = t.wait_for("## Intensity after");
    assert!(
        !screen.contains("E518")
            && !screen.contains("Unknown option")
            && !screen.contains("Press ENTER"),
        "{editor} complained at startup:\n{screen}"
    );
    t.press(&["o"]);
    t.type_text("the phone was silent");
    t.press(&["Escape"]);
    t.type_text(":wq");
    t.press(&["Enter"]);
    let screen = t.wait_for("[exit ");
    assert!(screen.contains("[exit 0]"), "{screen}");
    let list = h.json(&["journal", "list", "--json"]);
    assert_eq!(
        list[0]["record"]["situation"], "the phone was silent",
        "{list}"
    );
    assert_eq!(list[0]["title"], "the phone was silent");
    // Nothing of the text left behind: no temp folder, no swap, no viminfo or shada.
    let left: Vec<_> = std::fs::read_dir(&h.runtime)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().starts_with("tmp-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    for dir in [h.tmp.path(), h.runtime.as_path()] {
        assert!(
            Home::grep(dir, "the phone was silent").is_empty(),
            "plaintext under {}",
            dir.display()
        );
    }
    assert!(!h.tmp.path().join(".viminfo").exists());
    assert!(!h.tmp.path().join(".local/state/nvim/shada").exists());
    assert!(!h.tmp.path().join(".local/share/nvim/shada").exists());
}

#[test]
fn a_thought_record_in_the_real_vim() {
    record_in("vim");
}

#[test]
fn a_thought_record_in_the_real_neovim() {
    assert!(
        std::process::Command::new("nvim")
            .arg("--version")
            .output()
            .is_ok(),
        "neovim is missing: install Debian's neovim (.ci/run does)"
    );
    record_in("nvim");
}

#[test]
fn the_countdown_survives_a_resize_then_asks_how_it_ended() {
    let h = Home::init("Maya");
    h.ok(&["soothe", "edit", "--text", "- a hand on my heart"]);
    // A "minute" of 4 s (debug builds only), so the test waits 8 s, not 2 minutes.
    let t = Tmux::haven(
        &h,
        80,
        24,
        "pause --for 2m --urge 8 --message 'CANARY-SEND-LATER'",
        &[("HAVEN_TEST_MINUTE_SECS", "4")],
    );
    let screen = t.wait_for(" left");
    assert!(
        screen.contains("Paused for 2 minutes")
            && screen.contains("From your soothing plan: a hand on my heart"),
        "{screen}"
    );
    assert!(screen.contains("Ctrl-C leaves the pause open."));
    t.resize(40, 24);
    // Redrawn at the new width: a whole bar and its time on one line of 40 columns.
    t.wait_until("the bar redrawn in 40 columns", |s| {
        s.lines().any(|l| {
            let l = l.trim_end();
            l.ends_with(" left")
                && l.chars().count() >= 30
                && l.chars().count() <= 40
                && l.starts_with(['█', '▓', '░'])
        })
    });
    t.wait_for("How strong is the urge now, 0 to 10?");
    t.type_text("eleven");
    t.press(&["Enter"]);
    t.wait_for("(Please answer as asked.)");
    t.type_text("3");
    t.press(&["Enter"]);
    t.wait_for("still need sending");
    t.type_text("y");
    t.press(&["Enter"]);
    let screen = t.wait_for("[exit ");
    assert!(screen.contains("[exit 0]"), "{screen}");
    assert!(
        screen.contains("Here is what you wrote, to copy:") && screen.contains("CANARY-SEND-LATER"),
        "{screen}"
    );
    assert!(
        screen.contains("Pause finished: the urge went from 8 to 3; you chose to send it."),
        "{screen}"
    );
    let pause = &h.json(&["pause", "list", "--json"])[0]["pause"];
    assert_eq!(
        (pause["urge_after"].as_i64(), pause["sent"].as_bool()),
        (Some(3), Some(true))
    );
}

#[test]
fn ctrl_c_or_a_closed_terminal_leaves_the_pause_open() {
    let h = Home::init("Maya");
    let t = Tmux::haven(&h, 80, 24, "pause --for 5m --urge 9", &[]);
    t.wait_for(" left");
    t.press(&["C-c"]);
    let screen = t.wait_for("[exit ");
    assert!(
        screen.contains("The pause stays open. When you are ready: haven pause done"),
        "{screen}"
    );
    assert!(screen.contains("[exit 130]"), "{screen}");
    assert_eq!(
        h.json(&["status", "--json"])["open_pauses"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    drop(t);

    let t = Tmux::haven(&h, 80, 24, "pause --for 5m --urge 6", &[]);
    t.wait_for(" left");
    t.hang_up_and_see_haven_end();
    let open = h.json(&["status", "--json"])["open_pauses"].clone();
    assert_eq!(open.as_array().unwrap().len(), 2, "{open}");
    let list = h.ok(&["pause", "list"]);
    assert_eq!(list.matches(", open").count(), 2, "{list}");
}

#[test]
fn insights_are_coloured_on_a_terminal_and_plain_under_no_color() {
    let h = Home::init("Maya");
    h.write(&[
        "--situation",
        "late reply",
        "--intensity",
        "8",
        "--did",
        "soothing",
    ]);
    let t = Tmux::haven(&h, 100, 40, "insights", &[]);
    t.wait_for("[exit 0]");
    let coloured = t.screen_with_colours();
    assert!(
        coloured.contains("\u{1b}[36m"),
        "bars in colour on a terminal:\n{coloured}"
    );
    drop(t);
    let t = Tmux::haven(&h, 100, 40, "insights", &[("NO_COLOR", "1")]);
    t.wait_for("[exit 0]");
    let plain = t.screen_with_colours();
    assert!(plain.contains("soothing") && plain.contains('█'), "{plain}");
    assert!(
        !plain.contains("\u{1b}[36m"),
        "no colour under NO_COLOR:\n{plain}"
    );
}
