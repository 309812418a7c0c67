//! Replies as Matrix shows them: an HTML body (answer, caveat, numbered
//! source links, a "see also" question) and the plain-text body clients
//! without HTML read.
//!
//! Every piece of text that comes from a fact, a source or a member is
//! escaped here, and only `http(s)` source URLs become links
//! (`crate::service::cut::is_web_link`), so nothing in the fact base or a
//! question can inject markup.

use crate::core::messages;
use crate::core::reply::{plain_sources, source_label};
use crate::core::{Answer, Correction, Lang, Outcome, Reply, Source, Suggestion};
use crate::service::cut::{is_web_link, whole_lines_within};
use html_escape::{encode_double_quoted_attribute, encode_text};
use std::fmt::Write;

/// The two bodies of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Rendered {
    pub plain: String,
    pub html: String,
}

/// The core's answer or its polite refusal.
pub(super) fn reply(reply: &Reply) -> Rendered {
    let m = messages::get(reply.lang);
    let mut html = String::new();
    match &reply.outcome {
        Outcome::Answer(answer) => {
            let _ = write!(html, "<p>{}</p>", marked_text(reply.lang, answer));
            if let Some(note) = answer.note() {
                let _ = write!(html, "<p><em>{}</em></p>", text(note.text(reply.lang)));
            }
            html.push_str(&source_list(reply.lang, m.sources, &answer.sources));
            if let Some(s) = &answer.see_also {
                let line = messages::see_also_line(reply.lang, &s.question);
                let _ = write!(html, "<p>{}</p>", text(&line));
            }
        }
        Outcome::Decline { suggestions } => {
            let _ = write!(html, "<p>{}</p>", text(m.decline));
            if !suggestions.is_empty() {
                let items = suggestions.iter().map(|s| text(&s.question));
                let _ = write!(html, "<p>{}</p>{}", text(m.suggest), list("ul", items));
            }
        }
    }
    Rendered {
        plain: reply.to_text(),
        html,
    }
}

/// The answer's claims as HTML, each followed by its marker, whose numbers
/// link to the sources listed under the answer.
fn marked_text(lang: Lang, answer: &Answer) -> String {
    let mut html = String::with_capacity(answer.text.len() * 2);
    for marker in answer.marked() {
        html.push_str(&text(&marker.claim.text));
        let cite = marker.render(lang, ("[", "]"), |n, source| {
            match source.url.as_deref().filter(|u| is_web_link(u)) {
                Some(url) => format!(
                    "<a href=\"{}\">{n}</a>",
                    encode_double_quoted_attribute(url)
                ),
                None => n.to_string(),
            }
        });
        let _ = write!(html, "<sup>{cite}</sup>");
    }
    html
}

/// What an earlier answer should say after a reload changed its fact: the
/// fact's answer now, exactly as a fresh answer reads, with a note that it
/// changed; or only the note that it was withdrawn. In the answer's
/// language, which is the language the member asked in.
pub(super) fn correction(lang: Lang, correction: &Correction) -> Rendered {
    let m = messages::get(lang);
    match correction {
        Correction::Updated(answer) => {
            let now = Reply {
                question: String::new(),
                lang,
                score: 1.0,
                outcome: Outcome::Answer(answer.clone()),
            };
            let mut rendered = reply(&now);
            let _ = write!(rendered.plain, "\n{}", m.corrected);
            let _ = write!(rendered.html, "<p><em>{}</em></p>", text(m.corrected));
            rendered
        }
        Correction::Withdrawn => Rendered {
            plain: m.withdrawn.to_string(),
            html: format!("<p><em>{}</em></p>", text(m.withdrawn)),
        },
    }
}

/// Text laid out in lines and columns (a reload report, the unanswered
/// digest), kept that way in clients that show HTML.
pub(super) fn preformatted(plain: &str) -> Rendered {
    let plain = whole_lines_within(plain, MAX_PREFORMATTED);
    Rendered {
        html: format!("<pre>{}</pre>", encode_text(plain.trim_end())),
        plain,
    }
}

