//! `haven now`: a few guided minutes for the worst moment. Ground (5-4-3-2-1, one step at
//! a time), breathe with a pacer (in 4, out 6, or the rhythm the person's plan names), one
//! line of their soothing plan at a time, then who they can reach: the people their plan
//! names and the crisis line.
//!
//! Nothing is written and nothing is sent; the plan is only read. Esc or Ctrl-C stops at
//! once, and stopping is fine: it says so, and leaves the people and the crisis line on the
//! screen. Without a terminal it prints the same help as text. If the plan cannot be read
//! (a wrong passphrase, a daemon that does not start), the steps go on without it: the
//! moment is not the time for an error.

use std::io::{IsTerminal, Write};

use crate::error::CliResult;
use crate::guided::{Key, Screen};
use crate::soothing_plan::Comfort;
use crate::{output, soothing_plan, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {}

/// How many breaths the pacer leads.
const BREATHS: u32 = 6;

const GROUNDING: [&str; 5] = [
    "Look around. Name five things you can see.",
    "Listen. Name four things you can hear.",
    "Name three things you can touch. Feel one of them.",
    "Name two things you can smell.",
    "Name one thing you can taste.",
];

pub fn run(_args: Args, ctx: &mut Ctx) -> CliResult {
    let plan = match soothing_plan::plan(ctx) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!(
                "(Your plan could not be opened: {}. The steps work without it.)",
                e.message
            );
            None
        }
    };
    let help = Comfort::from(plan.as_ref());
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        output::emit(&as_text(&help));
        return Ok(());
    }
    let finished = guide(&help)?;
    let closing = if finished {
        "You took a few minutes for yourself. The feeling may still be there; it will pass.\n"
    } else {
        "Stopped. That is all right.\n"
    };
    // The terminal may be gone (a hang-up): writing may fail, and must not panic.
    let _ = write!(std::io::stderr(), "{closing}\n{}", help.reach());
    Ok(())
}

/// The steps on the terminal; false when the person stopped them.
fn guide(help: &Comfort) -> CliResult<bool> {
    let mut screen = Screen::open()?;
    let go_on = "Enter: go on   Esc: stop";
    let opening = "You are here, and this will pass.\n\nA few minutes, one step at a time. Enter goes on; Esc stops whenever you like.";
    if screen.page(opening, go_on) == Key::Stop {
        return Ok(false);
    }
    for (i, step) in GROUNDING.iter().enumerate() {
        let text = format!("Ground yourself · {} of 5\n\n{step}", i + 1);
        if screen.page(&text, go_on) == Key::Stop {
            return Ok(false);
        }
    }
    let (inhale, exhale) = help.rhythm;
    let breathe = format!(
        "Breathe with the bar: in for {inhale}, out for {exhale}. Let the breath out be slow."
    );
    if screen.pacer(&breathe, inhale, exhale, BREATHS) == Key::Stop {
        return Ok(false);
    }
    let n = help.lines.len();
    for (i, line) in help.lines.iter().enumerate() {
        let heading = if help.own_plan {
            format!("From your soothing plan · {} of {n}", i + 1)
        } else {
            format!("Something a caring parent might do · {} of {n}", i + 1)
        };
        if screen.page(&format!("{heading}\n\n{line}"), go_on) == Key::Stop {
            return Ok(false);
        }
    }
    screen.page(&help.reach(), "Enter: end");
    Ok(true)
}

/// The same help for a pipe or a script: the steps in words, the plan, the people and the
/// crisis line.
fn as_text(help: &Comfort) -> String {
    let (inhale, exhale) = help.rhythm;
    let mut text = format!(
        "When it is this hard: a few minutes, one step at a time.\n\n\
         Ground yourself: name five things you can see, four you can hear, three you can touch, two you can smell, one you can taste.\n\
         Breathe slowly: in for {inhale}, out for {exhale}, {BREATHS} times.\n\n"
    );
    text.push_str(if help.own_plan {
        "From your soothing plan:\n"
    } else {
        "Something a caring parent might do (`haven soothe edit` makes a plan of your own):\n"
    });
    for line in &help.lines {
        text.push_str(&format!("  - {line}\n"));
    }
    text.push('\n');
    text.push_str(&help.reach());
    text
}
