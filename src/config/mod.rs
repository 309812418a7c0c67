//! Configuration, read in one place: `kotae.toml` (from `--config` or
//! `KOTAE_CONFIG`), then `KOTAE_*` environment variables over it.
//!
//! `KOTAE_MATRIX_HOMESERVER` sets `matrix.homeserver`, `KOTAE_STATE_DIR` sets
//! `state_dir`: the first word after `KOTAE_` names a section when there is
//! one by that name. Secrets (tokens, passwords) come only from the
//! environment or from a file named by `*_FILE` (the Docker-secrets
//! convention), never from the config file, and print as `***`.
//!
//! The adapters' sections live beside this file ([`matrix`], [`discord`]),
//! so the configuration depends on no adapter.

#[cfg(feature = "discord")]
pub mod discord;
#[cfg(feature = "matrix")]
pub mod matrix;

mod env;
mod valid;

use figment::Figment;
use figment::providers::Serialized;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Top-level settings that `KOTAE_<KEY>` variables address.
const TOP_LEVEL: &[&str] = &["knowledge", "state_dir", "correction_window_days"];
/// Sections that `KOTAE_<SECTION>_<KEY>` variables address.
const SECTIONS: &[&str] = &["matrix", "discord", "http", "log", "embeddings"];
/// Sections that belong to an adapter, which a build may leave out.
const ADAPTERS: &[&str] = &["matrix", "discord"];
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
    /// The secret itself, for the one place that sends it.
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

/// Every setting of `kotae serve`.
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
    /// The semantic signal's embeddings server; matching is lexical only
    /// when it is not set.
    #[serde(default)]
    pub embeddings: EmbeddingsConfig,
    #[cfg(feature = "matrix")]
    pub matrix: Option<matrix::MatrixConfig>,
    #[cfg(feature = "discord")]
    pub discord: Option<discord::DiscordConfig>,
}

fn default_state_dir() -> PathBuf {
    PathBuf::from("state")
}

/// How many days back a reload corrects sent answers, unless configured.
pub const DEFAULT_CORRECTION_WINDOW_DAYS: u64 = 7;

fn default_correction_window_days() -> u64 {
    DEFAULT_CORRECTION_WINDOW_DAYS
}

/// `n` days as a duration.
pub fn days(n: u64) -> std::time::Duration {
    std::time::Duration::from_secs(n.saturating_mul(24 * 60 * 60))
}

/// The `[log]` section.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// JSON lines instead of human-readable logs.
    #[serde(default)]
    pub json: bool,
    /// A tracing filter, such as `info` or `kotae=debug,info`.
    pub level: Option<String>,
}

/// The `[http]` section.
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

impl EmbeddingsConfig {
    /// Only the `[embeddings]` settings, from the file and the
    /// `KOTAE_EMBEDDINGS_*` variables: what `ask`, `chat` and `eval` use,
    /// without asking the adapters' settings to be complete.
    pub fn load(path: Option<&Path>) -> anyhow::Result<EmbeddingsConfig> {
        let mut figment = Figment::new();
        if let Some(path) = path {
            figment = figment.merge(Serialized::defaults(read_file(path)?));
        }
        let env = std::env::vars().filter(|(k, _)| k.starts_with("KOTAE_EMBEDDINGS_"));
        figment = figment.merge(Serialized::defaults(env::tree(env)?));
        let config: EmbeddingsConfig = if figment.contains("embeddings") {
            figment
                .extract_inner("embeddings")
                .map_err(|e| anyhow::anyhow!("invalid configuration: {}", describe(e)))?
        } else {
            EmbeddingsConfig::default()
        };
        valid::embeddings(&config).map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        Ok(config)
    }
}

impl Config {
    /// Reads the config file (if any) and the process environment.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        Config::from_sources(path, std::env::vars())
    }

    /// Reads a config from a file and the given environment; the testable
    /// core of [`Config::load`]. The file is parsed once; the result is
    /// checked as a whole ([`valid`]), so `config check` and `serve` refuse
    /// the same mistakes, each named with its setting.
    pub fn from_sources(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Config> {
        let mut figment = Figment::new();
        if let Some(path) = path {
            figment = figment.merge(Serialized::defaults(read_file(path)?));
        }
        figment = figment.merge(Serialized::defaults(env::tree(env)?));
        let config: Config = figment
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {}", describe(e)))?;
        valid::check(&config).map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        Ok(config)
    }
}

/// The config file as a table: a syntax error names its line and column,
/// and a secret in the file is refused.
fn read_file(path: &Path) -> anyhow::Result<toml::Table> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read config {}: {e}", path.display()))?;
    let file: toml::Table = toml::from_str(&text).map_err(|e| {
        let at = e.span().map_or(String::new(), |span| {
            let (line, column) = line_column(&text, span.start);
            format!(":{line}:{column}")
        });
        anyhow::anyhow!("config {}{at}: {}", path.display(), e.message())
    })?;
    for key in SECRETS {
        let (section, name) = key.split_once('.').expect("secret keys are section.key");
        if file.get(section).and_then(|s| s.get(name)).is_some() {
            let var = env::name(key);
            anyhow::bail!(
                "config {}: `{key}` is a secret; set it with KOTAE_{var} or KOTAE_{var}_FILE, not in the file",
                path.display(),
            );
        }
    }
    Ok(file)
}

/// The 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
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
                        let var = env::name(&full);
                        format!("`{full}` is required: set KOTAE_{var} or KOTAE_{var}_FILE")
                    } else {
                        format!("`{full}` is required")
                    }
                }
                figment::error::Kind::UnknownField(field, _) if ADAPTERS.contains(&field.as_str()) => {
                    format!(
                        "`{field}` is set, but this kotae was built without the `{field}` adapter (cargo feature `{field}`)"
                    )
                }
                kind if key.is_empty() => kind.to_string(),
                kind => format!("`{key}`: {kind}"),
            }
        })
        .collect();
    lines.join("; ")
}
