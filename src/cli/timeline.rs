//! `kotae timeline`: the fact base's dated events in date order, one line
//! each with its date (marked when the sources disagree on it) and fact id,
//! or with `--json` an array of `{date, fact, text, disputed, sources}`.

use super::{KnowledgeArg, parse_lang};
use crate::core::Lang;
use crate::core::timeline;
use anyhow::Result;
use std::io::Write;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The language of the events (ja, zh or en); by default the
    /// terminal's locale's, else English.
    #[arg(long, value_parser = parse_lang)]
    lang: Option<Lang>,
    /// A JSON array of objects with `date`, `fact`, `text`, `disputed` and
    /// `sources`.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    knowledge: KnowledgeArg,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let base = args.knowledge.load()?;
    let lang = args
        .lang
        .or_else(crate::console::terminal_lang)
        .unwrap_or(Lang::En);
    let entries = timeline::timeline(&base, lang);
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &timeline::to_json(&entries))?;
        writeln!(out)?;
    } else {
        writeln!(out, "{}", timeline::to_text(&entries, lang))?;
    }
    Ok(ExitCode::SUCCESS)
}
