//! `kotae unanswered` and `kotae feedback`: what moderators should look at
//! next: declined questions grouped by similarity (most asked first, after
//! facts that members keep marking 👎), and the votes per fact.

use crate::records::{feedback, unanswered};
use anyhow::Result;
use std::path::PathBuf;
use std::process::ExitCode;

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

pub fn run_unanswered(args: Args) -> Result<ExitCode> {
    let disliked = feedback::disliked(&args.state_dir)?;
    if !disliked.is_empty() {
        println!("Answers members keep marking 👎 (check these first):");
        for (fact, up, down) in &disliked {
            println!("  {fact}: {up} 👍, {down} 👎");
        }
        println!();
    }
    let records = unanswered::read(&args.state_dir)?;
    if records.is_empty() {
        println!(
            "No unanswered questions recorded in {}.",
            args.state_dir.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let groups = unanswered::groups(&records);
    println!(
        "Unanswered questions, most asked first ({} in {} groups):",
        records.len(),
        groups.len()
    );
    for g in groups.iter().take(args.top) {
        let langs: Vec<&str> = g.langs.iter().map(|l| l.code()).collect();
        let closest = g
            .closest
            .as_deref()
            .map(|c| format!("  (closest: {c})"))
            .unwrap_or_default();
        println!(
            "  {:>4}× {:>3} askers [{}] {:?}{closest}",
            g.count,
            g.askers,
            langs.join(","),
            g.example
        );
    }
    Ok(ExitCode::SUCCESS)
}

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
