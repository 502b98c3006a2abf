//! `haven pair [CODE]`: pair this laptop with the partner's, once.
//!
//! Without a code it shows one (valid five minutes) and waits for the partner to type it;
//! with a code it finds the laptop showing it on the LAN. Both print the partner's name
//! and the same safety words.

use std::io::Write;

use haven_shared::ipc::{Request, Response, SecretText};

use crate::client::unexpected;
use crate::error::CliResult;
use crate::{output, Ctx};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The code the other laptop shows, e.g. 7-harbor-violet
    code: Option<String>,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let response = match args.code {
        Some(code) => ctx.client.call(Request::PairJoin {
            code: SecretText(code),
        })?,
        None => {
            let code = match ctx.client.call(Request::PairStart)? {
                Response::PairCode {
                    code,
                    expires_in_secs,
                } => {
                    output::emit(&format!(
                        "On your partner's laptop, run:\n\n    haven pair {code}\n\nThe code works once, for the next {} minutes. Waiting…\n",
                        expires_in_secs / 60
                    ));
                    let _ = std::io::stdout().flush();
                    code
                }
                other => return Err(unexpected(&other)),
            };
            ctx.client.call(Request::PairWait { code })?
        }
    };
    match response {
        Response::Paired {
            partner,
            safety_words,
        } => {
            output::emit(&format!(
                "Paired with {partner}.\nSafety words: {safety_words}\nBoth laptops should show the same words; if they differ, run `haven partner unpair` and pair again.\n"
            ));
            Ok(())
        }
        other => Err(unexpected(&other)),
    }
}
