//! The Discord adapter: slash commands (`/ask`, `/topics`, `/sources`,
//! `/about`) and, when enabled, answers to messages that mention the bot.
//!
//! [`run`] builds a serenity client around a poise framework and starts it
//! autosharded, so a bot in many guilds needs no change here. The pieces:
//! [`commands`] (one file per command, plus the shared checks), [`events`]
//! (plain messages), [`render`] (a core reply as embeds, within Discord's
//! limits), [`autocomplete`] (ranking known questions and facts),
//! [`ratelimit`] (per-user) and [`status`] (connection state for `/healthz`).

pub mod autocomplete;
pub mod commands;
pub mod events;
pub mod ratelimit;
pub mod render;
pub mod status;

use crate::config::Secret;
use crate::serve::Context;
use anyhow::{Context as _, bail};
use poise::serenity_prelude as serenity;
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
    /// Answer messages that mention the bot, reply to it, or are sent to it
    /// directly. Needs the privileged "Message Content" intent, switched on
    /// for the application in the Discord developer portal. Slash commands
    /// work without it.
    #[serde(default)]
    pub message_content: bool,
    /// Questions a member may ask per minute (commands and messages); 0
    /// turns the limit off.
    #[serde(default = "default_rate_per_minute")]
    pub rate_per_minute: u32,
    /// How many of them may come at once.
    #[serde(default = "default_rate_burst")]
    pub rate_burst: u32,
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

/// Guild ids are snowflakes: a TOML integer, or a string as Discord shows them.
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

/// Runs the Discord adapter until the serve context says to stop.
pub async fn run(config: DiscordConfig, ctx: Context) -> anyhow::Result<()> {
    let http = http_client(&config)?;
    let framework = commands::framework(&config, ctx.clone());
    ctx.status.set("discord", false);
    let mut client = serenity::ClientBuilder::new_with_http(http, intents(&config))
        .framework(framework)
        .event_handler(status::StatusHandler::new(ctx.status.clone()))
        .await
        .context("cannot build the Discord client")?;
    let shards = client.shard_manager.clone();
    let mut shutdown = ctx.shutdown.clone();
    let stopper = tokio::spawn(async move {
        // A dropped sender is not a request to stop.
        if shutdown.wait_for(|stop| *stop).await.is_ok() {
            tracing::info!("disconnecting from Discord");
            shards.shutdown_all().await;
        } else {
            std::future::pending::<()>().await;
        }
    });
    let result = client.start_autosharded().await;
    stopper.abort();
    ctx.status.set("discord", false);
    result.map_err(explain)
}

/// Turns the one configuration mistake Discord reports only at login into
/// advice.
fn explain(error: serenity::Error) -> anyhow::Error {
    use serenity::{Error, GatewayError};
    match error {
        Error::Gateway(GatewayError::DisallowedGatewayIntents) => anyhow::anyhow!(
            "Discord refused the Message Content intent: switch it on for the application in \
             the developer portal (Bot → Privileged Gateway Intents), or set \
             discord.message_content = false"
        ),
        other => anyhow::Error::new(other).context("the Discord connection failed"),
    }
}

fn http_client(config: &DiscordConfig) -> anyhow::Result<serenity::Http> {
    let token = config.token.expose().trim();
    if token.is_empty() {
        bail!("KOTAE_DISCORD_TOKEN is empty");
    }
    let mut builder = serenity::HttpBuilder::new(token);
    if let Some(url) = &config.api_url {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            bail!("discord.api_url must be an http:// or https:// URL, not `{url}`");
        }
        // serenity only honours the proxy with its rate limiter off.
        builder = builder
            .proxy(url.trim_end_matches('/'))
            .ratelimiter_disabled(true);
    }
    Ok(builder.build())
}

/// Interactions arrive whatever the intents, so slash commands need none
/// (and a bot in many guilds is spared their events); messages need the
/// privileged Message Content intent.
fn intents(config: &DiscordConfig) -> serenity::GatewayIntents {
    if config.message_content {
        serenity::GatewayIntents::GUILD_MESSAGES
            | serenity::GatewayIntents::DIRECT_MESSAGES
            | serenity::GatewayIntents::MESSAGE_CONTENT
    } else {
        serenity::GatewayIntents::empty()
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

    #[test]
    fn api_url_must_be_http() {
        let mut c = parse("token = \"t\"").unwrap();
        c.api_url = Some("ftp://x".into());
        assert!(http_client(&c).is_err());
        c.api_url = Some("http://127.0.0.1:1/".into());
        assert!(http_client(&c).is_ok());
        c.token = Secret::from(" ");
        assert!(http_client(&c).is_err());
    }
}
