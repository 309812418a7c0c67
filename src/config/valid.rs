//! What the types alone cannot say about a configuration: URLs that must be
//! web URLs, a token that must not be empty, a log filter that must name
//! levels. Each error names the setting, its variable and the value (never
//! a secret's value).

use super::Config;
use anyhow::bail;

/// The levels a log filter may name (tracing also takes 0 to 5).
const LEVELS: &[&str] = &[
    "trace", "debug", "info", "warn", "error", "off", "0", "1", "2", "3", "4", "5",
];

/// Checks the settings the types let through.
pub(super) fn check(config: &Config) -> anyhow::Result<()> {
    if let Some(filter) = &config.log.level {
        log_filter(filter)?;
    }
    embeddings(&config.embeddings)?;
    #[cfg(feature = "matrix")]
    if let Some(matrix) = &config.matrix {
        web_url("matrix.homeserver", &matrix.homeserver)?;
    }
    #[cfg(feature = "discord")]
    if let Some(discord) = &config.discord {
        if discord.token.expose().trim().is_empty() {
            bail!(
                "`discord.token` is empty: set KOTAE_DISCORD_TOKEN (or KOTAE_DISCORD_TOKEN_FILE) to the bot's token"
            );
        }
        if let Some(url) = &discord.api_url {
            web_url("discord.api_url", url)?;
        }
    }
    Ok(())
}

/// The `[embeddings]` section: a web URL, and a timeout that lets a call
/// happen at all.
pub(super) fn embeddings(e: &super::EmbeddingsConfig) -> anyhow::Result<()> {
    if let Some(url) = &e.url {
        web_url("embeddings.url", url)?;
    }
    if e.timeout_ms == Some(0) {
        bail!(
            "`embeddings.timeout_ms` (KOTAE_EMBEDDINGS_TIMEOUT_MS) is 0: give a time in milliseconds, such as 300"
        );
    }
    if e.url.is_none() && (e.model.is_some() || e.key.is_some()) {
        bail!(
            "`embeddings.model` or `embeddings.key` is set without `embeddings.url` (KOTAE_EMBEDDINGS_URL): set the URL too, or remove them"
        );
    }
    Ok(())
}

/// `http://` or `https://`, a host, and no spaces.
fn web_url(setting: &str, value: &str) -> anyhow::Result<()> {
    let lower = value.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    let host = rest.and_then(|r| r.split(['/', '?', '#']).next());
    let valid_host = host.is_some_and(|h| {
        !h.is_empty()
            && h.chars()
                .all(|c| c.is_alphanumeric() || ".-_:[]".contains(c))
    });
    if !valid_host || value.chars().any(char::is_whitespace) {
        bail!(
            "`{setting}` (KOTAE_{}) is {value:?}, not an http:// or https:// URL",
            super::env::name(setting)
        );
    }
    Ok(())
}

/// A tracing filter such as `info` or `kotae=debug,info`: every directive
/// must end in a level, so a typo is an error rather than a filter that
/// quietly shows nothing (or everything).
pub(super) fn log_filter(filter: &str) -> anyhow::Result<()> {
    for directive in filter.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let level = directive
            .rsplit_once('=')
            .map_or(directive, |(_, level)| level);
        // Span filters (`[span{field=value}]=debug`) are left to tracing.
        if !directive.contains('[') && !LEVELS.contains(&level.to_ascii_lowercase().as_str()) {
            bail!(
                "`log.level` (KOTAE_LOG_LEVEL) is {filter:?}: {level:?} is not a log level \
                 (trace, debug, info, warn, error or off)"
            );
        }
    }
    if let Err(e) = tracing_subscriber::EnvFilter::try_new(filter) {
        bail!("`log.level` (KOTAE_LOG_LEVEL) is {filter:?}, not a log filter: {e}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_urls_need_a_scheme_and_a_host() {
        assert!(web_url("matrix.homeserver", "https://matrix.example.org").is_ok());
        assert!(web_url("matrix.homeserver", "http://127.0.0.1:8008/").is_ok());
        assert!(web_url("matrix.homeserver", "HTTPS://[::1]:8448").is_ok());
        for bad in [
            "not a url",
            "ftp://example.org",
            "https://",
            "https://a b",
            "matrix.org",
        ] {
            let error = web_url("matrix.homeserver", bad).unwrap_err().to_string();
            assert!(
                error.contains("matrix.homeserver") && error.contains(&format!("{bad:?}")),
                "{error}"
            );
        }
    }

    #[test]
    fn log_filters_must_name_levels() {
        for good in [
            "info",
            "warn,kotae::matrix=debug",
            "INFO",
            "kotae=trace,info",
        ] {
            assert!(log_filter(good).is_ok(), "{good}");
        }
        for bad in ["loud", "kotae=loud", "info,verbose"] {
            let error = log_filter(bad).unwrap_err().to_string();
            assert!(
                error.contains("log.level") && error.contains(bad),
                "{error}"
            );
        }
    }
}
