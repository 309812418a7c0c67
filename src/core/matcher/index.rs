//! Indexing a fact base on every core.
//!
//! The facts are cut into runs, one per core. Each thread normalises its
//! run's texts and reads them into a [`Partial`] index whose terms are
//! numbered on their own; the partials are then merged in fact order. So
//! each term's postings stay sorted by fact (as `covered` needs), example
//! questions keep their order, and the terms are numbered in the order the
//! base first uses them, just as one thread reading every fact would.

use super::asks::{self, Asks};
use super::terms::{Term, Vocabulary};
use super::{Matcher, Part, Piece, Posting, parts};
use crate::core::knowledge::Fact;
use crate::core::{parallel, text};
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::ops::Range;

/// Below this many facts per thread, a thread costs more than it saves.
const MIN_RUN: usize = 128;

/// The ids from here up in a partial's example question terms are
/// [`Partial::pending`] terms, not the run's own.
const PENDING: u32 = 1 << 31;

/// A run of facts indexed on its own: the fields of [`Matcher`]'s index,
/// with term ids the run's own and example question ids counted from the
/// run's first.
pub(super) struct Partial {
    vocab: Vocabulary,
    /// Terms that the reading of an example question (see
    /// [`Matcher::read_chat`]) uses and the run had not used yet: an
    /// earlier run may have, which only the merge can tell.
    pending: Vocabulary,
    /// Each English word seen, with its stem's id (none for a stopword):
    /// each is checked and stemmed once.
    words: FxHashMap<Box<str>, Option<u32>>,
    postings: Vec<Vec<Posting>>,
    question_postings: Vec<Vec<(u32, f32)>>,
    questions: Vec<(u32, f32)>,
    question_terms: Vec<Vec<u32>>,
    fact_questions: Vec<Range<u32>>,
    /// Per fact, what its example questions ask for.
    fact_asks: Vec<Asks>,
    /// Per fact, the sum of its terms' frequencies.
    lengths: Vec<f32>,
}

/// Reads the facts into partial indexes, in order, on every core.
pub(super) fn read_all(m: &Matcher, facts: &[Fact]) -> Vec<Partial> {
    parallel::in_runs(facts, MIN_RUN, |first, run| Partial::read(m, run, first))
}

impl Partial {
    /// Indexes `facts`, the first of which is fact `first` of the base.
    fn read(m: &Matcher, facts: &[Fact], first: usize) -> Partial {
        let mut p = Partial {
            vocab: Vocabulary::default(),
            pending: Vocabulary::default(),
            words: FxHashMap::default(),
            postings: Vec::new(),
            question_postings: Vec::new(),
            questions: Vec::new(),
            question_terms: Vec::new(),
            fact_questions: Vec::with_capacity(facts.len()),
            fact_asks: Vec::with_capacity(facts.len()),
            lengths: Vec::with_capacity(facts.len()),
        };
        let mut terms = FactTerms::default();
        // One buffer for every text's term ids.
        let mut ids = Vec::new();
        for (i, fact) in facts.iter().enumerate() {
            let fact_id = (first + i) as u32;
            let first_question = p.questions.len() as u32;
            let mut fact_asks = 0;
            for (part, raw) in parts(fact) {
                let norm = text::normalize(raw);
                ids.clear();
                m.each_piece(&norm, |piece| ids.extend(p.intern(m, piece)));
                terms.add(&ids, part);
                if part == Part::Question {
                    fact_asks |= p.index_question(m, fact_id, &norm, &ids);
                }
            }
            p.fact_questions
                .push(first_question..p.questions.len() as u32);
            p.fact_asks.push(fact_asks);
            p.end_fact(&mut terms, fact_id);
        }
        p
    }

    /// The piece's term id, none for a stopword.
    fn intern(&mut self, m: &Matcher, piece: Piece<'_>) -> Option<u32> {
        let id = match piece {
            Piece::Term(t) => self.vocab.intern(t),
            Piece::Word(w) => match self.words.get(w) {
                Some(&id) => id?,
                None => {
                    let stop = text::is_english_stopword(w);
                    let id = (!stop).then(|| self.vocab.intern(Term::Word(&m.stem(w))));
                    self.words.insert(w.into(), id);
                    id?
                }
            },
        };
        if id as usize == self.postings.len() {
            self.postings.push(Vec::new());
            self.question_postings.push(Vec::new());
        }
        Some(id)
    }

    /// Indexes one example question on its own, so a question close to one
    /// example as a whole is preferred over one that shares words with many;
    /// returns what it asks for.
    fn index_question(&mut self, m: &Matcher, fact: u32, norm: &str, ids: &[u32]) -> Asks {
        let id = self.questions.len() as u32;
        self.questions.push((fact, ids.len() as f32));
        let mut sorted = ids.to_vec();
        sorted.sort_unstable();
        for run in sorted.chunk_by(|a, b| a == b) {
            self.question_postings[run[0] as usize].push((id, run.len() as f32));
        }
        // What the example says, read as a member's question is:
        // "日本センターって何?" says all of itself.
        let read = m.read_chat(norm);
        let asks = asks::asks(&read);
        let mut said = match read {
            Cow::Borrowed(_) => sorted,
            Cow::Owned(read) => {
                let mut said = Vec::new();
                m.each_term(&read, |t| {
                    said.push(match self.vocab.get(t) {
                        Some(id) => id,
                        None => PENDING | self.pending.intern(t),
                    })
                });
                said
            }
        };
        said.sort_unstable();
        said.dedup();
        self.question_terms.push(said);
        asks
    }

