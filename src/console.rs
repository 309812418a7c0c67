//! The console adapter: `kotae chat`, a conversation in the terminal on the
//! built-in fact base (or `--knowledge DIR`, reloaded live as moderators edit
//! it). It needs no token and no network, which makes it the first thing a
//! newcomer runs.
//!
//! Everything the bot says is in the session's language: the one chosen
//! with `--lang` or `/lang`, else the language of the last question, else
//! the terminal's locale (`LC_ALL`, `LC_MESSAGES`, `LANG`), else English.

use crate::core::messages::{self, Command, fill};
use crate::core::{FactBase, Kotae, Lang, LangChoice, input, timeline};
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
    let locale = terminal_lang();
    let reports = options.lang.or(locale).unwrap_or(Lang::En);
    let _follower = runtime.block_on(async { follow_reloads(&service, reports) });
    let _watch = service.watch_knowledge()?;
    let mut session = Session {
        service,
        runtime,
        lang: options.lang,
        last: None,
        locale,
    };
    let interactive = std::io::stdin().is_terminal();
    let mut out = std::io::stdout().lock();
    if interactive {
        writeln!(out, "kotae (答え) — {}\n", session.help())?;
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

/// The commands, as `/help` lists them.
pub const COMMANDS: &[(&str, Command)] = &[
    ("/topics", Command::Topics),
    ("/sources FACT_ID", Command::Sources),
    ("/timeline", Command::Timeline),
    ("/lang ja|zh|en|auto", Command::Lang),
    ("/help", Command::Help),
    ("/quit", Command::Quit),
];

/// The terminal's language, from the locale variables as POSIX orders
/// them (`LC_ALL`, `LC_MESSAGES`, `LANG`; `ja_JP.UTF-8` is Japanese), if it
/// is one kotae speaks.
pub fn terminal_lang() -> Option<Lang> {
    locale_lang(|name| std::env::var(name).ok())
}

fn locale_lang(var: impl Fn(&str) -> Option<String>) -> Option<Lang> {
    let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
        .into_iter()
        .filter_map(var)
        .find(|v| !v.trim().is_empty())?;
    Lang::from_locale(locale.split('.').next().unwrap_or_default())
}

/// The terminal as a reload target: reports go to standard error, in the
/// session's language, and what was printed cannot be edited.
struct Terminal {
    lang: Lang,
}

impl ReloadTarget for Terminal {
    async fn tell_moderators(&self, report: &str) {
        eprintln!("kotae: {report}");
    }

    fn moderators_lang(&self) -> Lang {
        self.lang
    }

    async fn edit_answer(&self, _: &PendingCorrection) -> bool {
        false
    }
}

fn follow_reloads(service: &Service, lang: Lang) -> Follower {
    let terminal = Terminal { lang };
    service.follow_reloads(Platform::Console, service.subscribe_reloads(), terminal)
}

enum Turn {
    Say(String),
    Silent,
    Quit,
}

struct Session {
    service: Service,
    runtime: tokio::runtime::Runtime,
    /// Chosen with `--lang` or `/lang`: every reply in it.
    lang: Option<Lang>,
    /// The language of the last question.
    last: Option<Lang>,
    /// The terminal's.
    locale: Option<Lang>,
}

impl Session {
    fn choice(&self) -> LangChoice {
        self.lang.map_or(LangChoice::Detect, LangChoice::Explicit)
    }

    /// The language of what the bot says outside answers.
    fn lang(&self) -> Lang {
        self.lang.or(self.last).or(self.locale).unwrap_or(Lang::En)
    }

    fn help(&self) -> String {
        messages::help_text(self.lang(), COMMANDS)
    }

    fn handle(&mut self, line: &str) -> Turn {
        let (command, rest) = line.split_once(' ').unwrap_or((line, ""));
        let lang = self.lang();
        match command {
            "" => Turn::Silent,
            "/quit" | "/exit" => Turn::Quit,
            "/help" => Turn::Say(self.help()),
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
            "/timeline" => {
                // `/timeline ja` asks for one language this once.
                let lang = rest.trim().parse().unwrap_or(lang);
                let snapshot = self.service.kotae.snapshot();
                let entries = timeline::timeline(&snapshot.base, lang);
                Turn::Say(timeline::to_text(&entries, lang))
            }
            "/lang" => Turn::Say(self.set_lang(rest.trim())),
            _ => Turn::Say(self.ask(line)),
        }
    }

    /// `/lang`: confirmed in the language chosen; `auto` in the one the
    /// session falls back to.
    fn set_lang(&mut self, arg: &str) -> String {
        if arg == "auto" {
            self.lang = None;
            return messages::get(self.lang()).lang_auto.to_string();
        }
        match arg.parse::<Lang>() {
            Ok(lang) => {
                self.lang = Some(lang);
                let m = messages::get(lang);
                fill(m.lang_set, &[("lang", m.lang_name(lang))])
            }
            Err(_) => fill(
                messages::get(self.lang()).lang_usage,
                &[("command", "/lang")],
            ),
        }
    }

    fn ask(&mut self, line: &str) -> String {
        let question = Question {
            platform: Platform::Console,
            asker: None,
            text: line,
            lang: self.choice(),
        };
        match self.runtime.block_on(self.service.ask(question)) {
            Ok(reply) => {
                self.last = Some(reply.lang);
                reply.to_text()
            }
            Err(e) => e.message(self.choice().resolve(line)).to_string(),
        }
    }

    fn sources(&self, id: &str, lang: Lang) -> String {
        let snapshot = self.service.kotae.snapshot();
        let Some(fact) = snapshot.base.fact(id) else {
            let m = messages::get(lang);
            return format!("{}{}", m.unknown_fact, messages::aside(lang, id));
        };
        let cited: Vec<_> = snapshot.base.sources_of(fact).cloned().collect();
        format!(
            "{} — {}{}{}",
            fact.id,
            messages::get(lang).sources,
            messages::colon(lang),
            crate::core::reply::plain_sources(&cited)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_terminals_locale_names_a_language_when_it_is_one_kotae_speaks() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(locale_lang(env(&[("LANG", "ja_JP.UTF-8")])), Some(Lang::Ja));
        assert_eq!(
            locale_lang(env(&[("LANG", "en_US.UTF-8"), ("LC_ALL", "zh_CN.UTF-8")])),
            Some(Lang::Zh)
        );
        assert_eq!(
            locale_lang(env(&[("LC_ALL", ""), ("LC_MESSAGES", "ja_JP")])),
            Some(Lang::Ja)
        );
        assert_eq!(locale_lang(env(&[("LANG", "C.UTF-8")])), None);
        assert_eq!(locale_lang(env(&[("LANG", "fr_FR.UTF-8")])), None);
        assert_eq!(locale_lang(env(&[])), None);
    }
}
