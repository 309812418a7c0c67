//! Retrieval: which fact answers a question, and how sure we are.
//!
//! Every fact is one document made of its example questions, keywords and
//! answers in all three languages, so a question in any language finds it.
//! Terms are stemmed English words, CJK character bigrams and unigrams, and
//! one concept term per alias group (so 海参崴, ウラジオストク and
//! Vladivostok meet). Facts are ranked with BM25.
//!
//! BM25 ranks but cannot say "none of these": a question about the weather
//! in Moscow still scores on "Moscow". So the matcher also measures
//! *coverage*: the share of the question's content, weighted by rarity, that
//! the best fact accounts for. Unknown words weigh like the rarest known
//! ones, which is what makes an off-topic question fall below the bar.

use super::knowledge::FactBase;
use super::text::{self, Segment};
use aho_corasick::{AhoCorasick, MatchKind};
use rust_stemmers::{Algorithm, Stemmer};
use std::collections::HashMap;

/// BM25 term-frequency saturation and length normalisation.
const K1: f32 = 1.2;
const B: f32 = 0.5;
/// How much each part of a fact counts towards its terms' frequencies.
const QUESTION_WEIGHT: f32 = 1.0;
const KEYWORD_WEIGHT: f32 = 1.5;
const ANSWER_WEIGHT: f32 = 0.4;
/// Length normalisation among example questions, and how much the closest
/// example question adds to a fact's score.
const QUESTION_B: f32 = 0.75;
const QUESTION_MATCH_WEIGHT: f32 = 1.0;
/// Terms found in nearly every fact (idf below this) are left out of ranking.
const MIN_RANKING_IDF: f32 = 0.05;
/// Single Han characters say little on their own; bigrams carry the meaning.
const UNIGRAM_QUERY_WEIGHT: f32 = 0.2;
/// A question is answered when its best fact covers this share of it...
pub const MIN_COVERAGE: f32 = 0.5;
/// ...or when the fact covers this much rarity-weighted content (about three
/// distinctive words) and at least [`MIN_COVERAGE_WITH_EVIDENCE`] of it: a
/// long, chatty question about a fact says more than the fact's vocabulary.
pub const STRONG_EVIDENCE: f32 = 7.0;
pub const MIN_COVERAGE_WITH_EVIDENCE: f32 = 0.25;
/// Hiragana is mostly grammar (particles, endings): it weighs this much at most.
const HIRAGANA_MAX_WEIGHT: f32 = 0.2;
/// What a question term found only in a fact's answer text adds to coverage.
const ANSWER_ONLY_COVERAGE: f32 = 0.5;
/// How many top BM25 candidates are re-ranked by coverage.
const RERANK: usize = 8;

/// A fact that might answer a question.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Index into [`FactBase::facts`].
    pub fact: usize,
    /// BM25 score.
    pub score: f32,
    /// Rarity-weighted share of the question this fact accounts for, 0 to 1.
    pub coverage: f32,
    /// The rarity-weighted content it accounts for, in idf units.
    pub covered: f32,
}

impl Candidate {
    /// One number for ranking and display: the score, discounted by how
    /// much of the question is left unexplained.
    pub fn confidence(&self) -> f32 {
        self.score * self.coverage
    }

    pub fn is_answer(&self) -> bool {
        self.coverage >= MIN_COVERAGE
            || (self.covered >= STRONG_EVIDENCE && self.coverage >= MIN_COVERAGE_WITH_EVIDENCE)
    }
}

/// The best facts for one question, best first (at most a handful).
#[derive(Debug, Clone, Default)]
pub struct Ranking {
    pub candidates: Vec<Candidate>,
}

impl Ranking {
    /// The best candidate if it is good enough to answer with.
    pub fn answer(&self) -> Option<&Candidate> {
        self.candidates.first().filter(|c| c.is_answer())
    }
}

#[derive(Debug, Clone, Copy)]
struct Posting {
    fact: u32,
    tf: f32,
    /// Whether the term is in the fact's example questions or keywords, which
    /// say what the fact answers, and not only in its answer text.
    strong: bool,
}

