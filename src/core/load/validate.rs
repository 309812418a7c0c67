//! Validating a knowledge directory's parsed files into facts, sources and
//! alias groups, with every problem located by file, line and column.

use super::claims;
use super::raw::{RawAlias, RawChatWord, RawEvent, RawFact, RawGap, RawPerLang, RawSource};
use super::{Diagnostic, Severity};
use crate::core::knowledge::{
    AliasGroup, ChatWord, Claim, Event, Fact, Gap, PartialDate, PerLang, Reliability, Source,
    Status,
};
use crate::core::{parallel, text};
use rustc_hash::FxHashMap;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use toml::Spanned;

/// One part of a file being checked (see [`super::raw::split`]): byte
/// offsets in its spans are relative to the part. It borrows the file's
/// text, so it is small and copied freely; nothing keeps it past its part.
#[derive(Debug, Clone, Copy)]
pub struct Checked<'a> {
    pub file: &'a str,
    pub text: &'a str,
    /// The file's line the part starts on.
    pub first_line: usize,
}

pub type At<'a> = &'a Checked<'a>;

impl Checked<'_> {
    /// The file's line and column of a byte offset in the part. Counting
    /// from the part's start is cheap because parts are small, and keeps no
    /// table of line starts (which for a file of empty lines would be eight
    /// times its size).
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line = before.bytes().filter(|b| *b == b'\n').count();
        (
            self.first_line + line,
            before[line_start..].chars().count() + 1,
        )
    }
}

/// At most this many errors are kept. Past it, errors are only counted (a
/// message is no use when it is the ten-thousandth of its kind, and a
/// file of nonsense would otherwise cost memory in proportion to its size),
/// and loading stops reading (see [`super::load`]).
pub const MAX_ERRORS: usize = 100;

/// Below this many facts per thread, normalising their example questions
/// on a thread of their own costs more than it saves.
const MIN_RUN: usize = 256;

/// The errors found and not kept: how many, and where the first one is.
#[derive(Debug)]
pub struct Untold {
    pub count: usize,
    pub file: String,
    pub line: usize,
    pub column: usize,
}

#[derive(Default)]
pub struct Validator {
    /// Every warning, and the first [`MAX_ERRORS`] errors.
    diags: Vec<Diagnostic>,
    /// The errors in `diags`.
    errors: usize,
    /// The errors found past [`MAX_ERRORS`].
    untold: Option<Untold>,
    /// Each source id seen, with its line, to report a second one.
    source_lines: HashMap<String, (String, usize)>,
    /// Each normalised alias name seen, with where.
    alias_names: HashMap<String, (String, usize)>,
    /// Each normalised chat phrase seen, with where.
    chat_phrases: HashMap<String, (String, usize)>,
}

impl Validator {
    /// Keeps a diagnostic, or only counts it if it is an error past
    /// [`MAX_ERRORS`].
    pub fn push(&mut self, d: Diagnostic) {
        if d.severity == Severity::Error {
            if self.is_full() {
                match &mut self.untold {
                    Some(untold) => untold.count += 1,
                    None => {
                        self.untold = Some(Untold {
                            count: 1,
                            file: d.file,
                            line: d.line,
                            column: d.column,
                        })
                    }
                }
                return;
            }
            self.errors += 1;
        }
        self.diags.push(d);
    }

    /// Whether [`MAX_ERRORS`] errors have been found: more are only counted.
    pub fn is_full(&self) -> bool {
        self.errors >= MAX_ERRORS
    }

    /// The diagnostics kept, in the order found, and the errors not kept.
    pub fn finish(self) -> (Vec<Diagnostic>, Option<Untold>) {
        (self.diags, self.untold)
    }

