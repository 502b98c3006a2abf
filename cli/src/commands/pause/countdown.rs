//! The pause's minutes on the screen: what was agreed about texting, one line of the
//! soothing plan at a time (a new one every half minute), a breathing pacer, and the time
//! left. `h` hides the plan and the pacer (some people want only the clock), and shows them
//! again. Everything is word-wrapped to the window and redrawn when it is resized.
//! Ctrl-C, Esc or q stop the countdown and leave the pause open; a hang-up or a TERM end
//! the process from [`Screen`]'s own handler, the terminal put back.

use std::time::{Duration, Instant};

use haven_shared::model::practice::seconds_per_minute;
use haven_shared::model::{AgreementView, Entry};

use crate::error::CliResult;
use crate::guided::{Breath, Key, Screen, Waited, TICK};
use crate::output;
use crate::soothing_plan::{self, Comfort};

/// What the countdown shows.
pub struct Shown<'a> {
    pub entry: &'a Entry,
    pub agreements: &'a [AgreementView],
    pub comfort: &'a Comfort,
    /// The plan's line the daemon chose to show first, if any.
    pub first_line: Option<&'a str>,
}

pub enum Over {
    TimeUp,
    /// Stopped before the end, with the exit code to leave with.
    Stopped(i32),
}

const FOOTER_SHOWN: &str = "h: hide the plan and the breathing   Ctrl-C: leave the pause open";
const FOOTER_HIDDEN: &str = "h: show the plan and the breathing   Ctrl-C: leave the pause open";

/// Runs the countdown on the terminal until the time is up or the person stops it.
pub fn run(shown: &Shown) -> CliResult<Over> {
    let minutes = shown.entry.pause.as_ref().map_or(0, |p| p.minutes);
    let total = Duration::from_secs(u64::from(minutes) * seconds_per_minute());
    // A new line of the plan every half minute of the pause's clock.
    let every = Duration::from_millis(seconds_per_minute() * 500);
    let lines = &shown.comfort.lines;
    let first = shown
        .first_line
        .and_then(|l| lines.iter().position(|x| x == &*output::visible(l)))
        .unwrap_or(0);
    let (inhale, exhale) = shown.comfort.rhythm;

    let mut screen = Screen::open()?;
    let started = Instant::now();
    let mut hidden = false;
    let mut drawn: Option<(usize, bool)> = None;
    loop {
        let elapsed = started.elapsed();
        if elapsed >= total {
            return Ok(Over::TimeUp);
        }
        let index = (first + (elapsed.as_millis() / every.as_millis().max(1)) as usize)
            % lines.len().max(1);
        if drawn != Some((index, hidden)) {
            draw(&mut screen, shown, lines.get(index), hidden);
            drawn = Some((index, hidden));
        }
        let width = screen.width();
        if hidden {
            screen.live(0, "");
        } else {
            let breath = Breath::at(elapsed.as_secs_f64(), inhale, exhale);
            screen.live(0, &breath.line(width, ""));
        }
        screen.live(1, &time_left(width, elapsed, total));
        match screen.wait(TICK) {
            Waited::Key(Key::Stop) => return Ok(Over::Stopped(130)),
            Waited::Key(Key::Hide) => hidden = !hidden,
            Waited::Resized => drawn = None,
            Waited::Key(_) | Waited::Nothing => {}
        }
    }
}

fn draw(screen: &mut Screen, shown: &Shown, line: Option<&String>, hidden: bool) {
    let mut text = opening(shown.entry, shown.agreements);
    if let (Some(line), false) = (line, hidden) {
        let from = if shown.comfort.own_plan {
            "From your soothing plan"
        } else {
            "Something a caring parent might do"
        };
        text.push_str(&format!("\n{from}: {line}\n"));
    }
    let footer = if hidden { FOOTER_HIDDEN } else { FOOTER_SHOWN };
    screen.frame(&text, footer, 2);
}

/// The top of the screen: the pause's promise, the texting agreements, and `haven now`
/// offered when the urge was 9 or 10.
fn opening(entry: &Entry, agreements: &[AgreementView]) -> String {
    let minutes = entry.pause.as_ref().map_or(0, |p| p.minutes);
    let mut text = format!(
        "Paused for {}: write it, but do not send it yet. Your message is kept, privately.\n",
        haven_shared::plural::count(u64::from(minutes), "minute", "minutes")
    );
    if !agreements.is_empty() {
        text.push_str("\nWhat you agreed on together:\n");
        for a in agreements.iter().take(3) {
            // Written on the partner's device too: one line each, however long it is.
            text.push_str(&format!(
                "  - {}: {}\n",
                output::one_line(&a.title, 60),
                output::one_line(&a.text, 160)
            ));
        }
    }
    if super::very_hard(entry) {
        text.push_str(&format!("\n{}\n", soothing_plan::OFFER));
    }
    text
}

/// `██████░░░░░░ 12:34 left`, as wide as the window allows.
fn time_left(width: usize, elapsed: Duration, total: Duration) -> String {
    let left = total.saturating_sub(elapsed).as_secs();
    let scale = seconds_per_minute();
    let (m, s) = if scale == 60 {
        (left / 60, left % 60)
    } else {
        (left / scale, (left % scale) * 60 / scale)
    };
    let label = format!(" {m}:{s:02} left");
    let room = width.saturating_sub(label.chars().count() + 1);
    let done = elapsed.as_secs_f64() / total.as_secs_f64().max(0.001);
    let filled = ((room as f64) * done.clamp(0.0, 1.0)).round() as usize;
    format!(
        "{}{}{label}",
        "█".repeat(filled.min(room)),
        "░".repeat(room - filled.min(room))
    )
}

#[cfg(test)]
mod tests {
    use super::time_left;
    use std::time::Duration;

    #[test]
    fn the_time_left_fills_the_window_and_no_more() {
        let line = time_left(40, Duration::from_secs(600), Duration::from_secs(1200));
        assert_eq!(line.chars().count(), 39, "{line}");
        assert!(line.ends_with(" 10:00 left"), "{line}");
        assert_eq!(line.matches('█').count(), 14, "{line}");
        let narrow = time_left(5, Duration::ZERO, Duration::from_secs(60));
        assert_eq!(narrow, " 1:00 left");
    }
}