/// Homeservers refuse events over 64 KiB, and a message carries its text
/// twice (plain and escaped HTML): a rejected edit of a whole directory can
/// list more errors than that, and the first ones are what to fix first.
const MAX_PREFORMATTED: usize = 16 * 1024;

/// One of the bot's own sentences, or a short line such as `lang: ja`.
pub(super) fn message(line: &str) -> Rendered {
    Rendered {
        plain: line.to_string(),
        html: format!("<p>{}</p>", text(line)),
    }
}

/// What the bot can answer: each fact's id and an example question.
pub(super) fn topics(lang: Lang, topics: &[Suggestion]) -> Rendered {
    let heading = messages::get(lang).topics;
    let mut plain = heading.to_string();
    for t in topics {
        let _ = write!(plain, "\n  {} — {}", t.fact_id, t.question);
    }
    let items = topics
        .iter()
        .map(|t| format!("<code>{}</code> — {}", text(&t.fact_id), text(&t.question)));
    Rendered {
        plain,
        html: format!("<p>{}</p>{}", text(heading), list("ul", items)),
    }
}

/// A fact's sources, for `!sources FACT_ID`.
pub(super) fn sources(lang: Lang, fact_id: &str, sources: &[Source]) -> Rendered {
    let heading = format!("{} — {}", fact_id, messages::get(lang).sources);
    let plain = format!(
        "{heading}{}{}",
        messages::colon(lang),
        plain_sources(sources)
    );
    Rendered {
        plain,
        html: source_list(lang, &heading, sources),
    }
}

fn source_list(lang: Lang, heading: &str, sources: &[Source]) -> String {
    let items = sources.iter().map(|s| {
        let label = text(&source_label(s)).into_owned();
        match s.url.as_deref().filter(|u| is_web_link(u)) {
            Some(url) => format!(
                "<a href=\"{}\">{label}</a>",
                encode_double_quoted_attribute(url)
            ),
            None => label,
        }
    });
    format!(
        "<p>{}{}</p>{}",
        text(heading),
        messages::colon(lang),
        list("ol", items)
    )
}

fn list(tag: &str, items: impl Iterator<Item = impl AsRef<str>>) -> String {
    let mut out = format!("<{tag}>");
    for item in items {
        let _ = write!(out, "<li>{}</li>", item.as_ref());
    }
    let _ = write!(out, "</{tag}>");
    out
}

