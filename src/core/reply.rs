//! The platform-neutral reply: what the core says, before any adapter
//! formats it. Adapters read these fields; [`Reply::to_text`] and
//! [`Reply::to_json`] are the console and command-line renderings.

use super::knowledge::{Claim, PartialDate, Reliability, Source, Status};
use super::lang::Lang;
use super::messages;
use serde::Serialize;
use serde_json::json;
use std::fmt::Write;

/// The core's reply to one question.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub question: String,
    pub lang: Lang,
    /// The best candidate's confidence, whether or not it was good enough.
    pub score: f32,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Answer(Answer),
    /// No fact covers the question; up to three it can answer instead.
    Decline {
        suggestions: Vec<Suggestion>,
    },
}

/// A sourced answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub fact_id: String,
    /// The answer as read, without markers: the claims' texts joined.
    pub text: String,
    /// The same text as claims, each citing some of `sources`.
    pub claims: Vec<Claim>,
    pub status: Status,
    pub updated: Option<PartialDate>,
    pub sources: Vec<Source>,
    /// Another fact that came close and may be what the member meant,
    /// offered under the answer by one of its example questions. `None`
    /// when the answer stands alone, and always in a correction, which
    /// re-renders the answer only.
    pub see_also: Option<Suggestion>,
}

/// A question the bot can answer, offered when it declines (and, as "see
/// also", beside an answer).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    pub fact_id: String,
    pub question: String,
    /// How close the fact came to answering; 0 when offered as a default.
    pub score: f32,
}

/// Why an answer needs a caveat. (That a claim rests on self-published
/// sources only is said at the claim: see [`Marker`].)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    Disputed,
}

impl Answer {
    pub fn note(&self) -> Option<Note> {
        (self.status == Status::Disputed).then_some(Note::Disputed)
    }

    /// Each claim with its marker, for a renderer to draw.
    pub fn marked(&self) -> Vec<Marker<'_>> {
        self.claims
            .iter()
            .map(|claim| {
                let cited: Vec<(usize, &Source)> = self
                    .sources
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| claim.sources.contains(&s.id))
                    .map(|(i, s)| (i + 1, s))
                    .collect();
                Marker {
                    claim,
                    self_published: !cited.is_empty()
                        && cited
                            .iter()
                            .all(|(_, s)| s.reliability == Reliability::SelfPublished),
                    cited,
                }
            })
            .collect()
    }

    /// The text with plain markers (`… 2025.[1] …[2: self-published]`), as
    /// every plain-text body shows it.
    pub fn plain_text(&self, lang: Lang) -> String {
        let mut out = String::with_capacity(self.text.len() + 8 * self.claims.len());
        for marker in self.marked() {
            out.push_str(&marker.claim.text);
            out.push_str(&marker.plain(lang));
        }
        out
    }
}

/// A claim and how its citation reads: the numbers of its sources in the
/// answer's list, and whether they are all self-published (which the
/// member is told at the claim, in their language).
#[derive(Debug, Clone)]
pub struct Marker<'a> {
    pub claim: &'a Claim,
    /// (number in the answer's source list, the source), in list order.
    pub cited: Vec<(usize, &'a Source)>,
    pub self_published: bool,
}

impl Marker<'_> {
    /// The marker with each number drawn by `number`: `[1]`, `[1, 2]`,
    /// `[2: self-published]`. Renderers pass a link-drawing `number` and
    /// the brackets their markup needs (Discord's markdown escapes them).
    pub fn render(
        &self,
        lang: Lang,
        (open, close): (&str, &str),
        number: impl Fn(usize, &Source) -> String,
    ) -> String {
        if self.cited.is_empty() {
            return String::new();
        }
        let numbers: Vec<String> = self.cited.iter().map(|(n, s)| number(*n, s)).collect();
        let (comma, colon) = match lang {
            Lang::En => (", ", ": "),
            Lang::Ja | Lang::Zh => (", ", "："),
        };
        let mut out = format!("{open}{}", numbers.join(comma));
        if self.self_published {
            out.push_str(colon);
            out.push_str(messages::get(lang).self_published);
        }
        out.push_str(close);
        out
    }

    pub fn plain(&self, lang: Lang) -> String {
        self.render(lang, ("[", "]"), |n, _| n.to_string())
    }
}

