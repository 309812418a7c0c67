//! What every Matrix test checks in the bot's replies: that a reply is the
//! core's answer to the question (text, HTML, linked sources), and that it
//! pings the asker alone.

#![allow(dead_code)] // each test binary uses a different part

use crate::matrix_world::{Bot, Seen};
use kotae::core::{Kotae, Lang, LangChoice, Reply};
use matrix_sdk::ruma::UserId;
use matrix_sdk::ruma::events::room::message::MessageType;

pub const WHO_ANNOUNCED: [(&str, Lang); 3] = [
    ("Who announced the closure of the Japan Centers?", Lang::En),
    ("日本センターの閉鎖を発表したのは誰?", Lang::Ja),
    ("谁宣布关闭日本中心的?", Lang::Zh),
];
pub const WHEN_FOUNDED: &str = "When were the Japan Centers established?";

pub fn core_reply(question: &str, choice: LangChoice) -> Reply {
    let base = kotae::service::load_base(None).expect("built-in fact base");
    Kotae::new(base).ask(question, choice).expect("a question")
}

/// The reply is the bot's notice answering `question` from `asker` exactly
/// as the core answers it, with linked sources, pinging only the asker.
pub fn assert_answers(reply: &Seen, expected: &Reply, asker: &UserId) {
    assert_eq!(reply.event.sender, Bot::id());
    assert!(
        matches!(reply.event.content.msgtype, MessageType::Notice(_)),
        "a notice"
    );
    assert_eq!(reply.body(), expected.to_text());
    let html = reply.html().expect("an HTML body");
    let answer = expected.answer().expect("an answer");
    // Each claim's text, followed by its numbered marker.
    for claim in &answer.claims {
        let text = html_escape::encode_text(&claim.text);
        assert!(html.contains(&format!("{text}<sup>[")), "{html} has {text}");
    }
    for source in &answer.sources {
        if let Some(url) = &source.url {
            let href = format!(
                "href=\"{}\"",
                html_escape::encode_double_quoted_attribute(url)
            );
            assert!(html.contains(&href), "{html} links {url}");
        }
    }
    assert_mentions_only(reply, asker);
}

/// `m.mentions` names the asker and no one else, and not the room.
pub fn assert_mentions_only(reply: &Seen, asker: &UserId) {
    let mentions = reply
        .event
        .content
        .mentions
        .as_ref()
        .expect("intentional mentions");
    assert_eq!(
        mentions.user_ids.iter().collect::<Vec<_>>(),
        [asker],
        "{reply:#?}"
    );
    assert!(!mentions.room, "never @room");
}

/// The tag names in an HTML body.
pub fn tags(html: &str) -> Vec<String> {
    html.split('<')
        .skip(1)
        .map(|t| {
            t.trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect()
        })
        .collect()
}
