//! [`Kotae`], the one entry point adapters call: a question in, a [`Reply`] out.
//!
//! The fact base and its index live together in a [`Snapshot`] behind an
//! `ArcSwap`: a reload builds a whole new snapshot and swaps it in, so a
//! question in flight finishes on the snapshot it started with.

use super::knowledge::{FactBase, Status};
use super::lang::{self, Lang};
use super::matcher::{Matcher, Ranking};
use super::messages;
use super::reply::{Answer, Outcome, Reply, Suggestion};
use super::semantic::FactVectors;
use arc_swap::ArcSwap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Longer messages are not questions; refusing them keeps a pasted article
/// (or a 100 KB flood) from costing anything.
pub const MAX_QUESTION_CHARS: usize = 1000;
/// A decline offers at most this many facts it can answer instead.
pub const MAX_SUGGESTIONS: usize = 3;

/// A fact base and its index, replaced as one.
pub struct Snapshot {
    /// Unique in this process: what the fact base's vectors were made for.
    pub id: u64,
    pub base: FactBase,
    pub matcher: Matcher,
}

/// Numbers snapshots, so vectors made for one are never used on another.
static NEXT_SNAPSHOT: AtomicU64 = AtomicU64::new(1);

impl Snapshot {
    pub fn new(base: FactBase) -> Snapshot {
        let matcher = Matcher::new(&base);
        Snapshot {
            id: NEXT_SNAPSHOT.fetch_add(1, Ordering::Relaxed),
            base,
            matcher,
        }
    }

    /// One example question per fact that can be answered, in the given language.
    pub fn topics(&self, lang: Lang) -> Vec<Suggestion> {
        self.base
            .facts()
            .iter()
            .filter(|f| f.status != Status::Retracted)
            .map(|f| suggestion(f, lang, 0.0))
            .collect()
    }

    /// The answer `fact_id` gives now, or None when it is retracted or gone.
    pub fn answer(&self, fact_id: &str, lang: Lang) -> Option<Answer> {
        let fact = self.base.fact(fact_id)?;
        (fact.status != Status::Retracted).then(|| Answer {
            fact_id: fact.id.clone(),
            text: fact.answer.get(lang).clone(),
            claims: fact.claims.get(lang).clone(),
            status: fact.status,
            updated: fact.updated,
            sources: self.base.sources_of(fact).cloned().collect(),
        })
    }

    /// What an earlier answer from `fact_id` should say now.
    pub fn correction(&self, fact_id: &str, lang: Lang) -> Correction {
        match self.answer(fact_id, lang) {
            Some(answer) => Correction::Updated(answer),
            None => Correction::Withdrawn,
        }
    }

    /// The facts that might answer `question`, best first, retracted ones
    /// left out: what [`Kotae::ask`] decides on, for `--explain` and
    /// `eval --signals`. The semantic signal counts when `vector` was made
    /// for this snapshot.
    pub fn rank(&self, question: &str, vector: Option<QuestionVector<'_>>) -> Ranking {
        let cosines = vector
            .filter(|v| v.facts.snapshot() == self.id)
            .and_then(|v| v.facts.cosines(v.question));
        // Normalised once, for the small-talk check and for matching.
        let norm = super::text::normalize(question);
        let mut ranking = if super::text::is_small_talk(&norm) {
            Ranking::default()
        } else {
            self.matcher.rank_hybrid(&norm, cosines.as_deref())
        };
        let facts = self.base.facts();
        ranking
            .candidates
            .retain(|c| facts[c.fact].status != Status::Retracted);
        ranking
    }

    fn reply(&self, question: &str, lang: Lang, ranking: Ranking) -> Reply {
        let score = ranking.candidates.first().map_or(0.0, |c| c.confidence());
        let answer = ranking
            .answer()
            .and_then(|best| self.answer(&self.base.facts()[best.fact].id, lang));
        let outcome = match answer {
            Some(answer) => Outcome::Answer(answer),
            None => Outcome::Decline {
                suggestions: self.suggestions(&ranking, lang),
            },
        };
        Reply {
            question: question.to_string(),
            lang,
            score,
            outcome,
        }
    }

