//! Long output on a real terminal goes through the pager, as git's does: `less -FRX`
//! unless `HAVEN_PAGER` or `PAGER` say otherwise. Output that fits the screen, and output
//! that is not to a terminal, print directly (every other test reads piped output).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use haven_tests::tmux::Tmux;
use haven_tests::Home;

/// The screen's last line that is not blank.
fn last_line(screen: &str) -> &str {
    screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
}

#[test]
fn a_list_longer_than_the_screen_is_paged_and_a_short_one_is_not() {
    let h = Home::init("Maya");
    for i in 0..3 {
        h.write(&[&format!("entry number {i}")]);
    }
    let t = Tmux::haven(&h, 80, 24, "journal list", &[]);
    let screen = t.wait_for("[exit 0]");
    assert!(screen.contains("entry number 0"), "{screen}");
    drop(t);

    for i in 3..40 {
        h.write(&[&format!("entry number {i}")]);
    }
    let t = Tmux::haven(&h, 80, 24, "journal list", &[]);
    // less shows the newest entries and waits at its prompt.
    let screen = t.wait_until("less's prompt", |s| last_line(s) == ":");
    assert!(screen.contains("entry number 39"), "{screen}");
    assert!(!screen.contains("entry number 0\n"), "{screen}");
    assert!(!screen.contains("[exit"), "{screen}");
    t.press(&["q"]);
    let screen = t.wait_for("[exit 0]");
    assert!(
        screen.contains("entry number 20"),
        "left on the screen: {screen}"
    );
    drop(t);

    // A pager of one's own; `cat` (or an empty one) means none.
    let t = Tmux::haven(
        &h,
        80,
        24,
        "journal list",
        &[("HAVEN_PAGER", "sed 's/^/paged: /' | tail -n 3")],
    );
    let screen = t.wait_for("[exit 0]");
    assert!(screen.contains("paged: "), "{screen}");
    assert!(screen.contains("entry number 0"), "{screen}");
    assert!(!screen.contains("entry number 39"), "{screen}");
    drop(t);
    let t = Tmux::haven(&h, 80, 60, "journal list", &[("PAGER", "cat")]);
    let screen = t.wait_for("[exit 0]");
    assert!(
        screen.contains("entry number 39") && screen.contains("entry number 0"),
        "{screen}"
    );
    drop(t);
    // A pager that is not installed: the text is printed as it is, nothing lost.
    let t = Tmux::haven(&h, 80, 60, "journal list", &[("PAGER", "no-such-pager -x")]);
    let screen = t.wait_for("[exit 0]");
    assert!(
        screen.contains("entry number 39") && screen.contains("entry number 0"),
        "{screen}"
    );
}

/// `journal show`, `insights` and `notes` go through the pager too.
#[test]
fn show_and_insights_are_paged_when_long() {
    let h = Home::init("Maya");
    let long: String = (0..60)
        .map(|i| format!("line {i} of a long entry\n"))
        .collect();
    let id = h.write(&[&long]);
    let t = Tmux::haven(
        &h,
        80,
        24,
        &format!("journal show {id}"),
        &[("HAVEN_PAGER", "sed 's/^/paged: /'")],
    );
    let screen = t.wait_for("[exit 0]");
    assert!(
        screen.contains("paged: line 59 of a long entry"),
        "{screen}"
    );
    drop(t);
    // Four lines of insights, in a terminal three rows high.
    let t = Tmux::haven(
        &h,
        100,
        3,
        "insights",
        &[("HAVEN_PAGER", "sed 's/^/paged: /'"), ("NO_COLOR", "1")],
    );
    let screen = t.wait_for("[exit 0]");
    assert!(screen.contains("paged: "), "{screen}");
}
