//! Whether a message is meant for the bot, and what it asks for; and the
//! replies that are about the commands themselves (the help, which lists
//! them, and `!timeline`).
//!
//! A message is for the bot when it starts with a command (`!ask`,
//! `!topics`, `!sources`, `!timeline`, `!lang`, `!help`, and the
//! moderators' `!reload` and `!unanswered`), when it mentions the bot (in
//! `m.mentions`, as a pill, or by name), or when it is in a direct room.
//! Everything else is room chatter. These are plain functions of the text so
//! the rules are tested without a homeserver.

use super::render::Rendered;
use crate::core::Lang;
use crate::core::messages::{self, Command, fill};
use crate::core::timeline::Entry;
use html_escape::encode_text;
use std::fmt::Write;

/// What a member asked the bot to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Request {
    Ask(String),
    /// The rest of the line, which may name a language.
    Topics(String),
    Sources(String),
    /// The rest of the line, which may name a language.
    Timeline(String),
    Lang(String),
    Help,
    /// Moderators only: reload the knowledge directory now.
    Reload,
    /// Moderators only: the digest of unanswered questions.
    Unanswered,
}

/// One incoming text message, as far as addressing goes.
pub(super) struct Incoming<'a> {
    pub body: &'a str,
    pub html: Option<&'a str>,
    /// The message's `m.mentions` lists the bot.
    pub mentions_bot: bool,
    /// The room holds only the bot and one member.
    pub direct: bool,
}

/// How members address the bot.
#[derive(Debug, Clone)]
pub(super) struct Names {
    pub user_id: String,
    pub display_name: Option<String>,
}

pub(super) fn parse(message: &Incoming, names: &Names) -> Option<Request> {
    let body = strip_reply_fallback(message.body).trim();
    match command(body) {
        Some(Some(request)) => return Some(request),
        // `!something` not ours may be another bot's command.
        Some(None) if !message.direct => return None,
        _ => {}
    }
    let named = names.spans(body);
    let addressed = message.direct
        || message.mentions_bot
        || !named.is_empty()
        || message.html.is_some_and(|html| names.pill_in(html));
    if !addressed {
        return None;
    }
    let text = remove_spans(body, &named);
    if text.is_empty() {
        return Some(Request::Help);
    }
    match command(&text) {
        Some(request) => Some(request.unwrap_or(Request::Help)),
        None => Some(Request::Ask(text)),
    }
}

/// `None` if the text is not a command; `Some(None)` if it is one the bot
/// does not know.
fn command(text: &str) -> Option<Option<Request>> {
    // Japanese and Chinese input methods type a full-width `！`.
    let rest = text.strip_prefix('!').or_else(|| text.strip_prefix('！'))?;
    // The command word is Latin letters, so `!ask質問` needs no space.
    let end = rest
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(rest.len());
    let (word, arg) = rest.split_at(end);
    let arg = arg.trim().to_string();
    Some(match word.to_ascii_lowercase().as_str() {
        "ask" => Some(Request::Ask(arg)),
        "topics" => Some(Request::Topics(arg)),
        "sources" => Some(Request::Sources(arg)),
        "timeline" => Some(Request::Timeline(arg)),
        "lang" => Some(Request::Lang(arg)),
        "help" => Some(Request::Help),
        "reload" => Some(Request::Reload),
        "unanswered" => Some(Request::Unanswered),
        _ => None,
    })
}

/// Replies from older clients quote the original as `> ` lines and a blank
/// line; the quote is someone else's words, not the question.
fn strip_reply_fallback(body: &str) -> &str {
    if !body.starts_with("> ") {
        return body;
    }
    let mut rest = body;
    while let Some(line_end) = rest.find('\n') {
        let line = &rest[..line_end];
        rest = &rest[line_end + 1..];
        if line.is_empty() {
            return rest;
        }
        if !line.starts_with('>') {
            return body;
        }
    }
    body
}

impl Names {
    /// Byte ranges where the message names the bot.
    fn spans(&self, text: &str) -> Vec<(usize, usize)> {
        let mut spans = find_all(text, &self.user_id);
        if let Some(name) = self
            .display_name
            .as_deref()
            .filter(|n| !n.trim().is_empty())
        {
            for span in find_all(text, name) {
                if !spans.iter().any(|s| s.0 < span.1 && span.0 < s.1) {
                    spans.push(span);
                }
            }
        }
        spans.sort_unstable();
        spans
    }

    /// A link to the bot's user, as clients write mention pills.
    fn pill_in(&self, html: &str) -> bool {
        let encoded = self.user_id.replace('@', "%40").replace(':', "%3A");
        let uri = format!("matrix:u/{}", self.user_id.trim_start_matches('@'));
        [
            format!("matrix.to/#/{}", self.user_id),
            format!("matrix.to/#/{encoded}"),
            uri,
        ]
        .iter()
        .any(|link| html.contains(link.as_str()))
    }
}

