//! The `[matrix]` section of `kotae.toml` (`KOTAE_MATRIX_<KEY>`), read by
//! `kotae serve` and `kotae config check`; the Matrix adapter uses it.
//! Room and user ids, and the sender-trust rule, are checked when the
//! configuration is read.

use super::Secret;
use crate::core::Lang;
use matrix_sdk::ruma::{OwnedRoomOrAliasId, OwnedUserId};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

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
    /// The recovery key written at the bot's first start
    /// (`KOTAE_MATRIX_RECOVERY_KEY_FILE`): a new device of the account (a
    /// lost state directory, a second deployment) restores the bot's
    /// identity with it.
    pub recovery_key: Option<Secret>,
    /// The same, from the file this names (the key itself is a secret and
    /// stays out of kotae.toml); `recovery_key` wins when both are set.
    pub recovery_key_file: Option<PathBuf>,
    /// Whose encrypted messages the bot reads: `untrusted` (any device),
    /// `cross-signed-or-legacy` (devices signed by their owner's identity,
    /// and older sessions made before that was recorded) or `cross-signed`.
    #[serde(default)]
    pub sender_trust: SenderTrust,
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

/// How much the bot must trust the device that sent an encrypted message
/// to read it (`matrix.sender_trust`). A message from a device below the
/// rule is not decrypted, so not answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SenderTrust {
    /// Any device, signed by its owner or not.
    Untrusted,
    /// Devices their owner's identity signed, and sessions from before
    /// that was recorded: the rule Element is moving to.
    #[default]
    CrossSignedOrLegacy,
    /// Only devices their owner's identity signed.
    CrossSigned,
}

impl SenderTrust {
    /// Every level, as the setting spells it.
    pub const ALL: [SenderTrust; 3] = [
        SenderTrust::Untrusted,
        SenderTrust::CrossSignedOrLegacy,
        SenderTrust::CrossSigned,
    ];

    /// The setting's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SenderTrust::Untrusted => "untrusted",
            SenderTrust::CrossSignedOrLegacy => "cross-signed-or-legacy",
            SenderTrust::CrossSigned => "cross-signed",
        }
    }
}

impl std::str::FromStr for SenderTrust {
    type Err = String;

    fn from_str(text: &str) -> Result<SenderTrust, String> {
        let wanted = text.trim().to_ascii_lowercase().replace('_', "-");
        SenderTrust::ALL
            .into_iter()
            .find(|level| level.as_str() == wanted)
            .ok_or_else(|| {
                format!(
                    "`{text}` is not a sender trust level: use untrusted, cross-signed-or-legacy or cross-signed"
                )
            })
    }
}

impl<'de> Deserialize<'de> for SenderTrust {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<SenderTrust, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for SenderTrust {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
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
            recovery_key: None,
            recovery_key_file: None,
            sender_trust: SenderTrust::default(),
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

    /// The recovery key, if one is configured: `recovery_key` (from
    /// `KOTAE_MATRIX_RECOVERY_KEY` or `_FILE`), else the contents of
    /// `recovery_key_file`. An unreadable or empty key is an error naming
    /// the setting, never showing the key.
    pub fn recovery_key(&self) -> anyhow::Result<Option<Secret>> {
        if let Some(key) = &self.recovery_key {
            if key.expose().trim().is_empty() {
                anyhow::bail!(
                    "`matrix.recovery_key` (KOTAE_MATRIX_RECOVERY_KEY or KOTAE_MATRIX_RECOVERY_KEY_FILE) is empty: give the recovery key the bot wrote at its first start"
                );
            }
            return Ok(Some(key.clone()));
        }
        let Some(path) = &self.recovery_key_file else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!(
                "cannot read `matrix.recovery_key_file` ({}): {e}",
                path.display()
            )
        })?;
        let key = text.strip_prefix('\u{feff}').unwrap_or(&text).trim();
        if key.is_empty() {
            anyhow::bail!(
                "`matrix.recovery_key_file` ({}) is empty: it should hold the recovery key the bot wrote at its first start",
                path.display()
            );
        }
        Ok(Some(Secret::from(key)))
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
    fn sender_trust_defaults_to_cross_signed_or_legacy_and_is_checked_when_read() {
        use super::SenderTrust;
        let base = ("KOTAE_MATRIX_HOMESERVER", "https://matrix.example.org");
        let config = Config::from_sources(None, env(&[base])).unwrap();
        assert_eq!(
            config.matrix.unwrap().sender_trust,
            SenderTrust::CrossSignedOrLegacy
        );
        for (value, expected) in [
            ("untrusted", SenderTrust::Untrusted),
            ("cross-signed-or-legacy", SenderTrust::CrossSignedOrLegacy),
            ("cross-signed", SenderTrust::CrossSigned),
            ("Cross_Signed", SenderTrust::CrossSigned),
        ] {
            let config =
                Config::from_sources(None, env(&[base, ("KOTAE_MATRIX_SENDER_TRUST", value)]))
                    .unwrap();
            assert_eq!(config.matrix.unwrap().sender_trust, expected, "{value}");
        }

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kotae.toml");
        std::fs::write(
            &file,
            "[matrix]\nhomeserver = \"https://h\"\nsender_trust = \"cross-signed\"\n",
        )
        .unwrap();
        let config = Config::from_sources(Some(&file), env(&[])).unwrap();
        let matrix = config.matrix.unwrap();
        assert_eq!(matrix.sender_trust, SenderTrust::CrossSigned);
        let printed = toml::to_string(&matrix).unwrap();
        assert!(
            printed.contains("sender_trust = \"cross-signed\""),
            "{printed}"
        );

        let error = Config::from_sources(
            None,
            env(&[base, ("KOTAE_MATRIX_SENDER_TRUST", "verified")]),
        )
        .expect_err("an unknown level is refused")
        .to_string();
        assert!(
            error.contains("`matrix.sender_trust` (KOTAE_MATRIX_SENDER_TRUST)")
                && error.contains("`verified`")
                && error.contains("untrusted, cross-signed-or-legacy or cross-signed"),
            "{error}"
        );
        std::fs::write(
            &file,
            "[matrix]\nhomeserver = \"https://h\"\nsender_trust = \"everyone\"\n",
        )
        .unwrap();
        let error = Config::from_sources(Some(&file), env(&[]))
            .expect_err("an unknown level in the file is refused")
            .to_string();
        assert!(
            error.contains(&format!("{}:3:16", file.display()))
                && error.contains("`matrix.sender_trust`")
                && error.contains("`everyone`"),
            "{error}"
        );
    }

