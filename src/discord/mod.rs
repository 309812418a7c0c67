//! The Discord adapter: slash commands (`/ask`, `/topics`, `/sources`,
//! `/about`, and the moderators' `/reload` and `/unanswered`), answers to
//! messages that mention the bot when enabled, 👍/👎 feedback on answers,
//! and corrections of sent answers when a reload changes their fact.
//!
//! [`run`] builds a serenity client around a poise framework and starts it
//! autosharded, so a bot in many guilds needs no change here; when Discord
//! refuses the connection it retries with [`backoff`] instead of ending
//! `kotae serve` (and any other adapter with it). The pieces: [`commands`]
//! (one file per command, plus the shared checks), [`events`] (plain
//! messages), [`feedback`] (reactions), [`moderation`] (who is a moderator,
//! reload reports and corrections), [`render`] (a core reply as embeds,
//! within Discord's limits), [`autocomplete`] (ranking known questions and
//! facts), [`ratelimit`] (per-user) and [`status`] (connection state for
//! `/healthz`).

pub mod autocomplete;
pub mod backoff;
pub mod commands;
pub mod events;
pub mod feedback;
pub mod moderation;
pub mod ratelimit;
pub mod render;
pub mod status;

use crate::config::Secret;
use crate::serve::Context;
use anyhow::bail;
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
    /// Members with this role are moderators (`/reload`, `/unanswered`), as
    /// are members with the Manage Guild permission, whatever this says.
    #[serde(default, deserialize_with = "snowflake")]
    pub moderator_role: Option<u64>,
    /// Where reload reports go (applied changes, and rejected edits with
    /// their `file:line:column`); nowhere but the log when unset.
    #[serde(default, deserialize_with = "snowflake")]
    pub moderators_channel: Option<u64>,
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

/// Runs the Discord adapter until the serve context says to stop.
///
/// Only a configuration that can never work (an empty token, a malformed
/// `api_url`) ends it with an error. Whatever Discord refuses at connect
/// time (a revoked token, a privileged intent switched off) is logged with
/// advice, `/healthz` reports Discord down, and the adapter tries again
/// with a growing delay, so the operator can fix it without a restart and
/// the other adapters keep serving meanwhile.
pub async fn run(config: DiscordConfig, ctx: Context) -> anyhow::Result<()> {
    // Checked once up front: these are mistakes no retry can fix.
    let moderation_http = std::sync::Arc::new(http_client(&config)?);
    ctx.status.set("discord", false);
    let _reports = moderation::watch_reloads(moderation_http, ctx.clone(), &config);
    let mut backoff = backoff::Backoff::new();
    let mut shutdown = ctx.shutdown.clone();
    loop {
        let attempt = connect_once(&config, &ctx).await;
        ctx.status.set("discord", false);
        if *shutdown.borrow() {
            return Ok(());
        }
        let delay = match attempt {
            Attempt::Stopped => return Ok(()),
            Attempt::Invalid(error) => return Err(error),
            Attempt::Failed { error, connected } => {
                if connected {
                    backoff.reset();
                }
                let delay = backoff.next_delay();
                tracing::error!(
                    retry_in = ?delay,
                    "Discord is not connected: {:#}", explain(error)
                );
                delay
            }
        };
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            Ok(()) = stop_requested(&mut shutdown) => return Ok(()),
        }
    }
}

/// How one connection attempt ended.
enum Attempt {
    /// Shutdown was requested.
    Stopped,
    /// Discord refused or dropped the client for good; `connected` says
    /// whether it had been connected, so the next delay starts short again.
    Failed {
        error: serenity::Error,
        connected: bool,
    },
    /// The configuration cannot work (checked before the first attempt, so
    /// only in theory here).
    Invalid(anyhow::Error),
}

