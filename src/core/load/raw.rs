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
#[derive(Debug, Clone, Copy)]
pub struct Part<'a> {
    pub text: &'a str,
    /// The line of the file the part starts on.
    pub first_line: usize,
}

/// Cuts `text` before each line that is `[[root]]` (spaces and a comment
/// allowed). The lexer sees multi-line strings as one token, so a header
/// inside a string is not taken for one; and `[[root]]` cannot be a value,
/// so it cannot be the inside of an array either.
///
/// The parts come one at a time as the text is lexed: cutting a file keeps
/// nothing per part, so a file of a million tiny tables costs no more than
/// one of them, and a reader that stops early lexes no further.
pub fn split<'a>(text: &'a str, root: &'a str) -> Split<'a> {
    Split {
        text,
        root,
        tokens: toml_parser::Source::new(text).lex(),
        line_start: 0,
        state: Header::LineStart,
        next: Some((0, 1)),
    }
}

/// The parts of a text, from [`split`].
pub struct Split<'a> {
    text: &'a str,
    root: &'a str,
    tokens: toml_parser::lexer::Lexer<'a>,
    /// Where the line being lexed starts.
    line_start: usize,
    state: Header,
    /// Where the next part starts and its line; `None` after the last part.
    next: Option<(usize, usize)>,
}

/// How much of a `[[root]]` header the line so far is.
#[derive(Clone, Copy, PartialEq)]
enum Header {
    LineStart,
    Open(u8),
    Key,
    Close,
    Not,
}

impl<'a> Iterator for Split<'a> {
    type Item = Part<'a>;

    fn next(&mut self) -> Option<Part<'a>> {
        let (start, first_line) = self.next?;
        for token in self.tokens.by_ref() {
            let span = token.span();
            self.state = match (token.kind(), self.state) {
                (TokenKind::Newline, _) => {
                    self.line_start = span.end();
                    Header::LineStart
                }
                (TokenKind::Whitespace, s) => s,
                (TokenKind::LeftSquareBracket, Header::LineStart) => Header::Open(1),
                (TokenKind::LeftSquareBracket, Header::Open(1)) => Header::Open(2),
                (TokenKind::Atom, Header::Open(2))
                    if &self.text[span.start()..span.end()] == self.root =>
                {
                    Header::Key
                }
                (TokenKind::RightSquareBracket, Header::Key) => Header::Close,
                (TokenKind::RightSquareBracket, Header::Close) => {
                    self.state = Header::Not;
                    // A header on the first line of a part (the file's
                    // first line) starts that part, not a new one.
                    let end = self.line_start;
                    if end > start {
                        let text = &self.text[start..end];
                        let lines = text.bytes().filter(|b| *b == b'\n').count();
                        self.next = Some((end, first_line + lines));
                        return Some(Part { text, first_line });
                    }
                    Header::Not
                }
                _ => Header::Not,
            };
        }
        self.next = None;
        Some(Part {
            text: &self.text[start..],
            first_line,
        })
    }
}

/// A file type, by the name of its array of tables.
///
/// A part before the first header may define that array inline
/// (`fact = [...]`); the whole-file parse would refuse that next to
/// `[[fact]]` tables, split parts accept both, which loses nothing.
pub trait RawFile: DeserializeOwned {
    const ROOT: &'static str;
}

/// A parsed part, or a syntax or schema error's message and its byte range
/// in the part.
pub type Parsed<T> = Result<T, (String, std::ops::Range<usize>)>;

/// Parses one part.
pub fn parse<T: DeserializeOwned>(part: &str) -> Parsed<T> {
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
    pub no_url: Option<Spanned<String>>,
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
pub struct GapsFile {
    #[serde(default)]
    pub gap: Vec<Spanned<RawGap>>,
}

impl RawFile for GapsFile {
    const ROOT: &'static str = "gap";
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGap {
    pub asks: Vec<Spanned<String>>,
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
    /// `[[fact.event]]` tables: the fact's dated events, for the timeline.
    #[serde(default)]
    pub event: Vec<Spanned<RawEvent>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvent {
    pub date: Option<Spanned<String>>,
    #[serde(default)]
    pub disputed: bool,
    pub sources: Option<Spanned<Vec<Spanned<String>>>>,
    pub text: Option<Spanned<RawPerLang<Spanned<String>>>>,
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
        let parts: Vec<Part> = split(text, "fact").collect();
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

    #[test]
    fn a_text_without_headers_is_one_part_and_parts_come_as_they_are_cut() {
        let one: Vec<(usize, &str)> = ["", "id = = =\n", "[[fact]]\nid = 1\n"]
            .into_iter()
            .flat_map(|t| split(t, "fact").map(|p| (p.first_line, p.text)))
            .collect();
        assert_eq!(one, [(1, ""), (1, "id = = =\n"), (1, "[[fact]]\nid = 1\n")]);
        // The first parts of a long text, without lexing the rest.
        let long = "[[fact]]\nid = = =\n".repeat(1 << 16);
        let mut parts = split(&long, "fact");
        let first = parts.next().unwrap();
        assert_eq!((first.first_line, first.text), (1, "[[fact]]\nid = = =\n"));
        assert_eq!(parts.next().unwrap().first_line, 3);
        assert!(parts.tokens.next().is_some(), "the rest is not lexed yet");
    }
}
