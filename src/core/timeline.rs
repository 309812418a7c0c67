//! The story in order: every dated event of the fact base (`[[fact.event]]`),
//! sorted by date, in one language. Pure: a fact base and a language in,
//! lines out; each adapter lays the lines out for its platform.
//!
//! Dates are printed as the sources give them (`YYYY`, `YYYY-MM` or
//! `YYYY-MM-DD`) and sorted so that a less precise date comes before a more
//! precise one in the same period (`2025`, `2025-01`, `2025-01-19`,
//! `2025-02`); events on the same date are ordered by fact id, and a fact's
//! own events keep their order. A retracted fact's events are left out, as
//! its answer is.

use super::knowledge::{FactBase, PartialDate, Status};
use super::lang::Lang;
use super::messages;
use serde::Serialize;

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub date: PartialDate,
    /// The id of the fact that tells of the event (`/sources` takes it).
    pub fact: String,
    /// The event in the asked language.
    pub text: String,
    /// The sources disagree on the date.
    pub disputed: bool,
    /// The ids of the sources that give the date.
    pub sources: Vec<String>,
}

/// Every event of the base's facts that can be answered, in date order,
/// in `lang`.
pub fn timeline(base: &FactBase, lang: Lang) -> Vec<Entry> {
    let mut entries: Vec<Entry> = base
        .facts()
        .iter()
        .filter(|f| f.status != Status::Retracted)
        .flat_map(|f| {
            f.events.iter().map(move |e| Entry {
                date: e.date,
                fact: f.id.clone(),
                text: e.text.get(lang).trim().to_string(),
                disputed: e.disputed,
                sources: e.sources.clone(),
            })
        })
        .collect();
    // `PartialDate` orders a missing month or day first, which is the
    // order wanted; the sort is stable, so a fact's events keep theirs.
    entries.sort_by(|a, b| a.date.cmp(&b.date).then_with(|| a.fact.cmp(&b.fact)));
    entries
}

impl Entry {
    /// The date as printed, with the "disputed" label when it is.
    pub fn date_label(&self, lang: Lang) -> String {
        messages::date_label(lang, &self.date.to_string(), self.disputed)
    }

    /// The entry as one line of plain text:
    /// `1994 (disputed) — The first centre opened. · founding`.
    pub fn to_line(&self, lang: Lang) -> String {
        format!("{} — {} · {}", self.date_label(lang), self.text, self.fact)
    }
}

/// The whole timeline as plain text: a heading and one line per event, or
/// a sentence saying there are none.
pub fn to_text(entries: &[Entry], lang: Lang) -> String {
    let m = messages::get(lang);
    if entries.is_empty() {
        return m.timeline_empty.to_string();
    }
    let mut out = m.timeline.to_string();
    for entry in entries {
        out.push('\n');
        out.push_str(&entry.to_line(lang));
    }
    out
}