/// A searchable index over one [`FactBase`].
pub struct Matcher {
    terms: HashMap<String, u32>,
    postings: Vec<Vec<Posting>>,
    /// Per term, the example questions it occurs in: (question, tf).
    question_postings: Vec<Vec<(u32, f32)>>,
    /// Per example question, its fact and BM25 length factor.
    questions: Vec<(u32, f32)>,
    idf: Vec<f32>,
    /// BM25's per-document length factor, `K1 * (1 - B + B * len / avg)`.
    length_factor: Vec<f32>,
    /// The idf of a term found in one fact: the weight of an unknown word.
    rare_idf: f32,
    aliases: Option<AhoCorasick>,
    /// Alias group and whether the name is Latin (needs word boundaries), per pattern.
    alias_patterns: Vec<(u32, bool)>,
    /// Known Latin words by character count, for typo correction.
    words_by_len: Vec<Vec<String>>,
    stemmer: Stemmer,
}

/// What one piece of a question contributes to coverage.
struct Unit {
    offset: usize,
    len: usize,
    weight: f32,
    /// Term ids any of which, found in a fact, mean the fact covers this unit.
    covered_by: Vec<u32>,
}

/// A question broken into terms (for ranking) and units (for coverage).
#[derive(Default)]
struct Analysis {
    terms: Vec<(u32, f32)>,
    units: Vec<Unit>,
}

impl Matcher {
    /// Indexes a fact base.
    pub fn new(base: &FactBase) -> Matcher {
        text::warm_up();
        let mut m = Matcher::empty(base);
        let mut lengths = Vec::with_capacity(base.facts().len());
        let mut words: Vec<String> = Vec::new();
        for (i, fact) in base.facts().iter().enumerate() {
            let mut tf: HashMap<u32, (f32, bool)> = HashMap::new();
            // Adds a text's terms to the fact's frequencies and returns them.
            let mut add = |text: &str, weight: f32, m: &mut Matcher| -> Vec<u32> {
                let norm = text::normalize(text);
                for s in text::segments(&norm) {
                    if let Segment::Word(_, w) = s {
                        words.push(w.to_string());
                    }
                }
                let ids: Vec<u32> = m
                    .index_terms(&norm)
                    .into_iter()
                    .map(|t| m.intern(t))
                    .collect();
                for &id in &ids {
                    let entry = tf.entry(id).or_default();
                    entry.0 += weight;
                    entry.1 |= weight > ANSWER_WEIGHT;
                }
                ids
            };
            for (_, list) in fact.questions.iter() {
                for q in list {
                    let ids = add(q, QUESTION_WEIGHT, &mut m);
                    m.index_question(i, ids);
                }
            }
            for (_, list) in fact.keywords.iter() {
                for k in list {
                    add(k, KEYWORD_WEIGHT, &mut m);
                }
            }
            // A fact's id names its topic ("trade-decline"), so it is a keyword too.
            add(&fact.id, KEYWORD_WEIGHT, &mut m);
            for (_, answer) in fact.answer.iter() {
                add(answer, ANSWER_WEIGHT, &mut m);
            }
            lengths.push(tf.values().map(|(tf, _)| tf).sum::<f32>());
            let mut tf: Vec<_> = tf.into_iter().collect();
            tf.sort_unstable_by_key(|(id, _)| *id);
            for (id, (tf, strong)) in tf {
                m.postings[id as usize].push(Posting {
                    fact: i as u32,
                    tf,
                    strong,
                });
            }
        }
        m.finish(lengths, words);
        m
    }

