//! The platform-neutral reply: what the core says, before any adapter
//! formats it. Adapters read these fields; [`Reply::to_text`] and
//! [`Reply::to_json`] are the console and command-line renderings.

use super::knowledge::{PartialDate, Reliability, Source, Status};
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
    pub text: String,
    pub status: Status,
    pub updated: Option<PartialDate>,
    pub sources: Vec<Source>,
}

/// A question the bot can answer, offered when it declines.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    pub fact_id: String,
    pub question: String,
    /// How close the fact came to answering; 0 when offered as a default.
    pub score: f32,
}

/// Why an answer needs a caveat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    Disputed,
    SelfPublishedOnly,
}

impl Answer {
    pub fn note(&self) -> Option<Note> {
        if self.status == Status::Disputed {
            Some(Note::Disputed)
        } else if self
            .sources
            .iter()
            .all(|s| s.reliability == Reliability::SelfPublished)
        {
            Some(Note::SelfPublishedOnly)
        } else {
            None
        }
    }
}

impl Note {
    pub fn text(self, lang: Lang) -> &'static str {
        let m = messages::get(lang);
        match self {
            Note::Disputed => m.note_disputed,
            Note::SelfPublishedOnly => m.note_self_published,
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
                out.push_str(&a.text);
                if let Some(note) = a.note() {
                    let _ = write!(out, "\n{}", note.text(self.lang));
                }
                let _ = write!(out, "\n{}:{}", m.sources, plain_sources(&a.sources));
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
        let (fact, status, answer, sources, suggestions, note) = match &self.outcome {
            Outcome::Answer(a) => (
                Some(a.fact_id.as_str()),
                Some(a.status),
                a.text.as_str(),
                a.sources.iter().map(source_json).collect(),
                Vec::new(),
                a.note().map(|n| n.text(self.lang)),
            ),
            Outcome::Decline { suggestions } => (
                None,
                None,
                messages::get(self.lang).decline,
                Vec::new(),
                suggestions.iter().map(|s| s.fact_id.as_str()).collect(),
                None,
            ),
        };
        json!({
            "question": self.question,
            "lang": self.lang,
            "fact": fact,
            "score": (self.score * 1000.0).round() / 1000.0,
            "status": status,
            "answer": answer,
            "note": note,
            "sources": sources,
            "suggestions": suggestions,
        })
    }
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
