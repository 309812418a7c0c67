//! The console adapter: `kotae chat`, a conversation in the terminal on the
//! built-in fact base (or `--knowledge DIR`, reloaded live as moderators edit
//! it). It needs no token and no network, which makes it the first thing a
//! newcomer runs.

use crate::core::{FactBase, Kotae, Lang, LangChoice, input, messages};
use crate::service::follower::{Follower, ReloadTarget};
use crate::service::moderation::PendingCorrection;
use crate::service::{Platform, Question, Service, Shutdown, open_embeddings};
use anyhow::Result;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// What a console session runs on.
pub struct Options {
    /// The fact base to answer from.
    pub base: FactBase,
    /// The directory `base` came from, reloaded live as it is edited.
    pub knowledge_dir: Option<PathBuf>,
    /// Always reply in this language.
    pub lang: Option<Lang>,
    /// Record declined questions here, for `kotae unanswered`.
    pub state_dir: Option<PathBuf>,
    /// The semantic signal's model, if configured.
    pub embeddings: crate::config::EmbeddingsConfig,
}

/// Runs the conversation on standard input and output until `/quit` or
/// the end of input.
pub fn run(options: Options) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let kotae = Arc::new(Kotae::new(options.base));
    let (_stop, shutdown) = Shutdown::new();
    let embeddings = open_embeddings(&options.embeddings, options.state_dir.as_deref())?;
    let service = match &options.state_dir {
        Some(dir) => Service::open(kotae, dir, shutdown)?,
        None => Service::without_records(kotae, shutdown),
    }
    .with_knowledge_dir(options.knowledge_dir);
    // The fact base is embedded in the background, on this runtime.
    let service = runtime.block_on(async { service.with_embeddings(embeddings) });
    // Moderators' edits to a knowledge directory are picked up live, and
    // the person at the terminal hears of each reload.
    let _follower = runtime.block_on(async { follow_reloads(&service) });
    let _watch = service.watch_knowledge()?;
    let mut session = Session {
        service,
        runtime,
        lang: options.lang,
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
    // One bad line (not UTF-8, absurdly long) is reported and skipped; the
    // conversation goes on.
    let mut lines = input::lines(std::io::stdin().lock());
    loop {
        if interactive {
            write!(out, "> ")?;
            out.flush()?;
        }
        let line = match lines.next() {
            None => break,
            Some(Ok(line)) => line,
            Some(Err(e @ input::LineError::Io { .. })) => return Err(e.into()),
            Some(Err(e)) => {
                eprintln!("kotae: {e}; skipped");
                continue;
            }
        };
        match session.handle(line.trim()) {
            Turn::Quit => break,
            Turn::Say(text) => writeln!(out, "{text}\n")?,
            Turn::Silent => {}
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The terminal as a reload target: reports go to standard error, and
/// what was printed cannot be edited.
struct Terminal;

impl ReloadTarget for Terminal {
    async fn tell_moderators(&self, report: &str) {
        eprintln!("kotae: {report}");
    }

    async fn edit_answer(&self, _: &PendingCorrection) -> bool {
        false
    }
}

fn follow_reloads(service: &Service) -> Follower {
    service.follow_reloads(Platform::Console, service.subscribe_reloads(), Terminal)
}

enum Turn {
    Say(String),
    Silent,
    Quit,
}

struct Session {
    service: Service,
    runtime: tokio::runtime::Runtime,
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
                let snapshot = self.service.kotae.snapshot();
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
            _ => Turn::Say(self.ask(line)),
        }
    }

    fn ask(&self, line: &str) -> String {
        let question = Question {
            platform: Platform::Console,
            asker: None,
            text: line,
            lang: self.choice(),
        };
        match self.runtime.block_on(self.service.ask(question)) {
            Ok(reply) => reply.to_text(),
            Err(e) => e.message(self.choice().resolve(line)).to_string(),
        }
    }

    fn sources(&self, id: &str, lang: Lang) -> String {
        let snapshot = self.service.kotae.snapshot();
        let Some(fact) = snapshot.base.fact(id) else {
            return format!("{} ({id:?})", messages::get(lang).unknown_fact);
        };
        let cited: Vec<_> = snapshot.base.sources_of(fact).cloned().collect();
        format!(
            "{} — {}:{}",
            fact.id,
            messages::get(lang).sources,
            crate::core::reply::plain_sources(&cited)
        )
    }
}
