//! 👍/👎 reactions on the bot's answers, recorded per fact so moderators
//! see which answers members find wrong (`kotae feedback`, `/unanswered`).
//! Only reactions on messages the bot recorded as answers count; the bot's
//! own reactions (the ⏳ of the rate limit) never do. Removing a reaction
//! is not tracked: the record is of what members said, not a live tally.

use super::commands::Data;
use crate::records::Records;
use crate::records::feedback::Vote;
use poise::serenity_prelude as serenity;

pub async fn reaction_added(data: &Data, bot: serenity::UserId, reaction: &serenity::Reaction) {
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
    let Some(vote) = Vote::from_reaction(emoji) else {
        return;
    };
    let records = data.records.clone();
    let (channel, message) = (
        reaction.channel_id.to_string(),
        reaction.message_id.to_string(),
    );
    let user = user.to_string();
    // Finding the answer reads the sent-answers journal: file work.
    let recorded =
        tokio::task::spawn_blocking(move || record(&records, &channel, &message, &user, vote))
            .await;
    match recorded {
        Ok(Ok(Some(fact))) => tracing::debug!(%fact, ?vote, "feedback recorded"),
        Ok(Ok(None)) => {}
        Ok(Err(e)) => tracing::warn!("cannot record feedback: {e}"),
        Err(e) => tracing::warn!("cannot record feedback: {e}"),
    }
}

/// Records a vote on a message if it is a recorded answer; returns its fact.
fn record(
    records: &Records,
    channel: &str,
    message: &str,
    user: &str,
    vote: Vote,
) -> std::io::Result<Option<String>> {
    let Some(sent) = records.answers.find("discord", channel, message)? else {
        return Ok(None);
    };
    records
        .feedback
        .record("discord", user, &sent.fact, &sent.revision, vote)?;
    Ok(Some(sent.fact))
}
