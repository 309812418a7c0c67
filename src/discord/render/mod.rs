//! Replies as Discord embeds, within Discord's limits.
//!
//! Pure functions with no I/O, so the limits are unit-tested here. Every
//! renderer lists its parts (title, text, fields, footer) and packs them
//! ([`embed`] knows the limits and the packing): long text is split at
//! paragraph, sentence or word boundaries (`crate::service::cut`, shared
//! with Matrix) into several embeds and, past 6000 characters, several
//! messages ("pages"). Nothing is ever too long to send.

mod embed;

pub use crate::service::cut::truncate;
pub use embed::{
    CONTENT_MAX, DESCRIPTION_MAX, EMBEDS_PER_MESSAGE, Embed, FIELD_NAME_MAX, FIELD_VALUE_MAX,
    FIELDS_MAX, FOOTER_MAX, Field, MESSAGE_TOTAL_MAX, Page, TITLE_MAX,
};

use crate::core::knowledge::{Fact, PartialDate, Source, Status};
use crate::core::reply::{Answer, Outcome, Reply, Suggestion, source_label};
use crate::core::{Correction, Lang, MAX_SUGGESTIONS, messages};
use crate::service::cut::{count, is_web_link, lines_into, split};
use embed::{Part, pack};
use poise::serenity_prelude as serenity;

/// Where an answer is cut: curated answers are far shorter, and a slip in
/// the fact base must not flood a channel with pages.
pub const ANSWER_MAX: usize = 12_000;

const GREEN: u32 = 0x2e7d32;
const BLUE: u32 = 0x1565c0;
const ORANGE: u32 = 0xef6c00;
const GREY: u32 = 0x757575;
const BLURPLE: u32 = 0x5865f2;

/// Any reply from the core.
pub fn reply(reply: &Reply) -> Vec<Page> {
    match &reply.outcome {
        Outcome::Answer(a) => answer(&reply.question, reply.lang, a),
        Outcome::Decline { suggestions } => decline(&reply.question, reply.lang, suggestions),
    }
}

/// An answer: the asker's question as the title, the answer, a note when it
/// needs one, the numbered sources, a "see also" question when another fact
/// came close, and the fact id and update in the footer.
pub fn answer(question: &str, lang: Lang, a: &Answer) -> Vec<Page> {
    answer_within(question, lang, a, ANSWER_MAX)
}

/// An answer whose text is cut at `max` characters.
fn answer_within(question: &str, lang: Lang, a: &Answer, max: usize) -> Vec<Page> {
    let mut parts = title(question);
    let text = truncate(&marked_text(lang, a), max);
    parts.extend(split(&text, DESCRIPTION_MAX).into_iter().map(Part::Text));
    if let Some(note) = a.note() {
        parts.push(field("⚠", note.text(lang)));
    }
    parts.extend(source_fields(lang, &a.sources));
    if let Some(s) = &a.see_also {
        parts.push(field(messages::get(lang).see_also, &s.question));
    }
    parts.push(footer(&a.fact_id, a.updated, lang));
    pack(parts, status_colour(a.status))
}

/// The answer's claims, each followed by its marker, whose numbers link to
/// the sources listed under the answer: `… 2025.\[[1](https://…)\]`.
fn marked_text(lang: Lang, a: &Answer) -> String {
    let mut text = String::with_capacity(a.text.len() * 2);
    for marker in a.marked() {
        text.push_str(&marker.claim.text);
        text.push_str(&marker.render(lang, ("\\[", "\\]"), |n, source| {
            match source.url.as_deref().and_then(link_target) {
                Some(url) => format!("[{n}]({url})"),
                None => n.to_string(),
            }
        }));
    }
    text
}

