//! The validated fact base: facts, their sources, and alias groups.
//!
//! These types are only built by [`crate::core::load`], after every check has
//! passed, so a `FactBase` in hand is always whole: every fact has text in all
//! three languages and every source id it names exists.

use super::lang::Lang;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;

/// One value per reply language.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct PerLang<T> {
    pub ja: T,
    pub zh: T,
    pub en: T,
}

impl<T> PerLang<T> {
    pub fn get(&self, lang: Lang) -> &T {
        match lang {
            Lang::Ja => &self.ja,
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (Lang, &T)> {
        [
            (Lang::Ja, &self.ja),
            (Lang::Zh, &self.zh),
            (Lang::En, &self.en),
        ]
        .into_iter()
    }
}

/// How sure the fact base is of a fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Confirmed,
    Reported,
    Disputed,
    /// Withdrawn by the moderators: never answered again, and earlier
    /// answers are edited to say so.
    Retracted,
}

impl Status {
    pub const NAMES: &'static str = "\"confirmed\", \"reported\", \"disputed\" or \"retracted\"";

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "confirmed" => Some(Status::Confirmed),
            "reported" => Some(Status::Reported),
            "disputed" => Some(Status::Disputed),
            "retracted" => Some(Status::Retracted),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Confirmed => "confirmed",
            Status::Reported => "reported",
            Status::Disputed => "disputed",
            Status::Retracted => "retracted",
        }
    }
}

/// What kind of publisher a source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reliability {
    Official,
    Press,
    SelfPublished,
}

impl Reliability {
    pub const NAMES: &'static str = "\"official\", \"press\" or \"self-published\"";

    pub fn parse(s: &str) -> Option<Reliability> {
        match s {
            "official" => Some(Reliability::Official),
            "press" => Some(Reliability::Press),
            "self-published" => Some(Reliability::SelfPublished),
            _ => None,
        }
    }
}

/// A date as precise as the source gives it: a year, a month or a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartialDate {
    pub year: u16,
    pub month: Option<u8>,
    pub day: Option<u8>,
}

impl PartialDate {
    /// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, checking the calendar.
    pub fn parse(s: &str) -> Option<PartialDate> {
        let mut parts = s.split('-');
        let year = parse_digits(parts.next()?, 4)?;
        let month = match parts.next() {
            Some(m) => Some(parse_digits(m, 2).filter(|m| (1..=12).contains(m))?),
            None => None,
        };
        let day = match parts.next() {
            Some(d) => Some(parse_digits(d, 2)?),
            None => None,
        };
        if parts.next().is_some() {
            return None;
        }
        if let (Some(m), Some(d)) = (month, day)
            && (d == 0 || d > days_in_month(year, m))
        {
            return None;
        }
        Some(PartialDate {
            year,
            month: month.map(|m| m as u8),
            day: day.map(|d| d as u8),
        })
    }
}

fn parse_digits(s: &str, len: usize) -> Option<u16> {
    (s.len() == len && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
}

fn days_in_month(year: u16, month: u16) -> u16 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl PartialDate {
    /// Days since 1970-01-01 of the date's first day (a missing month or
    /// day counts as the first), by Howard Hinnant's civil-date algorithm.
    pub fn days_since_epoch(&self) -> i64 {
        let (m, d) = (
            i64::from(self.month.unwrap_or(1)),
            i64::from(self.day.unwrap_or(1)),
        );
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(m) = self.month {
            write!(f, "-{m:02}")?;
        }
        if let Some(d) = self.day {
            write!(f, "-{d:02}")?;
        }
        Ok(())
    }
}

impl Serialize for PartialDate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A publication a fact rests on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    pub id: String,
    pub publisher: String,
    pub title: Option<String>,
    pub url: Option<String>,
    /// Why the source has no URL (`no_url` in the TOML), which silences the
    /// check's warning: the moderators know, and said why.
    #[serde(skip)]
    pub no_url: Option<String>,
    pub published: Option<PartialDate>,
    pub language: String,
    pub reliability: Reliability,
    /// Where the source was defined, for moderators' messages.
    #[serde(skip)]
    pub line: usize,
}

/// One curated, cited answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    pub id: String,
    pub sources: Vec<String>,
    pub status: Status,
    pub date: Option<PartialDate>,
    pub updated: Option<PartialDate>,
    pub related: Vec<String>,
    pub keywords: PerLang<Vec<String>>,
    pub questions: PerLang<Vec<String>>,
    /// The answer as members read it: the claims' texts joined, without
    /// their citation markers. Matching and embeddings read this.
    pub answer: PerLang<String>,
    /// The same answer as claims, each with the sources it rests on.
    pub claims: PerLang<Vec<Claim>>,
    /// The dated events this fact tells of, for the timeline.
    pub events: Vec<Event>,
    /// Where the fact was defined, for moderators' messages.
    pub file: String,
    pub line: usize,
}

