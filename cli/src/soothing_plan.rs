//! The person's soothing plan as the commands use it: fetched from the daemon, and one
//! line of it offered when a moment was hard (never a nudge when there is no plan); what
//! a record or a pause at 9–10 offers (`haven now`), and the crisis line.

use haven_shared::ipc::Soothe;
use haven_shared::model::practice::SOOTHE_TEMPLATE;
use haven_shared::model::SoothingPlan;

use crate::error::CliResult;
use crate::{output, Ctx};

/// From this intensity or urge (the number the person chose), a record or a pause offers
/// `haven now`.
pub const OFFER_FROM: u8 = 9;

pub const OFFER: &str =
    "This sounds very hard. `haven now` is here: a few minutes to ground yourself.";

pub const CRISIS_LINE: &str = "If you are not safe, or it is too much to hold alone: call your local emergency number or a crisis line. https://findahelpline.com lists them by country.";

/// The breathing rhythm when the plan names none: a longer breath out calms.
const RHYTHM: (u32, u32) = (4, 6);

/// What `haven now` and the pause use from the plan: its lines (a few suggestions when
/// there is no plan yet), the people it names and its breathing rhythm.
pub struct Comfort {
    /// The plan's own lines, or a few suggestions when there is no plan.
    pub lines: Vec<String>,
    pub own_plan: bool,
    pub people: Vec<String>,
    pub rhythm: (u32, u32),
}

impl Comfort {
    pub fn from(plan: Option<&SoothingPlan>) -> Comfort {
        let text = plan.map_or(SOOTHE_TEMPLATE, |p| p.text.as_str());
        let own_plan = plan.is_some_and(|p| !SoothingPlan::lines(&p.text).is_empty());
        let lines: Vec<String> = if own_plan {
            SoothingPlan::lines(text)
        } else {
            SoothingPlan::lines(SOOTHE_TEMPLATE)
                .into_iter()
                .take(3)
                .collect()
        }
        .into_iter()
        .map(|l| output::visible(l).into_owned())
        .collect();
        Comfort {
            lines,
            own_plan,
            people: SoothingPlan::people(text)
                .into_iter()
                .map(|l| output::visible(l).into_owned())
                .collect(),
            rhythm: SoothingPlan::rhythm(text).unwrap_or(RHYTHM),
        }
    }

    /// The people and the crisis line, as the last screen and the lines left after it.
    pub fn reach(&self) -> String {
        let mut text = String::new();
        if !self.people.is_empty() {
            text.push_str("People you can reach:\n");
            for p in &self.people {
                text.push_str(&format!("  {p}\n"));
            }
            text.push('\n');
        }
        text.push_str(CRISIS_LINE);
        text.push('\n');
        text
    }
}

pub fn plan(ctx: &mut Ctx) -> CliResult<Option<SoothingPlan>> {
    Ok(ctx.client.call(Soothe {})?.plan)
}

/// After a strong thought record: one line of the plan on stderr, if there is a plan.
/// Nothing when there is none (no nudge), or when asking fails.
pub fn offer_one_line(ctx: &mut Ctx) {
    let Ok(Some(plan)) = plan(ctx) else {
        return;
    };
    let minute = u64::try_from(chrono::Utc::now().timestamp() / 60).unwrap_or(0);
    if let Some(line) = plan.one_line(minute) {
        eprintln!("From your soothing plan: {}", output::visible(&line));
    }
}
