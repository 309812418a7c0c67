//! `kotae ask`: answers one question, or each line of standard input, so a
//! whole list can be piped through one process.

use super::semantic::{self, Semantic, SemanticArg};
use super::{KnowledgeArg, parse_lang};
use crate::core::input::{self, LineError};
use crate::core::{AskError, Kotae, Lang, LangChoice, MAX_QUESTION_CHARS, QuestionVector};
use anyhow::Result;
use serde_json::json;
use std::io::Write;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// One JSON object per answer, on one line.
    #[arg(long)]
    json: bool,
    /// Reply in this language (ja, zh or en) instead of the question's own.
    #[arg(long, value_parser = parse_lang)]
    lang: Option<Lang>,
    /// Also print the top candidates with their scores (to standard error).
    #[arg(long)]
    explain: bool,
    #[command(flatten)]
    knowledge: KnowledgeArg,
    #[command(flatten)]
    semantic: SemanticArg,
    /// Keep the fact base's vectors here between runs (with the semantic
    /// signal on).
    #[arg(long, value_name = "DIR", env = "KOTAE_STATE_DIR")]
    state_dir: Option<std::path::PathBuf>,
    /// The question; without it, questions are read from standard input, one per line.
    question: Vec<String>,
}

impl Args {
    /// The configuration file named by `--config` (or `KOTAE_CONFIG`).
    pub fn config(&self) -> Option<&std::path::Path> {
        self.semantic.config.as_deref()
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    let kotae = Kotae::new(args.knowledge.load()?);
    let semantic = Semantic::open(&args.semantic, args.state_dir.as_deref(), &kotae, false)?;
    let asker = Asker {
        kotae: &kotae,
        semantic: semantic.as_ref(),
        choice: args.lang.map_or(LangChoice::Detect, LangChoice::Explicit),
        json: args.json,
    };
    let mut out = std::io::stdout().lock();
    if !args.question.is_empty() {
        let question = args.question.join(" ");
        let ok = asker.answer(&question, None, args.explain, &mut out)?;
        return Ok(if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    // One output per input line in --json mode, errors included, so the
    // output pairs with the input; in text mode blank lines are skipped.
    for (i, line) in input::lines(std::io::stdin().lock()).enumerate() {
        match line {
            Ok(line) if line.trim().is_empty() && !args.json => {}
            Ok(line) => {
                asker.answer(&line, Some(i + 1), args.explain, &mut out)?;
            }
            Err(e) => unreadable(&e, args.lang, args.json, &mut out)?,
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What every question of one run is asked with.
struct Asker<'a> {
    kotae: &'a Kotae,
    semantic: Option<&'a Semantic>,
    choice: LangChoice,
    json: bool,
}

impl Asker<'_> {
    /// Writes one answer; false when the input was not a question. `line`
    /// is the input line it came from, if it came from standard input.
    fn answer(
        &self,
        question: &str,
        line: Option<usize>,
        explain: bool,
        out: &mut impl Write,
    ) -> Result<bool> {
        let facts = self.semantic.and_then(|s| s.facts(self.kotae));
        let asked = question.trim();
        let vector =
            (facts.is_some() && !asked.is_empty() && asked.chars().count() <= MAX_QUESTION_CHARS)
                .then(|| self.semantic.and_then(|s| s.question(asked)))
                .flatten();
        let vector = semantic::vector(facts.as_deref(), vector.as_deref());
        if explain {
            self::explain(self.kotae, question, vector);
        }
        match self.kotae.ask_with(question, self.choice, vector) {
            Ok(reply) if self.json => writeln!(out, "{}", reply.to_json())?,
            Ok(reply) => writeln!(out, "{}\n", reply.to_text())?,
            Err(e) => {
                report(&e, question, line, self.choice, self.json, out)?;
                return Ok(false);
            }
        }
        Ok(true)
    }
}

fn report(
    e: &AskError,
    question: &str,
    line: Option<usize>,
    choice: LangChoice,
    json: bool,
    out: &mut impl Write,
) -> Result<()> {
    let lang = choice.resolve(question);
    let mut object = json!({ "error": e.to_string(), "message": e.message(lang) });
    match (json, line) {
        (true, Some(line)) => object["line"] = json!(line),
        (false, Some(line)) => eprintln!("kotae: line {line}: {e}"),
        (false, None) => eprintln!("kotae: {e}"),
        (true, None) => {}
    }
    if json {
        writeln!(out, "{object}")?;
    }
    Ok(())
}

/// A line that could not be read: an error object in its place (with a
/// `message` like every error object's: in `--lang`'s language if given,
/// else in English, since a line that cannot be read has no language), or a
/// message on standard error.
fn unreadable(e: &LineError, lang: Option<Lang>, json: bool, out: &mut impl Write) -> Result<()> {
    if json {
        let message = unreadable_message(e, lang.unwrap_or(Lang::En));
        writeln!(
            out,
            "{}",
            json!({ "error": e.to_string(), "message": message, "line": e.line() })
        )?;
    } else {
        eprintln!("kotae: {e}");
    }
    Ok(())
}

/// What a member would be told about a line that cannot be read.
fn unreadable_message(e: &LineError, lang: Lang) -> &'static str {
    match (e, lang) {
        (LineError::TooLong { .. }, lang) => crate::core::messages::get(lang).too_long,
        (LineError::NotUtf8 { .. }, Lang::En) => {
            "That line could not be read as text (it is not UTF-8); please send it again as UTF-8 text."
        }
        (LineError::NotUtf8 { .. }, Lang::Ja) => {
            "この行は文字として読めませんでした(UTF-8 ではありません)。UTF-8 のテキストで送り直してください。"
        }
        (LineError::NotUtf8 { .. }, Lang::Zh) => {
            "无法将这一行读作文本(不是 UTF-8)。请以 UTF-8 文本重新发送。"
        }
        (LineError::Io { .. }, Lang::En) => "The input could not be read.",
        (LineError::Io { .. }, Lang::Ja) => "入力を読み取れませんでした。",
        (LineError::Io { .. }, Lang::Zh) => "无法读取输入。",
    }
}

fn explain(kotae: &Kotae, question: &str, vector: Option<QuestionVector<'_>>) {
    let snapshot = kotae.snapshot();
    let ranking = snapshot.rank(question, vector);
    let top: Vec<usize> = ranking.candidates.iter().take(5).map(|c| c.fact).collect();
    eprint!("{}", snapshot.matcher.explain(question, &top));
    for c in ranking.candidates.iter().take(5) {
        let id = &snapshot.base.facts()[c.fact].id;
        eprintln!(
            "{id:<28} score {:6.2}  coverage {:.2}  covered {:5.2}  example {:.2}/{:.2}  cosine {:.3}  confidence {:6.2}",
            c.score,
            c.coverage,
            c.covered,
            c.example,
            c.example_coverage,
            c.cosine,
            c.confidence()
        );
    }
    let s = ranking.signals();
    let semantic = s.semantic.map_or("lexical only".to_string(), |m| {
        format!(
            "cosine {:.3}, cosine lead {:.3}, gap cosine lead {:.3}",
            m.cosine, m.margin, m.gap
        )
    });
    eprintln!(
        "decision: {} (coverage {:.2}, covered {:.2}, score {:.2}, runner-up {:.2}, unknown {:.2}, example {:.2}, example coverage {:.2}, gap {:.2}; {semantic})",
        match (s.answers(), s.gap_leads(), s.unasked, s.other_subject) {
            (true, ..) => "answer",
            (false, true, ..) => "decline, a gap question leads",
            (false, false, true, _) => "decline, it asks what the best fact's examples never ask",
            (false, false, false, true) =>
                "decline, it asks of another than the best fact is about",
            (false, false, false, false) => "decline",
        },
        s.coverage,
        s.covered,
        s.score,
        s.runner_up,
        s.unknown,
        s.example,
        s.example_coverage,
        s.gap,
    );
}
