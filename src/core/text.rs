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

use std::borrow::Cow;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// Normalises text for matching: NFKC, lower case, punctuation to spaces,
/// Traditional Chinese to Simplified, one space between words.
pub fn normalize(text: &str) -> String {
    if text.is_ascii() {
        return normalize_ascii(text);
    }
    // Most text is already NFKC (the check is far cheaper than composing,
    // and a glance at the characters cheaper still).
    let folded = if text.chars().all(|c| simple_nfkc(c).is_some()) {
        fold(text.chars().filter_map(simple_nfkc), text.len())
    } else if is_nfkc_quick(text.chars()) == IsNormalized::Yes {
        fold(text.chars(), text.len())
    } else {
        fold(text.nfkc(), text.len())
    };
    simplify(folded)
}

/// Lower case, anything but a word character to a space, one space between
/// words and none at the ends. CJK characters have no case and are word
/// characters: they skip both lookups, the slow part for Chinese and
/// Japanese text.
fn fold(chars: impl Iterator<Item = char>, len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut space = false;
    let mut push = |c: char, out: &mut String| {
        if c == ' ' {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    };
    for c in chars {
        if is_cjk(c) {
            push(c, &mut out);
            continue;
        }
        for l in c.to_lowercase() {
            push(if is_word_char(l) { l } else { ' ' }, &mut out);
        }
    }
    out
}

/// What NFKC makes of a character whatever surrounds it, for the
/// characters most text is made of: ASCII, kana and ideographs stay as they
/// are (not the voiced-sound marks, iteration marks or compatibility
/// ideographs), full-width ASCII becomes ASCII. None for any other.
fn simple_nfkc(c: char) -> Option<char> {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0),
        '\u{3000}' => Some(' '),
        _ if surely_nfkc(c) => Some(c),
        _ => None,
    }
}

/// The characters NFKC leaves as they are, of those [`simple_nfkc`] knows.
fn surely_nfkc(c: char) -> bool {
    c.is_ascii()
        || matches!(c,
            '\u{3041}'..='\u{3096}' // hiragana
            | '\u{30A1}'..='\u{30FA}' // katakana
            | '\u{30FC}' // prolonged sound mark
            | '\u{3400}'..='\u{4DBF}'
            | '\u{4E00}'..='\u{9FFF}'
            | '\u{3001}'..='\u{3002}' // 、。
            | '\u{300C}'..='\u{300F}' // 「」『』
        )
}

/// [`normalize`] for ASCII text, which NFKC and the Chinese conversion
/// leave as it is: the same result without either.
fn normalize_ascii(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(|c: char| !c.is_ascii_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().map(|c| c.to_ascii_lowercase()));
    }
    out
}

/// The unified Han block and extension A, where Traditional forms live.
const HAN_START: u32 = 0x3400;
const HAN_END: u32 = 0x9FFF;

/// Which Han characters have a different Simplified form, one bit each from
/// [`HAN_START`]: most text (English, Simplified Chinese) has none, and
/// skips the converter altogether. Computing it from the converter takes
/// about a tenth of a second, so it is computed once and kept in the
/// source tree; a test checks it against the converter.
static TRADITIONAL: &[u8] = include_bytes!("traditional.bin");

fn is_traditional(c: char) -> bool {
    match c as u32 {
        cp @ HAN_START..=HAN_END => {
            let i = (cp - HAN_START) as usize;
            TRADITIONAL[i / 8] & (1 << (i % 8)) != 0
        }
        _ => false,
    }
}

fn has_traditional(text: &str) -> bool {
    text.chars().any(is_traditional)
}

