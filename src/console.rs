//! The console adapter: `kotae chat`, a conversation in the terminal on the
//! built-in fact base (or `--knowledge DIR`). It needs no token and no
//! network, which makes it the first thing a newcomer runs.

use crate::cli::{KnowledgeArg, parse_lang};
use crate::core::{Kotae, Lang, LangChoice, messages};
use anyhow::Result;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    knowledge: KnowledgeArg,
    /// Always reply in this language (ja, zh or en).
    #[arg(long, value_parser = parse_lang)]
    lang: Option<Lang>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let kotae = Kotae::new(args.knowledge.load()?);
    let mut session = Session {
        kotae,
        lang: args.lang,
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
    kotae: Kotae,
    lang: Option<Lang>,
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
                Ok(reply) => Turn::Say(reply.to_text()),
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
