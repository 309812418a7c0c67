//! The semantic signal, as far as the core is concerned: which texts of a
//! fact base a sentence-embedding model should embed, and each fact's best
//! cosine to a question's vector. The vectors themselves come from outside
//! (`crate::embeddings` talks to the model server); the core only does the
//! arithmetic, so it stays free of I/O.

use super::knowledge::FactBase;

/// How a text is embedded: e5-style models prefix questions and passages
/// differently, and a question must be compared with questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextKind {
    /// A question (a member's, or a fact's example question).
    Query,
    /// A text that answers questions (a fact's answer).
    Passage,
}

impl TextKind {
    /// The name the OpenAI-style `input_type` field uses.
    pub fn as_str(self) -> &'static str {
        match self {
            TextKind::Query => "query",
            TextKind::Passage => "passage",
        }
    }
}

/// One text of a fact to embed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactText {
    /// Index into [`FactBase::facts`].
    pub fact: usize,
    pub kind: TextKind,
    pub text: String,
}

/// The texts that stand for each fact: its example questions (as queries)
/// and its answers (as passages), in every language, so a question in any
/// language meets them. Then the questions of the base's gaps
/// (`gaps.toml`), as queries owned by `base.facts().len()`: a question
/// closer to one of those asks what the sources do not say.
pub fn fact_texts(base: &FactBase) -> Vec<FactText> {
    let mut out = Vec::new();
    let gaps = base.facts().len();
    for (i, fact) in base.facts().iter().enumerate() {
        for (_, questions) in fact.questions.iter() {
            out.extend(questions.iter().map(|q| FactText {
                fact: i,
                kind: TextKind::Query,
                text: q.clone(),
            }));
        }
        for (_, answer) in fact.answer.iter() {
            out.push(FactText {
                fact: i,
                kind: TextKind::Passage,
                text: answer.clone(),
            });
        }
    }
    out.extend(
        base.gaps()
            .iter()
            .flat_map(|g| &g.asks)
            .map(|ask| FactText {
                fact: gaps,
                kind: TextKind::Query,
                text: ask.clone(),
            }),
    );
    out
}

/// Why a set of vectors cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VectorError {
    #[error("{got} vectors for {texts} texts")]
    Count { texts: usize, got: usize },
    #[error("vector {index} has {got} dimensions, the others {expected}")]
    Dimensions {
        index: usize,
        expected: usize,
        got: usize,
    },
    #[error("vector {index} is empty, zero or not finite")]
    Degenerate { index: usize },
}

/// The fact base's vectors, unit length, one per [`FactText`], for one
/// snapshot of the base: a reload makes new ones.
#[derive(Debug, Clone)]
pub struct FactVectors {
    /// The [`Snapshot::id`](super::Snapshot) they were made for.
    snapshot: u64,
    facts: usize,
    dims: usize,
    /// Per vector, its fact.
    owner: Vec<u32>,
    /// Row-major, `owner.len() * dims`.
    data: Vec<f32>,
}

impl FactVectors {
    /// Vectors for `texts` (as [`fact_texts`] gave them), checked and
    /// normalised.
    pub fn new(
        snapshot: u64,
        facts: usize,
        texts: &[FactText],
        vectors: Vec<Vec<f32>>,
    ) -> Result<FactVectors, VectorError> {
        if vectors.len() != texts.len() {
            return Err(VectorError::Count {
                texts: texts.len(),
                got: vectors.len(),
            });
        }
        let dims = vectors.first().map_or(0, Vec::len);
        let mut data = Vec::with_capacity(dims * vectors.len());
        for (index, v) in vectors.iter().enumerate() {
            if v.len() != dims {
                return Err(VectorError::Dimensions {
                    index,
                    expected: dims,
                    got: v.len(),
                });
            }
            data.extend(unit(v).ok_or(VectorError::Degenerate { index })?);
        }
        Ok(FactVectors {
            snapshot,
            facts,
            dims,
            owner: texts.iter().map(|t| t.fact as u32).collect(),
            data,
        })
    }

