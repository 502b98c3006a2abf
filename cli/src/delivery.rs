//! Where something sent to the partner is now, said plainly after it was written: "Sent to
//! Sam's laptop." while the two are connected (the sync carries it at once), otherwise
//! when it will go. Never a read receipt: whether the partner looked is not known, and
//! not asked.

use haven_shared::ipc::Status;

use crate::{output, Ctx};

/// One sentence for stderr; a status that cannot be read leaves the careful wording.
pub fn sentence(ctx: &mut Ctx) -> String {
    match ctx.client.call(Status {}) {
        Ok(s) => {
            let name = s.partner.as_deref().map(output::visible);
            match (name, s.connected) {
                (Some(name), true) => format!("Sent to {name}'s laptop."),
                (Some(name), false) => {
                    format!("It goes to {name}'s laptop the next time the two connect.")
                }
                (None, _) => {
                    "It goes to your partner's laptop the next time the two connect.".to_string()
                }
            }
        }
        Err(_) => "It goes to your partner's laptop the next time the two connect.".to_string(),
    }
}