/// Traditional to Simplified, by phrase (參 is 参 in 海參崴, 叁 alone). The
/// converter treats Simplified 么 as a Traditional form of 幺, so 什么 would
/// become 什幺 while 什麼 becomes 什么: fold 幺 back.
///
/// Only runs of Han characters with a Traditional form in them go through
/// the converter, each on its own: its phrases are Han (but for a few with
/// punctuation, which normalised text has none of, or Latin letters, which
/// convert letter by letter anyway), and it looks every position of its
/// input up in a dictionary of a hundred thousand phrases. Japanese text has
/// Traditional forms (閉, 関) in short runs between kana, so this spares
/// most of the lookups in a Japanese text (a tenth of indexing a big base).
fn simplify(text: String) -> String {
    if !has_traditional(&text) {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(start) = rest.find(is_han) {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(|c| !is_han(c)).unwrap_or(rest.len());
        let run = &rest[..end];
        if has_traditional(run) {
            out.push_str(&character_converter::traditional_to_simplified(run).replace('幺', "么"));
        } else {
            out.push_str(run);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Builds the converter's Traditional-to-Simplified tables now, so the
/// first Traditional Chinese question does not pay for it (its `init`
/// would also build the reverse tables, which kotae never uses).
pub fn warm_up() {
    let _ = character_converter::traditional_to_simplified("國");
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
        "u", "pls", "plz", "am", "if", "but",
    ];
    STOP.contains(&word)
}

/// An English verb's plain form for an irregular past form ("paid" is
/// "pay", "fell" is "fall"), which the stemmer leaves as it is: so "who was
/// paying" meets "who paid" and "did trade fall" meets "trade fell". Only
/// forms that are not also common words of their own in this story's
/// register are listed ("found" stays, for "founded"; "left" and "rose"
/// stay).
pub fn english_plain_form(word: &str) -> &str {
    // Sorted by form, for the binary search.
    #[rustfmt::skip]
    const IRREGULAR: &[(&str, &str)] = &[
        ("ate", "eat"), ("became", "become"), ("began", "begin"), ("begun", "begin"),
        ("bore", "bear"), ("borne", "bear"), ("bought", "buy"), ("broke", "break"),
        ("broken", "break"), ("brought", "bring"), ("built", "build"), ("came", "come"),
        ("caught", "catch"), ("chose", "choose"), ("chosen", "choose"), ("dealt", "deal"),
        ("drawn", "draw"), ("drew", "draw"), ("driven", "drive"), ("drove", "drive"),
        ("fallen", "fall"), ("fell", "fall"), ("felt", "feel"), ("forbade", "forbid"),
        ("forbidden", "forbid"), ("fought", "fight"), ("froze", "freeze"), ("frozen", "freeze"),
        ("gave", "give"), ("given", "give"), ("gone", "go"), ("got", "get"), ("gotten", "get"),
        ("grew", "grow"), ("grown", "grow"), ("heard", "hear"), ("held", "hold"), ("kept", "keep"),
        ("knew", "know"), ("known", "know"), ("led", "lead"), ("lent", "lend"), ("lost", "lose"),
        ("made", "make"), ("meant", "mean"), ("met", "meet"), ("paid", "pay"), ("ran", "run"),
        ("said", "say"), ("saw", "see"), ("seen", "see"), ("sent", "send"), ("shook", "shake"),
        ("sold", "sell"), ("sought", "seek"), ("spent", "spend"),
        ("spoke", "speak"), ("spoken", "speak"), ("stole", "steal"), ("stolen", "steal"),
        ("stood", "stand"), ("struck", "strike"), ("taken", "take"), ("taught", "teach"),
        ("thought", "think"), ("threw", "throw"), ("thrown", "throw"), ("told", "tell"),
        ("took", "take"), ("understood", "understand"), ("undertaken", "undertake"),
        ("undertook", "undertake"), ("went", "go"), ("withdrawn", "withdraw"),
        ("withdrew", "withdraw"), ("won", "win"), ("written", "write"), ("wrote", "write"),
    ];
    IRREGULAR
        .binary_search_by(|(form, _)| form.cmp(&word))
        .map_or(word, |i| IRREGULAR[i].1)
}

/// An English word in American spelling, which the stemmer needs to give
/// both spellings one stem: "criticise" is "criticize", "organisation"
/// "organization", "centres" "centers", "rumour" "rumor". By rule for the
/// -ise verbs and -our nouns listed (a rule for every -ise word would
/// change "promise" and "surprise"), and word by word for the rest.
pub fn american_spelling(word: &str) -> Cow<'_, str> {
    // Stems before -ise / -our, and the endings they take.
    #[rustfmt::skip]
    const ISE: &[&str] = &[
        "apolog", "author", "capital", "categor", "central", "character", "civil",
        "colon", "critic", "emphas", "final", "formal", "global", "harmon",
        "industrial", "jeopard", "legal", "legitim", "local", "margin", "maxim",
        "memor", "militar", "minim", "mobil", "modern", "national", "neutral",
        "normal", "optim", "organ", "penal", "politic", "priorit", "privat",
        "public", "real", "recogn", "scrutin", "special", "stabil", "standard",
        "subsid", "summar", "symbol", "sympath", "util", "visual", "western",
    ];
    const ISE_ENDINGS: &[&str] = &["e", "es", "ed", "ing", "ation", "ations", "er", "ers"];
    #[rustfmt::skip]
    const OUR: &[&str] = &[
        "arm", "behavi", "col", "endeav", "fav", "flav", "harb", "hon", "hum",
        "lab", "neighb", "rum", "sav", "val", "vig",
    ];
    const OUR_ENDINGS: &[&str] = &["", "s", "ed", "ing", "ite", "ites", "able", "ably"];
    #[rustfmt::skip]
    const WORDS: &[(&str, &str)] = &[
        ("centre", "center"), ("centred", "centered"), ("centres", "centers"),
        ("defence", "defense"), ("licence", "license"), ("offence", "offense"),
        ("programme", "program"), ("programmes", "programs"),
        ("analyse", "analyze"), ("analysed", "analyzed"), ("analysing", "analyzing"),
        ("cancelled", "canceled"), ("cancelling", "canceling"),
        ("travelled", "traveled"), ("travelling", "traveling"),
        ("catalogue", "catalog"), ("dialogue", "dialog"), ("enrolment", "enrollment"),
    ];
    let rule = |stems: &[&str], infix: &str, to: &str, endings: &[&str]| {
        stems.iter().find_map(|stem| {
            let rest = word.strip_prefix(stem)?.strip_prefix(infix)?;
            endings
                .contains(&rest)
                .then(|| Cow::Owned(format!("{stem}{to}{rest}")))
        })
    };
    if let Some(&(_, us)) = WORDS.iter().find(|(uk, _)| *uk == word) {
        return Cow::Borrowed(us);
    }
    rule(ISE, "is", "iz", ISE_ENDINGS)
        .or_else(|| rule(OUR, "our", "or", OUR_ENDINGS))
        .unwrap_or(Cow::Borrowed(word))
}

/// Greetings, thanks and acknowledgements in the three languages. A message
/// made only of these is small talk: the bot declines it rather than
/// matching "thanks" to a fact that happens to say "thanks to".
const SMALL_TALK: &[&str] = &[
    "hi",
    "hello",
    "hey",
    "yo",
    "thanks",
    "thank",
    "you",
    "thx",
    "ty",
    "tysm",
    "ok",
    "okay",
    "k",
    "lol",
    "lmao",
    "haha",
    "yes",
    "no",
    "yeah",
    "yep",
    "nope",
    "bye",
    "good",
    "morning",
    "night",
    "evening",
    "cool",
    "nice",
    "great",
    "sure",
    "hmm",
    "wow",
    "gm",
    "gn",
    "cheers",
    "sorry",
    "so",
    "very",
    "much",
    "a",
    "lot",
    "bot",
    "kotae",
    "please",
    "got",
    "it",
    "see",
    "ya",
    "welcome",
    "np",
    "こんにちは",
    "こんばんは",
    "おはよう",
    "おはようございます",
    "ありがとう",
    "ありがとうございます",
    "ありがと",
    "どうも",
    "はい",
    "いいえ",
    "うん",
    "ええ",
    "おやすみ",
    "おやすみなさい",
    "よろしく",
    "よろしくお願いします",
    "なるほど",
    "すみません",
    "ごめん",
    "ごめんなさい",
    "了解",
    "了解です",
    "わかった",
    "わかりました",
    "さようなら",
    "じゃあね",
    "またね",
    "笑",
    "草",
    "そうなんだ",
    "すごい",
    "いいね",
    "你好",
    "您好",
    "谢谢",
    "谢谢你",
    "谢谢啦",
    "多谢",
    "感谢",
    "好的",
    "好",
    "好吧",
    "嗯",
    "嗯嗯",
    "是的",
    "对",
    "对的",
    "哈哈",
    "哈哈哈",
    "再见",
    "拜拜",
    "早上好",
    "早安",
    "晚安",
    "行",
    "可以",
    "明白",
    "明白了",
    "知道了",
    "收到",
    "没事",
    "厉害",
    "牛",
    "大家好",
    "在吗",
    "辛苦了",
    "不客气",
];

/// Whether normalised text is nothing but greetings, thanks or acknowledgements.
pub fn is_small_talk(normalized: &str) -> bool {
    let mut words = normalized.split(' ').filter(|w| !w.is_empty()).peekable();
    words.peek().is_some() && words.all(|w| SMALL_TALK.contains(&w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_nfkc_is_nfkc() {
        let simple: Vec<(char, char)> = (0..=0x10FFFF)
            .filter_map(char::from_u32)
            .filter_map(|c| Some((c, simple_nfkc(c)?)))
            .collect();
        assert!(simple.len() > 27_000, "the kana and ideographs are in");
        for (c, nfkc) in simple {
            assert_eq!(
                c.to_string().nfkc().collect::<String>(),
                nfkc.to_string(),
                "{c:?}"
            );
            // Nor does it combine with what comes before or after it.
            for other in ['か', 'a', 'ア', '日'] {
                let pair: String = [other, c].into_iter().collect();
                let expected: String = [other, nfkc].into_iter().collect();
                assert_eq!(pair.nfkc().collect::<String>(), expected, "{other}{c}");
                let pair: String = [c, other].into_iter().collect();
                let expected: String = [nfkc, other].into_iter().collect();
                assert_eq!(pair.nfkc().collect::<String>(), expected, "{c}{other}");
            }
        }
    }

    /// The bits of [`TRADITIONAL`], computed from the converter.
    fn traditional_bits() -> Vec<u8> {
        let mut bits = vec![0u8; ((HAN_END - HAN_START) as usize + 8) / 8];
        for cp in HAN_START..=HAN_END {
            let c = char::from_u32(cp).unwrap_or(' ');
            let mut buf = [0; 4];
            let s = c.encode_utf8(&mut buf);
            // 么 is Simplified, though the converter maps it to 幺 (see simplify).
            if c != '么' && character_converter::traditional_to_simplified(s) != *s {
                let i = (cp - HAN_START) as usize;
                bits[i / 8] |= 1 << (i % 8);
            }
        }
        bits
    }

    #[test]
    fn the_traditional_table_matches_the_converter() {
        let bits = traditional_bits();
        if std::env::var_os("KOTAE_WRITE_TRADITIONAL").is_some() {
            std::fs::write("src/core/traditional.bin", &bits).unwrap();
        }
        assert!(
            bits == TRADITIONAL,
            "src/core/traditional.bin is out of date: run \
             KOTAE_WRITE_TRADITIONAL=1 cargo test --lib traditional_table"
        );
        assert!(is_traditional('國') && !is_traditional('国') && !is_traditional('么'));
    }

    #[test]
    fn the_fast_paths_normalise_as_the_full_one_does() {
        let full = |text: &str| {
            let folded: String = text
                .nfkc()
                .flat_map(char::to_lowercase)
                .map(|c| if is_word_char(c) { c } else { ' ' })
                .collect();
            simplify(folded)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        };
        for text in [
            "  Why did Russia END it?!  ",
            "JC's 6 centres -- 2025/09/11, ok_",
            "",
            "?!",
            "日本センターはいつ閉鎖されましたか?",
            "日本中心為什麼關閉？",
            "ＪＡＰＡＮ　Ｃｅｎｔｅｒ ｾﾝﾀｰ",
            "Ünïcödé Straße ǅ",
        ] {
            assert_eq!(normalize(text), full(text), "{text}");
        }
    }

    /// Runs of Han characters go through the converter one at a time (see
    /// [`simplify`]): the same as the whole text at once, on every text of
    /// the shipped base and on kana, Latin and Traditional side by side.
    #[test]
    fn converting_han_runs_alone_is_converting_the_whole_text() {
        let whole = |text: String| {
            if !has_traditional(&text) {
                return text;
            }
            character_converter::traditional_to_simplified(&text).replace('幺', "么")
        };
        let base = crate::core::load::load_embedded().expect("valid").base;
        let facts = base.facts().iter().flat_map(|f| {
            let questions = f.questions.iter().flat_map(|(_, list)| list.iter());
            questions.chain(f.answer.iter().map(|(_, a)| a))
        });
        let gaps = base.gaps().iter().flat_map(|g| g.asks.iter());
        let samples = [
            "海參崴の日本センターは閉鎖",
            "ロシア側の參加者と關係者",
            "jc在海參崴還開著嗎 lol",
            "什麼 么",
        ];
        let texts: Vec<&str> = facts
            .chain(gaps)
            .map(String::as_str)
            .chain(samples)
            .collect();
        assert!(texts.len() > 1000, "the base's texts are in");
        let mut converted = 0;
        for text in texts {
            let folded = fold(text.chars(), text.len());
            converted += usize::from(has_traditional(&folded));
            assert_eq!(simplify(folded.clone()), whole(folded), "{text}");
        }
        assert!(
            converted > 100,
            "Japanese and Traditional texts are converted"
        );
    }

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
        assert_eq!(normalize("什么"), normalize("什麼"));
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
    fn recognises_small_talk() {
        for text in [
            "thanks!",
            "Thank you so much",
            "ありがとうございます!",
            "好的",
            "謝謝",
            "hi bot",
            "OK",
        ] {
            assert!(is_small_talk(&normalize(text)), "{text}");
        }
        for text in ["thanks to whom?", "日本中心是什么", "why", ""] {
            assert!(!is_small_talk(&normalize(text)), "{text}");
        }
    }

    #[test]
    fn irregular_past_forms_read_as_plain_verbs() {
        assert_eq!(english_plain_form("paid"), "pay");
        assert_eq!(english_plain_form("fell"), "fall");
        assert_eq!(english_plain_form("founded"), "founded");
        assert_eq!(english_plain_form("centre"), "centre");
        for form in ["ate", "fallen", "withdrawn", "written"] {
            assert_ne!(english_plain_form(form), form, "{form} is found");
        }
    }

    #[test]
    fn british_spellings_read_as_american() {
        for (uk, us) in [
            ("criticise", "criticize"),
            ("organisations", "organizations"),
            ("centres", "centers"),
            ("rumours", "rumors"),
            ("favourite", "favorite"),
        ] {
            assert_eq!(american_spelling(uk), us);
        }
        for word in [
            "promise",
            "surprise",
            "criticism",
            "realism",
            "four",
            "hour",
            "center",
        ] {
            assert_eq!(american_spelling(word), word);
        }
    }

    #[test]
    fn keeps_question_words() {
        assert!(!is_english_stopword("why"));
        assert!(!is_english_stopword("when"));
        assert!(is_english_stopword("the"));
    }
}
