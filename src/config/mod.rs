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

/// The language moderators read reports and digests in, unless configured
/// (`moderators_lang` in `[matrix]` and `[discord]`).
pub const DEFAULT_MODERATORS_LANG: crate::core::Lang = crate::core::Lang::En;

/// `moderators_lang`'s default.
#[cfg(any(feature = "matrix", feature = "discord"))]
fn default_moderators_lang() -> crate::core::Lang {
    DEFAULT_MODERATORS_LANG
}

/// A reply language as a setting: `ja`, `zh` or `en` (also `japanese`,
/// `中文` and the other names `!lang` takes), refused with the choices
/// otherwise.
#[cfg(any(feature = "matrix", feature = "discord"))]
fn lang<'de, D: serde::Deserializer<'de>>(d: D) -> Result<crate::core::Lang, D::Error> {
    let text = String::deserialize(d)?;
    text.parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "`{text}` is not a reply language: use ja, zh or en"
        ))
    })
}

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
    "matrix.recovery_key",
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
        /// The file's other sections are not this one's business.
        #[derive(Deserialize)]
        struct Only {
            #[serde(default)]
            embeddings: EmbeddingsConfig,
        }
        let only: Only = Sources::read(path, std::env::vars(), "KOTAE_EMBEDDINGS_")?.extract()?;
        valid::embeddings(&only.embeddings)
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        Ok(only.embeddings)
    }
}

impl LogConfig {
    /// Only the `[log]` settings, from the file and the `KOTAE_LOG_*`
    /// variables: what the commands other than `serve` log with.
    pub fn load(path: Option<&Path>) -> anyhow::Result<LogConfig> {
        LogConfig::from_sources(path, std::env::vars())
    }

    /// [`LogConfig::load`] from the given environment.
    pub fn from_sources(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<LogConfig> {
        #[derive(Deserialize)]
        struct Only {
            #[serde(default)]
            log: LogConfig,
        }
        let only: Only = Sources::read(path, env, "KOTAE_LOG_")?.extract()?;
        if let Some(filter) = &only.log.level {
            valid::log_filter(filter).map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        }
        Ok(only.log)
    }

    /// Sends the process's logs to standard error, filtered by `level` or
    /// else by `default` (a tracing filter), as JSON lines if `json`. The
    /// one place logging is set up: `serve` and the terminal commands call
    /// it with their own default. Does nothing if logging is already set up.
    pub fn init(&self, default: &str) {
        // The level was checked when the configuration was read.
        let filter =
            tracing_subscriber::EnvFilter::try_new(self.level.as_deref().unwrap_or(default))
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr);
        let _ = if self.json {
            builder.json().try_init()
        } else {
            builder.try_init()
        };
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
        let config: Config = Sources::read(path, env, "KOTAE_")?.extract()?;
        valid::check(&config).map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        Ok(config)
    }
}

/// The config file (if any) and the `KOTAE_*` variables over it, kept so
/// that an error can say where a setting came from: a file's line and
/// column, or a variable's name.
struct Sources {
    file: Option<ConfigFile>,
    env: toml::Table,
}

/// Where a setting came from.
enum Origin {
    /// `KOTAE_…`
    Variable(String),
    /// `file:line:column`
    File(String),
    Unknown,
}

/// The config file as read.
struct ConfigFile {
    path: PathBuf,
    text: String,
    table: toml::Table,
}

impl Sources {
    /// Reads the file and the variables of `env` that start with `prefix`.
    fn read(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        prefix: &str,
    ) -> anyhow::Result<Sources> {
        let file = path.map(read_file).transpose()?;
        let env = env::tree(env.into_iter().filter(|(k, _)| k.starts_with(prefix)))?
            .into_iter()
            .collect();
        Ok(Sources { file, env })
    }

    /// The settings, the variables over the file; a value of the wrong
    /// type or an unknown key is named with where it came from.
    fn extract<T: serde::de::DeserializeOwned>(&self) -> anyhow::Result<T> {
        let mut figment = Figment::new();
        if let Some(file) = &self.file {
            figment = figment.merge(Serialized::defaults(&file.table));
        }
        figment = figment.merge(Serialized::defaults(&self.env));
        figment
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {}", self.describe(e)))
    }

    /// Figment's messages name its own internals ("for key default.discord
    /// in src/config.rs"); say which setting is wrong and where it was set:
    /// `file:line:column` in the config file, or the variable that set it.
    fn describe(&self, errors: figment::Error) -> String {
        let lines: Vec<String> = errors.into_iter().map(|e| self.describe_one(&e)).collect();
        lines.join("; ")
    }