/// A decline, with up to three questions the bot can answer.
pub fn decline(question: &str, lang: Lang, suggestions: &[Suggestion]) -> Vec<Page> {
    let m = messages::get(lang);
    let mut text = m.decline.to_string();
    if !suggestions.is_empty() {
        text.push_str("\n\n");
        text.push_str(m.suggest);
        for s in suggestions.iter().take(MAX_SUGGESTIONS) {
            text.push_str("\n• ");
            text.push_str(&s.question);
        }
    }
    let mut parts = title(question);
    parts.extend(split(&text, DESCRIPTION_MAX).into_iter().map(Part::Text));
    pack(parts, GREY)
}

/// `/topics`: one question per fact, with the fact id `/sources` takes.
pub fn topics(lang: Lang, topics: &[Suggestion]) -> Vec<Page> {
    let lines: Vec<String> = topics
        .iter()
        .map(|t| format!("• {} — `{}`", t.question, t.fact_id))
        .collect();
    let mut parts = title(messages::get(lang).topics);
    parts.extend(
        lines_into(&lines, DESCRIPTION_MAX)
            .into_iter()
            .map(Part::Text),
    );
    pack(parts, BLURPLE)
}

/// `/sources`: what one fact rests on.
pub fn sources(lang: Lang, fact: &Fact, sources: &[Source]) -> Vec<Page> {
    let question = fact.questions.get(lang).first().map_or("", String::as_str);
    let mut parts = title(question);
    parts.extend(source_fields(lang, sources));
    parts.push(footer(&fact.id, fact.updated, lang));
    pack(parts, status_colour(fact.status))
}

/// What `/about` reports besides the help text.
pub struct About {
    pub facts: usize,
    pub sources: usize,
    pub revision: String,
}

/// `/about`: what the bot does and which fact base it answers from.
pub fn about(lang: Lang, about: &About) -> Vec<Page> {
    let w = words(lang);
    let m = messages::get(lang);
    let mut parts = title("kotae (答え)");
    parts.push(Part::Text(truncate(m.help, DESCRIPTION_MAX)));
    parts.push(field(w.facts, &about.facts.to_string()));
    parts.push(field(m.sources, &about.sources.to_string()));
    parts.push(field(w.revision, &about.revision));
    parts.push(Part::Footer(format!("kotae {}", env!("CARGO_PKG_VERSION"))));
    pack(parts, BLURPLE)
}

/// A line from the bot itself (help, an error) as an embed.
pub fn notice(text: &str) -> Vec<Page> {
    pack(
        split(text, DESCRIPTION_MAX).into_iter().map(Part::Text),
        GREY,
    )
}

/// Plain message content, within the 2000-character limit.
pub fn content(text: &str) -> String {
    truncate(text, CONTENT_MAX)
}

/// How many messages a report (a reload, the digest) may take; the rest is
/// cut, since the full text is in the log and `kotae unanswered`.
pub const REPORT_MESSAGES_MAX: usize = 5;

/// A report as plain-text code blocks, each one message within the content
/// limit. A fence inside the text is broken so it cannot end a block early.
pub fn code_blocks(text: &str) -> Vec<String> {
    const FENCES: usize = "```\n\n```".len();
    const CUT: &str = "\n…";
    let body_max = CONTENT_MAX - FENCES;
    let text = text.replace("```", "`\u{200b}``");
    let mut bodies = split(&text, body_max);
    if bodies.len() > REPORT_MESSAGES_MAX {
        bodies.truncate(REPORT_MESSAGES_MAX);
        if let Some(last) = bodies.last_mut() {
            *last = format!("{}{CUT}", truncate(last, body_max - count(CUT)));
        }
    }
    if bodies.is_empty() {
        bodies.push("-".to_string());
    }
    bodies
        .into_iter()
        .map(|body| format!("```\n{body}\n```"))
        .collect()
}

/// An earlier answer as a reload left it: the "corrected" note over the
/// answer's new text, or the "withdrawn" note and nothing else. One page,
/// because an edit reaches only the first message of an answer; the
/// question is not recorded, so the embed has no title.
pub fn correction(lang: Lang, correction: &Correction) -> (String, Page) {
    let m = messages::get(lang);
    match correction {
        Correction::Updated(a) => {
            let page = answer_within("", lang, a, DESCRIPTION_MAX)
                .into_iter()
                .next()
                .unwrap_or_default();
            (content(m.corrected), page)
        }
        Correction::Withdrawn => (content(m.withdrawn), Page::new()),
    }
}

