//! The console adapter: `kotae chat`, a conversation in the terminal on the
//! built-in fact base (or `--knowledge DIR`, reloaded live as moderators edit
//! it). It needs no token and no network, which makes it the first thing a
//! newcomer runs.

use crate::cli::{KnowledgeArg, parse_lang};
use crate::core::{Kotae, Lang, LangChoice, messages};
use crate::records::unanswered::UnansweredLog;
use crate::reload::{self, ReloadReport};
use anyhow::Result;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    knowledge: KnowledgeArg,
    /// Always reply in this language (ja, zh or en).
    #[arg(long, value_parser = parse_lang)]
    lang: Option<Lang>,
    /// Record declined questions here, for `kotae unanswered`.
    #[arg(long, value_name = "DIR")]
    state_dir: Option<std::path::PathBuf>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let kotae = Arc::new(Kotae::new(args.knowledge.load()?));
    // Moderators' edits to a knowledge directory are picked up live.
    let _watch = match &args.knowledge.knowledge {
        Some(dir) => Some(reload::watch(kotae.clone(), dir.clone(), |report| {
            if report != ReloadReport::Unchanged {
                eprintln!("kotae: {report}");
            }
        })?),
        None => None,
    };
    let unanswered = args
        .state_dir
        .as_deref()
        .map(UnansweredLog::open)
        .transpose()?;
    let mut session = Session {
        kotae,
        lang: args.lang,
        unanswered,
    };
    let interactive = std::io::stdin().is_terminal();
    let mut out = std::io::stdout().lock();
    if interactive {
        writeln!(out, "kotae (答え) — {}", messages::get(Lang::En).help)?;
        writeln!(
            out,
            "/topics, /sources FACT_ID, /lang ja|zh|en|auto, /quit\n"
        )?;
    }
    let mut lines = std::io::stdin().lock().lines();
    loop {
        if interactive {
            write!(out, "> ")?;
            out.flush()?;
        }
        let Some(line) = lines.next().transpose()? else {
            break;
        };
        match session.handle(line.trim()) {
            Turn::Quit => break,
            Turn::Say(text) => writeln!(out, "{text}\n")?,
            Turn::Silent => {}
        }
    }
    Ok(ExitCode::SUCCESS)
}

enum Turn {
    Say(String),
    Silent,
    Quit,
}

struct Session {
    kotae: Arc<Kotae>,
    lang: Option<Lang>,
    unanswered: Option<UnansweredLog>,
}

impl Session {
    fn choice(&self) -> LangChoice {
        self.lang.map_or(LangChoice::Detect, LangChoice::Explicit)
    }

    fn handle(&mut self, line: &str) -> Turn {
        let (command, rest) = line.split_once(' ').unwrap_or((line, ""));
        let lang = self.lang.unwrap_or(Lang::En);
        match command {
            "" => Turn::Silent,
            "/quit" | "/exit" => Turn::Quit,
            "/help" => Turn::Say(messages::get(lang).help.to_string()),
            "/topics" => {
                let snapshot = self.kotae.snapshot();
                let topics: Vec<String> = snapshot
                    .topics(lang)
                    .into_iter()
                    .map(|s| format!("  {} — {}", s.fact_id, s.question))
                    .collect();
                Turn::Say(format!(
                    "{}\n{}",
                    messages::get(lang).topics,
                    topics.join("\n")
                ))
            }
            "/sources" => Turn::Say(self.sources(rest.trim(), lang)),
            "/lang" => match rest.trim() {
                "auto" => {
                    self.lang = None;
                    Turn::Say("lang: auto".into())
                }
                code => match code.parse::<Lang>() {
                    Ok(l) => {
                        self.lang = Some(l);
                        Turn::Say(format!("lang: {l}"))
                    }
                    Err(e) => Turn::Say(e.to_string()),
                },
            },
            _ => match self.kotae.ask(line, self.choice()) {
                Ok(reply) => {
                    if let Some(log) = &self.unanswered
                        && let Err(e) = log.record("console", None, &reply)
                    {
                        eprintln!("kotae: cannot record an unanswered question: {e}");
                    }
                    Turn::Say(reply.to_text())
                }
                Err(e) => Turn::Say(e.message(self.choice().resolve(line)).to_string()),
            },
        }
    }

    fn sources(&self, id: &str, lang: Lang) -> String {
        let snapshot = self.kotae.snapshot();
        let Some(fact) = snapshot.base.fact(id) else {
            return format!("{} ({id:?})", messages::get(lang).unknown_fact);
        };
        let lines: Vec<String> = snapshot
            .base
            .sources_of(fact)
            .enumerate()
            .map(|(i, s)| {
                let url = s.url.as_deref().unwrap_or("");
                format!(
                    "  [{}] {} {url}",
                    i + 1,
                    crate::core::reply::source_label(s)
                )
            })
            .collect();
        format!(
            "{} — {}:\n{}",
            fact.id,
            messages::get(lang).sources,
            lines.join("\n")
        )
    }
}
