//! The Discord half of the moderators' workflow (the platform-neutral half
//! is `crate::service::moderation`): who counts as a moderator, and what a
//! reload means in Discord ([`DiscordReloads`], driven by the service's
//! follower): a report in the moderators' channel, and edits of answers
//! the reload corrected.
//!
//! The follower uses its own HTTP client, not a connected client's, so it
//! keeps working across the retry loop's reconnections: editing and
//! posting messages needs REST only, no gateway.

use super::DiscordConfig;
use super::render;
use crate::core::Lang;
use crate::service::follower::ReloadTarget;
use crate::service::moderation::PendingCorrection;
use poise::serenity_prelude as serenity;
use std::num::NonZeroU64;
use std::sync::Arc;

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

/// Where reload news goes in Discord, in the moderators' language.
pub struct DiscordReloads {
    http: Arc<serenity::Http>,
    /// The moderators' channel, if one is configured.
    channel: Option<serenity::ChannelId>,
    /// The language of the reports there (`moderators_lang`).
    lang: Lang,
}

impl DiscordReloads {
    /// Reports go to the configured moderators' channel, through `http`.
    pub fn new(http: Arc<serenity::Http>, config: &DiscordConfig) -> DiscordReloads {
        let channel = config
            .moderators_channel
            .and_then(NonZeroU64::new)
            .map(serenity::ChannelId::from);
        DiscordReloads {
            http,
            channel,
            lang: config.moderators_lang,
        }
    }
}

impl ReloadTarget for DiscordReloads {
    fn moderators_lang(&self) -> Lang {
        self.lang
    }

    async fn tell_moderators(&self, report: &str) {
        if let Some(channel) = self.channel {
            tell(&self.http, channel, report).await;
        }
    }

    /// A failed edit (the message deleted, the channel gone) is logged.
    async fn edit_answer(&self, pending: &PendingCorrection) -> bool {
        match edit(&self.http, pending).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(
                    channel = %pending.sent.room,
                    message = %pending.sent.message,
                    fact = %pending.sent.fact,
                    "cannot correct a sent answer: {e}"
                );
                false
            }
        }
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
