//! Configuration, read in one place: `kotae.toml` (from `--config` or
//! `KOTAE_CONFIG`), then `KOTAE_*` environment variables over it.
//!
//! `KOTAE_MATRIX_HOMESERVER` sets `matrix.homeserver`, `KOTAE_STATE_DIR` sets
//! `state_dir`: the first word after `KOTAE_` names a section when there is
//! one by that name. Secrets (tokens, passwords) come only from the
//! environment or from a file named by `*_FILE` (the Docker-secrets
//! convention), never from the config file, and print as `***`.

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Top-level settings that `KOTAE_<KEY>` variables address.
const TOP_LEVEL: &[&str] = &["knowledge", "state_dir", "correction_window_days"];
/// Sections that `KOTAE_<SECTION>_<KEY>` variables address.
const SECTIONS: &[&str] = &["matrix", "discord", "http", "log", "embeddings"];
/// Keys that only the environment may set.
const SECRETS: &[&str] = &[
    "matrix.password",
    "matrix.access_token",
    "discord.token",
    "embeddings.key",
];

/// A value kept out of logs, debug output and printed configuration: it
/// serialises as `***`, so no rendering of a config can leak it.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_string())
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// A moderator-maintained knowledge directory; the built-in base if unset.
    pub knowledge: Option<PathBuf>,
    /// Where sessions, crypto stores and records survive restarts.
    #[serde(default = "default_state_dir")]
    pub state_dir: PathBuf,
    /// How many days back a reload edits answers already sent (0: never).
    #[serde(default = "default_correction_window_days")]
    pub correction_window_days: u64,
    #[serde(default)]
    pub log: LogConfig,
    #[serde(default)]
    pub http: HttpConfig,
    /// The semantic signal's embeddings server: validated, not used yet
    /// (matching is lexical until the semantic signal lands).
    #[serde(default)]
    pub embeddings: EmbeddingsConfig,
    #[cfg(feature = "matrix")]
    pub matrix: Option<crate::matrix::MatrixConfig>,
    #[cfg(feature = "discord")]
    pub discord: Option<crate::discord::DiscordConfig>,
}

fn default_state_dir() -> PathBuf {
    PathBuf::from("state")
}

pub const DEFAULT_CORRECTION_WINDOW_DAYS: u64 = 7;

fn default_correction_window_days() -> u64 {
    DEFAULT_CORRECTION_WINDOW_DAYS
}

pub fn days(n: u64) -> std::time::Duration {
    std::time::Duration::from_secs(n.saturating_mul(24 * 60 * 60))
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// JSON lines instead of human-readable logs.
    #[serde(default)]
    pub json: bool,
    /// A tracing filter, such as `info` or `kotae=debug,info`.
    pub level: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Where `/healthz` and `/metrics` listen.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: default_listen(),
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9184))
}

/// Where the sentence-embedding model is served (`POST {url}/embeddings`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingsConfig {
    /// The API's base URL, ending in `/v1` (`KOTAE_EMBEDDINGS_URL`).
    pub url: Option<String>,
    /// The model name sent with each request (`KOTAE_EMBEDDINGS_MODEL`).
    pub model: Option<String>,
    /// A bearer token for hosted APIs (`KOTAE_EMBEDDINGS_KEY` or `_KEY_FILE`).
    pub key: Option<Secret>,
    /// How long a question may wait for its embedding
    /// (`KOTAE_EMBEDDINGS_TIMEOUT_MS`).
    pub timeout_ms: Option<u64>,
}

