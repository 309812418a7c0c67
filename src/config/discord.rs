//! The `[discord]` section of `kotae.toml` (`KOTAE_DISCORD_<KEY>`), read
//! by `kotae serve` and `kotae config check`; the Discord adapter uses it.

use super::Secret;
use crate::core::Lang;
use serde::{Deserialize, Serialize};

/// The `[discord]` section of `kotae.toml`; `KOTAE_DISCORD_<KEY>` overrides.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordConfig {
    /// The bot token, from `KOTAE_DISCORD_TOKEN` (or `_FILE`) only.
    pub token: Secret,
    /// Register the commands in this guild only (they appear at once, handy
    /// while trying the bot out); globally when unset.
    #[serde(default, deserialize_with = "snowflake")]
    pub guild_id: Option<u64>,
    /// Also answer replies to the bot's messages that do not ping it.
    /// Needs the privileged "Message Content" intent, switched on for the
    /// application in the Discord developer portal. Slash commands, mentions
    /// of the bot and DMs work without it.
    #[serde(default)]
    pub message_content: bool,
    /// Questions a member may ask per minute (commands and messages); 0
    /// turns the limit off.
    #[serde(default = "default_rate_per_minute")]
    pub rate_per_minute: u32,
    /// How many of them may come at once.
    #[serde(default = "default_rate_burst")]
    pub rate_burst: u32,
    /// Members with this role are moderators (`/reload`, `/unanswered`), as
    /// are members with the Manage Guild permission, whatever this says.
    #[serde(default, deserialize_with = "snowflake")]
    pub moderator_role: Option<u64>,
    /// Where reload reports go (applied changes, and rejected edits with
    /// their `file:line:column`); nowhere but the log when unset.
    #[serde(default, deserialize_with = "snowflake")]
    pub moderators_channel: Option<u64>,
    /// The language of what moderators read: reload reports in the
    /// moderators' channel, and `/reload` and `/unanswered` (`ja`, `zh` or
    /// `en`; English by default).
    #[serde(
        default = "super::default_moderators_lang",
        deserialize_with = "super::lang"
    )]
    pub moderators_lang: Lang,
    /// For testing: send every REST call to this base URL (such as
    /// `http://127.0.0.1:8080`, a local Discord API double) instead of
    /// `https://discord.com`, with serenity's own rate limiter off. Leave it
    /// unset in production.
    #[serde(default)]
    pub api_url: Option<String>,
}

fn default_rate_per_minute() -> u32 {
    6
}

fn default_rate_burst() -> u32 {
    3
}

/// Discord ids are snowflakes: a TOML integer, or a string as Discord shows them.
fn snowflake<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Number(u64),
        Text(String),
    }
    match Option::<Id>::deserialize(d)? {
        None => Ok(None),
        Some(Id::Number(n)) => Ok(Some(n)),
        Some(Id::Text(s)) => s.trim().parse().map(Some).map_err(|_| {
            serde::de::Error::custom(format!("`{s}` is not a Discord id (a whole number)"))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<DiscordConfig, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn defaults_and_guild_ids() {
        let c = parse("token = \"t\"").unwrap();
        assert_eq!((c.guild_id, c.message_content), (None, false));
        assert_eq!((c.rate_per_minute, c.rate_burst), (6, 3));
        let c = parse("token = \"t\"\nguild_id = 123456789012345678").unwrap();
        assert_eq!(c.guild_id, Some(123456789012345678));
        let c = parse("token = \"t\"\nguild_id = \"987\"").unwrap();
        assert_eq!(c.guild_id, Some(987));
        assert!(parse("token = \"t\"\nguild_id = \"abc\"").is_err());
        assert!(parse("token = \"t\"\nguild = 1").is_err());
    }

    #[test]
    fn moderator_settings_are_optional_snowflakes() {
        let c = parse("token = \"t\"").unwrap();
        assert_eq!((c.moderator_role, c.moderators_channel), (None, None));
        let c = parse("token = \"t\"\nmoderator_role = 11\nmoderators_channel = \"22\"").unwrap();
        assert_eq!(
            (c.moderator_role, c.moderators_channel),
            (Some(11), Some(22))
        );
        assert!(parse("token = \"t\"\nmoderator_role = \"mods\"").is_err());
        let env = [
            ("KOTAE_DISCORD_TOKEN", "tok"),
            ("KOTAE_DISCORD_MODERATOR_ROLE", "123456789012345678"),
            ("KOTAE_DISCORD_MODERATORS_CHANNEL", "223456789012345678"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let c = crate::config::Config::from_sources(None, env)
            .unwrap()
            .discord
            .unwrap();
        assert_eq!(c.moderator_role, Some(123456789012345678));
        assert_eq!(c.moderators_channel, Some(223456789012345678));
    }

    #[test]
    fn the_moderators_language_is_english_unless_set_and_checked() {
        let c = parse("token = \"t\"").unwrap();
        assert_eq!(c.moderators_lang, Lang::En);
        let c = parse("token = \"t\"\nmoderators_lang = \"ja\"").unwrap();
        assert_eq!(c.moderators_lang, Lang::Ja);
        let env = [
            ("KOTAE_DISCORD_TOKEN", "t"),
            ("KOTAE_DISCORD_MODERATORS_LANG", "zh"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let c = crate::config::Config::from_sources(None, env).unwrap();
        assert_eq!(c.discord.unwrap().moderators_lang, Lang::Zh);
        let env = [
            ("KOTAE_DISCORD_TOKEN", "t"),
            ("KOTAE_DISCORD_MODERATORS_LANG", "fr"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let error = crate::config::Config::from_sources(None, env)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("discord.moderators_lang")
                && error.contains("KOTAE_DISCORD_MODERATORS_LANG")
                && error.contains("use ja, zh or en"),
            "{error}"
        );
    }

    #[test]
    fn environment_variables_fill_the_section() {
        let env = [
            ("KOTAE_DISCORD_TOKEN", "tok"),
            ("KOTAE_DISCORD_GUILD_ID", "123456789012345678"),
            ("KOTAE_DISCORD_MESSAGE_CONTENT", "true"),
            ("KOTAE_DISCORD_RATE_PER_MINUTE", "0"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let config = crate::config::Config::from_sources(None, env).unwrap();
        let c = config.discord.unwrap();
        assert_eq!(c.token.expose(), "tok");
        assert_eq!(c.guild_id, Some(123456789012345678));
        assert!(c.message_content);
        assert_eq!(c.rate_per_minute, 0);
    }

    #[test]
    fn the_token_never_prints() {
        let c = parse("token = \"very-secret\"").unwrap();
        assert!(!format!("{c:?}").contains("very-secret"));
    }
}