    fn describe_one(&self, e: &figment::Error) -> String {
        use figment::error::Kind;
        let mut path: Vec<&str> = e.path.iter().map(String::as_str).collect();
        match &e.kind {
            Kind::MissingField(field) => {
                let full = path
                    .iter()
                    .copied()
                    .chain([field.as_ref()])
                    .collect::<Vec<_>>()
                    .join(".");
                let message = if SECRETS.contains(&full.as_str()) {
                    let var = env::name(&full);
                    format!("`{full}` is required: set KOTAE_{var} or KOTAE_{var}_FILE")
                } else {
                    format!("`{full}` is required")
                };
                // The section it is missing from, if the file has it.
                match self.in_file(&path, false) {
                    Some(at) if !path.is_empty() => format!("{at}: {message}"),
                    _ => message,
                }
            }
            Kind::UnknownField(field, _) if ADAPTERS.contains(&field.as_str()) => format!(
                "`{field}` is set, but this kotae was built without the `{field}` adapter (cargo feature `{field}`)"
            ),
            kind => {
                // An unknown key is shown where the key is (figment's path
                // ends with it), a wrong value where the value is.
                let unknown = match kind {
                    Kind::UnknownField(field, _) => {
                        if path.last() != Some(&field.as_str()) {
                            path.push(field);
                        }
                        true
                    }
                    _ => false,
                };
                let key = path.join(".");
                match self.origin(&path, unknown) {
                    _ if key.is_empty() => kind.to_string(),
                    Origin::Variable(var) => format!("`{key}` ({var}): {kind}"),
                    Origin::File(at) if unknown => format!("{at}: {kind}"),
                    Origin::File(at) => format!("{at}: `{key}`: {kind}"),
                    Origin::Unknown => format!("`{key}`: {kind}"),
                }
            }
        }
    }

    /// Where the setting at `path` was set: the variable, if one set it
    /// (they win over the file), else its place in the file; with `at_key`,
    /// the place of its key rather than of its value.
    fn origin(&self, path: &[&str], at_key: bool) -> Origin {
        let mut level = &self.env;
        for (i, part) in path.iter().enumerate() {
            match level.get(*part) {
                Some(_) if i + 1 == path.len() => {
                    return Origin::Variable(format!("KOTAE_{}", env::name(&path.join("."))));
                }
                Some(toml::Value::Table(t)) => level = t,
                _ => break,
            }
        }
        self.in_file(path, at_key)
            .map_or(Origin::Unknown, Origin::File)
    }

    /// `file:line:column` of the value at `path` in the config file (or of
    /// its key, with `at_key`), or of the nearest table on the way to it.
    fn in_file(&self, path: &[&str], at_key: bool) -> Option<String> {
        let file = self.file.as_ref()?;
        let offset = locate(&file.text, path, at_key)?;
        let (line, column) = line_column(&file.text, offset);
        Some(format!("{}:{line}:{column}", file.path.display()))
    }
}

/// The byte offset of the value at `path` (or of its last key, with
/// `at_key`) in a TOML document, as its spanned parse gives it; when the
/// path ends early, the nearest table found on the way.
fn locate(text: &str, path: &[&str], at_key: bool) -> Option<usize> {
    let document = toml::de::DeTable::parse(text).ok()?;
    let mut table = document.get_ref();
    let mut found = None;
    for (i, part) in path.iter().enumerate() {
        let Some((k, value)) = table.iter().find(|(k, _)| k.get_ref().as_ref() == *part) else {
            break;
        };
        let last = i + 1 == path.len();
        found = Some(if last && at_key {
            k.span().start
        } else {
            value.span().start
        });
        match value.get_ref().as_table() {
            Some(t) if !last => table = t,
            _ => break,
        }
    }
    found
}

/// The config file as a table: a syntax error names its line and column,
/// and a secret in the file is refused.
fn read_file(path: &Path) -> anyhow::Result<ConfigFile> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read config {}: {e}", path.display()))?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| {
        let at = e.span().map_or(String::new(), |span| {
            let (line, column) = line_column(&text, span.start);
            format!(":{line}:{column}")
        });
        anyhow::anyhow!("config {}{at}: {}", path.display(), e.message())
    })?;
    for key in SECRETS {
        let (section, name) = key.split_once('.').expect("secret keys are section.key");
        if table.get(section).and_then(|s| s.get(name)).is_some() {
            let var = env::name(key);
            anyhow::bail!(
                "config {}: `{key}` is a secret; set it with KOTAE_{var} or KOTAE_{var}_FILE, not in the file",
                path.display(),
            );
        }
    }
    Ok(ConfigFile {
        path: path.to_path_buf(),
        text,
        table,
    })
}

/// The 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
