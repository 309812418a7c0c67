//! The `kotae` command line: one file per command, parsed here with clap.
//!
//! Every command returns an exit code or an error; `main` prints errors as
//! one plain line, never a backtrace. This is the top of the module tree:
//! it parses arguments and calls down into `serve`, the console adapter,
//! the service and the core; nothing below imports it.

mod ask;
mod check;
mod config;
mod eval;
mod semantic;
mod timeline;
mod unanswered;

use crate::core::{FactBase, Lang};
use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub use crate::service::load_base;

/// The whole command line.
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
    Chat(ChatArgs),
    /// Validate a knowledge directory and report every problem with its line.
    Check(check::Args),
    /// Run a question set and report accuracy; exits 1 below the thresholds.
    Eval(eval::Args),
    /// Run the chat adapters enabled in the configuration.
    Serve(ServeArgs),
    /// Check the configuration and print the effective settings.
    Config(config::Args),
    /// The fact base's dated events in date order.
    Timeline(timeline::Args),
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
    /// The fact base these arguments name.
    pub fn load(&self) -> Result<FactBase> {
        load_base(self.knowledge.as_deref())
    }
}

/// `kotae chat`'s options.
#[derive(clap::Args)]
pub struct ChatArgs {
    #[command(flatten)]
    knowledge: KnowledgeArg,
    /// Always reply in this language (ja, zh or en).
    #[arg(long, value_parser = parse_lang)]
    lang: Option<Lang>,
    /// Record declined questions here, for `kotae unanswered` (and keep
    /// the fact base's vectors, with the semantic signal on).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    #[command(flatten)]
    semantic: semantic::SemanticArg,
}

/// `kotae serve`'s options.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// The configuration file (kotae.toml); `KOTAE_*` variables override it.
    #[arg(long, env = "KOTAE_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
}

fn chat(args: ChatArgs) -> Result<ExitCode> {
    let session = crate::console::Options {
        base: args.knowledge.load()?,
        knowledge_dir: args.knowledge.knowledge,
        lang: args.lang,
        state_dir: args.state_dir,
        embeddings: args.semantic.settings()?,
    };
    crate::console::run(session)
}

/// Parses `ja|zh|en`, for clap.
pub fn parse_lang(s: &str) -> Result<Lang, String> {
    s.parse::<Lang>().map_err(|e| e.to_string())
}

/// Sets up logging to standard error for a command other than `serve`
/// (which sets it up from its whole configuration): the `[log]` section of
/// `config` and the `KOTAE_LOG_*` variables. By default, warnings and
/// errors, such as a record that could not be written; reload reports are
/// left out, since the console prints each itself.
fn logging(config: Option<&Path>) -> Result<()> {
    let default = format!("warn,{}=off", crate::reload::REPORT_TARGET);
    crate::config::LogConfig::load(config)?.init(&default);
    Ok(())
}

/// Parses the command line and runs the command.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    // `unanswered` and `feedback` have no `--config`; `KOTAE_CONFIG` is read.
    let env_config = std::env::var_os("KOTAE_CONFIG").map(PathBuf::from);
    let result = match cli.command {
        Command::Ask(args) => logging(args.config()).and_then(|()| ask::run(args)),
        Command::Chat(args) => logging(args.semantic.config.as_deref()).and_then(|()| chat(args)),
        Command::Check(args) => check::run(args),
        Command::Eval(args) => {
            logging(args.semantic.config.as_deref()).and_then(|()| eval::run(args))
        }
        Command::Serve(args) => crate::serve::run(args.config.as_deref()),
        Command::Config(args) => config::run(args),
        Command::Timeline(args) => timeline::run(args),
        Command::Unanswered(args) => {
            logging(env_config.as_deref()).and_then(|()| unanswered::run_unanswered(args))
        }
        Command::Feedback(args) => {
            logging(env_config.as_deref()).and_then(|()| unanswered::run_feedback(args))
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kotae: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
