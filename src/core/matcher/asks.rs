//! What a question asks for, read from its question words: a person, a
//! number, a date, a place or the hour of the day.
//!
//! A near-miss often names the story and asks for what no fact gives: the
//! head of a centre, a budget, the hour of a press conference. Every word
//! of it but the question word is in some fact, so coverage cannot tell;
//! what a fact's example questions ask for can. Question words are grammar,
//! the same in every base, so they live here and not in `chat.toml`.

use std::borrow::Cow;

/// A set of kinds, one bit each.
pub(super) type Asks = u8;

/// The kinds, one bit each.
const PERSON: Asks = 1;
const NUMBER: Asks = 2;
const DATE: Asks = 4;
const PLACE: Asks = 8;
const HOUR: Asks = 16;

/// Question words and the kind each asks for, as normalised text has them
/// (lower case, Simplified Chinese, after `chat.toml`'s reading: 啥 is
/// 什么, 何月 いつ). Latin phrases match whole words opening a clause;
/// Chinese and Japanese ones anywhere. Each group's words are taken out
/// once read, since they hold a later group's: 何時から is the hour, not
/// 何时 (when); どこが and どこの人 ask which body, not where (どこの
/// alone is either: どこの都市, どこの省庁).
#[rustfmt::skip]
const KINDS: &[(Asks, &[&str])] = &[
    // The hour of the day, which no news fact is likely to give and a
    // near-miss often asks ("what time was the press conference"). 何時 is
    // 何时 once normalised, "when" in Chinese; Japanese asks the hour with
    // it before a particle, or in kana.
    (HOUR, &["what time", "what hour", "几点", "何时から", "何时に", "何时ごろ", "何时顷",
             "何时まで", "なんじ"]),
    // Which body: a person's kind.
    (PERSON, &["どこが", "どこの人", "どこの会社", "どこの企业", "どこの団体", "どこの组织",
               "どこの国", "どこの省", "どこの机関", "どこの役所", "どこの新闻"]),
    // A person, a body or their name.
    (PERSON, &["who", "whom", "whose", "what the name", "what is the name", "what was the name",
               "the name of", "誰", "だれ", "名前", "谁", "叫什么", "名字", "哪个官员", "哪位"]),
    // A number or an amount.
    (NUMBER, &["how many", "how much", "何人", "何回", "いくら", "いくつ", "何か所", "何カ所",
               "多少", "几个", "几所", "几家", "几次", "几人", "几名", "几位"]),
    // A date: a day, a month, a year.
    (DATE, &["when", "いつ", "什么时候", "何时"]),
    // A place.
    (PLACE, &["where", "どこ", "哪里", "哪儿", "在哪"]),
];

/// The kinds of answer `read` asks for.
pub(super) fn asks(read: &str) -> Asks {
    let mut asks = 0;
    let mut read = Cow::Borrowed(read);
    for &(kind, words) in KINDS {
        for w in words {
            if says(&read, w) {
                asks |= kind;
                read = Cow::Owned(read.replace(w, " "));
            }
        }
    }
    if asks != 0 && OPEN.iter().any(|w| says_anywhere(&read, w)) {
        asks |= ALSO_OPEN;
    }
    asks
}

/// Not a kind: the message also asks an open question ("what kind of
/// place is it, and who runs it?"), which a fact can answer whatever it
/// tells of the kinds asked.
const ALSO_OPEN: Asks = 128;

/// Words of an open question, looked for once the kinds' words are out
/// (so 何人 and "what time" are not also 何 and "what").
#[rustfmt::skip]
const OPEN: &[&str] = &[
    "what", "why", "how", "何", "なに", "なん", "どういう", "どんな", "どう", "なぜ",
    "什么", "为什么", "为何", "怎么", "如何", "怎样",
];

/// Whether a question that asks for `question` is one a fact whose
/// example questions ask for `fact` does not answer: it asks for something,
/// and for nothing the fact's examples ask for. A message that asks two
/// things ("who announced it, and when?") is answered by the fact that
/// tells one of them, and one that also asks an open question by any.
pub(super) fn unasked(question: Asks, fact: Asks) -> bool {
    question != 0 && question & (fact | ALSO_OPEN) == 0
}

/// Words that ask of the whole ("how many graduates in total"), which a
/// fact about one of its parts (the Vladivostok centre's graduates) does
/// not answer.
#[rustfmt::skip]
const WHOLE: &[&str] = &[
    "in total", "total", "altogether", "combined", "all together", "overall",
    "全部で", "合计", "合わせて", "全体で", "総数", "总数", "总共", "一共", "加起来", "全部加",
];

/// Whether `read` asks of the whole, not of a part.
pub(super) fn asks_of_whole(read: &str) -> bool {
    WHOLE.iter().any(|w| says_anywhere(read, w))
}

/// Whether `text` says `word`: anywhere for CJK; for Latin, as a whole word.
fn says_anywhere(text: &str, word: &str) -> bool {
    if !word.is_ascii() {
        return text.contains(word);
    }
    text.match_indices(word).any(|(i, _)| {
        let (before, after) = (&text[..i], &text[i + word.len()..]);
        !before
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric)
            && !after.chars().next().is_some_and(char::is_alphanumeric)
    })
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
        assert_eq!(asks("who runs the centres"), PERSON);
        assert_eq!(asks("whole network"), 0, "a word inside another is not it");
        assert_eq!(asks("日本センターの職員って何人いたの"), NUMBER);
        assert_eq!(asks("会见是几点开始的"), HOUR);
        assert_eq!(
            asks("会见 何时からだった"),
            HOUR,
            "何時 before a particle is the hour"
        );
        assert_eq!(asks("日本中心何时设立的"), DATE, "何時 in Chinese is when");
        assert_eq!(
            asks("技术协力はどこが入りそう"),
            PERSON,
            "which body, not where"
        );
        assert_eq!(asks("その公司叫什么名字"), PERSON);
        assert_eq!(asks("where and when"), DATE | PLACE);
        assert_eq!(asks("どういう施设なの 谁がやってるの"), PERSON | ALSO_OPEN);
        assert_eq!(asks("why did russia do it"), 0);
        assert_eq!(
            asks("the people who graduated"),
            0,
            "a relative is not a question"
        );
        assert_eq!(asks("ok and who was paying"), PERSON);
    }

    #[test]
    fn a_fact_that_tells_one_of_two_things_asked_answers() {
        let (person, time) = (asks("who"), asks("when"));
        assert!(unasked(person, time));
        assert!(!unasked(person | time, time));
        assert!(!unasked(0, time), "a question for no kind is never vetoed");
        assert!(!unasked(asks("what is it and who runs it"), time));
    }
}
