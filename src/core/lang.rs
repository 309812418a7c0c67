//! The three reply languages and how a question's language is detected.
//!
//! Detection follows the script of the question's grammar rather than of
//! its names: hiragana is Japanese grammar, English function words are
//! English grammar, and Han-only text is Chinese unless a character exists
//! only in Japanese. A short Han-only question is reported as not
//! confident, so an adapter can let the user's locale decide.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use unicode_normalization::UnicodeNormalization;

/// A language kotae answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Ja,
    Zh,
    En,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Ja, Lang::Zh, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// Maps a platform locale such as Discord's `zh-CN`, `ja` or `en-US`.
    pub fn from_locale(locale: &str) -> Option<Lang> {
        let primary = locale.split(['-', '_']).next()?.to_ascii_lowercase();
        primary.parse().ok()
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown language `{0}`: use ja, zh or en")]
pub struct UnknownLang(pub String);

impl FromStr for Lang {
    type Err = UnknownLang;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ja" | "jp" | "japanese" | "日本語" => Ok(Lang::Ja),
            "zh" | "cn" | "chinese" | "中文" => Ok(Lang::Zh),
            "en" | "english" => Ok(Lang::En),
            _ => Err(UnknownLang(s.to_string())),
        }
    }
}

/// The outcome of [`detect`]: a language, and whether the text made it clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detected {
    pub lang: Lang,
    pub confident: bool,
}

/// Detects the language a question is written in.
pub fn detect(text: &str) -> Detected {
    // NFKC folds full-width Latin and half-width katakana first.
    let text: String = text.nfkc().collect();
    let text = text.as_str();
    let counts = ScriptCounts::of(text);
    let sure = |lang| Detected {
        lang,
        confident: true,
    };
    if counts.hiragana > 0 {
        return sure(Lang::Ja);
    }
    let english_words = english_function_words(text);
    let cjk = counts.han + counts.katakana;
    if english_words > 0 && (counts.latin >= cjk || english_words >= 2) {
        return sure(Lang::En);
    }
    if counts.katakana > 0 || counts.japanese_only_han > 0 {
        return sure(Lang::Ja);
    }
    if counts.han > 0 {
        // Short Han-only text ("日本中心", "閉鎖理由") reads as either language.
        let confident = counts.han > 4 || counts.chinese_grammar > 0;
        return Detected {
            lang: Lang::Zh,
            confident,
        };
    }
    Detected {
        lang: Lang::En,
        confident: counts.latin > 0,
    }
}

#[derive(Default)]
struct ScriptCounts {
    hiragana: usize,
    katakana: usize,
    han: usize,
    latin: usize,
    japanese_only_han: usize,
    chinese_grammar: usize,
}

impl ScriptCounts {
    fn of(text: &str) -> Self {
        let mut c = ScriptCounts::default();
        for ch in text.chars() {
            match ch {
                '\u{3041}'..='\u{309F}' => c.hiragana += 1,
                '\u{30A0}'..='\u{30FF}' => c.katakana += 1,
                '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}' => {
                    c.han += 1;
                    if JAPANESE_ONLY_HAN.contains(ch) {
                        c.japanese_only_han += 1;
                    }
                    if CHINESE_GRAMMAR_HAN.contains(ch) {
                        c.chinese_grammar += 1;
                    }
                }
                _ if ch.is_alphabetic() => c.latin += 1,
                _ => {}
            }
        }
        c
    }
}

fn english_function_words(text: &str) -> usize {
    text.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| ENGLISH_FUNCTION_WORDS.contains(&w.to_ascii_lowercase().as_str()))
        .count()
}

const ENGLISH_FUNCTION_WORDS: &[&str] = &[
    "what", "when", "where", "why", "who", "whom", "which", "how", "is", "are", "was", "were",
    "did", "does", "do", "the", "a", "an", "of", "in", "on", "to", "for", "and", "about", "can",
    "will", "would", "tell", "me", "there", "it", "they", "has", "have", "with", "from", "mean",
];

/// Shinjitai and kokuji: forms used in Japanese but in neither Simplified nor
/// Traditional Chinese, so a Han-only text containing one is Japanese.
const JAPANESE_ONLY_HAN: &str = "覚拠戦広駅対関経続読売働込峠畑様発変歳図団悪気楽薬単両満営労県済捜険検験価権歴残浅銭転伝児総聴徳応圧渋沢択訳駆鉄剣隣実亜圏乗姫帰斎栄桜猟獣瀬粋繊芸蔵豊軽遅郷醸釈闘陥隠雑霊頼騒髄黙齢払抜拝挿捨掲揺摂暦枢桟塩壊壌壱奨嬢寛専将尽届峡巣弾径従徴悩惨戯戻扱拡昼暁枠歩毎涙渇渓焼犠狭痩盗穏稲窓粛絵継縁縄脳臓艶荘蛍覧観触譲賛践辺逓遥酔醤鉱録鎮顕黒";

/// Characters that mark Chinese grammar (particles, question words).
const CHINESE_GRAMMAR_HAN: &str = "是的吗么呢吧了哪谁啥怎為为嗎麼誰們们";

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(text: &str) -> Lang {
        detect(text).lang
    }

    #[test]
    fn kana_means_japanese() {
        assert_eq!(lang("日本センターはどこにありましたか?"), Lang::Ja);
        assert_eq!(lang("センター"), Lang::Ja);
    }

    #[test]
    fn han_only_is_chinese_unless_japanese_only_forms() {
        assert_eq!(lang("日本中心是什么?"), Lang::Zh);
        assert_eq!(lang("日本中心是什麼時候關閉的?"), Lang::Zh);
        assert_eq!(lang("覚書破棄"), Lang::Ja);
    }

    #[test]
    fn short_han_only_text_is_not_confident() {
        let d = detect("閉鎖理由");
        assert_eq!(d.lang, Lang::Zh);
        assert!(!d.confident);
        assert!(detect("日本中心是什么").confident);
    }

    #[test]
    fn mixed_scripts_follow_the_grammar() {
        assert_eq!(lang("Japan Centerはいつ閉鎖?"), Lang::Ja);
        assert_eq!(lang("Japan Center是什么时候关闭的?"), Lang::Zh);
        assert_eq!(lang("What is 日本センター?"), Lang::En);
        assert_eq!(
            lang("What happened to the 日本中心 in Vladivostok?"),
            Lang::En
        );
    }

    #[test]
    fn latin_is_english_and_full_width_counts() {
        assert_eq!(lang("Why did Russia end it?"), Lang::En);
        assert_eq!(lang("ｗｈｙ　ｃｌｏｓｅｄ"), Lang::En);
    }

    #[test]
    fn locales_and_codes_parse() {
        assert_eq!(Lang::from_locale("zh-CN"), Some(Lang::Zh));
        assert_eq!(Lang::from_locale("en-US"), Some(Lang::En));
        assert_eq!(Lang::from_locale("ko"), None);
        assert_eq!("JA".parse::<Lang>(), Ok(Lang::Ja));
        assert!("fr".parse::<Lang>().is_err());
    }
}