impl Note {
    pub fn text(self, lang: Lang) -> &'static str {
        let m = messages::get(lang);
        match self {
            Note::Disputed => m.note_disputed,
        }
    }
}

/// A source as one line: publisher, title, date.
pub fn source_label(source: &Source) -> String {
    let mut label = source.publisher.clone();
    if let Some(title) = &source.title {
        let _ = write!(label, "「{title}」");
    }
    if let Some(date) = source.published {
        let _ = write!(label, " ({date})");
    }
    label
}

/// The numbered sources as plain text, each on a line of its own
/// (`\n  [1] publisher「title」 (date) url`), as every plain-text reply
/// lists them.
pub fn plain_sources(sources: &[Source]) -> String {
    let mut out = String::new();
    for (i, s) in sources.iter().enumerate() {
        let _ = write!(out, "\n  [{}] {}", i + 1, source_label(s));
        if let Some(url) = &s.url {
            let _ = write!(out, " {url}");
        }
    }
    out
}

impl Reply {
    pub fn answer(&self) -> Option<&Answer> {
        match &self.outcome {
            Outcome::Answer(a) => Some(a),
            Outcome::Decline { .. } => None,
        }
    }

    /// Plain text, as the console shows it.
    pub fn to_text(&self) -> String {
        let m = messages::get(self.lang);
        let mut out = String::new();
        match &self.outcome {
            Outcome::Answer(a) => {
                out.push_str(&a.plain_text(self.lang));
                if let Some(note) = a.note() {
                    let _ = write!(out, "\n{}", note.text(self.lang));
                }
                let colon = messages::colon(self.lang);
                let _ = write!(out, "\n{}{colon}{}", m.sources, plain_sources(&a.sources));
                if let Some(s) = &a.see_also {
                    let _ = write!(out, "\n{}", messages::see_also_line(self.lang, &s.question));
                }
            }
            Outcome::Decline { suggestions } => {
                out.push_str(m.decline);
                if !suggestions.is_empty() {
                    let _ = write!(out, "\n{}", m.suggest);
                    for s in suggestions {
                        let _ = write!(out, "\n  - {}", s.question);
                    }
                }
            }
        }
        out
    }

    /// The `kotae ask --json` object.
    pub fn to_json(&self) -> serde_json::Value {
        let (fact, status, answer, claims, sources, suggestions, note) = match &self.outcome {
            Outcome::Answer(a) => (
                Some(a.fact_id.as_str()),
                Some(a.status),
                a.text.as_str(),
                a.marked().iter().map(|m| claim_json(m)).collect(),
                a.sources.iter().map(source_json).collect(),
                Vec::new(),
                a.note().map(|n| n.text(self.lang)),
            ),
            Outcome::Decline { suggestions } => (
                None,
                None,
                messages::get(self.lang).decline,
                Vec::new(),
                Vec::new(),
                suggestions.iter().map(|s| s.fact_id.as_str()).collect(),
                None,
            ),
        };
        json!({
            "question": self.question,
            "lang": self.lang,
            "fact": fact,
            "score": (f64::from(self.score) * 1000.0).round() / 1000.0,
            "status": status,
            "answer": answer,
            "note": note,
            "claims": claims,
            "sources": sources,
            "suggestions": suggestions,
            "see_also": self.answer().and_then(|a| a.see_also.as_ref()).map(see_also_json),
        })
    }
}

fn claim_json(m: &Marker) -> serde_json::Value {
    json!({
        "text": m.claim.text,
        "sources": m.claim.sources,
        "self_published": m.self_published,
    })
}

/// Without the score: like `suggestions`, it says which fact, not how close.
fn see_also_json(s: &Suggestion) -> serde_json::Value {
    json!({ "fact_id": s.fact_id, "question": s.question })
}

