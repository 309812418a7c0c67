//! The Discord half of the moderators' workflow (the platform-neutral half
//! is `crate::serve::moderation`): who counts as a moderator, remembering
//! which message answered with which fact, and the task that follows every
//! reload, telling the moderators' channel and correcting sent answers.
//!
//! The reload task uses its own HTTP client, not a connected client's, so
//! it keeps working across the retry loop's reconnections: editing and
//! posting messages needs REST only, no gateway.

use super::DiscordConfig;
use super::render;
use crate::core::{Answer, Lang};
use crate::records::Records;
use crate::reload::{Changes, ReloadReport};
use crate::serve::Context;
use crate::serve::moderation::{self as shared, PendingCorrection};
use poise::serenity_prelude as serenity;
use std::num::NonZeroU64;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

/// Whether a member may run the moderators' commands: Manage Guild (or
/// Administrator, which implies it), or the configured role. Outside a
/// guild there is no member and no moderator.
pub fn is_moderator(member: Option<&serenity::Member>, role: Option<serenity::RoleId>) -> bool {
    let Some(member) = member else {
        return false;
    };
    // In an interaction, `permissions` are the member's computed
    // permissions in the channel, overwrites included.
    let manages = member
        .permissions
        .is_some_and(|p| p.manage_guild() || p.administrator());
    manages || role.is_some_and(|role| member.roles.contains(&role))
}

/// Records that `message` answered from `answer`'s fact, for feedback and
/// corrections. A failure costs only those, so it is logged, not returned.
pub fn remember_answer(
    records: &Records,
    channel: serenity::ChannelId,
    message: serenity::MessageId,
    answer: &Answer,
    lang: Lang,
) {
    let result = records.answers.record(
        "discord",
        &channel.to_string(),
        &message.to_string(),
        &answer.fact_id,
        &answer.text,
        lang,
    );
    if let Err(e) = result {
        tracing::warn!("cannot record a sent answer; it cannot be corrected: {e}");
    }
}

/// The reload task; dropping it stops the task.
pub struct ReloadTask(tokio::task::JoinHandle<()>);

impl Drop for ReloadTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Follows every reload report for as long as the returned task is kept.
/// Subscribes before returning, so no reload after this call is missed.
pub fn watch_reloads(
    http: Arc<serenity::Http>,
    ctx: Context,
    config: &DiscordConfig,
) -> ReloadTask {
    let mut reports = ctx.reloads.subscribe();
    let channel = config
        .moderators_channel
        .and_then(NonZeroU64::new)
        .map(serenity::ChannelId::from);
    ReloadTask(tokio::spawn(async move {
        loop {
            match reports.recv().await {
                Ok(report) => follow(&http, &ctx, channel, &report).await,
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(
                        missed,
                        "missed reload reports; their answers are not corrected"
                    );
                }
                Err(RecvError::Closed) => return,
            }
        }
    }))
}

async fn follow(
    http: &serenity::Http,
    ctx: &Context,
    channel: Option<serenity::ChannelId>,
    report: &ReloadReport,
) {
    if let Some(channel) = channel
        && shared::worth_telling(report)
    {
        tell(http, channel, &report.to_string()).await;
    }
    if let ReloadReport::Applied(changes) = report {
        correct_answers(http, ctx, changes).await;
    }
}

/// Posts a report in the moderators' channel, as code blocks.
async fn tell(http: &serenity::Http, channel: serenity::ChannelId, text: &str) {
    for block in render::code_blocks(text) {
        let message = serenity::CreateMessage::new()
            .content(block)
            .allowed_mentions(render::no_pings());
        if let Err(e) = channel.send_message(http, message).await {
            tracing::warn!(%channel, "cannot post a reload report to the moderators' channel: {e}");
            return;
        }
    }
}

/// Edits every recent answer whose fact the reload changed. Each edit is
/// recorded as done only once Discord took it; a failed one (the message
/// deleted, the channel gone) is logged and skipped.
async fn correct_answers(http: &serenity::Http, ctx: &Context, changes: &Changes) {
    let pending = {
        let (ctx, changes) = (ctx.clone(), changes.clone());
        // Reads the sent-answers journal: file work, off the async threads.
        tokio::task::spawn_blocking(move || shared::corrections(&ctx, "discord", &changes)).await
    };
    let pending = pending.unwrap_or_else(|e| {
        tracing::warn!("cannot list the answers to correct: {e}");
        Vec::new()
    });
    for correction in pending {
        match edit(http, &correction).await {
            Ok(()) => correction.done(ctx),
            Err(e) => tracing::warn!(
                channel = %correction.sent.room,
                message = %correction.sent.message,
                fact = %correction.sent.fact,
                "cannot correct a sent answer: {e}"
            ),
        }
    }
}

async fn edit(http: &serenity::Http, correction: &PendingCorrection) -> anyhow::Result<()> {
    let sent = &correction.sent;
    let channel = serenity::ChannelId::from(snowflake(&sent.room)?);
    let message = serenity::MessageId::from(snowflake(&sent.message)?);
    let (content, page) = render::correction(sent.lang, &correction.correction);
    let edit = serenity::EditMessage::new()
        .content(content)
        .embeds(page.iter().map(render::Embed::to_serenity).collect())
        .allowed_mentions(render::no_pings());
    channel.edit_message(http, message, edit).await?;
    Ok(())
}

/// A recorded id back as a snowflake (never zero, which serenity rejects).
fn snowflake(id: &str) -> anyhow::Result<NonZeroU64> {
    id.parse()
        .map_err(|_| anyhow::anyhow!("`{id}` is not a Discord id"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn member(roles: &[&str], permissions: &str) -> serenity::Member {
        serde_json::from_value(json!({
            "user": {"id": "7", "username": "m", "discriminator": "0", "global_name": null,
                "avatar": null},
            "roles": roles, "joined_at": "2024-01-01T00:00:00.000000+00:00",
            "deaf": false, "mute": false, "flags": 0, "permissions": permissions,
            "guild_id": "1"
        }))
        .unwrap()
    }

    #[test]
    fn managers_administrators_and_the_role_are_moderators() {
        let role = Some(serenity::RoleId::new(99));
        let plain = member(&["5"], "2048");
        assert!(!is_moderator(Some(&plain), role));
        assert!(!is_moderator(Some(&plain), None));
        assert!(is_moderator(Some(&member(&[], "32")), None));
        assert!(is_moderator(Some(&member(&[], "8")), None));
        assert!(is_moderator(Some(&member(&["5", "99"], "0")), role));
        assert!(!is_moderator(None, role));
    }

    #[test]
    fn recorded_ids_parse_back_or_fail_politely() {
        assert_eq!(snowflake("42").unwrap().get(), 42);
        assert!(snowflake("0").is_err());
        assert!(snowflake("!room").is_err());
    }
}
