//! The Matrix adapter: `kotae serve` with a `[matrix]` section (or
//! `KOTAE_MATRIX_*` variables) logs the bot in and answers questions in
//! Matrix rooms, encrypted ones included.
//!
//! The pieces, in the order a message meets them:
//! - [`session`]: the client, its SQLite store and the saved login, so a
//!   restart is the same device with no new login;
//! - [`sync`]: the sync loop, resuming from the stored sync token with
//!   backoff, and the rules for which timeline events are new;
//! - [`invite`]: joining rooms when an allowed user invites the bot;
//! - [`command`]: whether a message is for the bot, and what it asks;
//! - [`bot`]: answering it (rate limit, room language, sending the reply);
//! - [`render`]: the reply as plain text and escaped HTML;
//! - [`memory`]: what must survive a restart besides the SDK's own state
//!   (answered event ids, room languages).

mod bot;
mod command;
mod invite;
mod memory;
mod render;
mod retry;
mod session;
mod sync;

use crate::config::Secret;
use crate::serve::Context;
use serde::{Deserialize, Serialize};

/// The `[matrix]` section of kotae.toml; every key can also be set with
/// `KOTAE_MATRIX_<KEY>`, and the secrets only that way.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixConfig {
    /// The homeserver's client URL, such as `https://matrix.example.org`.
    pub homeserver: String,
    /// The bot's user id (`@kotae:example.org`) or localpart (`kotae`).
    /// Needed to log in with a password; with an access token the
    /// homeserver says who the bot is.
    pub user: Option<String>,
    /// Logs in with this password on the first start.
    pub password: Option<Secret>,
    /// Or uses this access token (of a device created for the bot).
    pub access_token: Option<Secret>,
    /// The device name other members see in their device lists.
    #[serde(default = "default_device_name")]
    pub device_name: String,
    /// Sets the bot's display name at start, if given.
    pub display_name: Option<String>,
    /// Who may invite the bot: user ids (`@alice:example.org`), homeserver
    /// names (`example.org`) or `*`. Empty means the bot's own homeserver.
    #[serde(default)]
    pub allow_invites_from: Vec<String>,
    /// Questions one user may ask per minute; 0 turns the limit off.
    #[serde(default = "default_rate_per_minute")]
    pub rate_per_minute: u32,
    /// How many of those may come at once.
    #[serde(default = "default_rate_burst")]
    pub rate_burst: u32,
    /// After a restart, questions that waited longer than this for the bot
    /// are left unanswered: an answer hours late only confuses.
    #[serde(default = "default_catch_up_minutes")]
    pub catch_up_minutes: u64,
}

fn default_device_name() -> String {
    "kotae".to_string()
}

fn default_rate_per_minute() -> u32 {
    6
}

fn default_rate_burst() -> u32 {
    3
}

fn default_catch_up_minutes() -> u64 {
    60
}

impl MatrixConfig {
    /// A configuration with defaults for everything but the homeserver.
    pub fn new(homeserver: impl Into<String>) -> MatrixConfig {
        MatrixConfig {
            homeserver: homeserver.into(),
            user: None,
            password: None,
            access_token: None,
            device_name: default_device_name(),
            display_name: None,
            allow_invites_from: Vec::new(),
            rate_per_minute: default_rate_per_minute(),
            rate_burst: default_rate_burst(),
            catch_up_minutes: default_catch_up_minutes(),
        }
    }
}

/// Runs the adapter until `ctx.shutdown` turns true.
pub async fn run(config: MatrixConfig, ctx: Context) -> anyhow::Result<()> {
    // Disconnected (for /healthz) until the first sync succeeds.
    ctx.status.set("matrix", false);
    let dir = ctx.state_dir.join("matrix");
    let mut shutdown = ctx.shutdown.clone();
    let Some(client) = session::connect(&config, &dir, &mut shutdown).await? else {
        return Ok(());
    };
    let memory = memory::Memory::load(&client).await?;
    let bot = bot::Bot::new(&config, &ctx, client.clone(), memory).await;
    let syncer = sync::Syncer::new(client, bot, &config, ctx.status.clone(), shutdown.clone());
    let result = syncer.run(shutdown).await;
    ctx.status.set("matrix", false);
    result
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
        vars.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn environment_variables_alone_configure_the_adapter() {
        let config = Config::from_sources(
            None,
            env(&[
                ("KOTAE_MATRIX_HOMESERVER", "https://matrix.example.org"),
                ("KOTAE_MATRIX_USER", "kotae"),
                ("KOTAE_MATRIX_PASSWORD", "hunter2"),
                (
                    "KOTAE_MATRIX_ALLOW_INVITES_FROM",
                    r#"["@alice:example.org", "example.net"]"#,
                ),
                ("KOTAE_MATRIX_RATE_PER_MINUTE", "10"),
            ]),
        )
        .unwrap();
        let matrix = config.matrix.expect("a [matrix] section");
        assert_eq!(matrix.homeserver, "https://matrix.example.org");
        assert_eq!(matrix.user.as_deref(), Some("kotae"));
        assert_eq!(
            matrix.password.as_ref().map(|p| p.expose()),
            Some("hunter2")
        );
        assert_eq!(
            matrix.allow_invites_from,
            ["@alice:example.org", "example.net"]
        );
        assert_eq!(matrix.rate_per_minute, 10);
        assert_eq!(matrix.rate_burst, 3);
        assert!(
            !format!("{matrix:?}").contains("hunter2"),
            "secrets print as ***"
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let result = Config::from_sources(
            None,
            env(&[
                ("KOTAE_MATRIX_HOMESERVER", "https://matrix.example.org"),
                ("KOTAE_MATRIX_HOMSERVER", "typo"),
            ]),
        );
        assert!(result.is_err());
    }
}