fn source_json(s: &Source) -> serde_json::Value {
    json!({
        "id": s.id,
        "publisher": s.publisher,
        "title": s.title,
        "url": s.url,
        "published": s.published,
        "reliability": s.reliability,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(id: &str, reliability: Reliability) -> Source {
        Source {
            id: id.into(),
            publisher: id.to_uppercase(),
            title: None,
            url: Some(format!("https://example.org/{id}")),
            no_url: None,
            published: None,
            language: "en".into(),
            reliability,
            line: 0,
        }
    }

    fn claim(text: &str, sources: &[&str]) -> Claim {
        Claim {
            text: text.into(),
            sources: sources.iter().map(ToString::to_string).collect(),
        }
    }

    fn answer() -> Answer {
        let claims = vec![
            claim("It ended.", &["press"]),
            claim(" Both agree.", &["blog", "press"]),
            claim(" A blog adds more.", &["blog"]),
        ];
        Answer {
            fact_id: "f".into(),
            text: claims.iter().map(|c| c.text.as_str()).collect(),
            claims,
            status: Status::Confirmed,
            updated: None,
            sources: vec![
                source("press", Reliability::Press),
                source("blog", Reliability::SelfPublished),
            ],
            see_also: None,
        }
    }

    #[test]
    fn markers_number_sources_in_list_order_and_label_self_published_claims() {
        let a = answer();
        assert_eq!(
            a.plain_text(Lang::En),
            "It ended.[1] Both agree.[1, 2] A blog adds more.[2: self-published]"
        );
        assert_eq!(
            a.plain_text(Lang::Ja),
            "It ended.[1] Both agree.[1, 2] A blog adds more.[2：個人投稿]"
        );
        assert!(a.plain_text(Lang::Zh).ends_with("[2：自媒体]"));
        assert_eq!(a.note(), None, "self-published is said at the claim");
    }

    #[test]
    fn the_json_claims_join_into_the_answer() {
        let reply = Reply {
            question: "q".into(),
            lang: Lang::En,
            score: 1.0,
            outcome: Outcome::Answer(answer()),
        };
        let json = reply.to_json();
        let joined: String = json["claims"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["text"].as_str().unwrap())
            .collect();
        assert_eq!(joined, json["answer"].as_str().unwrap());
        assert_eq!(
            json["claims"][1]["sources"],
            serde_json::json!(["blog", "press"])
        );
        assert_eq!(json["claims"][2]["self_published"], true);
        assert!(
            reply
                .to_text()
                .starts_with("It ended.[1] Both agree.[1, 2]")
        );
    }

    #[test]
    fn see_also_is_a_last_line_in_text_and_an_object_or_null_in_json() {
        let reply = |lang, see_also: Option<Suggestion>| Reply {
            question: "q".into(),
            lang,
            score: 1.0,
            outcome: Outcome::Answer(Answer {
                see_also,
                ..answer()
            }),
        };
        let why = Suggestion {
            fact_id: "why".into(),
            question: "Why did it end?".into(),
            score: 0.4,
        };
        let en = reply(Lang::En, Some(why.clone()));
        let text = en.to_text();
        assert!(
            text.ends_with("https://example.org/blog\nSee also: Why did it end?"),
            "{text}"
        );
        let zh = reply(Lang::Zh, Some(why)).to_text();
        assert!(zh.ends_with("\n相关问题：Why did it end?"), "{zh}");
        assert_eq!(
            en.to_json()["see_also"],
            json!({"fact_id": "why", "question": "Why did it end?"})
        );
        let alone = reply(Lang::En, None);
        assert!(alone.to_json()["see_also"].is_null());
        assert!(alone.to_text().ends_with("https://example.org/blog"));
        let decline = Reply {
            outcome: Outcome::Decline {
                suggestions: Vec::new(),
            },
            ..alone
        };
        assert!(decline.to_json()["see_also"].is_null());
    }
}
