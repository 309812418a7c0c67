//! `kotae eval`: runs a question set (the format of `shared/eval/dev.toml`)
//! and reports top-1 accuracy per language, the share of out-of-scope
//! questions declined, reply-language accuracy and every miss. Moderators run
//! it before publishing an edit; CI runs it as a quality gate.

use super::KnowledgeArg;
use super::semantic::{self, Semantic, SemanticArg};
use crate::core::{Kotae, Lang, LangChoice, QuestionVector};
use anyhow::{Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The question set: [[case]] tables with q, lang and expect.
    file: PathBuf,
    #[command(flatten)]
    knowledge: KnowledgeArg,
    /// With `KOTAE_EMBEDDINGS_URL` (or an [embeddings] section) set, the set
    /// is run in hybrid mode: it fails if the model cannot be reached.
    #[command(flatten)]
    pub(super) semantic: SemanticArg,
    /// Keep the fact base's vectors here between runs.
    #[arg(long, value_name = "DIR", env = "KOTAE_STATE_DIR")]
    state_dir: Option<PathBuf>,
    /// Fail below this top-1 accuracy on in-scope questions, in any language.
    #[arg(long, default_value_t = 0.90)]
    min_accuracy: f64,
    /// Fail below this share of out-of-scope questions declined.
    #[arg(long, default_value_t = 0.85)]
    min_declined: f64,
    /// Fail below this share of replies in the right language.
    #[arg(long, default_value_t = 0.98)]
    min_lang: f64,
    /// Also write each case's decision signals to this file (tab-separated:
    /// in scope, best fact right, vetoed, then the signals' features), to fit the
    /// decision with tools/fit_decision.py.
    #[arg(long)]
    signals: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionSet {
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    q: String,
    lang: Lang,
    expect: Vec<String>,
}

#[derive(Default)]
struct Tally {
    right: usize,
    total: usize,
}

impl Tally {
    fn add(&mut self, right: bool) {
        self.total += 1;
        self.right += usize::from(right);
    }

    fn share(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.right as f64 / self.total as f64
        }
    }

    fn line(&self, label: &str) -> String {
        format!(
            "{label}: {}/{} = {:.3}",
            self.right,
            self.total,
            self.share()
        )
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let set: QuestionSet = toml::from_str(&text)
        .with_context(|| format!("{} is not a question set", args.file.display()))?;
    let kotae = Kotae::new(args.knowledge.load()?);
    let semantic = Semantic::open(&args.semantic, args.state_dir.as_deref(), &kotae, true)?;
    let facts = semantic.as_ref().and_then(|s| s.facts(&kotae));
    // Every question embedded up front, in batches: a set of hundreds costs
    // seconds, not a round trip each.
    let vectors = match &semantic {
        Some(s) => {
            let texts: Vec<&str> = set.case.iter().map(|c| c.q.trim()).collect();
            s.questions(&texts)?.into_iter().map(Some).collect()
        }
        None => vec![None; set.case.len()],
    };
    println!(
        "mode: {}",
        if facts.is_some() {
            "hybrid (lexical + semantic)"
        } else {
            "lexical"
        }
    );
    let mut top1: BTreeMap<Lang, Tally> = BTreeMap::new();
    let (mut declined, mut lang_ok) = (Tally::default(), Tally::default());
    let mut misses = Vec::new();
    let mut signals = String::new();
    for (case, v) in set.case.iter().zip(&vectors) {
        let vector = semantic::vector(facts.as_deref(), v.as_deref());
        if args.signals.is_some() {
            signals.push_str(&signal_line(&kotae, case, vector));
        }
        let reply = match kotae.ask_with(&case.q, LangChoice::Detect, vector) {
            Ok(reply) => reply,
            Err(e) => {
                // A case that cannot be asked counts as a miss everywhere it
                // would have counted: dropping it would flatter the scores.
                if case.expect.is_empty() {
                    declined.add(false);
                } else {
                    top1.entry(case.lang).or_default().add(false);
                }
                lang_ok.add(false);
                misses.push(format!("[{}] {:?}: not asked: {e}", case.lang, case.q));
                continue;
            }
        };
        let got = reply.answer().map(|a| a.fact_id.as_str());
        let right = match got {
            Some(id) => case.expect.iter().any(|e| e == id),
            None => case.expect.is_empty(),
        };
        if case.expect.is_empty() {
            declined.add(right);
        } else {
            top1.entry(case.lang).or_default().add(right);
        }
        lang_ok.add(reply.lang == case.lang);
        if !right {
            let expected = if case.expect.is_empty() {
                "a decline".to_string()
            } else {
                case.expect.join(" or ")
            };
            let got = got.unwrap_or("a decline");
            misses.push(format!(
                "[{}] {:?}: expected {expected}, got {got} (score {:.2})",
                case.lang, case.q, reply.score
            ));
        }
        if reply.lang != case.lang {
            misses.push(format!(
                "[{}] {:?}: replied in {}",
                case.lang, case.q, reply.lang
            ));
        }
    }
    if let Some(path) = &args.signals {
        std::fs::write(path, signals)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if !misses.is_empty() {
        println!("misses:");
        for m in &misses {
            println!("  {m}");
        }
    }
    let mut pass = true;
    for (lang, t) in &top1 {
        println!("{}", t.line(&format!("top-1 accuracy ({lang})")));
        pass &= t.share() >= args.min_accuracy;
    }
    println!("{}", declined.line("out of scope declined"));
    println!("{}", lang_ok.line("reply language"));
    pass &= declined.share() >= args.min_declined && lang_ok.share() >= args.min_lang;
    println!(
        "{}",
        if pass {
            "pass"
        } else {
            "FAIL: below the thresholds"
        }
    );
    Ok(if pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// One case's line for `--signals`: whether it is in scope, whether the best
/// fact is one it expects, whether a veto declines it whatever the model
/// says, and the decision's features.
fn signal_line(kotae: &Kotae, case: &Case, vector: Option<QuestionVector<'_>>) -> String {
    let snapshot = kotae.snapshot();
    let ranking = snapshot.rank(case.q.trim(), vector);
    let right = ranking.candidates.first().is_some_and(|c| {
        let id = &snapshot.base.facts()[c.fact].id;
        case.expect.iter().any(|e| e == id)
    });
    let signals = ranking.signals();
    let features: Vec<String> = signals
        .features()
        .iter()
        .map(|f| format!("{f:.4}"))
        .collect();
    format!(
        "{}\t{}\t{}\t{}\n",
        u8::from(!case.expect.is_empty()),
        u8::from(right),
        u8::from(signals.vetoed()),
        features.join("\t")
    )
}
