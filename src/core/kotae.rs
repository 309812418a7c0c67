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
    /// It offers no "see also": that depends on the question asked, and a
    /// correction, which has no question, re-renders the answer alone.
    pub fn answer(&self, fact_id: &str, lang: Lang) -> Option<Answer> {
        let fact = self.base.fact(fact_id)?;
        (fact.status != Status::Retracted).then(|| Answer {
            fact_id: fact.id.clone(),
            text: fact.answer.get(lang).clone(),
            claims: fact.claims.get(lang).clone(),
            status: fact.status,
            updated: fact.updated,
            sources: self.base.sources_of(fact).cloned().collect(),
            see_also: None,
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
        // What the member asks, apart from what they quote or set aside;
        // normalised once, for the small-talk check and for matching.
        let focus = super::focus::read(question);
        let norm = super::text::normalize(&focus.asked);
        let mut ranking = if super::text::is_small_talk(&norm) {
            Ranking::default()
        } else {
            let context = super::text::normalize(&focus.context);
            self.matcher.rank_focused(&norm, &context, cosines.as_ref())
        };
        let facts = self.base.facts();
        ranking
            .candidates
            .retain(|c| facts[c.fact].status != Status::Retracted);
        ranking
    }

    fn reply(&self, question: &str, lang: Lang, ranking: Ranking) -> Reply {
        let score = ranking.candidates.first().map_or(0.0, |c| c.confidence());
        let answer = ranking.answer().and_then(|best| {
            let answer = self.answer(&self.base.facts()[best.fact].id, lang)?;
            let see_also = self.see_also(&ranking, lang);
            Some(Answer { see_also, ..answer })
        });
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

    /// The runner-up the matcher offers beside the answer, as one of its
    /// example questions in the reply language. A retracted fact is never
    /// offered ([`Snapshot::rank`] leaves them out; this holds for any
    /// ranking), nor one with no question to show in that language.
    fn see_also(&self, ranking: &Ranking, lang: Lang) -> Option<Suggestion> {
        let runner_up = ranking.see_also()?;
        let fact = &self.base.facts()[runner_up.fact];
        Some(suggestion(fact, lang, runner_up.confidence()))
            .filter(|s| fact.status != Status::Retracted && !s.question.is_empty())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::load::{KnowledgeFiles, load};

    const SOURCES: &str = r#"
[[source]]
id = "press"
publisher = "A Newspaper"
url = "https://example.org/a"
language = "en"
reliability = "press"
"#;

    /// Five facts on one story. When and why the centres closed are two
    /// facts, so a question asking both is plausibly answered by either;
    /// "when" and "why" each come in two facts, so neither word is rarer
    /// and the two come out close.
    const FACTS: &str = r#"
[[fact]]
id = "closure-date"
sources = ["press"]
status = "confirmed"
questions.ja = ["日本センターはいつ閉鎖されましたか?"]
questions.zh = ["日本中心什么时候关闭的?"]
questions.en = ["When did the Japan Centers close?"]
answer.ja = "日本センターは2025年9月に閉鎖された。[press]"
answer.zh = "日本中心于2025年9月关闭。[press]"
answer.en = "The Japan Centers closed in September 2025. [press]"

[[fact]]
id = "closure-reason"
sources = ["press"]
status = "confirmed"
questions.ja = ["日本センターはなぜ閉鎖されましたか?"]
questions.zh = ["日本中心为什么关闭?"]
questions.en = ["Why did the Japan Centers close?"]
answer.ja = "ロシアが覚書を終了させた。[press]"
answer.zh = "俄罗斯终止了备忘录。[press]"
answer.en = "Russia ended the memorandum they rested on. [press]"

[[fact]]
id = "cities"
sources = ["press"]
status = "confirmed"
questions.ja = ["日本センターはどの都市にありましたか?"]
questions.zh = ["日本中心设在哪些城市?"]
questions.en = ["Which cities had a Japan Center?"]
answer.ja = "モスクワやウラジオストクなど六都市。[press]"
answer.zh = "莫斯科、符拉迪沃斯托克等六个城市。[press]"
answer.en = "Moscow, Vladivostok and four other cities. [press]"

[[fact]]
id = "founding"
sources = ["press"]
status = "confirmed"
questions.ja = ["日本センターはいつ設立されましたか?"]
questions.zh = ["日本中心是什么时候成立的?"]
questions.en = ["When were the Japan Centers founded?"]
answer.ja = "1990年代に設立された。[press]"
answer.zh = "成立于二十世纪九十年代。[press]"
answer.en = "They were founded in the 1990s. [press]"

[[fact]]
id = "purpose"
sources = ["press"]
status = "confirmed"
questions.ja = ["日本センターはなぜ作られたのですか?"]
questions.zh = ["为什么要设立日本中心?"]
questions.en = ["Why were the Japan Centers set up?"]
answer.ja = "市場経済への移行を支えるため。[press]"
answer.zh = "为了支持向市场经济的转型。[press]"
answer.en = "To support the move to a market economy. [press]"
"#;

    /// Both closure facts, as a question asking both halves.
    const BOTH: &str = "Why and when did the Japan Centers close?";

    fn kotae(facts: &str) -> Kotae {
        let files = KnowledgeFiles::from_files(vec![
            ("sources.toml".into(), SOURCES.into()),
            ("facts/story.toml".into(), facts.into()),
        ]);
        Kotae::new(load(&files).expect("the test base is valid").base)
    }

    fn answer(k: &Kotae, question: &str, lang: Lang) -> Answer {
        let reply = k.ask(question, LangChoice::Explicit(lang)).unwrap();
        reply.answer().cloned().expect("answered")
    }

    #[test]
    fn two_plausible_facts_answer_with_one_and_offer_the_other() {
        let k = kotae(FACTS);
        let a = answer(&k, BOTH, Lang::En);
        let pair = ["closure-date", "closure-reason"];
        assert!(pair.contains(&a.fact_id.as_str()), "{}", a.fact_id);
        let other = pair.iter().find(|id| **id != a.fact_id).unwrap();
        let see_also = a.see_also.expect("the other closure fact is offered");
        assert_eq!(see_also.fact_id, *other);
        let fact = k.snapshot().base.fact(other).unwrap().clone();
        assert_eq!(see_also.question, fact.questions.en[0]);
        let ja = answer(&k, BOTH, Lang::Ja).see_also.unwrap();
        assert_eq!(ja.question, fact.questions.ja[0], "in the reply language");
    }

    #[test]
    fn a_clear_question_gets_no_see_also() {
        let k = kotae(FACTS);
        let a = answer(&k, "Which cities had a Japan Center?", Lang::En);
        assert_eq!((a.fact_id.as_str(), a.see_also), ("cities", None));
    }

    #[test]
    fn a_retracted_fact_is_never_offered() {
        let k = kotae(FACTS);
        let offered = answer(&k, BOTH, Lang::En).see_also.unwrap().fact_id;
        let retracted = FACTS.replacen(
            &format!("id = \"{offered}\"\nsources = [\"press\"]\nstatus = \"confirmed\""),
            &format!("id = \"{offered}\"\nsources = [\"press\"]\nstatus = \"retracted\""),
            1,
        );
        assert_ne!(retracted, FACTS);
        let a = answer(&kotae(&retracted), BOTH, Lang::En);
        assert_ne!(a.fact_id, offered);
        assert_ne!(a.see_also.map(|s| s.fact_id), Some(offered));
    }

    #[test]
    fn a_correction_re_renders_the_answer_alone() {
        let k = kotae(FACTS);
        let asked = answer(&k, BOTH, Lang::En);
        assert!(asked.see_also.is_some());
        let Correction::Updated(now) = k.snapshot().correction(&asked.fact_id, Lang::En) else {
            panic!("the fact stands");
        };
        assert_eq!(
            now,
            Answer {
                see_also: None,
                ..asked
            }
        );
    }
}
