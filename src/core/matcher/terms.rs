//! The index's vocabulary: every term a fact base uses, numbered.
//!
//! A term is an English word's stem, a CJK character or pair of characters,
//! or an alias group. Only stems are text; the others pack into a number,
//! so reading a Japanese answer of 150 characters into its 300 terms costs
//! no allocation and hashes integers, not strings. Indexing a big base
//! spends most of its time here.

use rustc_hash::FxHashMap;

/// A term as read from text, before it has an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Term<'a> {
    /// An English word's stem.
    Word(&'a str),
    /// A CJK unigram or bigram, or an alias group (see the constructors).
    Code(u64),
}

/// Where the kind of a packed term lives: above two 21-bit characters.
const KIND_SHIFT: u32 = 42;
const BIGRAM: u64 = 1 << KIND_SHIFT;
const UNIGRAM: u64 = 2 << KIND_SHIFT;
const ALIAS: u64 = 3 << KIND_SHIFT;

impl Term<'_> {
    pub(super) fn bigram(a: char, b: char) -> Term<'static> {
        Term::Code(BIGRAM | (a as u64) << 21 | b as u64)
    }

    pub(super) fn unigram(c: char) -> Term<'static> {
        Term::Code(UNIGRAM | c as u64)
    }

    pub(super) fn alias(group: u32) -> Term<'static> {
        Term::Code(ALIAS | group as u64)
    }
}

/// Terms and their ids, dense from 0.
#[derive(Debug, Default)]
pub(super) struct Vocabulary {
    words: FxHashMap<Box<str>, u32>,
    codes: FxHashMap<u64, u32>,
}

impl Vocabulary {
    pub(super) fn len(&self) -> usize {
        self.words.len() + self.codes.len()
    }

    /// The term's id, numbering it if it is new.
    pub(super) fn intern(&mut self, term: Term<'_>) -> u32 {
        let next = self.len() as u32;
        match term {
            Term::Code(code) => *self.codes.entry(code).or_insert(next),
            // Looked up by reference first: a known stem allocates nothing.
            Term::Word(w) => match self.words.get(w) {
                Some(&id) => id,
                None => {
                    self.words.insert(w.into(), next);
                    next
                }
            },
        }
    }

    /// Every term, by id: what the ids of one index are in another's.
    pub(super) fn terms(&self) -> Vec<Term<'_>> {
        let mut terms = vec![Term::Code(0); self.len()];
        for (word, &id) in &self.words {
            terms[id as usize] = Term::Word(word);
        }
        for (&code, &id) in &self.codes {
            terms[id as usize] = Term::Code(code);
        }
        terms
    }

    /// The term's id, if the fact base uses it.
    pub(super) fn get(&self, term: Term<'_>) -> Option<u32> {
        match term {
            Term::Code(code) => self.codes.get(&code).copied(),
            Term::Word(w) => self.words.get(w).copied(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_of_terms_never_share_an_id() {
        let mut v = Vocabulary::default();
        // The same code points as a bigram, a unigram and an alias group.
        let terms = [
            Term::bigram('\0', '日'),
            Term::unigram('日'),
            Term::alias('日' as u32),
            Term::Word("日"),
        ];
        let ids: Vec<u32> = terms.iter().map(|&t| v.intern(t)).collect();
        assert_eq!(ids, [0, 1, 2, 3]);
        assert_eq!(
            v.intern(Term::unigram('日')),
            1,
            "a known term keeps its id"
        );
        assert_eq!(v.get(Term::Word("日")), Some(3));
        assert_eq!(v.get(Term::Word("月")), None);
        assert_eq!(v.len(), 4);
        assert_eq!(v.terms(), terms, "each term at its id");
    }

    #[test]
    fn bigrams_are_ordered() {
        assert_ne!(Term::bigram('日', '本'), Term::bigram('本', '日'));
        // The highest code points still fit their 21 bits.
        assert_ne!(
            Term::bigram('\u{10FFFF}', 'a'),
            Term::bigram('a', '\u{10FFFF}')
        );
    }
}