/// Every message the bot sends carries this: no one is pinged, not even
/// the member whose message it replies to.
pub fn no_pings() -> serenity::CreateAllowedMentions {
    serenity::CreateAllowedMentions::new().replied_user(false)
}

/// A member's text made safe to show: no mention (`@everyone`, `<@&role>`,
/// `<@user>`) and no masked link survives, and it stays on one line. A
/// zero-width space breaks each without changing what the reader sees.
pub fn inert(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut prev = '\0';
    for ch in text.chars() {
        match ch {
            '\n' | '\r' | '\t' => out.push(' '),
            '@' => out.push_str("@\u{200b}"),
            '(' if prev == ']' => out.push_str("\u{200b}("),
            _ => out.push(ch),
        }
        prev = ch;
    }
    out
}

fn title(question: &str) -> Vec<Part> {
    let question = question.trim();
    if question.is_empty() {
        return Vec::new();
    }
    vec![Part::Title(truncate(&inert(question), TITLE_MAX))]
}

fn field(name: &str, value: &str) -> Part {
    Part::Field(Field {
        name: truncate(name, FIELD_NAME_MAX),
        value: truncate(value, FIELD_VALUE_MAX),
    })
}

fn footer(fact_id: &str, updated: Option<PartialDate>, lang: Lang) -> Part {
    let text = match updated {
        Some(date) => format!("{fact_id} · {} {date}", words(lang).updated),
        None => fact_id.to_string(),
    };
    Part::Footer(truncate(&text, FOOTER_MAX))
}

/// The numbered source links, as many "Sources" fields as they need.
fn source_fields(lang: Lang, sources: &[Source]) -> Vec<Part> {
    let lines: Vec<String> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| source_line(i + 1, s))
        .collect();
    let name = messages::get(lang).sources;
    lines_into(&lines, FIELD_VALUE_MAX)
        .iter()
        .map(|value| field(name, value))
        .collect()
}

/// `n. [publisher「title」 (date)](url)`, never longer than a field.
fn source_line(n: usize, source: &Source) -> String {
    let label = source_label(source);
    match source.url.as_deref().and_then(link_target) {
        Some(url) if count(&url) < FIELD_VALUE_MAX / 2 => {
            let budget = FIELD_VALUE_MAX - count(&url) - 16;
            let mut text = link_text(&truncate(&label, budget));
            if count(&text) > budget {
                text = link_text(&truncate(&label, budget / 2));
            }
            format!("{n}. [{text}]({url})")
        }
        _ => truncate(&format!("{n}. {label}"), FIELD_VALUE_MAX),
    }
}

/// Only web links, with the characters that would end a markdown link escaped.
fn link_target(url: &str) -> Option<String> {
    let url = url.trim();
    is_web_link(url).then(|| {
        url.replace(' ', "%20")
            .replace('(', "%28")
            .replace(')', "%29")
    })
}

fn link_text(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('[', "\\[")
        .replace(']', "\\]")
}

fn status_colour(status: Status) -> u32 {
    match status {
        Status::Confirmed => GREEN,
        Status::Reported => BLUE,
        Status::Disputed => ORANGE,
        Status::Retracted => GREY,
    }
}

