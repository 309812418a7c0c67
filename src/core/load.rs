//! Loading and validating a knowledge directory.
//!
//! A knowledge directory holds `sources.toml`, an optional `aliases.toml` and
//! `facts/*.toml`. Loading reads everything, checks everything, and returns
//! either a whole [`FactBase`] (with warnings) or every problem found, each
//! with its file, line and column. It never half-loads: a base with one error
//! is not served, so moderators can fix a file while the bot keeps the last
//! good base.

use super::knowledge::{
    AliasGroup, Fact, FactBase, PartialDate, PerLang, Reliability, Source, Status,
};
use super::text;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// The fact base compiled into the binary, so `kotae` answers from anywhere.
static EMBEDDED: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/knowledge");

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// One problem in a knowledge directory, located for a moderator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(
            f,
            "{}:{}:{}: {kind}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// A knowledge directory's files as text, from disk or from the binary.
#[derive(Debug, Clone, Default)]
pub struct KnowledgeFiles {
    /// (path relative to the directory, contents), facts files sorted by name.
    files: Vec<(String, String)>,
}

impl KnowledgeFiles {
    /// The fact base embedded at build time.
    pub fn embedded() -> KnowledgeFiles {
        let mut files: Vec<(String, String)> = EMBEDDED
            .find("**/*.toml")
            .into_iter()
            .flatten()
            .filter_map(|e| e.as_file())
            .filter_map(|f| {
                Some((
                    f.path().to_string_lossy().into_owned(),
                    f.contents_utf8()?.to_string(),
                ))
            })
            .collect();
        files.sort();
        KnowledgeFiles { files }
    }

    /// Reads a knowledge directory; a file that cannot be read is a diagnostic.
    pub fn read_dir(dir: &Path) -> Result<KnowledgeFiles, Vec<Diagnostic>> {
        let mut errors = Vec::new();
        let mut files = Vec::new();
        let facts_dir = dir.join("facts");
        let mut names = vec!["sources.toml".to_string()];
        if dir.join("aliases.toml").exists() {
            names.push("aliases.toml".to_string());
        }
        match std::fs::read_dir(&facts_dir) {
            Ok(entries) => {
                let mut facts: Vec<String> = entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".toml") && !n.starts_with('.'))
                    .map(|n| format!("facts/{n}"))
                    .collect();
                facts.sort();
                names.extend(facts);
            }
            Err(e) => errors.push(file_error(
                &facts_dir.display().to_string(),
                format!("cannot read the facts directory: {e}"),
            )),
        }
        for name in names {
            match std::fs::read_to_string(dir.join(&name)) {
                Ok(text) => files.push((name, text)),
                Err(e) => errors.push(file_error(&name, format!("cannot read: {e}"))),
            }
        }
        if errors.is_empty() {
            Ok(KnowledgeFiles { files })
        } else {
            Err(errors)
        }
    }

    /// Builds from in-memory files, for tests and generated bases.
    pub fn from_files(files: Vec<(String, String)>) -> KnowledgeFiles {
        KnowledgeFiles { files }
    }

    fn revision(&self) -> String {
        let mut hash = Sha256::new();
        for (name, text) in &self.files {
            hash.update(name.as_bytes());
            hash.update([0]);
            hash.update(text.as_bytes());
            hash.update([0]);
        }
        hash.finalize()
            .iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

fn file_error(file: &str, message: String) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        file: file.to_string(),
        line: 1,
        column: 1,
        message,
    }
}

/// A loaded base with the warnings found on the way.
#[derive(Debug)]
pub struct Loaded {
    pub base: FactBase,
    pub warnings: Vec<Diagnostic>,
}

/// Loads a knowledge directory from disk.
pub fn load_dir(dir: &Path) -> Result<Loaded, Vec<Diagnostic>> {
    load(&KnowledgeFiles::read_dir(dir)?)
}

/// Loads the embedded fact base, which the build's tests keep valid.
pub fn load_embedded() -> Result<Loaded, Vec<Diagnostic>> {
    load(&KnowledgeFiles::embedded())
}

