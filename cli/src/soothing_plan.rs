//! The person's soothing plan as the commands use it: fetched from the daemon, and one
//! line of it offered when a moment was hard (never a nudge when there is no plan); what
//! a record or a pause at 9–10 offers (`haven now`), and the crisis line.

use haven_shared::ipc::Soothe;
use haven_shared::model::SoothingPlan;

use crate::error::CliResult;
use crate::{output, Ctx};

/// From this intensity or urge (the number the person chose), a record or a pause offers
/// `haven now`.
pub const OFFER_FROM: u8 = 9;

pub const OFFER: &str =
    "This sounds very hard. `haven now` is here: a few minutes to ground yourself.";

pub const CRISIS_LINE: &str = "If you are not safe, or it is too much to hold alone: call your local emergency number or a crisis line. https://findahelpline.com lists them by country.";

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