    fn report(
        &mut self,
        severity: Severity,
        at: At,
        span: Range<usize>,
        message: impl Into<String>,
    ) {
        // Locating costs a pass over the part: for an error that is only
        // counted, do it for the first one alone.
        if severity == Severity::Error
            && let Some(untold) = &mut self.untold
        {
            untold.count += 1;
            return;
        }
        let (line, column) = at.line_col(span.start);
        self.push(Diagnostic {
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

    /// Parses one part of a file; a syntax or schema error is reported.
    pub fn parse<T: serde::de::DeserializeOwned>(&mut self, at: At) -> Option<T> {
        self.parsed(at, super::raw::parse(at.text))
    }

    /// [`Validator::parse`] for a part parsed already (see
    /// [`super::raw::parse`]).
    pub fn parsed<T>(&mut self, at: At, parsed: super::raw::Parsed<T>) -> Option<T> {
        match parsed {
            Ok(v) => Some(v),
            Err((message, span)) => {
                self.error(at, span, message);
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

    pub fn source(&mut self, at: At, raw: Spanned<RawSource>) -> Option<Source> {
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
        if let Some(url) = &raw.url
            && let Err(why) = check_url(url.get_ref())
        {
            let msg = format!("`url` = \"{}\" is not an http(s) URL: {why}", url.get_ref());
            self.error(at, url.span(), msg);
        }
        match (&raw.url, &raw.no_url) {
            (Some(_), Some(no_url)) => {
                self.error(
                    at,
                    no_url.span(),
                    "a source has `url` or `no_url`, not both",
                );
            }
            (None, Some(no_url)) if no_url.get_ref().trim().is_empty() => {
                self.error(
                    at,
                    no_url.span(),
                    "`no_url` is empty: say why the source has no URL",
                );
            }
            _ => {}
        }
        let line = at.line_col(table.start).0;
        if let Some(id) = &id {
            let here = (at.file.to_string(), line);
            if let Some((file, first)) = self.source_lines.get(id.get_ref()) {
                let msg = format!(
                    "duplicate source id \"{}\" (also at {file}:{first})",
                    id.get_ref()
                );
                self.error(at, id.span(), msg);
                return None;
            }
            self.source_lines.insert(id.get_ref().clone(), here);
        }
        Some(Source {
            id: id?.into_inner(),
            publisher: publisher?.into_inner(),
            title: raw.title.map(Spanned::into_inner),
            url: raw.url.map(Spanned::into_inner),
            no_url: raw.no_url.map(Spanned::into_inner),
            published,
            language: language?.into_inner(),
            reliability: reliability?,
            line,
        })
    }

    pub fn alias(&mut self, at: At, raw: Spanned<RawAlias>) -> Option<AliasGroup> {
        let table = raw.span();
        let group_line = at.line_col(table.start).0;
        let mut names = Vec::new();
        for name in raw.into_inner().names {
            if name.get_ref().trim().is_empty() {
                self.error(at, name.span(), "an alias name is empty");
                continue;
            }
            // One name in two groups would make the two groups one term
            // for some questions and not others.
            let key = text::normalize(name.get_ref());
            match self.alias_names.get(&key) {
                Some((file, line)) if (file.as_str(), *line) != (at.file, group_line) => {
                    let msg = format!(
                        "alias name \"{}\" is also in the group at {file}:{line}; a name belongs to one group",
                        name.get_ref()
                    );
                    self.error(at, name.span(), msg);
                }
                _ => {
                    self.alias_names
                        .insert(key, (at.file.to_string(), group_line));
                }
            }
            names.push(name.into_inner());
        }
        if names.len() < 2 {
            self.error(at, table, "an alias group needs at least two names");
            return None;
        }
        Some(AliasGroup { names })
    }

    pub fn gap(&mut self, at: At, raw: Spanned<RawGap>) -> Option<Gap> {
        let table = raw.span();
        let mut asks = Vec::new();
        for ask in raw.into_inner().asks {
            if text::normalize(ask.get_ref()).is_empty() {
                self.error(
                    at,
                    ask.span(),
                    "a gap question is empty (or only punctuation)",
                );
                continue;
            }
            asks.push(ask.into_inner());
        }
        if asks.is_empty() {
            self.error(at, table, "a gap needs at least one question in `asks`");
            return None;
        }
        Some(Gap { asks })
    }

    pub fn chat_word(&mut self, at: At, raw: Spanned<RawChatWord>) -> Option<ChatWord> {
        let table = raw.span();
        let line = at.line_col(table.start).0;
        let raw = raw.into_inner();
        let mut said = Vec::new();
        for phrase in raw.said {
            let key = text::normalize(phrase.get_ref());
            if key.is_empty() {
                self.error(
                    at,
                    phrase.span(),
                    "a chat phrase is empty (or only punctuation)",
                );
                continue;
            }
            // One phrase with two meanings would depend on file order.
            match self.chat_phrases.get(&key) {
                Some((file, first)) if (file.as_str(), *first) != (at.file, line) => {
                    let msg = format!(
                        "chat phrase \"{}\" is also said at {file}:{first}; a phrase has one meaning",
                        phrase.get_ref()
                    );
                    self.error(at, phrase.span(), msg);
                }
                _ => {
                    self.chat_phrases.insert(key, (at.file.to_string(), line));
                }
            }
            said.push(phrase.into_inner());
        }
        if said.is_empty() {
            self.error(at, table, "a chat word needs at least one phrase in `said`");
            return None;
        }
        Some(ChatWord {
            said,
            means: raw.means.into_inner(),
        })
    }

    pub fn fact(
        &mut self,
        at: At,
        raw: Spanned<RawFact>,
        known_sources: &HashSet<String>,
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
        let answer = self.answers(at, &table, raw.answer, sources.as_deref(), known_sources);
        let events = self.events(at, raw.event, sources.as_deref());
        let keywords = raw.keywords.map_or_else(PerLang::default, |k| {
            let [(_, ja), (_, zh), (_, en)] = k.take();
            PerLang {
                ja: ja.unwrap_or_default(),
                zh: zh.unwrap_or_default(),
                en: en.unwrap_or_default(),
            }
        });
        let (line, _) = at.line_col(table.start);
        let (answer, claims) = answer?;
        Some(Fact {
            id: id?.into_inner(),
            sources: sources?,
            status: status?,
            date,
            updated,
            related: raw.related.into_iter().map(Spanned::into_inner).collect(),
            keywords,
            questions: questions?,
            answer,
            claims,
            events: events?,
            file: at.file.to_string(),
            line,
        })
    }

    fn fact_sources(
        &mut self,
        at: At,
        table: &Range<usize>,
        field: Option<Spanned<Vec<Spanned<String>>>>,
        known: &HashSet<String>,
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
            put(&mut out, lang, list);
        }
        ok.then_some(out)
    }

    /// The answers as members read them and as claims, each claim citing
    /// sources the fact lists, and every listed source cited in every
    /// language (so the three languages cite the same sources).
    fn answers(
        &mut self,
        at: At,
        table: &Range<usize>,
        field: Option<Spanned<RawPerLang<Spanned<String>>>>,
        listed: Option<&[String]>,
        known: &HashSet<String>,
    ) -> Option<(PerLang<String>, PerLang<Vec<Claim>>)> {
        let Some(field) = field else {
            self.error(
                at,
                table.clone(),
                "missing `answer` (answer.ja, answer.zh, answer.en)",
            );
            return None;
        };
        let span = field.span();
        let mut out: PerLang<Vec<Claim>> = PerLang::default();
        let mut ok = true;
        for (lang, answer) in field.into_inner().take() {
            let claims = match answer {
                None => {
                    self.error(at, span.clone(), format!("missing `answer.{lang}`"));
                    None
                }
                Some(a) if a.get_ref().trim().is_empty() => {
                    self.error(at, a.span(), format!("`answer.{lang}` is empty"));
                    None
                }
                Some(a) => self.claims(at, lang, &a, listed, known),
            };
            let Some(claims) = claims else {
                ok = false;
                continue;
            };
            put(&mut out, lang, claims);
        }
        if !ok {
            return None;
        }
        let joined = |claims: &[Claim]| claims.iter().map(|c| c.text.as_str()).collect();
        let text = PerLang {
            ja: joined(&out.ja),
            zh: joined(&out.zh),
            en: joined(&out.en),
        };
        Some((text, out))
    }

    /// One answer's claims, with its markers checked against the fact's
    /// sources.
    fn claims(
        &mut self,
        at: At,
        lang: &str,
        answer: &Spanned<String>,
        listed: Option<&[String]>,
        known: &HashSet<String>,
    ) -> Option<Vec<Claim>> {
        let literal = &at.text[answer.span()];
        let place = |bracket| answer.span().start + claims::locate(literal, bracket);
        let claims = match claims::parse(answer.get_ref()) {
            Ok(claims) => claims,
            Err(e) => {
                self.error(
                    at,
                    place(e.at)..place(e.at),
                    format!("`answer.{lang}`: {}", e.message),
                );
                return None;
            }
        };
        // Without a valid `sources` list, that list's own error says enough.
        let listed = listed?;
        let mut ok = true;
        for (n, claim) in claims.iter().enumerate() {
            for id in &claim.sources {
                if listed.contains(id) {
                    continue;
                }
                let why = if known.contains(id) {
                    "which this fact's `sources` does not list"
                } else {
                    "an unknown source id: it is not in sources.toml"
                };
                let at_marker = place(claims::Bracket::Open(n));
                self.error(
                    at,
                    at_marker..at_marker,
                    format!("`answer.{lang}` cites \"{id}\", {why}"),
                );
                ok = false;
            }
        }
        for id in listed {
            if !claims.iter().any(|c| c.sources.contains(id)) {
                self.error(
                    at,
                    answer.span(),
                    format!(
                        "`answer.{lang}` never cites \"{id}\", which the fact lists in `sources`: every language cites every listed source"
                    ),
                );
                ok = false;
            }
        }
        ok.then_some(claims)
    }

    /// The fact's `[[fact.event]]` tables.
    fn events(
        &mut self,
        at: At,
        raw: Vec<Spanned<RawEvent>>,
        listed: Option<&[String]>,
    ) -> Option<Vec<Event>> {
        let mut events = Vec::new();
        let mut ok = true;
        for event in raw {
            match self.event(at, event, listed) {
                Some(e) => events.push(e),
                None => ok = false,
            }
        }
        ok.then_some(events)
    }

    fn event(
        &mut self,
        at: At,
        raw: Spanned<RawEvent>,
        listed: Option<&[String]>,
    ) -> Option<Event> {
        let table = raw.span();
        let raw = raw.into_inner();
        let date = match raw.date {
            None => {
                self.error(
                    at,
                    table.clone(),
                    "an event needs a `date` (YYYY, YYYY-MM or YYYY-MM-DD)",
                );
                None
            }
            Some(d) => self.date(at, "date", Some(d)),
        };
        let sources = match raw.sources {
            None => {
                self.error(
                    at,
                    table.clone(),
                    "an event needs `sources`: the sources that give its date",
                );
                None
            }
            Some(list) if list.get_ref().is_empty() => {
                self.error(at, list.span(), "an event's `sources` is empty");
                None
            }
            Some(list) => {
                let mut ok = true;
                for id in list.get_ref() {
                    if listed.is_some_and(|l| !l.contains(id.get_ref())) {
                        let msg = format!(
                            "event source \"{}\" is not in this fact's `sources`",
                            id.get_ref()
                        );
                        self.error(at, id.span(), msg);
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
        };
        let text = self.event_text(at, &table, raw.text);
        Some(Event {
            date: date?,
            disputed: raw.disputed,
            text: text?,
            sources: sources?,
        })
    }

    /// An event's one line per language: plain text, since the event's
    /// `sources` cite it.
    fn event_text(
        &mut self,
        at: At,
        table: &Range<usize>,
        field: Option<Spanned<RawPerLang<Spanned<String>>>>,
    ) -> Option<PerLang<String>> {
        let Some(field) = field else {
            self.error(
                at,
                table.clone(),
                "an event needs `text` (text.ja, text.zh, text.en)",
            );
            return None;
        };
        let span = field.span();
        let mut out: PerLang<String> = PerLang::default();
        let mut ok = true;
        for (lang, text) in field.into_inner().take() {
            let text = match text {
                Some(t) if t.get_ref().contains(['[', ']']) => {
                    let msg = format!(
                        "event `text.{lang}` has a marker: an event cites through its `sources`"
                    );
                    self.error(at, t.span(), msg);
                    None
                }
                Some(t) if !t.get_ref().trim().is_empty() => {
                    Some(t.into_inner().trim().to_string())
                }
                Some(t) => {
                    self.error(at, t.span(), format!("event `text.{lang}` is empty"));
                    None
                }
                None => {
                    self.error(at, span.clone(), format!("missing event `text.{lang}`"));
                    None
                }
            };
            let Some(text) = text else {
                ok = false;
                continue;
            };
            put(&mut out, lang, text);
        }
        ok.then_some(out)
    }

    /// Checks that need every fact: duplicate ids, related ids, and example
    /// questions that two facts share.
    pub fn check_across_facts(&mut self, facts: &[Fact]) {
        let mut first_of: FxHashMap<&str, &Fact> =
            FxHashMap::with_capacity_and_hasher(facts.len(), Default::default());
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
        self.check_shared_questions(facts);
    }

    /// Warns of an example question that two facts share (as normalised).
    /// Normalising every example question is most of what checking a big
    /// base costs: it is done on every core, and the check after, in order.
    fn check_shared_questions(&mut self, facts: &[Fact]) {
        let keys = parallel::in_runs(facts, MIN_RUN, |_, facts| {
            let questions = facts.iter().flat_map(|f| f.questions.iter());
            let questions = questions.flat_map(|(_, list)| list);
            questions.map(|q| text::normalize(q)).collect::<Vec<_>>()
        });
        let count = keys.iter().map(Vec::len).sum();
        let mut keys = keys.into_iter().flatten();
        let mut seen: FxHashMap<String, &str> =
            FxHashMap::with_capacity_and_hasher(count, Default::default());
        for fact in facts {
            for (_, list) in fact.questions.iter() {
                for q in list {
                    let key = keys.next().expect("one key per example question");
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
        self.push(Diagnostic {
            severity,
            file: fact.file.clone(),
            line: fact.line,
            column: 1,
            message,
        });
    }
}

/// Sets one language's value, named as in the TOML keys.
fn put<T>(out: &mut PerLang<T>, lang: &str, value: T) {
    match lang {
        "ja" => out.ja = value,
        "zh" => out.zh = value,
        _ => out.en = value,
    }
}

/// An http(s) URL with a host: what a member can open.
fn check_url(u: &str) -> Result<(), String> {
    let parsed = url::Url::parse(u).map_err(|e| e.to_string())?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("the scheme is {}", parsed.scheme()));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("it has no host".into());
    }
    if u.contains(char::is_whitespace) {
        return Err("it contains a space".into());
    }
    Ok(())
}