    fn empty(base: &FactBase) -> Matcher {
        let mut names = Vec::new();
        let mut alias_patterns = Vec::new();
        for (g, group) in base.aliases().iter().enumerate() {
            for name in &group.names {
                let norm = text::normalize(name);
                if norm.is_empty() {
                    continue;
                }
                alias_patterns.push((g as u32, !norm.chars().any(text::is_cjk)));
                names.push(norm);
            }
        }
        let aliases = (!names.is_empty()).then(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&names)
                .expect("alias names are plain strings")
        });
        Matcher {
            terms: HashMap::new(),
            postings: Vec::new(),
            question_postings: Vec::new(),
            questions: Vec::new(),
            idf: Vec::new(),
            length_factor: Vec::new(),
            rare_idf: 0.0,
            aliases,
            alias_patterns,
            words_by_len: Vec::new(),
            stemmer: Stemmer::create(Algorithm::English),
        }
    }

    fn intern(&mut self, term: String) -> u32 {
        let next = self.terms.len() as u32;
        *self.terms.entry(term).or_insert_with(|| {
            self.postings.push(Vec::new());
            self.question_postings.push(Vec::new());
            next
        })
    }

    /// Indexes one example question on its own, so a question close to one
    /// example as a whole is preferred over one that shares words with many.
    fn index_question(&mut self, fact: usize, mut ids: Vec<u32>) {
        let id = self.questions.len() as u32;
        self.questions.push((fact as u32, ids.len() as f32));
        ids.sort_unstable();
        for run in ids.chunk_by(|a, b| a == b) {
            self.question_postings[run[0] as usize].push((id, run.len() as f32));
        }
    }

    fn finish(&mut self, lengths: Vec<f32>, mut words: Vec<String>) {
        let n = lengths.len() as f32;
        let idf = |df: f32| (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
        self.idf = self.postings.iter().map(|p| idf(p.len() as f32)).collect();
        self.rare_idf = idf(1.0);
        let avg = (lengths.iter().sum::<f32>() / n.max(1.0)).max(1.0);
        self.length_factor = lengths
            .iter()
            .map(|l| K1 * (1.0 - B + B * l / avg))
            .collect();
        let q_count = self.questions.len().max(1) as f32;
        let q_avg = (self.questions.iter().map(|q| q.1).sum::<f32>() / q_count).max(1.0);
        for q in &mut self.questions {
            q.1 = K1 * (1.0 - QUESTION_B + QUESTION_B * q.1 / q_avg);
        }
        words.sort_unstable();
        words.dedup();
        for w in words {
            let len = w.chars().count();
            if self.words_by_len.len() <= len {
                self.words_by_len.resize(len + 1, Vec::new());
            }
            self.words_by_len[len].push(w);
        }
    }

    /// The terms a stretch of normalised fact text is indexed under.
    fn index_terms(&self, norm: &str) -> Vec<String> {
        let mut out = Vec::new();
        for s in text::segments(norm) {
            match s {
                Segment::Word(_, w) if !text::is_english_stopword(w) => out.push(self.word_term(w)),
                Segment::Word(..) => {}
                Segment::Cjk(_, run) => {
                    let chars: Vec<char> = run.chars().collect();
                    out.extend(chars.windows(2).map(|p| bigram_term(p[0], p[1])));
                    out.extend(chars.iter().map(|&c| unigram_term(c)));
                }
            }
        }
        out.extend(self.alias_matches(norm).map(|(_, _, g)| alias_term(g)));
        out
    }

    fn word_term(&self, word: &str) -> String {
        let mut t = String::with_capacity(word.len() + 1);
        t.push('w');
        t.push_str(&self.stemmer.stem(word));
        t
    }

    /// Alias names found in normalised text: (start, end, group).
    fn alias_matches<'a>(
        &'a self,
        norm: &'a str,
    ) -> impl Iterator<Item = (usize, usize, u32)> + 'a {
        let bytes = norm.as_bytes();
        self.aliases
            .iter()
            .flat_map(move |ac| ac.find_iter(norm))
            .filter_map(move |m| {
                let (group, latin) = self.alias_patterns[m.pattern().as_usize()];
                let boundary = |i: Option<&u8>| i.is_none_or(|b| !b.is_ascii_alphanumeric());
                let whole_word = boundary(m.start().checked_sub(1).and_then(|i| bytes.get(i)))
                    && boundary(bytes.get(m.end()));
                (!latin || whole_word).then_some((m.start(), m.end(), group))
            })
    }

    /// Corrects a misspelt Latin word to the closest known word, if one is close.
    fn correct<'a>(&'a self, word: &'a str) -> &'a str {
        let len = word.chars().count();
        if len < 5
            || self
                .words_by_len
                .get(len)
                .is_some_and(|b| b.binary_search_by(|w| w.as_str().cmp(word)).is_ok())
        {
            return word;
        }
        let max = if len >= 8 { 2 } else { 1 };
        let mut best: Option<(usize, &str)> = None;
        for l in len.saturating_sub(max)..=len + max {
            // A typo seldom hits both the first and the last letter; checking
            // them first skips the edit distance for almost every word.
            let (first, last) = (word.chars().next(), word.chars().last());
            for known in self.words_by_len.get(l).into_iter().flatten() {
                if known.chars().next() != first && known.chars().last() != last {
                    continue;
                }
                let d = strsim::damerau_levenshtein(word, known);
                if d <= max && best.is_none_or(|(bd, _)| d < bd) {
                    best = Some((d, known));
                }
            }
        }
        best.map_or(word, |(_, w)| w)
    }

    fn analyze(&self, norm: &str) -> Analysis {
        let mut a = Analysis::default();
        let lookup = |t: &str| self.terms.get(t).copied();
        for s in text::segments(norm) {
            match s {
                Segment::Word(_, w) if text::is_english_stopword(w) => {}
                Segment::Word(offset, w) => {
                    let term = lookup(&self.word_term(self.correct(w)));
                    self.push_unit(&mut a, (offset, w.len()), term, term.into_iter().collect());
                    if let Some(t) = term {
                        a.terms.push((t, 1.0));
                    }
                }
                Segment::Cjk(offset, run) => self.analyze_cjk(&mut a, offset, run),
            }
        }
        for (start, end, group) in self.alias_matches(norm) {
            if let Some(t) = lookup(&alias_term(group)) {
                a.terms.push((t, 1.0));
                for u in a
                    .units
                    .iter_mut()
                    .filter(|u| (start..end).contains(&u.offset))
                {
                    u.covered_by.push(t);
                }
            }
        }
        a
    }

    fn analyze_cjk(&self, a: &mut Analysis, offset: usize, run: &str) {
        let chars: Vec<(usize, char)> = run.char_indices().map(|(i, c)| (offset + i, c)).collect();
        let bigrams: Vec<Option<u32>> = chars
            .windows(2)
            .map(|p| self.terms.get(&bigram_term(p[0].1, p[1].1)).copied())
            .collect();
        a.terms.extend(bigrams.iter().flatten().map(|&t| (t, 1.0)));
        for (i, &(at, c)) in chars.iter().enumerate() {
            let unigram = self.terms.get(&unigram_term(c)).copied();
            if let Some(t) = unigram.filter(|_| text::is_han(c)) {
                a.terms.push((t, UNIGRAM_QUERY_WEIGHT));
            }
            // A character is covered by a bigram it is part of; a lone one by itself.
            let covered_by: Vec<u32> = if chars.len() == 1 {
                unigram.into_iter().collect()
            } else {
                let left = i.checked_sub(1).and_then(|j| bigrams[j]);
                let right = bigrams.get(i).copied().flatten();
                left.into_iter().chain(right).collect()
            };
            self.push_unit(a, (at, c.len_utf8()), unigram, covered_by);
            if matches!(c, '\u{3041}'..='\u{309F}') {
                let u = a.units.last_mut().expect("just pushed");
                u.weight = u.weight.min(HIRAGANA_MAX_WEIGHT);
            }
        }
    }

    fn push_unit(
        &self,
        a: &mut Analysis,
        (offset, len): (usize, usize),
        weighed_by: Option<u32>,
        covered_by: Vec<u32>,
    ) {
        let weight = weighed_by.map_or(self.rare_idf, |t| self.idf[t as usize]);
        a.units.push(Unit {
            offset,
            len,
            weight,
            covered_by,
        });
    }

    /// How a question was read and how much of it each of the best facts
    /// covers, for moderators wondering why the bot answered as it did.
    pub fn explain(&self, question: &str, facts: &[usize]) -> String {
        let norm = text::normalize(question);
        let a = self.analyze(&norm);
        let mut out = String::new();
        for u in &a.units {
            let covered: Vec<String> = facts
                .iter()
                .map(|&f| {
                    let hit = u
                        .covered_by
                        .iter()
                        .any(|&t| self.postings[t as usize].iter().any(|p| p.fact == f as u32));
                    if hit { "+".into() } else { ".".into() }
                })
                .collect();
            out.push_str(&format!(
                "  {:<14} weight {:5.2}  {}\n",
                &norm[u.offset..u.offset + u.len],
                u.weight,
                covered.join(" ")
            ));
        }
        out
    }

    /// Ranks the facts for a question, best first; facts that share no term
    /// with the question are left out.
    pub fn rank(&self, question: &str) -> Ranking {
        self.rank_normalized(&text::normalize(question))
    }

    /// [`Matcher::rank`] for text already through [`text::normalize`].
    pub fn rank_normalized(&self, norm: &str) -> Ranking {
        let a = self.analyze(norm);
        let mut scores = Accumulator::new(self.length_factor.len());
        let mut question_scores = Accumulator::new(self.questions.len());
        let mut seen: Vec<u32> = Vec::with_capacity(a.terms.len());
        for &(t, qw) in &a.terms {
            // Repeated terms in a question count once; its wording is not
            // emphasis. Terms in nearly every fact add nothing to the ranking
            // (they still count for coverage) and would cost the most.
            let idf = self.idf[t as usize] * qw;
            if seen.contains(&t) || self.idf[t as usize] < MIN_RANKING_IDF {
                continue;
            }
            seen.push(t);
            for p in &self.postings[t as usize] {
                let norm_tf = p.tf * (K1 + 1.0) / (p.tf + self.length_factor[p.fact as usize]);
                scores.add(p.fact, idf * norm_tf);
            }
            for &(q, tf) in &self.question_postings[t as usize] {
                let norm_tf = tf * (K1 + 1.0) / (tf + self.questions[q as usize].1);
                question_scores.add(q, idf * norm_tf);
            }
        }
        // Each fact gains the score of its closest example question.
        let mut best = Accumulator::new(self.length_factor.len());
        for (q, score) in question_scores.iter() {
            best.raise(self.questions[q as usize].0, score);
        }
        for (fact, q_score) in best.iter() {
            scores.add(fact, QUESTION_MATCH_WEIGHT * q_score);
        }
        let mut candidates: Vec<Candidate> = scores
            .iter()
            .map(|(fact, score)| Candidate {
                fact: fact as usize,
                score,
                coverage: 0.0,
                covered: 0.0,
            })
            .collect();
        let by_score =
            |a: &Candidate, b: &Candidate| b.score.total_cmp(&a.score).then(a.fact.cmp(&b.fact));
        if candidates.len() > RERANK {
            candidates.select_nth_unstable_by(RERANK, by_score);
            candidates.truncate(RERANK);
        }
        candidates.sort_unstable_by(by_score);
        let total: f32 = a.units.iter().map(|u| u.weight).sum();
        for c in candidates.iter_mut().take(RERANK) {
            c.covered = self.covered(&a, c.fact as u32);
            c.coverage = if total > 0.0 { c.covered / total } else { 0.0 };
        }
        candidates.sort_by(|a, b| {
            b.confidence()
                .total_cmp(&a.confidence())
                .then(a.fact.cmp(&b.fact))
        });
        Ranking { candidates }
    }

    fn covered(&self, a: &Analysis, fact: u32) -> f32 {
        // A unit found only in the answer text counts half: the example
        // questions and keywords say what a fact answers, the answer only
        // supports it (it mentions "thanks to", "at that time", ...).
        let found = |t: u32| {
            let postings = &self.postings[t as usize];
            let i = postings.binary_search_by_key(&fact, |p| p.fact).ok()?;
            Some(if postings[i].strong {
                1.0
            } else {
                ANSWER_ONLY_COVERAGE
            })
        };
        a.units
            .iter()
            .map(|u| {
                u.weight
                    * u.covered_by
                        .iter()
                        .filter_map(|&t| found(t))
                        .fold(0.0, f32::max)
            })
            .sum()
    }
}

