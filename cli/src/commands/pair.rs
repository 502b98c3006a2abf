//! `haven pair [CODE]`: pair this laptop with the partner's, once.
//!
//! Without a code it shows one (valid five minutes) and waits for the partner to type it;
//! with a code it finds the laptop showing it on the LAN. Both print the partner's name
//! and the same safety words. `--relay URL` also sets the couple's relay once paired (the
//! same as `haven partner relay URL`), checked before pairing so a mistyped URL costs no
//! code.

use std::io::Write;

use haven_shared::ipc::{
    PairCode, PairJoin, PairStart, PairWait, Paired, PartnerRelay, SecretText,
};

use crate::error::{CliError, CliResult, Exit};
use crate::{output, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The code the other laptop shows, e.g. 7-harbor-violet
    code: Option<String>,
    /// Also meet through the couple's own relay when apart: the `relay URL:` line
    /// `havend relay` printed
    #[arg(long, value_name = "URL")]
    relay: Option<String>,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    if let Some(url) = &args.relay {
        haven_shared::relay_url::RelayUrl::parse(url)
            .map_err(|e| CliError::new(Exit::Usage, e.to_string()))?;
    }
    let Paired {
        partner,
        safety_words,
    } = match args.code {
        Some(code) => ctx.client.call(PairJoin {
            code: SecretText(code),
        })?,
        None => {
            let PairCode {
                code,
                expires_in_secs,
            } = ctx.client.call(PairStart {})?;
            output::emit(&format!(
                "On your partner's laptop, run:\n\n    haven pair {code}\n\nThe code works once, for the next {} minutes. Waiting…\n",
                expires_in_secs / 60
            ));
            let _ = std::io::stdout().flush();
            ctx.client.call(PairWait { code })?
        }
    };
    output::emit(&format!(
        "Paired with {partner}.\nSafety words: {safety_words}\nBoth laptops should show the same words; if they differ, run `haven partner unpair` and pair again.\n"
    ));
    if let Some(url) = args.relay {
        let info = ctx.client.call(PartnerRelay {
            url: Some(SecretText(url)),
        })?;
        output::emit(&format!(
            "Apart, you meet through your relay at {}.\n",
            info.relay.unwrap_or_default()
        ));
    }
    Ok(())
}