/// Words only the Discord embeds use.
struct Words {
    updated: &'static str,
    facts: &'static str,
    revision: &'static str,
}

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Ja => &Words {
            updated: "更新",
            facts: "項目数",
            revision: "版",
        },
        Lang::Zh => &Words {
            updated: "更新于",
            facts: "条目数",
            revision: "版本",
        },
        Lang::En => &Words {
            updated: "updated",
            facts: "Facts",
            revision: "Revision",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::knowledge::Reliability;

    fn source(n: usize, reliability: Reliability) -> Source {
        Source {
            id: format!("s{n}"),
            publisher: format!("Publisher {n}"),
            title: Some(format!("Title [{n}]")),
            url: Some(format!("https://example.org/{n}")),
            no_url: None,
            published: PartialDate::parse("2025-01-19"),
            language: "en".into(),
            reliability,
            line: 0,
        }
    }

    fn answer_with(text: String, sources: Vec<Source>) -> Answer {
        Answer {
            fact_id: "closure-date".into(),
            claims: vec![crate::core::knowledge::Claim {
                text: text.clone(),
                sources: sources.iter().take(1).map(|s| s.id.clone()).collect(),
            }],
            text,
            status: Status::Confirmed,
            updated: PartialDate::parse("2026-11-23"),
            sources,
            see_also: None,
        }
    }

    /// Every Discord limit, on every page.
    fn assert_within_limits(pages: &[Page]) {
        assert!(!pages.is_empty());
        for page in pages {
            assert!(!page.is_empty() && page.len() <= EMBEDS_PER_MESSAGE);
            assert!(page.iter().map(Embed::chars).sum::<usize>() <= MESSAGE_TOTAL_MAX);
            for e in page {
                let len = |s: &Option<String>| s.as_deref().map_or(0, count);
                assert!(len(&e.title) <= TITLE_MAX);
                assert!(len(&e.description) <= DESCRIPTION_MAX);
                assert!(len(&e.footer) <= FOOTER_MAX);
                assert!(e.fields.len() <= FIELDS_MAX);
                for f in &e.fields {
                    assert!(count(&f.name) <= FIELD_NAME_MAX && !f.name.is_empty());
                    assert!(count(&f.value) <= FIELD_VALUE_MAX && !f.value.is_empty());
                }
            }
        }
    }

    fn descriptions(pages: &[Page]) -> String {
        pages
            .iter()
            .flatten()
            .filter_map(|e| e.description.clone())
            .collect()
    }

    fn squash(s: &str) -> String {
        s.chars().filter(|c| !c.is_whitespace()).collect()
    }

    #[test]
    fn a_short_answer_is_one_embed() {
        let a = answer_with(
            "They closed.".into(),
            vec![
                source(1, Reliability::Press),
                source(2, Reliability::Official),
            ],
        );
        let pages = answer("When did they close?", Lang::En, &a);
        assert_eq!(pages.len(), 1);
        let [e] = pages[0].as_slice() else {
            panic!("one embed")
        };
        assert_eq!(e.title.as_deref(), Some("When did they close?"));
        assert_eq!(
            e.description.as_deref(),
            Some("They closed.\\[[1](https://example.org/1)\\]")
        );
        assert_eq!(e.fields.len(), 1);
        assert_eq!(e.fields[0].name, "Sources");
        assert_eq!(
            e.fields[0].value,
            "1. [Publisher 1「Title \\[1\\]」 (2025-01-19)](https://example.org/1)\n\
             2. [Publisher 2「Title \\[2\\]」 (2025-01-19)](https://example.org/2)"
        );
        assert_eq!(
            e.footer.as_deref(),
            Some("closure-date · updated 2026-11-23")
        );
        assert_eq!(e.colour, GREEN);
    }

    #[test]
    fn self_published_claims_say_so_and_disputed_answers_carry_a_note() {
        let mut a = answer_with("x".into(), vec![source(1, Reliability::SelfPublished)]);
        let page = |a: &Answer| answer("q", Lang::Ja, a)[0][0].clone();
        assert_eq!(
            page(&a).description.as_deref(),
            Some("x\\[[1](https://example.org/1)：個人投稿\\]")
        );
        assert_eq!(page(&a).fields.len(), 1, "only the sources, no note");
        a.status = Status::Disputed;
        a.sources = vec![source(1, Reliability::Press)];
        assert!(page(&a).fields[0].value.contains("出典によって"));
    }

    #[test]
    fn see_also_is_a_field_after_the_sources_and_before_the_footer() {
        let mut a = answer_with("x".into(), vec![source(1, Reliability::Press)]);
        let fields = |a: &Answer, lang| answer("q", lang, a)[0][0].fields.clone();
        assert_eq!(fields(&a, Lang::En).len(), 1, "no see-also, no field");
        a.see_also = Some(Suggestion {
            fact_id: "closure-reason".into(),
            question: "Why did they close?".into(),
            score: 0.5,
        });
        let en = fields(&a, Lang::En);
        assert_eq!(en[0].name, "Sources");
        assert_eq!(
            en[1],
            Field {
                name: "See also".into(),
                value: "Why did they close?".into()
            }
        );
        assert_eq!(fields(&a, Lang::Zh)[1].name, "相关问题");
        let page = &answer("q", Lang::En, &a)[0];
        assert_eq!(
            page[0].footer.as_deref(),
            Some("closure-date · updated 2026-11-23")
        );
        a.see_also.as_mut().unwrap().question = "why ".repeat(400);
        let pages = answer("q", Lang::Ja, &a);
        assert_within_limits(&pages);
        assert!(pages[0][0].fields[1].value.ends_with('…'));
    }

    #[test]
    fn an_over_long_answer_is_split_cleanly_and_keeps_every_word() {
        let sentence = "The Japan Centers closed after the memorandum ended. ";
        let text = sentence.repeat(200); // about 10,600 characters
        let sources = (1..=40).map(|n| source(n, Reliability::Press)).collect();
        let a = answer_with(text.clone(), sources);
        let pages = answer("Why?", Lang::En, &a);
        assert_within_limits(&pages);
        assert!(pages.len() >= 2);
        assert_eq!(
            squash(&descriptions(&pages)),
            squash(&marked_text(Lang::En, &a))
        );
        for e in pages.iter().flatten() {
            if let Some(d) = &e.description {
                assert!(
                    d.ends_with('.') || d.ends_with("\\]"),
                    "cut mid-sentence: …{}",
                    &d[d.len() - 20..]
                );
            }
        }
        let numbers: Vec<String> = pages
            .iter()
            .flatten()
            .flat_map(|e| &e.fields)
            .flat_map(|f| f.value.lines())
            .map(|line| line.split('.').next().unwrap().to_string())
            .collect();
        let expected: Vec<String> = (1..=40).map(|n| n.to_string()).collect();
        assert_eq!(numbers, expected, "every source, once, in order");
        let last = pages.last().unwrap().last().unwrap();
        assert!(last.footer.as_deref().unwrap().starts_with("closure-date"));
    }

    #[test]
    fn han_text_without_spaces_splits_at_full_stops_or_hard() {
        let text = "日本センターは閉鎖された。".repeat(700);
        let pages = answer("?", Lang::Ja, &answer_with(text.clone(), vec![]));
        assert_within_limits(&pages);
        assert_eq!(squash(&descriptions(&pages)), squash(&text));
        let solid = "閉".repeat(9000);
        let pages = answer("?", Lang::Ja, &answer_with(solid.clone(), vec![]));
        assert_within_limits(&pages);
        assert_eq!(descriptions(&pages), solid);
    }

    #[test]
    fn runaway_answers_and_sources_are_trimmed_never_refused() {
        let huge = "word ".repeat(50_000);
        let mut long_source = source(1, Reliability::Press);
        long_source.publisher = "P".repeat(3000);
        long_source.url = Some(format!("https://example.org/{}", "x".repeat(2000)));
        let pages = answer("q", Lang::En, &answer_with(huge, vec![long_source]));
        assert_within_limits(&pages);
        assert!(descriptions(&pages).ends_with('…'));
        assert!(pages.len() <= 4);
    }

    #[test]
    fn questions_are_rendered_inert() {
        let q = "@everyone <@&123> <@456> @here [free nitro](https://evil.example) ok?\nline";
        let shown = inert(q);
        for bad in ["@everyone", "@here", "<@&", "<@4", "](", "\n"] {
            assert!(!shown.contains(bad), "{bad} survived in {shown}");
        }
        assert_eq!(shown.replace('\u{200b}', ""), q.replace('\n', " "));
        let pages = answer(q, Lang::En, &answer_with("a".into(), vec![]));
        assert_eq!(pages[0][0].title.as_deref(), Some(shown.as_str()));
    }

    #[test]
    fn a_long_question_title_is_trimmed() {
        let q = "why ".repeat(200);
        let t = answer(&q, Lang::En, &answer_with("a".into(), vec![]))[0][0]
            .title
            .clone()
            .unwrap();
        assert!(count(&t) <= TITLE_MAX && t.ends_with('…'));
    }

    #[test]
    fn declines_offer_at_most_three_suggestions() {
        let s = |n| Suggestion {
            fact_id: format!("f{n}"),
            question: format!("Question {n}?"),
            score: 0.0,
        };
        let pages = decline("??", Lang::En, &[s(1), s(2), s(3), s(4)]);
        assert_within_limits(&pages);
        let d = pages[0][0].description.clone().unwrap();
        assert!(d.starts_with(messages::get(Lang::En).decline));
        assert_eq!(d.matches("\n• ").count(), 3);
        assert!(!d.contains("Question 4"));
    }

    #[test]
    fn many_topics_spread_over_embeds() {
        let topics: Vec<Suggestion> = (0..400)
            .map(|n| Suggestion {
                fact_id: format!("fact-{n}"),
                question: format!("What happened with topic number {n}?"),
                score: 0.0,
            })
            .collect();
        let pages = super::topics(Lang::En, &topics);
        assert_within_limits(&pages);
        let all = descriptions(&pages);
        assert!(all.contains("`fact-0`") && all.contains("`fact-399`"));
    }

    #[test]
    fn truncate_and_content_respect_limits() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("one two three", 9), "one two…");
        assert_eq!(count(&content(&"x".repeat(5000))), CONTENT_MAX);
    }

    #[test]
    fn reports_become_fenced_blocks_within_the_content_limit() {
        let blocks = code_blocks("reloaded: no change");
        assert_eq!(blocks, ["```\nreloaded: no change\n```"]);
        let long = "facts/new.toml:5:20: error: invalid basic string\n".repeat(300);
        let blocks = code_blocks(&long);
        assert_eq!(blocks.len(), REPORT_MESSAGES_MAX);
        assert!(blocks[REPORT_MESSAGES_MAX - 1].ends_with("…\n```"));
        for b in &blocks {
            assert!(count(b) <= CONTENT_MAX && b.starts_with("```\n") && b.ends_with("\n```"));
        }
        let sneaky = code_blocks("a ``` b");
        assert_eq!(sneaky[0].matches("```").count(), 2);
    }

    #[test]
    fn corrections_carry_their_note_and_fit_one_message() {
        let a = answer_with("Now right.".into(), vec![source(1, Reliability::Press)]);
        let (note, page) = correction(Lang::Ja, &Correction::Updated(a));
        assert_eq!(note, messages::get(Lang::Ja).corrected);
        assert_eq!(
            page[0].description.as_deref(),
            Some("Now right.\\[[1](https://example.org/1)\\]")
        );
        assert!(page[0].title.is_none());
        let huge = answer_with("word ".repeat(3000), vec![]);
        let (_, page) = correction(Lang::En, &Correction::Updated(huge));
        assert_within_limits(std::slice::from_ref(&page));
        let (note, page) = correction(Lang::Zh, &Correction::Withdrawn);
        assert_eq!(note, messages::get(Lang::Zh).withdrawn);
        assert!(page.is_empty());
    }

    #[test]
    fn no_pings_serialises_to_empty_parse() {
        let v = serde_json::to_value(no_pings()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"parse": [], "users": [], "roles": [], "replied_user": false})
        );
    }
}
