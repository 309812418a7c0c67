//! The `[matrix]` section of `kotae.toml` (`KOTAE_MATRIX_<KEY>`), read by
//! `kotae serve` and `kotae config check`; the Matrix adapter uses it.
//! Room and user ids are checked when the configuration is read.

use super::Secret;
use crate::core::Lang;
use matrix_sdk::ruma::{OwnedRoomOrAliasId, OwnedUserId};
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
    /// A member with at least this power level in the room where they type
    /// `!reload` or `!unanswered` is a moderator there (50 is what clients
    /// call "Moderator").
    #[serde(default = "default_moderator_power_level")]
    pub moderator_power_level: i64,
    /// Users who are moderators in every room, whatever their power level.
    /// Ids are checked when the configuration is read.
    #[serde(default)]
    pub moderators: Vec<OwnedUserId>,
    /// The room (id or alias) where reload reports go: what changed, or why
    /// an edit was rejected, with file and line. Unset: the log only.
    #[serde(default)]
    pub moderators_room: Option<OwnedRoomOrAliasId>,
    /// The language of what moderators read: reload reports in the
    /// moderators' room, and `!reload` and `!unanswered` (`ja`, `zh` or
    /// `en`; English by default).
    #[serde(
        default = "super::default_moderators_lang",
        deserialize_with = "super::lang"
    )]
    pub moderators_lang: Lang,
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

fn default_moderator_power_level() -> i64 {
    50
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
            moderator_power_level: default_moderator_power_level(),
            moderators: Vec::new(),
            moderators_room: None,
            moderators_lang: super::DEFAULT_MODERATORS_LANG,
        }
    }
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
    fn moderators_are_configured_by_environment_and_checked_when_read() {
        let base = [("KOTAE_MATRIX_HOMESERVER", "https://matrix.example.org")];
        let config = Config::from_sources(None, env(&base)).unwrap();
        let matrix = config.matrix.expect("a [matrix] section");
        assert_eq!(matrix.moderator_power_level, 50);
        assert!(matrix.moderators.is_empty());
        assert_eq!(matrix.moderators_room, None);

        let config = Config::from_sources(
            None,
            env(&[
                base[0],
                ("KOTAE_MATRIX_MODERATORS", r#"["@alice:example.org"]"#),
                ("KOTAE_MATRIX_MODERATORS_ROOM", "#mods:example.org"),
                ("KOTAE_MATRIX_MODERATOR_POWER_LEVEL", "75"),
            ]),
        )
        .unwrap();
        let matrix = config.matrix.expect("a [matrix] section");
        assert_eq!(matrix.moderators, ["@alice:example.org"]);
        assert_eq!(
            matrix.moderators_room.as_ref().map(|r| r.as_str()),
            Some("#mods:example.org")
        );
        assert_eq!(matrix.moderator_power_level, 75);
        assert_eq!(matrix.moderators_lang, crate::core::Lang::En);

        let config = Config::from_sources(
            None,
            env(&[base[0], ("KOTAE_MATRIX_MODERATORS_LANG", "Japanese")]),
        )
        .unwrap();
        let matrix = config.matrix.expect("a [matrix] section");
        assert_eq!(matrix.moderators_lang, crate::core::Lang::Ja);
        let result = Config::from_sources(
            None,
            env(&[base[0], ("KOTAE_MATRIX_MODERATORS_LANG", "ru")]),
        );
        let error = result
            .expect_err("an unknown language is refused")
            .to_string();
        assert!(
            error.contains("matrix.moderators_lang") && error.contains("ja, zh or en"),
            "{error}"
        );

        for (key, bad) in [
            ("KOTAE_MATRIX_MODERATORS", r#"["alice"]"#),
            ("KOTAE_MATRIX_MODERATORS_ROOM", "mods"),
        ] {
            let result = Config::from_sources(None, env(&[base[0], (key, bad)]));
            let error = result.expect_err("a malformed id is refused").to_string();
            assert!(error.contains("moderators"), "{key}={bad}: {error}");
        }
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
