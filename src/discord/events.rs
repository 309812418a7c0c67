//! Gateway events besides commands: plain messages and reactions.
//!
//! Plain messages: a message that mentions the bot or is sent to it
//! directly is answered in the channel, as a reply that pings no one (with
//! the non-privileged intents only: Discord sends the content of those). With
//! `message_content` on, a reply to one of the bot's messages that does not
//! ping it is answered too. As for `/ask`,
//! an answer is recorded with its fact (for feedback and corrections) and
//! a decline goes to the moderators' queue.
//!
//! Messages have no locale, so the language is the question's own. A
//! mention with no question gets the help in the member's language as last
//! seen (their last command's locale or question's language), or in every
//! language when the bot has not seen them yet. A member over the rate
//! limit gets a ⏳ reaction instead of a reply, which tells them without
//! adding to the flood.
//!
//! Reactions: a member's 👍/👎 on one of the bot's answers is a vote on its
//! fact (`kotae feedback`, `/unanswered`). The bot's own reactions (the ⏳)
//! and other bots' never count. Removing a reaction is not tracked: the
//! record is of what members said, not a live tally.

use super::commands::{Data, Error};
use super::render::{self, Page};
use crate::core::{LangChoice, Outcome};
use crate::service::{Platform, Question, SentMessage};
use poise::serenity_prelude as serenity;

/// Handles one gateway event the framework does not.
pub async fn handle(
    framework: poise::FrameworkContext<'_, Data, Error>,
    event: &serenity::FullEvent,
) -> Result<(), Error> {
    match event {
        serenity::FullEvent::Message { new_message } => message(framework, new_message).await,
        serenity::FullEvent::ReactionAdd { add_reaction } => {
            reaction_added(framework.user_data, framework.bot_id(), add_reaction);
            Ok(())
        }
        _ => Ok(()),
    }
}

async fn message(
    framework: poise::FrameworkContext<'_, Data, Error>,
    msg: &serenity::Message,
) -> Result<(), Error> {
    let data = framework.user_data;
    let Some(question) = question_for(msg, framework.bot_id(), data.message_content) else {
        return Ok(());
    };
    let http = framework.serenity_context.http.as_ref();
    if !data.limiter.allow(&msg.author.id.get()) {
        msg.react(http, '⏳').await?;
        return Ok(());
    }
    let member = msg.author.id.get();
    if question.is_empty() {
        let help = super::commands::help(data.last_lang(member));
        return send(http, msg, render::notice(&help)).await.map(drop);
    }
    let asker = msg.author.id.to_string();
    let asked = Question {
        platform: Platform::Discord,
        asker: Some(&asker),
        text: &question,
        lang: LangChoice::Detect,
    };
    let reply = match data.service.ask(asked).await {
        Ok(reply) => reply,
        Err(e) => {
            let text = e.message(LangChoice::Detect.resolve(&question));
            return send(http, msg, render::notice(text)).await.map(drop);
        }
    };
    data.remember_lang(member, reply.lang);
    let first = send(http, msg, render::reply(&reply)).await?;
    if let (Outcome::Answer(answer), Some(first)) = (&reply.outcome, first) {
        let (channel, id) = (msg.channel_id.to_string(), first.to_string());
        let sent = SentMessage {
            platform: Platform::Discord,
            room: &channel,
            message: &id,
        };
        data.service.remember_answer(sent, answer, reply.lang);
    }
    Ok(())
}

/// The question in a message meant for the bot, without the mention; `None`
/// when the message is not for the bot. A reply that does not ping the bot
/// is for it only when its content can be read (`read_replies`: the Message
/// Content intent); without it, Discord sends such a reply empty.
pub fn question_for(
    msg: &serenity::Message,
    bot: serenity::UserId,
    read_replies: bool,
) -> Option<String> {
    // Never answer a bot, least of all this one: two bots can loop forever.
    if msg.author.bot || msg.author.id == bot {
        return None;
    }
    let mentioned = msg.mentions.iter().any(|u| u.id == bot);
    let replied = read_replies
        && msg
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

/// Counts a member's 👍/👎 on one of the bot's answers.
fn reaction_added(data: &Data, bot: serenity::UserId, reaction: &serenity::Reaction) {
    let Some(user) = reaction.user_id else {
        return;
    };
    let by_a_bot = reaction.member.as_ref().is_some_and(|m| m.user.bot);
    if user == bot || by_a_bot {
        return;
    }
    let serenity::ReactionType::Unicode(emoji) = &reaction.emoji else {
        return;
    };
    let (channel, message) = (
        reaction.channel_id.to_string(),
        reaction.message_id.to_string(),
    );
    let on = SentMessage {
        platform: Platform::Discord,
        room: &channel,
        message: &message,
    };
    data.service.vote(on, &user.to_string(), emoji);
}

/// The first page replies to the member's message; any more follow it.
/// Returns the first message's id.
async fn send(
    http: &serenity::Http,
    msg: &serenity::Message,
    pages: Vec<Page>,
) -> Result<Option<serenity::MessageId>, Error> {
    let mut first = None;
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
        let sent = msg.channel_id.send_message(http, out).await?;
        first.get_or_insert(sent.id);
    }
    Ok(first)
}
