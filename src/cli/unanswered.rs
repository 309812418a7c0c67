//! `kotae unanswered` and `kotae feedback`: what moderators should look at
//! next: declined questions grouped by similarity (most asked first, after
//! facts that members keep marking 👎), and the votes per fact.

use crate::records::{feedback, unanswered};
use anyhow::Result;
use std::path::PathBuf;
use std::process::ExitCode;

/// Where the records are, and how much to show.
#[derive(clap::Args)]
pub struct Args {
    /// The bot's state directory.
    #[arg(
        long,
        env = "KOTAE_STATE_DIR",
        default_value = "state",
        value_name = "DIR"
    )]
    state_dir: PathBuf,
    /// How many groups to show.
    #[arg(long, default_value_t = 20)]
    top: usize,
}

/// Prints the digest of declined questions.
pub fn run_unanswered(args: Args) -> Result<ExitCode> {
    print!(
        "{}",
        unanswered::digest(&args.state_dir, args.top, crate::core::Lang::En)?
    );
    Ok(ExitCode::SUCCESS)
}

/// Prints 👍 and 👎 per fact.
pub fn run_feedback(args: Args) -> Result<ExitCode> {
    let summary = feedback::summary(&args.state_dir)?;
    if summary.is_empty() {
        println!("No feedback recorded in {}.", args.state_dir.display());
    }
    for (fact, (up, down)) in summary {
        println!("{fact:<28} {up:>4} 👍 {down:>4} 👎");
    }
    Ok(ExitCode::SUCCESS)
}
