//! What a question asks for, read from its question words: a person, a
//! number, a time or a place.
//!
//! A near-miss often names the story and asks for what no fact gives: the
//! head of a centre, a budget, the hour of a press conference. Every word
//! of it but the question word is in some fact, so coverage cannot tell;
//! what a fact's example questions ask for can. Question words are grammar,
//! the same in every base, so they live here and not in `chat.toml`.

/// A set of kinds, one bit each.
pub(super) type Asks = u8;

/// Question words by kind, as normalised text has them (lower case,
/// Simplified Chinese, after `chat.toml`'s reading: 啥 is 什么, 何月 いつ).
/// Latin phrases match whole words; Chinese and Japanese ones anywhere.
const KINDS: [&[&str]; 4] = [
    // A person.
    &["who", "whom", "whose", "誰", "だれ", "谁"],
    // A number or an amount.
    &[
        "how many",
        "how much",
        "何人",
        "何回",
        "いくら",
        "いくつ",
        "何か所",
        "何カ所",
        "多少",
        "几个",
        "几所",
        "几家",
        "几次",
        "几人",
        "几名",
        "几位",
    ],
    // A time.
    &[
        "when",
        "what time",
        "いつ",
        "何時",
        "什么时候",
        "几点",
        "何时",
    ],
    // A place.
    &["where", "どこ", "哪里", "哪儿", "在哪"],
];

/// The kinds of answer `read` asks for.
pub(super) fn asks(read: &str) -> Asks {
    let mut asks = 0;
    for (kind, words) in KINDS.iter().enumerate() {
        if words.iter().any(|w| says(read, w)) {
            asks |= 1 << kind;
        }
    }
    asks
}

/// Whether a question that asks for `question` is one a fact whose
/// example questions ask for `fact` does not answer: it asks for something,
/// and for nothing the fact's examples ask for. A message that asks two
/// things ("who announced it, and when?") is answered by the fact that
/// tells one of them.
pub(super) fn unasked(question: Asks, fact: Asks) -> bool {
    question != 0 && question & fact == 0
}

/// Whether `text` says `word`: anywhere for CJK; for Latin, as whole words
/// that open the text or a clause ("who runs it", "and when"), since
/// English uses them mid-sentence as relatives too ("the people who
/// graduated").
fn says(text: &str, word: &str) -> bool {
    if !word.is_ascii() {
        return text.contains(word);
    }
    text.match_indices(word).any(|(i, _)| {
        let (before, after) = (&text[..i], &text[i + word.len()..]);
        let whole = before.chars().next_back().is_none_or(char::is_whitespace)
            && !after.chars().next().is_some_and(char::is_alphanumeric);
        let opens = before
            .split_whitespace()
            .next_back()
            .is_none_or(|w| CLAUSE_OPENERS.contains(&w));
        whole && opens
    })
}

/// Words after which a Latin question word opens a clause.
const CLAUSE_OPENERS: &[&str] = &[
    "and",
    "or",
    "but",
    "so",
    "then",
    "also",
    "like",
    "exactly",
    "know",
    "tell",
    "me",
    "wondering",
    "wonder",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_question_words_by_kind() {
        assert_eq!(asks("who runs the centres"), 1);
        assert_eq!(asks("whole network"), 0, "a word inside another is not it");
        assert_eq!(asks("日本センターの職員って何人いたの"), 2);
        assert_eq!(asks("会见是几点开始的"), 4);
        assert_eq!(asks("where and when"), 4 | 8);
        assert_eq!(asks("why did russia do it"), 0);
        assert_eq!(
            asks("the people who graduated"),
            0,
            "a relative is not a question"
        );
        assert_eq!(asks("ok and who was paying"), 1);
    }

    #[test]
    fn a_fact_that_tells_one_of_two_things_asked_answers() {
        let (person, time) = (asks("who"), asks("when"));
        assert!(unasked(person, time));
        assert!(!unasked(person | time, time));
        assert!(!unasked(0, time), "a question for no kind is never vetoed");
    }
}
