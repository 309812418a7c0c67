//! The knowledge files as written, and parsing them in bounded memory.
//!
//! Every field is optional here so that one missing field is reported with
//! the others instead of stopping the file at the first.
//!
//! A TOML parser holds the tokens and events of the whole text it parses,
//! about fifty times the text's size, so a 10 MB file of nonsense would cost
//! half a gigabyte. A file is therefore cut into parts before parsing: a new
//! part starts at every line `[[fact]]` (or `[[source]]`, `[[alias]]`: the
//! file's own array of tables), which can only ever be such a header. Each
//! part is parsed alone and is at most [`MAX_PART_BYTES`], so parsing costs
//! at most a bounded multiple of one part, whatever the file.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml_parser::lexer::TokenKind;

/// The largest part (one `[[fact]]` with its sub-tables, or the lines before
/// the first) that is parsed. Real facts are a few kilobytes.
pub const MAX_PART_BYTES: usize = 1 << 20;

/// One part of a file, cut at its array-of-tables headers.
pub struct Part<'a> {
    pub text: &'a str,
    /// The line of the file the part starts on.
    pub first_line: usize,
}

/// Cuts `text` before each line that is `[[root]]` (spaces and a comment
/// allowed). The lexer sees multi-line strings as one token, so a header
/// inside a string is not taken for one; and `[[root]]` cannot be a value,
/// so it cannot be the inside of an array either.
pub fn split<'a>(text: &'a str, root: &str) -> Vec<Part<'a>> {
    #[derive(PartialEq)]
    enum Header {
        LineStart,
        Open(u8),
        Key,
        Close(u8),
        Not,
    }
    let mut starts = vec![0];
    let mut line_start = 0;
    let mut state = Header::LineStart;
    for token in toml_parser::Source::new(text).lex() {
        let span = token.span();
        state = match (token.kind(), state) {
            (TokenKind::Newline, _) => {
                line_start = span.end();
                Header::LineStart
            }
            (TokenKind::Whitespace, s) => s,
            (TokenKind::LeftSquareBracket, Header::LineStart) => Header::Open(1),
            (TokenKind::LeftSquareBracket, Header::Open(1)) => Header::Open(2),
            (TokenKind::Atom, Header::Open(2)) if &text[span.start()..span.end()] == root => {
                Header::Key
            }
            (TokenKind::RightSquareBracket, Header::Key) => Header::Close(1),
            (TokenKind::RightSquareBracket, Header::Close(1)) => {
                if line_start > 0 {
                    starts.push(line_start);
                }
                Header::Not
            }
            _ => Header::Not,
        };
    }
    starts.push(text.len());
    let mut line = 1;
    starts
        .windows(2)
        .map(|w| {
            let part = Part {
                text: &text[w[0]..w[1]],
                first_line: line,
            };
            line += part.text.bytes().filter(|b| *b == b'\n').count();
            part
        })
        .collect()
}

/// A file type, by the name of its array of tables.
///
/// A part before the first header may define that array inline
/// (`fact = [...]`); the whole-file parse would refuse that next to
/// `[[fact]]` tables, split parts accept both, which loses nothing.
pub trait RawFile: DeserializeOwned {
    const ROOT: &'static str;
}

/// Parses one part; on a syntax or schema error, the message and its byte
/// range in the part.
pub fn parse<T: DeserializeOwned>(part: &str) -> Result<T, (String, std::ops::Range<usize>)> {
    toml::from_str(part).map_err(|e| {
        (
            e.message().trim().replace('\n', " "),
            e.span().unwrap_or(0..0),
        )
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourcesFile {
    #[serde(default)]
    pub source: Vec<Spanned<RawSource>>,
}

impl RawFile for SourcesFile {
    const ROOT: &'static str = "source";
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    pub id: Option<Spanned<String>>,
    pub publisher: Option<Spanned<String>>,
    pub title: Option<Spanned<String>>,
    pub url: Option<Spanned<String>>,
    pub published: Option<Spanned<String>>,
    pub language: Option<Spanned<String>>,
    pub reliability: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AliasesFile {
    #[serde(default)]
    pub alias: Vec<Spanned<RawAlias>>,
}

impl RawFile for AliasesFile {
    const ROOT: &'static str = "alias";
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlias {
    pub names: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatFile {
    #[serde(default)]
    pub word: Vec<Spanned<RawChatWord>>,
}

impl RawFile for ChatFile {
    const ROOT: &'static str = "word";
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChatWord {
    pub said: Vec<Spanned<String>>,
    pub means: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactsFile {
    #[serde(default)]
    pub fact: Vec<Spanned<RawFact>>,
}

impl RawFile for FactsFile {
    const ROOT: &'static str = "fact";
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFact {
    pub id: Option<Spanned<String>>,
    pub sources: Option<Spanned<Vec<Spanned<String>>>>,
    pub status: Option<Spanned<String>>,
    pub date: Option<Spanned<String>>,
    pub updated: Option<Spanned<String>>,
    #[serde(default)]
    pub related: Vec<Spanned<String>>,
    pub keywords: Option<RawPerLang<Vec<String>>>,
    pub questions: Option<Spanned<RawPerLang<Vec<Spanned<String>>>>>,
    pub answer: Option<Spanned<RawPerLang<Spanned<String>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPerLang<T> {
    pub ja: Option<T>,
    pub zh: Option<T>,
    pub en: Option<T>,
}

impl<T> RawPerLang<T> {
    pub fn take(self) -> [(&'static str, Option<T>); 3] {
        [("ja", self.ja), ("zh", self.zh), ("en", self.en)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_cut_at_its_own_headers_only() {
        let text = "# preamble\n[[fact]]\nid = \"a\"\nq = '''\n[[fact]]\n'''\n  [[ fact ]] # two\n[fact.answer]\nen = \"x\"\n[[source]]\n";
        let parts = split(text, "fact");
        let firsts: Vec<(usize, &str)> = parts
            .iter()
            .map(|p| (p.first_line, p.text.lines().next().unwrap()))
            .collect();
        assert_eq!(
            firsts,
            [
                (1, "# preamble"),
                (2, "[[fact]]"),
                (7, "  [[ fact ]] # two")
            ]
        );
        assert_eq!(parts.iter().map(|p| p.text).collect::<String>(), text);
    }
}