/// Validates files into a fact base, or returns every error found (warnings
/// included, errors first).
pub fn load(files: &KnowledgeFiles) -> Result<Loaded, Vec<Diagnostic>> {
    let mut v = Validator::default();
    let mut sources = Vec::new();
    let mut aliases = Vec::new();
    let mut raw_facts = Vec::new();
    if !files.files.iter().any(|(n, _)| n == "sources.toml") {
        v.diags.push(file_error(
            "sources.toml",
            "missing: a knowledge directory needs sources.toml".into(),
        ));
    }
    let checked: Vec<Checked> = files
        .files
        .iter()
        .map(|(name, text)| Checked::new(name, text))
        .collect();
    for at in &checked {
        let name = at.file;
        match name {
            "sources.toml" => {
                if let Some(f) = v.parse::<SourcesFile>(at) {
                    sources = f
                        .source
                        .into_iter()
                        .filter_map(|s| v.source(at, s))
                        .collect();
                }
            }
            "aliases.toml" => {
                if let Some(f) = v.parse::<AliasesFile>(at) {
                    aliases = f.alias.into_iter().filter_map(|a| v.alias(at, a)).collect();
                }
            }
            _ => {
                if let Some(f) = v.parse::<FactsFile>(at) {
                    raw_facts.extend(f.fact.into_iter().map(|fact| (at, fact)));
                }
            }
        }
    }
    let known_sources: HashSet<&str> = sources.iter().map(|s: &Source| s.id.as_str()).collect();
    let facts: Vec<Fact> = raw_facts
        .into_iter()
        .filter_map(|(at, raw)| v.fact(at, raw, &known_sources))
        .collect();
    v.check_across_facts(&facts);
    v.diags.sort_by_key(|d| std::cmp::Reverse(d.severity));
    if v.diags.iter().any(|d| d.severity == Severity::Error) {
        return Err(v.diags);
    }
    let base = FactBase::new(facts, sources, aliases, files.revision());
    Ok(Loaded {
        base,
        warnings: v.diags,
    })
}

// ---- the files as written ----------------------------------------------
// Every field is optional here so that one missing field is reported with
// the others instead of stopping the file at the first.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourcesFile {
    #[serde(default)]
    source: Vec<Spanned<RawSource>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    id: Option<Spanned<String>>,
    publisher: Option<Spanned<String>>,
    title: Option<Spanned<String>>,
    url: Option<Spanned<String>>,
    published: Option<Spanned<String>>,
    language: Option<Spanned<String>>,
    reliability: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AliasesFile {
    #[serde(default)]
    alias: Vec<Spanned<RawAlias>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlias {
    names: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FactsFile {
    #[serde(default)]
    fact: Vec<Spanned<RawFact>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFact {
    id: Option<Spanned<String>>,
    sources: Option<Spanned<Vec<Spanned<String>>>>,
    status: Option<Spanned<String>>,
    date: Option<Spanned<String>>,
    updated: Option<Spanned<String>>,
    #[serde(default)]
    related: Vec<Spanned<String>>,
    keywords: Option<RawPerLang<Vec<String>>>,
    questions: Option<Spanned<RawPerLang<Vec<Spanned<String>>>>>,
    answer: Option<Spanned<RawPerLang<Spanned<String>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPerLang<T> {
    ja: Option<T>,
    zh: Option<T>,
    en: Option<T>,
}

impl<T> RawPerLang<T> {
    fn take(self) -> [(&'static str, Option<T>); 3] {
        [("ja", self.ja), ("zh", self.zh), ("en", self.en)]
    }
}

// ---- checks -------------------------------------------------------------

/// A file being checked, with where each of its lines starts.
struct Checked<'a> {
    file: &'a str,
    text: &'a str,
    line_starts: Vec<usize>,
}

type At<'a> = &'a Checked<'a>;

impl<'a> Checked<'a> {
    fn new(file: &'a str, text: &'a str) -> Checked<'a> {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Checked {
            file,
            text,
            line_starts,
        }
    }

    fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line - 1];
        (line, self.text[start..offset].chars().count() + 1)
    }
}

#[derive(Default)]
struct Validator {
    diags: Vec<Diagnostic>,
}

impl Validator {
    fn report(
        &mut self,
        severity: Severity,
        at: At,
        span: Range<usize>,
        message: impl Into<String>,
    ) {
        let (line, column) = at.line_col(span.start);
        self.diags.push(Diagnostic {
            severity,
            file: at.file.to_string(),
            line,
            column,
            message: message.into(),
        });
    }

    fn error(&mut self, at: At, span: Range<usize>, message: impl Into<String>) {
        self.report(Severity::Error, at, span, message);
    }