    /// The closest facts, or the first ones when nothing was close at all.
    fn suggestions(&self, ranking: &Ranking, lang: Lang) -> Vec<Suggestion> {
        let facts = self.base.facts();
        let mut picked: Vec<(usize, f32)> = ranking
            .candidates
            .iter()
            .map(|c| (c.fact, c.confidence()))
            .take(MAX_SUGGESTIONS)
            .collect();
        for (i, fact) in facts.iter().enumerate() {
            if picked.len() >= MAX_SUGGESTIONS {
                break;
            }
            if fact.status != Status::Retracted && !picked.iter().any(|(f, _)| *f == i) {
                picked.push((i, 0.0));
            }
        }
        picked
            .into_iter()
            .map(|(i, score)| suggestion(&facts[i], lang, score))
            .collect()
    }
}

fn suggestion(fact: &super::Fact, lang: Lang, score: f32) -> Suggestion {
    let question = fact
        .questions
        .get(lang)
        .first()
        .cloned()
        .unwrap_or_default();
    Suggestion {
        fact_id: fact.id.clone(),
        question,
        score,
    }
}

/// What an earlier answer should say after a reload changed its fact.
#[derive(Debug, Clone, PartialEq)]
pub enum Correction {
    /// The fact's answer now; shown with a "corrected" note.
    Updated(Answer),
    /// The fact was retracted or removed: the answer is withdrawn.
    Withdrawn,
}

/// How the reply language is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LangChoice {
    /// From the question's own text.
    #[default]
    Detect,
    /// From the question, but this language (a user's locale) decides when
    /// the text is ambiguous.
    DetectOr(Lang),
    /// Always this language (a `--lang` flag, a room preference).
    Explicit(Lang),
}

impl LangChoice {
    pub fn resolve(self, question: &str) -> Lang {
        match self {
            LangChoice::Explicit(lang) => lang,
            LangChoice::Detect => lang::detect(question).lang,
            LangChoice::DetectOr(fallback) => {
                let d = lang::detect(question);
                if d.confident { d.lang } else { fallback }
            }
        }
    }
}

/// Why a message was not treated as a question.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AskError {
    #[error("the question is empty")]
    Empty,
    #[error("the question is {chars} characters long; the limit is {max}")]
    TooLong { chars: usize, max: usize },
}

impl AskError {
    /// What to tell the member, in their language.
    pub fn message(&self, lang: Lang) -> &'static str {
        let m = messages::get(lang);
        match self {
            AskError::Empty => m.empty_question,
            AskError::TooLong { .. } => m.too_long,
        }
    }
}

/// A question's vector and the fact base's, from the same embedding model.
#[derive(Debug, Clone, Copy)]
pub struct QuestionVector<'a> {
    pub facts: &'a FactVectors,
    pub question: &'a [f32],
}

/// The bot's core: answers questions from the current fact base.
pub struct Kotae {
    current: ArcSwap<Snapshot>,
}

impl Kotae {
    pub fn new(base: FactBase) -> Kotae {
        Kotae {
            current: ArcSwap::from_pointee(Snapshot::new(base)),
        }
    }

    /// The snapshot in force now; hold it for a whole conversation turn.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Swaps in a new base (already validated) and returns the old snapshot.
    pub fn replace(&self, base: FactBase) -> Arc<Snapshot> {
        self.current.swap(Arc::new(Snapshot::new(base)))
    }

    /// Answers one question.
    pub fn ask(&self, question: &str, lang: LangChoice) -> Result<Reply, AskError> {
        self.ask_with(question, lang, None)
    }

    /// Answers one question, with the semantic signal when `vector` is
    /// given and was made for the snapshot in force (after a reload, until
    /// the new base is embedded, the answer is lexical).
    pub fn ask_with(
        &self,
        question: &str,
        lang: LangChoice,
        vector: Option<QuestionVector<'_>>,
    ) -> Result<Reply, AskError> {
        let question = question.trim();
        if question.is_empty() {
            return Err(AskError::Empty);
        }
        let chars = question.chars().count();
        if chars > MAX_QUESTION_CHARS {
            return Err(AskError::TooLong {
                chars,
                max: MAX_QUESTION_CHARS,
            });
        }
        let lang = lang.resolve(question);
        let snapshot = self.current.load_full();
        let ranking = snapshot.rank(question, vector);
        Ok(snapshot.reply(question, lang, ranking))
    }
}