impl Config {
    /// Reads the config file (if any) and the process environment.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        Config::from_sources(path, std::env::vars())
    }

    /// Reads a config from a file and the given environment; the testable core of [`Config::load`].
    pub fn from_sources(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Config> {
        let mut figment = Figment::new();
        if let Some(path) = path {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read config {}: {e}", path.display()))?;
            let file: toml::Table = toml::from_str(&text)
                .map_err(|e| anyhow::anyhow!("config {}: {}", path.display(), e.message()))?;
            for key in SECRETS {
                let (section, name) = key.split_once('.').expect("secret keys are section.key");
                if file.get(section).and_then(|s| s.get(name)).is_some() {
                    anyhow::bail!(
                        "config {}: `{key}` is a secret; set it with KOTAE_{} or KOTAE_{}_FILE, not in the file",
                        path.display(),
                        env_name(key),
                        env_name(key)
                    );
                }
            }
            figment = figment.merge(Toml::string(&text));
        }
        figment = figment.merge(Serialized::defaults(env_tree(env)?));
        let config: Config = figment
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {}", describe(e)))?;
        Ok(config)
    }
}

/// Figment's messages name its own internals ("for key default.discord in
/// src/config.rs"); say which setting is wrong, and how to set a secret.
fn describe(errors: figment::Error) -> String {
    let lines: Vec<String> = errors
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            match &e.kind {
                figment::error::Kind::MissingField(field) => {
                    let full = if key.is_empty() {
                        field.to_string()
                    } else {
                        format!("{key}.{field}")
                    };
                    if SECRETS.contains(&full.as_str()) {
                        let var = env_name(&full);
                        format!("`{full}` is required: set KOTAE_{var} or KOTAE_{var}_FILE")
                    } else {
                        format!("`{full}` is required")
                    }
                }
                kind if key.is_empty() => kind.to_string(),
                kind => format!("`{key}`: {kind}"),
            }
        })
        .collect();
    lines.join("; ")
}

fn env_name(key: &str) -> String {
    key.replace('.', "_").to_ascii_uppercase()
}

/// Turns `KOTAE_*` variables into a nested table, reading `*_FILE` secrets.
fn env_tree(
    env: impl IntoIterator<Item = (String, String)>,
) -> anyhow::Result<BTreeMap<String, toml::Value>> {
    let mut root: BTreeMap<String, toml::Value> = BTreeMap::new();
    for (name, value) in env {
        let Some(rest) = name.strip_prefix("KOTAE_") else {
            continue;
        };
        let mut key = rest.to_ascii_lowercase();
        if key == "config" {
            continue;
        }
        let mut value = value;
        if let Some(base) = key.strip_suffix("_file") {
            value = std::fs::read_to_string(&value)
                .map_err(|e| anyhow::anyhow!("{name}: cannot read {value}: {e}"))?
                .trim_end()
                .to_string();
            key = base.to_string();
        }
        let (section, field) = match key.split_once('_') {
            Some((s, f)) if SECTIONS.contains(&s) => (Some(s.to_string()), f.to_string()),
            // Other tools share the prefix (KOTAE_SYNAPSE_VENV in the tests):
            // a variable that names no setting is not ours.
            _ if !TOP_LEVEL.contains(&key.as_str()) => continue,
            _ => (None, key),
        };
        let full_key = section
            .as_ref()
            .map_or(field.clone(), |s| format!("{s}.{field}"));
        let value = if SECRETS.contains(&full_key.as_str()) {
            toml::Value::String(value)
        } else {
            typed(&value)
        };
        match section {
            None => {
                root.insert(field, value);
            }
            Some(s) => {
                let table = root
                    .entry(s)
                    .or_insert_with(|| toml::Value::Table(Default::default()));
                if let toml::Value::Table(t) = table {
                    t.insert(field, value);
                }
            }
        }
    }
    Ok(root)
}

/// Environment values are text; booleans, whole numbers and `[a, b]` lists
/// are read as TOML values so they fit typed settings, the rest stays text.
fn typed(value: &str) -> toml::Value {
    let v = value.trim();
    let number = !v.is_empty() && v.len() <= 19 && v.bytes().all(|b| b.is_ascii_digit());
    if (number || v == "true" || v == "false" || v.starts_with('['))
        && let Ok(t) = toml::from_str::<toml::Table>(&format!("v = {v}"))
        && let Some(parsed) = t.get("v")
    {
        return parsed.clone();
    }
    toml::Value::String(value.to_string())
}