    fn parse<T: serde::de::DeserializeOwned>(&mut self, at: At) -> Option<T> {
        match toml::from_str(at.text) {
            Ok(v) => Some(v),
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                self.error(at, span, e.message().trim().replace('\n', " "));
                None
            }
        }
    }

    /// A required, non-blank string.
    fn required(
        &mut self,
        at: At,
        table: &Range<usize>,
        what: &str,
        field: Option<Spanned<String>>,
    ) -> Option<Spanned<String>> {
        match field {
            None => {
                self.error(at, table.clone(), format!("missing `{what}`"));
                None
            }
            Some(s) if s.get_ref().trim().is_empty() => {
                self.error(at, s.span(), format!("`{what}` is empty"));
                None
            }
            Some(s) => Some(s),
        }
    }

    fn date(&mut self, at: At, what: &str, field: Option<Spanned<String>>) -> Option<PartialDate> {
        let field = field?;
        let date = PartialDate::parse(field.get_ref());
        if date.is_none() {
            let msg = format!(
                "`{what}` = \"{}\" is not a date: write YYYY-MM-DD, YYYY-MM or YYYY",
                field.get_ref()
            );
            self.error(at, field.span(), msg);
        }
        date
    }

    fn source(&mut self, at: At, raw: Spanned<RawSource>) -> Option<Source> {
        let table = raw.span();
        let raw = raw.into_inner();
        let id = self.required(at, &table, "id", raw.id);
        let publisher = self.required(at, &table, "publisher", raw.publisher);
        let language = self.required(at, &table, "language", raw.language);
        let reliability = self
            .required(at, &table, "reliability", raw.reliability)
            .and_then(|r| {
                let parsed = Reliability::parse(r.get_ref());
                if parsed.is_none() {
                    let msg = format!(
                        "`reliability` = \"{}\" is not one of {}",
                        r.get_ref(),
                        Reliability::NAMES
                    );
                    self.error(at, r.span(), msg);
                }
                parsed
            });
        let published = self.date(at, "published", raw.published);
        if let Some(url) = &raw.url {
            let u = url.get_ref();
            if !(u.starts_with("https://") || u.starts_with("http://"))
                || u.contains(char::is_whitespace)
            {
                self.error(
                    at,
                    url.span(),
                    format!("`url` = \"{u}\" is not an http(s) URL"),
                );
            }
        }
        Some(Source {
            id: id?.into_inner(),
            publisher: publisher?.into_inner(),
            title: raw.title.map(Spanned::into_inner),
            url: raw.url.map(Spanned::into_inner),
            published,
            language: language?.into_inner(),
            reliability: reliability?,
            line: at.line_col(table.start).0,
        })
    }

    fn alias(&mut self, at: At, raw: Spanned<RawAlias>) -> Option<AliasGroup> {
        let table = raw.span();
        let mut names = Vec::new();
        for name in raw.into_inner().names {
            if name.get_ref().trim().is_empty() {
                self.error(at, name.span(), "an alias name is empty");
            } else {
                names.push(name.into_inner());
            }
        }
        if names.len() < 2 {
            self.error(at, table, "an alias group needs at least two names");
            return None;
        }
        Some(AliasGroup { names })
    }

    fn fact(
        &mut self,
        at: At,
        raw: Spanned<RawFact>,
        known_sources: &HashSet<&str>,
    ) -> Option<Fact> {
        let table = raw.span();
        let raw = raw.into_inner();
        let id = self.required(at, &table, "id", raw.id);
        if let Some(id) = &id
            && !id
                .get_ref()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            let msg = format!(
                "fact id \"{}\" must be lowercase letters, digits and hyphens",
                id.get_ref()
            );
            self.error(at, id.span(), msg);
        }
        let sources = self.fact_sources(at, &table, raw.sources, known_sources);
        let status = self
            .required(at, &table, "status", raw.status)
            .and_then(|s| {
                let parsed = Status::parse(s.get_ref());
                if parsed.is_none() {
                    self.error(
                        at,
                        s.span(),
                        format!(
                            "`status` = \"{}\" is not one of {}",
                            s.get_ref(),
                            Status::NAMES
                        ),
                    );
                }
                parsed
            });
        let date = self.date(at, "date", raw.date);
        let updated = self.date(at, "updated", raw.updated);
        let questions = self.questions(at, &table, raw.questions);
        let answer = self.answers(at, &table, raw.answer);
        let keywords = raw.keywords.map_or_else(PerLang::default, |k| {
            let [(_, ja), (_, zh), (_, en)] = k.take();
            PerLang {
                ja: ja.unwrap_or_default(),
                zh: zh.unwrap_or_default(),
                en: en.unwrap_or_default(),
            }
        });
        let (line, _) = at.line_col(table.start);
        Some(Fact {
            id: id?.into_inner(),
            sources: sources?,
            status: status?,
            date,
            updated,
            related: raw.related.into_iter().map(Spanned::into_inner).collect(),
            keywords,
            questions: questions?,
            answer: answer?,
            file: at.file.to_string(),
            line,
        })
    }

    fn fact_sources(
        &mut self,
        at: At,
        table: &Range<usize>,
        field: Option<Spanned<Vec<Spanned<String>>>>,
        known: &HashSet<&str>,
    ) -> Option<Vec<String>> {
        let Some(list) = field else {
            self.error(
                at,
                table.clone(),
                "missing `sources`: every fact cites at least one source",
            );
            return None;
        };
        if list.get_ref().is_empty() {
            self.error(
                at,
                list.span(),
                "`sources` is empty: every fact cites at least one source",
            );
            return None;
        }
        let mut ok = true;
        for s in list.get_ref() {
            if !known.contains(s.get_ref().as_str()) {
                self.error(
                    at,
                    s.span(),
                    format!(
                        "unknown source id \"{}\": it is not in sources.toml",
                        s.get_ref()
                    ),
                );
                ok = false;
            }
        }
        ok.then(|| {
            list.into_inner()
                .into_iter()
                .map(Spanned::into_inner)
                .collect()
        })
    }

    fn questions(
        &mut self,
        at: At,
        table: &Range<usize>,
        field: Option<Spanned<RawPerLang<Vec<Spanned<String>>>>>,
    ) -> Option<PerLang<Vec<String>>> {
        let Some(field) = field else {
            self.error(
                at,
                table.clone(),
                "missing `questions` (questions.ja, questions.zh, questions.en)",
            );
            return None;
        };
        let span = field.span();
        let mut out: PerLang<Vec<String>> = PerLang::default();
        let mut ok = true;
        for (lang, list) in field.into_inner().take() {
            let list = list.unwrap_or_default();
            if list.is_empty() {
                self.error(
                    at,
                    span.clone(),
                    format!("missing example questions in `questions.{lang}`"),
                );
                ok = false;
            }
            for q in &list {
                if q.get_ref().trim().is_empty() {
                    self.error(
                        at,
                        q.span(),
                        format!("an example question in `questions.{lang}` is empty"),
                    );
                    ok = false;
                }
            }
            let list = list.into_iter().map(Spanned::into_inner).collect();
            match lang {
                "ja" => out.ja = list,
                "zh" => out.zh = list,
                _ => out.en = list,
            }
        }
        ok.then_some(out)
    }

    fn answers(
        &mut self,
        at: At,
        table: &Range<usize>,
        field: Option<Spanned<RawPerLang<Spanned<String>>>>,
    ) -> Option<PerLang<String>> {
        let Some(field) = field else {
            self.error(
                at,
                table.clone(),
                "missing `answer` (answer.ja, answer.zh, answer.en)",
            );
            return None;
        };
        let span = field.span();
        let mut out: PerLang<String> = PerLang::default();
        let mut ok = true;
        for (lang, answer) in field.into_inner().take() {
            let text = match answer {
                None => {
                    self.error(at, span.clone(), format!("missing `answer.{lang}`"));
                    ok = false;
                    continue;
                }
                Some(a) if a.get_ref().trim().is_empty() => {
                    self.error(at, a.span(), format!("`answer.{lang}` is empty"));
                    ok = false;
                    continue;
                }
                Some(a) => a.into_inner().trim().to_string(),
            };
            match lang {
                "ja" => out.ja = text,
                "zh" => out.zh = text,
                _ => out.en = text,
            }
        }
        ok.then_some(out)
    }

    /// Checks that need every fact: duplicate ids, related ids, and example
    /// questions that two facts share.
    fn check_across_facts(&mut self, facts: &[Fact]) {
        let mut first_of: HashMap<&str, &Fact> = HashMap::new();
        for fact in facts {
            if let Some(first) = first_of.insert(&fact.id, fact) {
                let msg = format!(
                    "duplicate fact id \"{}\" (also at {}:{})",
                    fact.id, first.file, first.line
                );
                self.push_at_fact(Severity::Error, fact, msg);
            }
        }
        for fact in facts {
            for r in &fact.related {
                if !first_of.contains_key(r.as_str()) {
                    self.push_at_fact(
                        Severity::Error,
                        fact,
                        format!("`related` names unknown fact id \"{r}\""),
                    );
                }
            }
        }
        let mut seen: HashMap<String, &str> = HashMap::new();
        for fact in facts {
            for (_, list) in fact.questions.iter() {
                for q in list {
                    let key = text::normalize(q);
                    match seen.get(key.as_str()) {
                        Some(other) if *other != fact.id => {
                            let msg = format!(
                                "example question \"{q}\" is also an example of fact \"{other}\""
                            );
                            self.push_at_fact(Severity::Warning, fact, msg);
                        }
                        _ => {
                            seen.insert(key, &fact.id);
                        }
                    }
                }
            }
        }
    }

    fn push_at_fact(&mut self, severity: Severity, fact: &Fact, message: String) {
        let (file, line) = (fact.file.clone(), fact.line);
        self.diags.push(Diagnostic {
            severity,
            file,
            line,
            column: 1,
            message,
        });
    }
}
