//! `haven bring TEXT`: something to bring to the next session (`journal write --kind
//! bring`). The session brief lists these first, under "What I want to bring".

use haven_shared::model::Kind;

use crate::error::CliResult;
use crate::Ctx;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// What you want to talk about, in a few words; `-` reads stdin
    text: String,
    /// A tag (repeat for more)
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// When you thought of it, if not now: "yesterday 21:00", "3d ago"
    #[arg(long, value_name = "WHEN", value_parser = crate::range::at)]
    at: Option<chrono::DateTime<chrono::FixedOffset>>,
}

pub fn run(args: Args, ctx: &mut Ctx) -> CliResult {
    let short = super::win::Args {
        text: args.text,
        tags: args.tags,
        at: args.at,
    };
    super::win::write_short(ctx, Kind::Bring, short)
}
