//! Plain messages, when `message_content` is on: a message that mentions the
//! bot, replies to one of its messages, or is sent to it directly is
//! answered in the channel, as a reply that pings no one.
//!
//! Messages have no locale, so the language is the question's own. A member
//! over the rate limit gets a ⏳ reaction instead of a reply, which tells
//! them without adding to the flood.

use super::commands::{Data, Error};
use super::render::{self, Page};
use crate::core::{Kotae, LangChoice};
use poise::serenity_prelude as serenity;
use std::time::Instant;

pub async fn handle(
    framework: poise::FrameworkContext<'_, Data, Error>,
    event: &serenity::FullEvent,
) -> Result<(), Error> {
    let serenity::FullEvent::Message { new_message: msg } = event else {
        return Ok(());
    };
    let data = framework.user_data;
    if !data.message_content {
        return Ok(());
    }
    let Some(question) = question_for(msg, framework.bot_id()) else {
        return Ok(());
    };
    let http = framework.serenity_context.http.as_ref();
    if !data.limiter.allow(msg.author.id.get()) {
        crate::serve::record_rate_limited("discord");
        msg.react(http, '⏳').await?;
        return Ok(());
    }
    send(http, msg, pages_for(&data.kotae, &question)).await
}

/// The question in a message meant for the bot, without the mention; `None`
/// when the message is not for the bot.
pub fn question_for(msg: &serenity::Message, bot: serenity::UserId) -> Option<String> {
    // Never answer a bot, least of all this one: two bots can loop forever.
    if msg.author.bot || msg.author.id == bot {
        return None;
    }
    let mentioned = msg.mentions.iter().any(|u| u.id == bot);
    let replied = msg
        .referenced_message
        .as_ref()
        .is_some_and(|m| m.author.id == bot);
    let direct = msg.guild_id.is_none();
    (mentioned || replied || direct).then(|| {
        msg.content
            .replace(&format!("<@{bot}>"), " ")
            .replace(&format!("<@!{bot}>"), " ")
            .trim()
            .to_string()
    })
}

/// The answer, or the help text for a bare mention.
fn pages_for(kotae: &Kotae, question: &str) -> Vec<Page> {
    if question.is_empty() {
        let help = crate::core::messages::get(crate::core::Lang::En).help;
        return render::notice(help);
    }
    let started = Instant::now();
    match kotae.ask(question, LangChoice::Detect) {
        Ok(reply) => {
            crate::serve::record_question("discord", &reply, started.elapsed());
            render::reply(&reply)
        }
        Err(e) => render::notice(e.message(LangChoice::Detect.resolve(question))),
    }
}

/// The first page replies to the member's message; any more follow it.
async fn send(
    http: &serenity::Http,
    msg: &serenity::Message,
    pages: Vec<Page>,
) -> Result<(), Error> {
    for (i, page) in pages.iter().enumerate() {
        let mut out = serenity::CreateMessage::new()
            .embeds(page.iter().map(render::Embed::to_serenity).collect())
            .allowed_mentions(render::no_pings());
        if i == 0 {
            let mut reference = serenity::MessageReference::from(msg);
            // A deleted question should not lose its answer.
            reference.fail_if_not_exists = Some(false);
            out = out.reference_message(reference);
        }
        msg.channel_id.send_message(http, out).await?;
    }
    Ok(())
}