/// Scores by dense index, remembering which were touched so reading them
/// back costs what the question touched, not the size of the base.
struct Accumulator {
    scores: Vec<f32>,
    touched: Vec<u32>,
}

impl Accumulator {
    fn new(len: usize) -> Accumulator {
        Accumulator {
            scores: vec![0.0; len],
            touched: Vec::new(),
        }
    }

    fn add(&mut self, i: u32, score: f32) {
        let slot = &mut self.scores[i as usize];
        if *slot == 0.0 {
            self.touched.push(i);
        }
        *slot += score;
    }

    fn raise(&mut self, i: u32, score: f32) {
        let slot = &mut self.scores[i as usize];
        if *slot == 0.0 {
            self.touched.push(i);
        }
        *slot = slot.max(score);
    }

    fn iter(&self) -> impl Iterator<Item = (u32, f32)> + '_ {
        self.touched.iter().map(|&i| (i, self.scores[i as usize]))
    }
}

fn bigram_term(a: char, b: char) -> String {
    let mut t = String::with_capacity(9);
    t.push('b');
    t.push(a);
    t.push(b);
    t
}

fn unigram_term(c: char) -> String {
    let mut t = String::with_capacity(5);
    t.push('u');
    t.push(c);
    t
}

fn alias_term(group: u32) -> String {
    format!("a{group}")
}