/// One client, from building it to its end: a fresh framework and HTTP
/// client each time, since serenity's client cannot be restarted.
async fn connect_once(config: &DiscordConfig, ctx: &Context) -> Attempt {
    let http = match http_client(config) {
        Ok(http) => http,
        Err(e) => return Attempt::Invalid(e),
    };
    let handler = status::StatusHandler::new(ctx.status.clone());
    let connected = handler.connected_once();
    let built = serenity::ClientBuilder::new_with_http(http, intents(config))
        .framework(commands::framework(config, ctx.clone()))
        .event_handler(handler)
        .await;
    let mut client = match built {
        Ok(client) => client,
        Err(error) => {
            return Attempt::Failed {
                error,
                connected: false,
            };
        }
    };
    let shards = client.shard_manager.clone();
    let mut shutdown = ctx.shutdown.clone();
    let start = client.start_autosharded();
    tokio::pin!(start);
    tokio::select! {
        result = &mut start => match result {
            Ok(()) => Attempt::Stopped,
            Err(error) => Attempt::Failed {
                error,
                connected: connected.load(std::sync::atomic::Ordering::Relaxed),
            },
        },
        // A dropped sender is not a request to stop.
        Ok(()) = stop_requested(&mut shutdown) => {
            tracing::info!("disconnecting from Discord");
            shards.shutdown_all().await;
            // Lets the client close its shards cleanly; a client still
            // asking for the gateway has no shard to close and is dropped.
            let _ = tokio::time::timeout(STOP_GRACE, &mut start).await;
            Attempt::Stopped
        }
    }
}

/// Resolves when shutdown is requested; an error when the sender is gone
/// (which is not a request to stop). The watch guard is dropped at once,
/// so the future stays `Send`.
async fn stop_requested(shutdown: &mut tokio::sync::watch::Receiver<bool>) -> Result<(), ()> {
    shutdown
        .wait_for(|stop| *stop)
        .await
        .map(drop)
        .map_err(drop)
}

/// How long a stopping client may take to close its shards.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// Turns the configuration mistakes Discord reports only at login into
/// advice.
pub fn explain(error: serenity::Error) -> anyhow::Error {
    use serenity::{Error, GatewayError, HttpError};
    match error {
        Error::Gateway(GatewayError::DisallowedGatewayIntents) => anyhow::anyhow!(
            "Discord refused the Message Content intent: switch it on for the application in \
             the developer portal (Bot → Privileged Gateway Intents), or set \
             discord.message_content = false"
        ),
        Error::Gateway(GatewayError::InvalidAuthentication) => anyhow::anyhow!(
            "Discord refused the bot token: check KOTAE_DISCORD_TOKEN (it changes when the \
             token is reset in the developer portal)"
        ),
        Error::Http(HttpError::UnsuccessfulRequest(ref response))
            if response.status_code.as_u16() == 401 =>
        {
            anyhow::Error::new(error).context(
                "Discord refused the bot token: check KOTAE_DISCORD_TOKEN (it changes when the \
                 token is reset in the developer portal)",
            )
        }
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

/// Interactions arrive whatever the intents, so slash commands need none;
/// 👍/👎 on answers need the (non-privileged) reaction intents, which bring
/// only reaction events; messages need the privileged Message Content
/// intent. Nothing else is asked for, so a bot in many guilds is spared
/// their traffic.
pub fn intents(config: &DiscordConfig) -> serenity::GatewayIntents {
    use serenity::GatewayIntents as I;
    let reactions = I::GUILD_MESSAGE_REACTIONS | I::DIRECT_MESSAGE_REACTIONS;
    if config.message_content {
        reactions | I::GUILD_MESSAGES | I::DIRECT_MESSAGES | I::MESSAGE_CONTENT
    } else {
        reactions
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
    fn refusals_at_login_come_with_advice() {
        use serenity::{Error, GatewayError};
        let intent = explain(Error::Gateway(GatewayError::DisallowedGatewayIntents)).to_string();
        assert!(intent.contains("Privileged Gateway Intents"), "{intent}");
        assert!(intent.contains("message_content = false"), "{intent}");
        let token = explain(Error::Gateway(GatewayError::InvalidAuthentication)).to_string();
        assert!(token.contains("KOTAE_DISCORD_TOKEN"), "{token}");
    }

    #[test]
    fn reactions_are_always_asked_for_and_messages_only_when_switched_on() {
        use serenity::GatewayIntents as I;
        let mut c = parse("token = \"t\"").unwrap();
        let reactions = I::GUILD_MESSAGE_REACTIONS | I::DIRECT_MESSAGE_REACTIONS;
        assert_eq!(intents(&c), reactions);
        assert!(!intents(&c).intersects(I::privileged()));
        c.message_content = true;
        assert!(intents(&c).contains(reactions | I::MESSAGE_CONTENT | I::GUILD_MESSAGES));
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
