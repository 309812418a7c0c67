//! Text normalisation for matching, and splitting normalised text into the
//! pieces the matcher indexes.
//!
//! Normalisation is for matching only and never for display: NFKC (full- and
//! half-width forms), case folding, Traditional to Simplified Chinese, and
//! punctuation to spaces. Japanese kanji go through the same Chinese
//! conversion on both the index and the question side, which keeps the two
//! consistent. Chinese and Japanese have no spaces, so their runs are
//! matched on characters and character bigrams; Latin text is split into
//! words.

use unicode_normalization::UnicodeNormalization;

/// Normalises text for matching.
pub fn normalize(text: &str) -> String {
    let folded: String = text
        .nfkc()
        .flat_map(char::to_lowercase)
        .map(|c| if is_word_char(c) { c } else { ' ' })
        .collect();
    let simplified = character_converter::traditional_to_simplified(&folded);
    let mut out = String::with_capacity(simplified.len());
    for word in simplified.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Forces the one-time load of the Traditional-to-Simplified tables, so the
/// first question does not pay for it.
pub fn warm_up() {
    character_converter::traditional_to_simplified("發");
}

/// Whether a character belongs to a Chinese or Japanese run.
pub fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3041}'..='\u{309F}' // hiragana
        | '\u{30A0}'..='\u{30FF}' // katakana, with the prolonged sound mark
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{3005}' // 々
    )
}

pub fn is_han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{3005}')
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_cjk(c)
}

/// A piece of normalised text, with its byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<'a> {
    /// A Latin-script (or digit) word.
    Word(usize, &'a str),
    /// A run of Chinese or Japanese characters.
    Cjk(usize, &'a str),
}

/// Splits normalised text into words and CJK runs.
pub fn segments<'a>(normalized: &'a str) -> Vec<Segment<'a>> {
    let mut out = Vec::new();
    let mut start: Option<(usize, bool)> = None;
    let push = |s: usize, e: usize, cjk: bool, out: &mut Vec<Segment<'a>>| {
        let piece = &normalized[s..e];
        out.push(if cjk {
            Segment::Cjk(s, piece)
        } else {
            Segment::Word(s, piece)
        });
    };
    for (i, c) in normalized.char_indices() {
        let kind = if c == ' ' { None } else { Some(is_cjk(c)) };
        match (start, kind) {
            (Some((s, cjk)), Some(k)) if k != cjk => {
                push(s, i, cjk, &mut out);
                start = Some((i, k));
            }
            (Some((s, cjk)), None) => {
                push(s, i, cjk, &mut out);
                start = None;
            }
            (None, Some(k)) => start = Some((i, k)),
            _ => {}
        }
    }
    if let Some((s, cjk)) = start {
        push(s, normalized.len(), cjk, &mut out);
    }
    out
}

/// English words too common to say anything about a question. Question
/// words (what, when, why, ...) are kept: they tell "when" from "why".
pub fn is_english_stopword(word: &str) -> bool {
    const STOP: &[&str] = &[
        "a", "an", "the", "is", "are", "was", "were", "be", "been", "being", "do", "does", "did",
        "of", "in", "on", "at", "to", "for", "by", "with", "from", "as", "and", "or", "it", "its",
        "this", "that", "these", "those", "there", "their", "they", "them", "i", "me", "my", "you",
        "your", "we", "our", "he", "she", "his", "her", "can", "could", "would", "should", "will",
        "shall", "may", "might", "has", "have", "had", "about", "tell", "please", "know", "any",
        "some", "so", "s", "t", "d", "ll", "re", "ve", "m", "just", "into", "than", "then", "also",
        "u", "pls", "plz",
    ];
    STOP.contains(&word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_width_case_and_punctuation() {
        assert_eq!(normalize("ＪＡＰＡＮ　Ｃｅｎｔｅｒ？"), "japan center");
        assert_eq!(
            normalize("Why did Russia END it?!"),
            "why did russia end it"
        );
        assert_eq!(normalize("ｾﾝﾀｰ"), "センター");
        assert_eq!(normalize("２０２５年"), "2025年");
    }

    #[test]
    fn converts_traditional_chinese_for_matching() {
        assert_eq!(
            normalize("日本中心為什麼關閉?"),
            normalize("日本中心为什么关闭?")
        );
        assert_eq!(normalize("海參崴"), "海参崴");
    }

    #[test]
    fn splits_mixed_scripts() {
        let n = normalize("Japan Centerはいつ閉鎖?");
        let segs = segments(&n);
        assert_eq!(segs.len(), 3);
        assert!(matches!(segs[0], Segment::Word(0, "japan")));
        assert!(matches!(segs[1], Segment::Word(_, "center")));
        assert!(matches!(segs[2], Segment::Cjk(_, _)));
    }

    #[test]
    fn keeps_question_words() {
        assert!(!is_english_stopword("why"));
        assert!(!is_english_stopword("when"));
        assert!(is_english_stopword("the"));
    }
}