/// Case-insensitive (for Latin letters) matches that are whole words, so
/// the name "kotae" is not found in "kotaeru".
fn find_all(text: &str, needle: &str) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    if needle.is_empty() {
        return found;
    }
    for (start, _) in text.char_indices() {
        let end = start + needle.len();
        let Some(candidate) = text.get(start..end) else {
            continue;
        };
        if candidate.eq_ignore_ascii_case(needle)
            && !text[..start].ends_with(|c: char| c.is_ascii_alphanumeric())
            && !text[end..].starts_with(|c: char| c.is_ascii_alphanumeric())
            && !found.iter().any(|&(_, e)| e > start)
        {
            found.push((start, end));
        }
    }
    found
}

/// The text without the bot's name and the punctuation that addressed it
/// (`kotae: question`, `kotae、質問`).
fn remove_spans(text: &str, spans: &[(usize, usize)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for &(start, end) in spans {
        out.push_str(&text[last..start]);
        last = end;
    }
    out.push_str(&text[last..]);
    out.trim_matches(|c: char| c.is_whitespace() || ":,;、，：；@".contains(c))
        .to_string()
}

/// The commands, as the help lists them; the last two are for moderators
/// (anyone else is told so politely).
pub(super) const COMMANDS: &[(&str, Command)] = &[
    ("!ask QUESTION", Command::Ask),
    ("!topics", Command::Topics),
    ("!sources FACT_ID", Command::Sources),
    ("!timeline", Command::Timeline),
    ("!lang ja|zh|en|auto", Command::Lang),
    ("!help", Command::Help),
    ("!reload", Command::Reload),
    ("!unanswered", Command::Unanswered),
];

/// The help sentence and the commands with what each does, in `lang`.
pub(super) fn help(lang: Lang) -> Rendered {
    let m = messages::get(lang);
    let items: String = COMMANDS
        .iter()
        .map(|(syntax, command)| {
            format!(
                "<li><code>{}</code> — {}</li>",
                encode_text(syntax),
                encode_text(m.command(*command))
            )
        })
        .collect();
    Rendered {
        plain: messages::help_text(lang, COMMANDS),
        html: format!(
            "<p>{}</p><p>{}</p><ul>{items}</ul>",
            encode_text(m.help),
            encode_text(m.commands)
        ),
    }
}

/// Homeservers refuse events over 64 KiB, and a message carries its text
/// twice (plain and HTML): past this many bytes of plain text, the rest of
/// the timeline is counted, not sent.
const TIMELINE_MAX: usize = 16 * 1024;

/// `!timeline`: the events in date order, one line each with its date
/// (marked when disputed) and fact id, in `lang`.
pub(super) fn timeline(lang: Lang, entries: &[Entry]) -> Rendered {
    let m = messages::get(lang);
    if entries.is_empty() {
        return Rendered {
            plain: m.timeline_empty.to_string(),
            html: format!("<p>{}</p>", encode_text(m.timeline_empty)),
        };
    }
    let mut plain = m.timeline.to_string();
    let mut items = String::new();
    let mut shown = 0;
    for entry in entries {
        let line = entry.to_line(lang);
        if plain.len() + line.len() + 1 > TIMELINE_MAX {
            break;
        }
        let _ = write!(plain, "\n{line}");
        let date = format!("<b>{}</b>", entry.date);
        let _ = write!(
            items,
            "<li>{} — {} <code>{}</code></li>",
            messages::date_label(lang, &date, entry.disputed),
            encode_text(&entry.text),
            encode_text(&entry.fact)
        );
        shown += 1;
    }
    let mut html = format!("<p>{}</p><ul>{items}</ul>", encode_text(m.timeline));
    if shown < entries.len() {
        let more = fill(
            m.timeline_more,
            &[("count", &(entries.len() - shown).to_string())],
        );
        let _ = write!(plain, "\n{more}");
        let _ = write!(html, "<p>{}</p>", encode_text(&more));
    }
    Rendered { plain, html }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names {
            user_id: "@kotae:example.org".into(),
            display_name: Some("Kotae".into()),
        }
    }

    fn room(body: &str) -> Option<Request> {
        let message = Incoming {
            body,
            html: None,
            mentions_bot: false,
            direct: false,
        };
        parse(&message, &names())
    }

    #[test]
    fn commands_are_recognised_anywhere() {
        assert_eq!(room("!ask why?"), Some(Request::Ask("why?".into())));
        assert_eq!(room("!ASK why?"), Some(Request::Ask("why?".into())));
        assert_eq!(
            room("!ask日本センターとは"),
            Some(Request::Ask("日本センターとは".into()))
        );
        assert_eq!(
            room("！ask 日本センター"),
            Some(Request::Ask("日本センター".into()))
        );
        assert_eq!(
            room("!sources founding"),
            Some(Request::Sources("founding".into()))
        );
        assert_eq!(room("!lang ja"), Some(Request::Lang("ja".into())));
        assert_eq!(room("!topics"), Some(Request::Topics(String::new())));
        assert_eq!(room("!timeline zh"), Some(Request::Timeline("zh".into())));
        assert_eq!(room("!help"), Some(Request::Help));
        assert_eq!(room("!reload"), Some(Request::Reload));
        assert_eq!(room("kotae !unanswered"), Some(Request::Unanswered));
    }

    #[test]
    fn chatter_and_other_bots_commands_are_ignored() {
        assert_eq!(room("hello everyone"), None);
        assert_eq!(room("!weather Tokyo"), None);
        assert_eq!(room("I asked kotaeru"), None);
        assert_eq!(room("ask !ask later"), None);
    }

    #[test]
    fn a_mention_by_name_or_id_is_a_question() {
        assert_eq!(
            room("Kotae: when did they close?"),
            Some(Request::Ask("when did they close?".into()))
        );
        assert_eq!(
            room("kotae、閉鎖はいつ?"),
            Some(Request::Ask("閉鎖はいつ?".into()))
        );
        assert_eq!(
            room("@kotae:example.org why"),
            Some(Request::Ask("why".into()))
        );
        assert_eq!(room("kotae !topics"), Some(Request::Topics(String::new())));
        assert_eq!(room("kotae"), Some(Request::Help));
    }

    #[test]
    fn pills_and_intentional_mentions_address_the_bot() {
        let names = names();
        let pill = Incoming {
            body: "K: why",
            html: Some(r#"<a href="https://matrix.to/#/@kotae:example.org">K</a>: why"#),
            mentions_bot: false,
            direct: false,
        };
        assert!(parse(&pill, &names).is_some());
        let mentioned = Incoming {
            body: "why",
            html: None,
            mentions_bot: true,
            direct: false,
        };
        assert_eq!(parse(&mentioned, &names), Some(Request::Ask("why".into())));
    }

    #[test]
    fn everything_in_a_direct_room_is_for_the_bot() {
        let names = names();
        let direct = |body| {
            parse(
                &Incoming {
                    body,
                    html: None,
                    mentions_bot: false,
                    direct: true,
                },
                &names,
            )
        };
        assert_eq!(direct("why"), Some(Request::Ask("why".into())));
        assert_eq!(direct("!weather"), Some(Request::Help));
    }

    #[test]
    fn the_help_lists_every_command_the_parser_knows_in_the_askers_language() {
        for (syntax, _) in COMMANDS {
            let word = syntax.split(' ').next().unwrap();
            assert!(command(word).is_some_and(|r| r.is_some()), "{word}");
        }
        for lang in Lang::ALL {
            let m = messages::get(lang);
            let r = help(lang);
            assert!(r.plain.starts_with(m.help), "{}", r.plain);
            assert!(r.plain.contains(&format!("!timeline — {}", m.cmd_timeline)));
            assert!(
                r.html.contains("<code>!lang ja|zh|en|auto</code>"),
                "{}",
                r.html
            );
        }
    }

    fn entry(date: &str, fact: &str, text: &str, disputed: bool) -> Entry {
        Entry {
            date: crate::core::knowledge::PartialDate::parse(date).unwrap(),
            fact: fact.into(),
            text: text.into(),
            disputed,
            sources: vec![],
        }
    }

    #[test]
    fn the_timeline_escapes_text_and_marks_disputed_dates() {
        let entries = [
            entry("1994", "founding", "<b>First</b> centre", true),
            entry("2025-01", "end", "Memorandum ended", false),
        ];
        let r = timeline(Lang::Zh, &entries);
        assert_eq!(
            r.plain,
            "按日期排列的事件：\n\
             1994（存在争议） — <b>First</b> centre · founding\n\
             2025-01 — Memorandum ended · end"
        );
        assert_eq!(
            r.html,
            "<p>按日期排列的事件：</p><ul>\
             <li><b>1994</b>（存在争议） — &lt;b&gt;First&lt;/b&gt; centre <code>founding</code></li>\
             <li><b>2025-01</b> — Memorandum ended <code>end</code></li></ul>"
        );
        let empty = timeline(Lang::Ja, &[]);
        assert_eq!(empty.plain, messages::get(Lang::Ja).timeline_empty);
    }

    #[test]
    fn a_huge_timeline_is_cut_and_says_how_much_is_left() {
        let long = "x".repeat(200);
        let entries: Vec<Entry> = (0..1000)
            .map(|_| entry("2000", "f", &long, false))
            .collect();
        let r = timeline(Lang::En, &entries);
        assert!(r.plain.len() <= TIMELINE_MAX + 64);
        let shown = r.plain.lines().count() - 2;
        assert!(
            r.plain.ends_with(&format!("… and {} more.", 1000 - shown)),
            "{}",
            &r.plain[r.plain.len() - 40..]
        );
        assert!(r.html.len() < 60 * 1024);
    }

    #[test]
    fn reply_fallbacks_are_not_part_of_the_question() {
        let body = "> <@a:b> kotae said something\n> more\n\nhello";
        assert_eq!(room(body), None);
        assert_eq!(strip_reply_fallback(body), "hello");
        assert_eq!(
            strip_reply_fallback("> quote without end"),
            "> quote without end"
        );
    }
}
