//! The Discord adapter: slash commands (`/ask`, `/topics`, `/sources`,
//! `/timeline`, `/about`, and the moderators' `/reload` and `/unanswered`),
//! answers to messages that mention the bot when enabled, 👍/👎 feedback on
//! answers, and corrections of sent answers when a reload changes their
//! fact.
//!
//! [`run`] builds a serenity client around a poise framework and starts it
//! autosharded, so a bot in many guilds needs no change here; when Discord
//! refuses the connection it retries with the service's backoff instead of
//! ending `kotae serve` (and any other adapter with it). The pieces:
//! [`commands`] (one file per command, plus the shared checks), [`events`]
//! (plain messages and reactions), [`moderation`] (who is a moderator, and
//! what a reload means in Discord), [`render`] (a core reply as embeds,
//! within Discord's limits), [`autocomplete`] (ranking known questions and
//! facts) and [`status`] (connection state for `/healthz`).
//!
//! Everything that is not about Discord (asking, records, the rate limit,
//! following reloads) is the service's: this adapter receives, calls the
//! service, renders and sends.

pub mod autocomplete;
pub mod commands;
pub mod events;
pub mod moderation;
pub mod render;
pub mod status;

pub use crate::config::discord::DiscordConfig;
use crate::service::backoff::Backoff;
use crate::service::{Platform, Service, Shutdown};
use poise::serenity_prelude as serenity;
use std::time::Duration;

/// The first delay before reconnecting: short enough that a fixed token is
/// picked up quickly.
const RETRY_FIRST: Duration = Duration::from_secs(5);
/// The longest: long enough that a bot with a revoked token does not
/// hammer Discord (which bans clients that fail to identify too often).
const RETRY_MAX: Duration = Duration::from_secs(300);

/// Runs the Discord adapter until the service says to stop.
///
/// Only a configuration that can never work (an empty token, a malformed
/// `api_url`) ends it with an error. Whatever Discord refuses at connect
/// time (a revoked token, a privileged intent switched off) is logged with
/// advice, `/healthz` reports Discord down, and the adapter tries again
/// with a growing delay, so the operator can fix it without a restart and
/// the other adapters keep serving meanwhile.
pub async fn run(config: DiscordConfig, service: Service) -> anyhow::Result<()> {
    // Checked once up front: these are mistakes no retry can fix.
    let moderation_http = std::sync::Arc::new(http_client(&config)?);
    service.status.set(Platform::Discord, false);
    let _follower = service.follow_reloads(
        Platform::Discord,
        service.subscribe_reloads(),
        moderation::DiscordReloads::new(moderation_http, &config),
    );
    let mut backoff = Backoff::new(RETRY_FIRST, RETRY_MAX);
    let shutdown = service.shutdown.clone();
    loop {
        let attempt = connect_once(&config, &service).await;
        service.status.set(Platform::Discord, false);
        if shutdown.is_requested() {
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
            () = shutdown.requested() => return Ok(()),
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
async fn connect_once(config: &DiscordConfig, service: &Service) -> Attempt {
    let http = match http_client(config) {
        Ok(http) => http,
        Err(e) => return Attempt::Invalid(e),
    };
    let handler = status::StatusHandler::new(service.status.clone());
    let connected = handler.connected_once();
    let built = serenity::ClientBuilder::new_with_http(http, intents(config))
        .framework(commands::framework(config, service.clone()))
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
    let shutdown: Shutdown = service.shutdown.clone();
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
        () = shutdown.requested() => {
            tracing::info!("disconnecting from Discord");
            shards.shutdown_all().await;
            // Lets the client close its shards cleanly; a client still
            // asking for the gateway has no shard to close and is dropped.
            let _ = tokio::time::timeout(STOP_GRACE, &mut start).await;
            Attempt::Stopped
        }
    }
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

/// A REST client for the configured token and API. The token and URL were
/// checked when the configuration was read; serenity checks them again.
fn http_client(config: &DiscordConfig) -> anyhow::Result<serenity::Http> {
    let token = config.token.expose().trim();
    if token.is_empty() {
        anyhow::bail!("KOTAE_DISCORD_TOKEN is empty");
    }
    let mut builder = serenity::HttpBuilder::new(token);
    if let Some(url) = &config.api_url {
        // serenity only honours the proxy with its rate limiter off.
        builder = builder
            .proxy(url.trim_end_matches('/'))
            .ratelimiter_disabled(true);
    }
    Ok(builder.build())
}

/// Interactions arrive whatever the intents, so slash commands need none;
/// 👍/👎 on answers need the reaction intents. Mentions of the bot and DMs
/// need only the (non-privileged) guild and direct message intents: Discord
/// sends the content of a message that mentions the bot, and of a DM,
/// without Message Content. That privileged intent is asked for only with
/// `message_content`, to read replies to the bot that do not ping it.
pub fn intents(config: &DiscordConfig) -> serenity::GatewayIntents {
    use serenity::GatewayIntents as I;
    let base = I::GUILD_MESSAGE_REACTIONS
        | I::DIRECT_MESSAGE_REACTIONS
        | I::GUILD_MESSAGES
        | I::DIRECT_MESSAGES;
    if config.message_content {
        base | I::MESSAGE_CONTENT
    } else {
        base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<DiscordConfig, toml::de::Error> {
        toml::from_str(text)
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
        assert_eq!(
            intents(&c),
            reactions | I::GUILD_MESSAGES | I::DIRECT_MESSAGES
        );
        assert!(!intents(&c).intersects(I::privileged()));
        c.message_content = true;
        assert!(intents(&c).contains(reactions | I::MESSAGE_CONTENT | I::GUILD_MESSAGES));
    }

    #[test]
    fn an_empty_token_gets_no_client() {
        let mut c = parse("token = \"t\"").unwrap();
        c.api_url = Some("http://127.0.0.1:1/".into());
        assert!(http_client(&c).is_ok());
        c.token = crate::config::Secret::from(" ");
        assert!(http_client(&c).is_err());
    }
}
