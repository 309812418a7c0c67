//! Autocomplete for `/ask question:` (known questions) and `/sources fact:`
//! (fact ids and titles), ranked by fuzzy subsequence match so "whn clos"
//! finds "When did the Japan Centers close?".
//!
//! Pure functions over a [`FactBase`]; the commands turn [`Choice`]s into
//! Discord's autocomplete response (at most 25 choices, each name and value
//! at most 100 characters).

use super::render::truncate;
use crate::core::{FactBase, Lang};
use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

/// Discord shows at most 25 choices…
pub const CHOICES_MAX: usize = 25;
/// …each name and value at most 100 characters.
pub const CHOICE_MAX: usize = 100;

/// One autocomplete choice: what the member sees, and what is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub name: String,
    pub value: String,
}

/// Known questions matching what the member has typed so far: any language
/// matches, the member's own comes first among equals. Before they type,
/// one question per fact in their language.
pub fn questions(base: &FactBase, lang: Lang, partial: &str) -> Vec<Choice> {
    let partial = partial.trim();
    if partial.is_empty() {
        let firsts = base
            .facts()
            .iter()
            .filter_map(|f| f.questions.get(lang).first());
        return firsts
            .map(|q| question_choice(q))
            .take(CHOICES_MAX)
            .collect();
    }
    let candidates = own_first(lang).flat_map(|l| {
        base.facts()
            .iter()
            .flat_map(move |f| f.questions.get(l))
            .map(|q| (q.clone(), question_choice(q)))
    });
    rank(candidates, partial)
}

/// Facts by id or title (their first question in the member's language);
/// the value is the id.
pub fn facts(base: &FactBase, lang: Lang, partial: &str) -> Vec<Choice> {
    let candidates = base
        .facts()
        .iter()
        .filter(|f| f.id.chars().count() <= CHOICE_MAX)
        .map(|f| {
            let title = f.questions.get(lang).first().map_or("", String::as_str);
            let choice = Choice {
                name: truncate(&format!("{} — {title}", f.id), CHOICE_MAX),
                value: f.id.clone(),
            };
            (format!("{} {title}", f.id), choice)
        });
    let partial = partial.trim();
    if partial.is_empty() {
        return candidates.map(|(_, c)| c).take(CHOICES_MAX).collect();
    }
    rank(candidates, partial)
}

fn question_choice(question: &str) -> Choice {
    let text = truncate(question, CHOICE_MAX);
    Choice {
        name: text.clone(),
        value: text,
    }
}

fn own_first(lang: Lang) -> impl Iterator<Item = Lang> {
    std::iter::once(lang).chain(Lang::ALL.into_iter().filter(move |l| *l != lang))
}

/// The best matches, best first; ties keep the candidates' order.
fn rank(candidates: impl Iterator<Item = (String, Choice)>, partial: &str) -> Vec<Choice> {
    let matcher = SkimMatcherV2::default().ignore_case();
    let mut scored: Vec<(i64, Choice)> = candidates
        .filter_map(|(haystack, choice)| Some((matcher.fuzzy_match(&haystack, partial)?, choice)))
        .collect();
    scored.sort_by_key(|(score, _)| std::cmp::Reverse(*score));
    let mut seen = std::collections::HashSet::new();
    scored
        .into_iter()
        .map(|(_, c)| c)
        .filter(|c| seen.insert(c.value.clone()))
        .take(CHOICES_MAX)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::load::load_embedded;

    fn base() -> FactBase {
        load_embedded().expect("the embedded base loads").base
    }

    #[test]
    fn typing_finds_questions_by_subsequence() {
        let base = base();
        let got = questions(&base, Lang::En, "whn clos");
        assert!(!got.is_empty() && got.len() <= CHOICES_MAX);
        let subsequence = |text: &str, typed: &str| {
            let mut rest = text.chars();
            typed
                .chars()
                .all(|t| rest.any(|c| c.eq_ignore_ascii_case(&t)))
        };
        assert!(got.iter().all(|c| subsequence(&c.value, "whn clos")));
        assert!(got[0].value.to_lowercase().contains("clos"), "{:?}", got[0]);
        let ja = questions(&base, Lang::Ja, "閉鎖");
        assert!(
            ja.iter()
                .all(|c| c.value.contains('閉') || c.value.contains('鎖'))
        );
        assert!(!ja.is_empty());
    }

    #[test]
    fn an_empty_field_offers_one_question_per_fact_in_the_members_language() {
        let base = base();
        let got = questions(&base, Lang::Zh, "");
        assert_eq!(got.len(), base.facts().len().min(CHOICES_MAX));
        assert_eq!(got[0].value, base.facts()[0].questions.zh[0]);
    }

    #[test]
    fn facts_match_ids_and_titles() {
        let base = base();
        let id = &base.facts()[1].id;
        let got = facts(&base, Lang::En, id);
        assert_eq!(&got[0].value, id);
        assert!(got[0].name.starts_with(id.as_str()));
        assert!(got.iter().all(|c| c.name.chars().count() <= CHOICE_MAX));
        assert!(facts(&base, Lang::En, "").len() <= CHOICES_MAX);
        assert!(facts(&base, Lang::En, "qqqqzzzz").is_empty());
    }
}
