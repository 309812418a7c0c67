//! The `kotae` command line: one file per command, parsed here with clap.
//!
//! Every command returns an exit code or an error; `main` prints errors as
//! one plain line, never a backtrace.

mod ask;
mod check;
mod config;
mod eval;
mod unanswered;

use crate::core::load::{self, Diagnostic};
use crate::core::{FactBase, Lang};
use anyhow::{Result, bail};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "kotae",
    version,
    about = "答え: cited answers about the end of the Japan Centers in Russia, in Japanese, Chinese and English"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Answer one question, or one per line from standard input.
    Ask(ask::Args),
    /// Talk to the bot in the terminal (the console adapter).
    Chat(crate::console::Args),
    /// Validate a knowledge directory and report every problem with its line.
    Check(check::Args),
    /// Run a question set and report accuracy; exits 1 below the thresholds.
    Eval(eval::Args),
    /// Run the chat adapters enabled in the configuration.
    Serve(crate::serve::Args),
    /// Check the configuration and print the effective settings.
    Config(config::Args),
    /// Questions the bot declined, grouped by similarity, most asked first.
    Unanswered(unanswered::Args),
    /// Members' 👍 and 👎 per fact.
    Feedback(unanswered::Args),
}

/// `--knowledge DIR`, shared by the commands that answer questions.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct KnowledgeArg {
    /// A knowledge directory to answer from instead of the built-in fact base.
    #[arg(long, value_name = "DIR", env = "KOTAE_KNOWLEDGE")]
    pub knowledge: Option<PathBuf>,
}

impl KnowledgeArg {
    pub fn load(&self) -> Result<FactBase> {
        load_base(self.knowledge.as_deref())
    }
}

/// Loads a knowledge directory, or the embedded base when none is given.
pub fn load_base(dir: Option<&Path>) -> Result<FactBase> {
    let loaded = match dir {
        Some(dir) => {
            if !dir.is_dir() {
                bail!(
                    "knowledge directory {} does not exist or is not a directory",
                    dir.display()
                );
            }
            load::load_dir(dir)
        }
        None => load::load_embedded(),
    };
    match loaded {
        Ok(loaded) => Ok(loaded.base),
        Err(diags) => {
            let where_ = dir.map_or("the built-in fact base".to_string(), |d| {
                d.display().to_string()
            });
            bail!(
                "{where_} has errors; run `kotae check` for details:\n{}",
                list(&diags)
            )
        }
    }
}

fn list(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| format!("  {d}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses `ja|zh|en`, for clap.
pub fn parse_lang(s: &str) -> Result<Lang, String> {
    s.parse::<Lang>().map_err(|e| e.to_string())
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ask(args) => ask::run(args),
        Command::Chat(args) => crate::console::run(args),
        Command::Check(args) => check::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Serve(args) => crate::serve::run(args),
        Command::Config(args) => config::run(args),
        Command::Unanswered(args) => unanswered::run_unanswered(args),
        Command::Feedback(args) => unanswered::run_feedback(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kotae: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