    pub fn snapshot(&self) -> u64 {
        self.snapshot
    }

    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Each fact's best cosine to `query` over its texts (0 for a fact
    /// without texts), and the gaps' best, or None when the query is not a
    /// usable vector of the same model.
    pub fn cosines(&self, query: &[f32]) -> Option<Cosines> {
        if query.len() != self.dims {
            return None;
        }
        let query = unit(query)?;
        // The gaps' texts are owned by one past the last fact.
        let mut best = vec![f32::NEG_INFINITY; self.facts + 1];
        for (row, &fact) in self.data.chunks_exact(self.dims).zip(&self.owner) {
            let cos: f32 = row.iter().zip(&query).map(|(a, b)| a * b).sum();
            let slot = &mut best[fact as usize];
            *slot = slot.max(cos);
        }
        for b in &mut best {
            if !b.is_finite() {
                *b = 0.0;
            }
        }
        let gap = best.pop().unwrap_or(0.0);
        Some(Cosines { facts: best, gap })
    }
}

/// A question's cosines to a fact base.
#[derive(Debug, Clone, PartialEq)]
pub struct Cosines {
    /// Per fact, its best cosine over its texts.
    pub facts: Vec<f32>,
    /// The best cosine to a question of `gaps.toml` (0 without gaps).
    pub gap: f32,
}

/// `v` scaled to unit length; None for an empty, zero or non-finite vector.
fn unit(v: &[f32]) -> Option<Vec<f32>> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    (norm.is_finite() && norm > 0.0).then(|| v.iter().map(|x| x / norm).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(fact: usize) -> FactText {
        FactText {
            fact,
            kind: TextKind::Query,
            text: String::new(),
        }
    }

    #[test]
    fn each_fact_takes_its_best_text() {
        let texts = [text(0), text(0), text(1)];
        let v = FactVectors::new(
            7,
            3,
            &texts,
            vec![vec![1.0, 0.0], vec![0.0, 2.0], vec![-1.0, 0.0]],
        )
        .unwrap();
        let cos = v.cosines(&[0.0, 5.0]).unwrap();
        assert_eq!(cos.facts, vec![1.0, 0.0, 0.0]);
        assert_eq!(cos.gap, 0.0);
        assert_eq!(v.snapshot(), 7);
    }

    #[test]
    fn the_gaps_have_their_own_cosine() {
        // Two facts, then a gap's text (owned by one past the last fact).
        let texts = [text(0), text(1), text(2)];
        let v = FactVectors::new(
            0,
            2,
            &texts,
            vec![vec![1.0, 0.0], vec![0.6, 0.8], vec![0.0, 1.0]],
        )
        .unwrap();
        let cos = v.cosines(&[0.0, 1.0]).unwrap();
        assert_eq!(cos.facts, vec![0.0, 0.8]);
        assert_eq!(cos.gap, 1.0);
    }

    #[test]
    fn bad_vectors_are_refused() {
        let texts = [text(0), text(1)];
        let count = FactVectors::new(0, 2, &texts, vec![vec![1.0]]);
        assert_eq!(count.unwrap_err(), VectorError::Count { texts: 2, got: 1 });
        let dims = FactVectors::new(0, 2, &texts, vec![vec![1.0], vec![1.0, 2.0]]);
        assert!(matches!(
            dims,
            Err(VectorError::Dimensions { index: 1, .. })
        ));
        let nan = FactVectors::new(0, 2, &texts, vec![vec![1.0], vec![f32::NAN]]);
        assert_eq!(nan.unwrap_err(), VectorError::Degenerate { index: 1 });
        let ok = FactVectors::new(0, 2, &texts, vec![vec![1.0], vec![2.0]]).unwrap();
        assert_eq!(ok.cosines(&[1.0, 0.0]), None, "wrong dimensions");
        assert_eq!(ok.cosines(&[0.0]), None, "zero query");
    }
}