/// The `kotae timeline --json` array: `date`, `fact`, `text`, `disputed`
/// and `sources` per event.
pub fn to_json(entries: &[Entry]) -> serde_json::Value {
    serde_json::to_value(entries).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::knowledge::{Event, Fact, PerLang, Reliability, Source};

    fn date(s: &str) -> PartialDate {
        PartialDate::parse(s).unwrap()
    }

    fn event(when: &str, disputed: bool, en: &str) -> Event {
        Event {
            date: date(when),
            disputed,
            text: PerLang {
                ja: format!("{en}(ja)"),
                zh: format!("{en}(zh)"),
                en: en.to_string(),
            },
            sources: vec!["s".to_string()],
        }
    }

    fn fact(id: &str, status: Status, events: Vec<Event>) -> Fact {
        Fact {
            id: id.to_string(),
            sources: vec!["s".to_string()],
            status,
            date: None,
            updated: None,
            related: Vec::new(),
            keywords: PerLang::default(),
            questions: PerLang::default(),
            answer: PerLang::default(),
            claims: PerLang::default(),
            events,
            file: "facts/test.toml".to_string(),
            line: 1,
        }
    }

    fn base(facts: Vec<Fact>) -> FactBase {
        let source = Source {
            id: "s".to_string(),
            publisher: "P".to_string(),
            title: None,
            url: None,
            no_url: None,
            published: None,
            language: "en".to_string(),
            reliability: Reliability::Press,
            line: 1,
        };
        FactBase::new(
            facts,
            vec![source],
            Vec::new(),
            Vec::new(),
            Vec::new(),
            "r".into(),
        )
    }

    fn order(entries: &[Entry]) -> Vec<String> {
        entries
            .iter()
            .map(|e| format!("{} {}", e.date, e.fact))
            .collect()
    }

    #[test]
    fn events_sort_by_date_less_precise_first_then_by_fact() {
        let b = base(vec![
            fact(
                "zeta",
                Status::Confirmed,
                vec![event("2025-01-19", false, "day"), event("2025", false, "y")],
            ),
            fact(
                "alpha",
                Status::Reported,
                vec![
                    event("2025-01", false, "month"),
                    event("2025-01-19", false, "d"),
                ],
            ),
            fact(
                "beta",
                Status::Disputed,
                vec![event("1994", true, "first"), event("2025-02", false, "feb")],
            ),
        ]);
        assert_eq!(
            order(&timeline(&b, Lang::En)),
            [
                "1994 beta",
                "2025 zeta",
                "2025-01 alpha",
                "2025-01-19 alpha",
                "2025-01-19 zeta",
                "2025-02 beta",
            ]
        );
    }

    #[test]
    fn a_facts_own_events_on_one_date_keep_their_order() {
        let b = base(vec![fact(
            "f",
            Status::Confirmed,
            vec![event("2000", false, "second"), event("2000", true, "third")],
        )]);
        let texts: Vec<String> = timeline(&b, Lang::En).into_iter().map(|e| e.text).collect();
        assert_eq!(texts, ["second", "third"]);
    }

    #[test]
    fn retracted_facts_tell_no_events() {
        let b = base(vec![
            fact("gone", Status::Retracted, vec![event("2001", false, "x")]),
            fact("kept", Status::Confirmed, vec![event("2002", false, "y")]),
        ]);
        assert_eq!(order(&timeline(&b, Lang::En)), ["2002 kept"]);
    }

    #[test]
    fn lines_carry_date_label_text_and_fact_in_the_asked_language() {
        let b = base(vec![fact(
            "founding",
            Status::Disputed,
            vec![
                event("1994", true, "First centre"),
                event("2000-03", false, "ANO"),
            ],
        )]);
        let ja = timeline(&b, Lang::Ja);
        assert_eq!(
            ja[0].to_line(Lang::Ja),
            "1994（諸説あり） — First centre(ja) · founding"
        );
        assert_eq!(ja[1].to_line(Lang::Ja), "2000-03 — ANO(ja) · founding");
        let zh = timeline(&b, Lang::Zh);
        assert_eq!(zh[0].date_label(Lang::Zh), "1994（存在争议）");
        let en = timeline(&b, Lang::En);
        let text = to_text(&en, Lang::En);
        assert_eq!(
            text,
            "The story in date order:\n\
             1994 (disputed) — First centre · founding\n\
             2000-03 — ANO · founding"
        );
        assert_eq!(
            to_text(&[], Lang::Zh),
            messages::get(Lang::Zh).timeline_empty
        );
    }

    #[test]
    fn json_has_date_fact_text_disputed_and_sources() {
        let b = base(vec![fact(
            "f",
            Status::Confirmed,
            vec![event("2025-09-19", true, "Closed")],
        )]);
        let json = to_json(&timeline(&b, Lang::En));
        assert_eq!(
            json,
            serde_json::json!([{
                "date": "2025-09-19",
                "fact": "f",
                "text": "Closed",
                "disputed": true,
                "sources": ["s"],
            }])
        );
    }
}