    #[test]
    fn the_recovery_key_comes_from_a_file_and_never_from_kotae_toml() {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("recovery-key");
        std::fs::write(&key_file, "EsTc abcd efgh\n").unwrap();
        let key_path = key_file.to_str().unwrap();
        let base = ("KOTAE_MATRIX_HOMESERVER", "https://matrix.example.org");

        // KOTAE_MATRIX_RECOVERY_KEY_FILE: the file's contents, as a secret.
        let config = Config::from_sources(
            None,
            env(&[base, ("KOTAE_MATRIX_RECOVERY_KEY_FILE", key_path)]),
        )
        .unwrap();
        let matrix = config.matrix.unwrap();
        let key = matrix.recovery_key().unwrap().expect("a recovery key");
        assert_eq!(key.expose(), "EsTc abcd efgh");
        assert!(!format!("{matrix:?}").contains("EsTc"), "printed as ***");
        assert!(!toml::to_string(&matrix).unwrap().contains("EsTc"));

        // Unset: no key, and nothing to recover with.
        let config = Config::from_sources(None, env(&[base])).unwrap();
        assert!(config.matrix.unwrap().recovery_key().unwrap().is_none());

        // kotae.toml may name the file, not hold the key.
        let file = dir.path().join("kotae.toml");
        std::fs::write(
            &file,
            format!("[matrix]\nhomeserver = \"https://h\"\nrecovery_key_file = {key_path:?}\n"),
        )
        .unwrap();
        let config = Config::from_sources(Some(&file), env(&[])).unwrap();
        let key = config.matrix.unwrap().recovery_key().unwrap();
        assert_eq!(key.as_ref().map(|k| k.expose()), Some("EsTc abcd efgh"));
        std::fs::write(
            &file,
            "[matrix]\nhomeserver = \"https://h\"\nrecovery_key = \"EsTc abcd\"\n",
        )
        .unwrap();
        let error = Config::from_sources(Some(&file), env(&[]))
            .expect_err("a key in kotae.toml is refused")
            .to_string();
        assert!(
            error.contains("`matrix.recovery_key` is a secret")
                && error.contains("KOTAE_MATRIX_RECOVERY_KEY_FILE")
                && !error.contains("EsTc"),
            "{error}"
        );

        // A missing or empty file is named, with its setting.
        let missing = dir.path().join("nowhere");
        let mut matrix = super::MatrixConfig::new("https://h");
        matrix.recovery_key_file = Some(missing.clone());
        let error = matrix.recovery_key().expect_err("missing").to_string();
        assert!(
            error.contains("`matrix.recovery_key_file`")
                && error.contains(&missing.display().to_string()),
            "{error}"
        );
        std::fs::write(&key_file, "\n").unwrap();
        matrix.recovery_key_file = Some(key_file.clone());
        let error = matrix.recovery_key().expect_err("empty").to_string();
        assert!(error.contains("is empty"), "{error}");
        let result = Config::from_sources(
            None,
            env(&[
                base,
                ("KOTAE_MATRIX_RECOVERY_KEY_FILE", missing.to_str().unwrap()),
            ]),
        );
        let error = result.expect_err("an unreadable file").to_string();
        assert!(error.contains("KOTAE_MATRIX_RECOVERY_KEY_FILE"), "{error}");
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