/// Escaped text, line breaks kept.
fn text(s: &str) -> std::borrow::Cow<'_, str> {
    let escaped = encode_text(s);
    if escaped.contains('\n') {
        escaped.replace('\n', "<br>").into()
    } else {
        escaped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Answer, Reliability, Status};

    /// A real source (so new fields need no change here), made awkward.
    fn source(url: &str) -> Source {
        let base = crate::service::load_base(None).expect("built-in fact base");
        let mut source = base.sources()[0].clone();
        source.publisher = "Pub <b>".into();
        source.title = Some("T & \"q\"".into());
        source.url = Some(url.into());
        source.published = None;
        source.reliability = Reliability::Press;
        source
    }

    fn answer(text: &str, sources: Vec<Source>) -> Reply {
        Reply {
            question: "q".into(),
            lang: Lang::En,
            score: 1.0,
            outcome: Outcome::Answer(Answer {
                fact_id: "f".into(),
                claims: vec![crate::core::knowledge::Claim {
                    text: text.into(),
                    sources: sources.iter().map(|s| s.id.clone()).collect(),
                }],
                text: text.into(),
                status: Status::Confirmed,
                updated: None,
                sources,
                see_also: None,
            }),
        }
    }

    #[test]
    fn answers_list_numbered_source_links() {
        let r = reply(&answer(
            "It closed.",
            vec![source("https://example.org/a?b=1&c=2")],
        ));
        assert_eq!(
            r.html,
            "<p>It closed.<sup>[<a href=\"https://example.org/a?b=1&amp;c=2\">1</a>]</sup></p><p>Sources:</p><ol><li><a href=\"https://example.org/a?b=1&amp;c=2\">Pub &lt;b&gt;「T &amp; \"q\"」</a></li></ol>"
        );
        assert!(
            r.plain
                .starts_with("It closed.[1]\nSources:\n  [1] Pub <b>")
        );
    }

    #[test]
    fn see_also_closes_both_bodies_escaped_in_the_askers_language() {
        let mut r = answer("It closed.", vec![source("https://example.org")]);
        let alone = reply(&r);
        assert!(!alone.plain.contains("See also") && !alone.html.contains("See also"));
        r.lang = Lang::Ja;
        let Outcome::Answer(a) = &mut r.outcome else {
            unreachable!()
        };
        a.see_also = Some(Suggestion {
            fact_id: "why".into(),
            question: "なぜ <b>閉鎖</b>?".into(),
            score: 0.5,
        });
        let shown = reply(&r);
        assert!(
            shown
                .html
                .ends_with("</ol><p>関連する質問：なぜ &lt;b&gt;閉鎖&lt;/b&gt;?</p>"),
            "{}",
            shown.html
        );
        assert!(shown.plain.ends_with("\n関連する質問：なぜ <b>閉鎖</b>?"));
    }

    #[test]
    fn markup_in_facts_and_urls_stays_text() {
        let r = reply(&answer(
            "<a href=\"https://evil.example\">x</a> @room\nline",
            vec![source("javascript:alert(1)")],
        ));
        assert!(!r.html.contains("<a href=\"https://evil"));
        assert!(
            r.html
                .contains("&lt;a href=\"https://evil.example\"&gt;x&lt;/a&gt; @room<br>line")
        );
        assert!(!r.html.contains("href=\"javascript"));
    }

    #[test]
    fn a_correction_reads_as_the_new_answer_with_its_note_in_the_askers_language() {
        let mut fresh = answer("It reopened.", vec![source("https://example.org")]);
        fresh.lang = Lang::Ja;
        let Outcome::Answer(updated) = fresh.outcome.clone() else {
            unreachable!()
        };
        let r = correction(Lang::Ja, &Correction::Updated(updated));
        let m = messages::get(Lang::Ja);
        assert_eq!(r.plain, format!("{}\n{}", fresh.to_text(), m.corrected));
        assert!(r.html.starts_with(&reply(&fresh).html));
        assert!(
            r.html
                .ends_with(&format!("<p><em>{}</em></p>", m.corrected))
        );
        let w = correction(Lang::Zh, &Correction::Withdrawn);
        assert_eq!(w.plain, messages::get(Lang::Zh).withdrawn);
    }

    #[test]
    fn preformatted_text_is_escaped_and_keeps_its_lines() {
        let r = preformatted("facts/a.toml:5:20: error: <x>\n  next\n");
        assert_eq!(
            r.html,
            "<pre>facts/a.toml:5:20: error: &lt;x&gt;\n  next</pre>"
        );
    }

    #[test]
    fn long_preformatted_text_is_cut_at_a_line() {
        let text: String = (0..5000)
            .map(|i| format!("facts/a.toml:{i}:1: error\n"))
            .collect();
        let r = preformatted(&text);
        assert!(r.plain.len() <= MAX_PREFORMATTED + 64);
        assert!(r.plain.starts_with("facts/a.toml:0:1: error\n"));
        assert!(
            r.plain.ends_with("more lines in the bot's log"),
            "{}",
            &r.plain[r.plain.len() - 80..]
        );
        let kept = r.plain.lines().count() - 1;
        assert!(r.plain.contains(&format!("… {} more lines", 5000 - kept)));
    }

    #[test]
    fn self_published_claims_say_so_at_the_claim() {
        let mut s = source("https://example.org");
        s.reliability = Reliability::SelfPublished;
        let r = reply(&answer("A.", vec![s]));
        assert!(
            r.html.starts_with(
                "<p>A.<sup>[<a href=\"https://example.org\">1</a>: self-published]</sup></p>"
            ),
            "{}",
            r.html
        );
        assert!(r.plain.starts_with("A.[1: self-published]\n"));
        assert!(!r.html.contains("<em>"), "no answer-wide note");
    }
}