/// One sentence (or a few) of an answer and the sources that support it,
/// written in the TOML as `text [source-id, other-id]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Claim {
    /// The claim's text as it stands in the answer, marker removed: the
    /// texts of an answer's claims joined make up the answer.
    pub text: String,
    /// Source ids, in the order the marker names them.
    pub sources: Vec<String>,
}

/// A dated event of the story (`[[fact.event]]`), one line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub date: PartialDate,
    /// The sources disagree on this date; the timeline says so.
    pub disputed: bool,
    /// One short line per language, without citation markers.
    pub text: PerLang<String>,
    /// The sources that give this date (a subset of the fact's).
    pub sources: Vec<String>,
}

/// Names of one person, place or thing across languages and scripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasGroup {
    pub names: Vec<String>,
}

/// Chat words (`chat.toml`): what members type that the facts never say.
/// Each phrase in `said` is read as `means` before matching; an empty
/// `means` makes the phrases weigh nothing (greetings, fillers, particles).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatWord {
    pub said: Vec<String>,
    pub means: String,
}

/// A gap (`gaps.toml`): questions close to the story that the sources do
/// not answer ("who is prime minister now", "the Moscow centre's student
/// numbers"). A question nearer to one of these than to any fact's example
/// questions is declined: they share names with the facts, so coverage
/// alone would answer them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    pub asks: Vec<String>,
}

/// A whole, validated fact base.
#[derive(Debug, Clone)]
pub struct FactBase {
    facts: Vec<Fact>,
    sources: Vec<Source>,
    aliases: Vec<AliasGroup>,
    chat: Vec<ChatWord>,
    gaps: Vec<Gap>,
    by_id: HashMap<String, usize>,
    revision: String,
}

impl FactBase {
    /// Assembles a base from parts that [`crate::core::load`] has validated.
    pub(crate) fn new(
        facts: Vec<Fact>,
        sources: Vec<Source>,
        aliases: Vec<AliasGroup>,
        chat: Vec<ChatWord>,
        gaps: Vec<Gap>,
        revision: String,
    ) -> FactBase {
        let by_id = facts
            .iter()
            .enumerate()
            .map(|(i, f)| (f.id.clone(), i))
            .collect();
        FactBase {
            facts,
            sources,
            aliases,
            chat,
            gaps,
            by_id,
            revision,
        }
    }

    pub fn facts(&self) -> &[Fact] {
        &self.facts
    }

    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    pub fn aliases(&self) -> &[AliasGroup] {
        &self.aliases
    }

    pub fn chat(&self) -> &[ChatWord] {
        &self.chat
    }

    pub fn gaps(&self) -> &[Gap] {
        &self.gaps
    }

    pub fn fact(&self, id: &str) -> Option<&Fact> {
        self.by_id.get(id).map(|&i| &self.facts[i])
    }

    pub fn source(&self, id: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.id == id)
    }

    /// The sources a fact cites, in the order it cites them.
    pub fn sources_of<'a>(&'a self, fact: &'a Fact) -> impl Iterator<Item = &'a Source> + 'a {
        fact.sources.iter().filter_map(|id| self.source(id))
    }

    /// A short content hash, so operators and moderators can tell bases apart.
    pub fn revision(&self) -> &str {
        &self.revision
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_dates_parse_and_print() {
        assert_eq!(
            PartialDate::parse("2025-01-19").unwrap().to_string(),
            "2025-01-19"
        );
        assert_eq!(
            PartialDate::parse("2025-09").unwrap().to_string(),
            "2025-09"
        );
        assert_eq!(PartialDate::parse("2000").unwrap().to_string(), "2000");
        assert_eq!(PartialDate::parse("2024-02-29").unwrap().day, Some(29));
    }

    #[test]
    fn days_since_epoch_counts_calendar_days() {
        assert_eq!(
            PartialDate::parse("1970-01-01").unwrap().days_since_epoch(),
            0
        );
        assert_eq!(
            PartialDate::parse("2000-03-01").unwrap().days_since_epoch(),
            11_017
        );
        let a = PartialDate::parse("2025-01-19").unwrap().days_since_epoch();
        assert_eq!(
            PartialDate::parse("2026-01-19").unwrap().days_since_epoch() - a,
            365
        );
    }

    #[test]
    fn impossible_dates_are_rejected() {
        for bad in [
            "2025-13",
            "2025-02-30",
            "2023-02-29",
            "25-01-01",
            "2025/01/19",
            "2025-1-9",
            "",
        ] {
            assert_eq!(PartialDate::parse(bad), None, "{bad}");
        }
    }
}