    /// Posts the fact's terms, in the order it first used them.
    fn end_fact(&mut self, terms: &mut FactTerms, fact: u32) {
        let mut length = 0.0;
        for &id in &terms.seen {
            let (tf, strong) = std::mem::take(&mut terms.slots[id as usize]);
            self.postings[id as usize].push(Posting { fact, tf, strong });
            length += tf;
        }
        terms.seen.clear();
        self.lengths.push(length);
    }
}

/// One fact's terms while it is read: per run term id, its frequency and
/// whether it is strong (see [`Posting`]), and the ids in the order first
/// seen. Dense, since a run's ids are small numbers.
#[derive(Default)]
struct FactTerms {
    slots: Vec<(f32, bool)>,
    seen: Vec<u32>,
}

impl FactTerms {
    fn add(&mut self, ids: &[u32], part: Part) {
        let weight = part.weight();
        for &id in ids {
            let i = id as usize;
            if self.slots.len() <= i {
                self.slots.resize(i + 1, (0.0, false));
            }
            let slot = &mut self.slots[i];
            // Every part weighs more than nothing: a zero is a term unseen.
            if slot.0 == 0.0 {
                self.seen.push(id);
            }
            slot.0 += weight;
            slot.1 |= part != Part::Answer;
        }
    }
}

impl Matcher {
    /// Adds a partial index of the facts after those merged so far: its
    /// terms are numbered on, its postings go after theirs. Lengths stay
    /// raw in `length_factor` and words unsorted, for [`Matcher::finish`].
    pub(super) fn merge(&mut self, p: Partial) {
        // A pending term is known if an earlier run used it, so before this
        // run's terms are added.
        let pending: Vec<Option<u32>> = p
            .pending
            .terms()
            .into_iter()
            .map(|t| self.vocab.get(t))
            .collect();
        let global: Vec<u32> = p
            .vocab
            .terms()
            .into_iter()
            .map(|t| self.vocab.intern(t))
            .collect();
        self.postings.resize_with(self.vocab.len(), Vec::new);
        self.question_postings
            .resize_with(self.vocab.len(), Vec::new);
        let offset = self.questions.len() as u32;
        for (local, (list, questions)) in
            p.postings.into_iter().zip(p.question_postings).enumerate()
        {
            let g = global[local] as usize;
            append(&mut self.postings[g], list);
            let questions = questions.into_iter().map(|(q, tf)| (q + offset, tf));
            self.question_postings[g].extend(questions);
        }
        self.questions.extend(p.questions);
        let ranges = p.fact_questions.into_iter();
        self.fact_questions
            .extend(ranges.map(|r| r.start + offset..r.end + offset));
        for said in p.question_terms {
            let mut said: Vec<u32> = said
                .into_iter()
                .filter_map(|id| match id {
                    PENDING.. => pending[(id - PENDING) as usize],
                    _ => Some(global[id as usize]),
                })
                .collect();
            said.sort_unstable();
            said.dedup();
            self.question_terms.push(said);
        }
        self.length_factor.extend(p.lengths);
        self.fact_asks.extend(p.fact_asks);
        let words = p.words.into_iter().filter(|(_, id)| id.is_some());
        for (w, _) in words {
            let len = w.chars().count();
            if self.words_by_len.len() <= len {
                self.words_by_len.resize(len + 1, Vec::new());
            }
            self.words_by_len[len].push(w);
        }
    }
}

/// Appends `more` to `list`, taking it whole when `list` is empty.
fn append<T>(list: &mut Vec<T>, mut more: Vec<T>) {
    if list.is_empty() {
        *list = more;
    } else {
        list.append(&mut more);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::load::load_embedded;

    /// Everything an index holds, in a form that compares.
    fn contents(m: &Matcher) -> impl PartialEq + std::fmt::Debug + use<> {
        let postings: Vec<Vec<(u32, u32, bool)>> = m
            .postings
            .iter()
            .map(|list| {
                list.iter()
                    .map(|p| (p.fact, p.tf.to_bits(), p.strong))
                    .collect()
            })
            .collect();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let questions: Vec<Vec<(u32, u32)>> = m
            .question_postings
            .iter()
            .map(|list| list.iter().map(|&(q, tf)| (q, tf.to_bits())).collect())
            .collect();
        (
            format!("{:?}", m.vocab.terms()),
            postings,
            questions,
            format!(
                "{:?}",
                (
                    &m.questions,
                    &m.question_terms,
                    &m.fact_questions,
                    &m.fact_asks
                )
            ),
            (bits(&m.idf), bits(&m.length_factor), m.rare_idf.to_bits()),
            m.words_by_len.clone(),
        )
    }

    #[test]
    fn an_index_merged_from_runs_is_the_index_of_one_run() {
        let base = load_embedded().expect("valid base").base;
        let index = |run: usize| {
            let mut m = Matcher::empty(&base);
            let facts = base.facts();
            let partials: Vec<Partial> = facts
                .chunks(run)
                .enumerate()
                .map(|(i, facts)| Partial::read(&m, facts, i * run))
                .collect();
            for p in partials {
                m.merge(p);
            }
            m.finish();
            contents(&m)
        };
        let whole = index(base.facts().len());
        for run in [1, 2, 5, 9] {
            assert_eq!(index(run), whole, "runs of {run} facts");
        }
    }
}
