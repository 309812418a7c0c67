//! The bot's Matrix client and its login, kept in the state directory.
//!
//! `DIR/store/` is matrix-sdk's SQLite store (rooms, sync token, crypto
//! keys); `DIR/session.json` is the login (user, device, access token). With
//! both present a restart restores the session instead of logging in, so
//! the bot stays one device with the same keys. The session file holds the
//! access token, so it is written readable by its owner only.

use super::MatrixConfig;
use super::retry::{is_transient, is_unknown_token};
use crate::service::Shutdown;
use crate::service::backoff::Backoff;
use anyhow::{Context as _, anyhow, bail};
use matrix_sdk::authentication::matrix::MatrixSession;
use matrix_sdk::config::RequestConfig;
use matrix_sdk::ruma::{OwnedDeviceId, OwnedUserId, UserId};
use matrix_sdk::{Client, SessionMeta, SessionTokens};
use std::path::Path;
use std::time::Duration;

const SESSION_FILE: &str = "session.json";

/// Why connecting failed, and whether trying again can help.
enum Failure {
    Retry(anyhow::Error),
    Fatal(anyhow::Error),
}

impl From<matrix_sdk::Error> for Failure {
    fn from(e: matrix_sdk::Error) -> Failure {
        if is_transient(&e) {
            Failure::Retry(e.into())
        } else {
            Failure::Fatal(e.into())
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Failure {
        Failure::Fatal(e)
    }
}

/// A logged-in client, retrying while the homeserver is unreachable; `None`
/// if the bot was told to stop first.
pub(super) async fn connect(
    config: &MatrixConfig,
    dir: &Path,
    shutdown: &Shutdown,
) -> anyhow::Result<Option<Client>> {
    create_private_dir(dir)?;
    let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
    loop {
        match try_connect(config, dir).await {
            Ok(client) => return Ok(Some(client)),
            Err(Failure::Fatal(e)) => return Err(e.context("Matrix login")),
            Err(Failure::Retry(e)) => {
                tracing::warn!(error = %e, "cannot reach the Matrix homeserver; retrying");
                if !backoff.wait(shutdown).await {
                    return Ok(None);
                }
            }
        }
    }
}

async fn try_connect(config: &MatrixConfig, dir: &Path) -> Result<Client, Failure> {
    let Some(saved) = read_session(dir)? else {
        let client = build(config, dir).await?;
        let session = login(&client, config, None).await?;
        write_session(dir, &session)?;
        return Ok(client);
    };
    check_user(config, &saved.meta.user_id)?;
    let client = build(config, dir).await?;
    client.restore_session(saved.clone()).await?;
    match client.whoami().await.map_err(matrix_sdk::Error::from) {
        Ok(_) => {
            tracing::info!(user = %saved.meta.user_id, device = %saved.meta.device_id, "Matrix session restored");
            Ok(client)
        }
        Err(e) if is_unknown_token(&e) => {
            // The token was revoked; log in again as the same device so
            // the crypto store still matches it.
            drop(client);
            let client = build(config, dir).await?;
            let session = login(&client, config, Some(&saved)).await?;
            write_session(dir, &session)?;
            Ok(client)
        }
        Err(e) => Err(e.into()),
    }
}

async fn build(config: &MatrixConfig, dir: &Path) -> Result<Client, Failure> {
    Client::builder()
        .homeserver_url(&config.homeserver)
        .sqlite_store(dir.join("store"), None)
        .request_config(RequestConfig::new().timeout(Duration::from_secs(30)))
        .build()
        .await
        .map_err(|e| Failure::Fatal(anyhow!("cannot open the Matrix client: {e}")))
}

/// Logs in with the configured password or access token; with `previous`,
/// as that session's device.
async fn login(
    client: &Client,
    config: &MatrixConfig,
    previous: Option<&MatrixSession>,
) -> Result<MatrixSession, Failure> {
    let session = if let Some(password) = &config.password {
        let user = config
            .user
            .as_deref()
            .ok_or_else(|| anyhow!("KOTAE_MATRIX_USER is needed to log in with a password"))?;
        let mut login = client
            .matrix_auth()
            .login_username(user, password.expose())
            .initial_device_display_name(&config.device_name);
        if let Some(previous) = previous {
            login = login.device_id(previous.meta.device_id.as_str());
        }
        login.send().await?;
        client
            .matrix_auth()
            .session()
            .ok_or_else(|| anyhow!("the homeserver accepted the login but returned no session"))?
    } else if let Some(token) = &config.access_token {
        let session = token_session(config, token.expose()).await?;
        if previous.is_some_and(|p| p.meta.device_id != session.meta.device_id) {
            return Err(Failure::Fatal(anyhow!(
                "the access token belongs to another device than the saved session; remove the state directory's matrix/ to start over"
            )));
        }
        client.restore_session(session.clone()).await?;
        session
    } else if previous.is_some() {
        return Err(Failure::Fatal(anyhow!(
            "the saved Matrix session was rejected; set KOTAE_MATRIX_PASSWORD or KOTAE_MATRIX_ACCESS_TOKEN to log in again"
        )));
    } else {
        return Err(Failure::Fatal(anyhow!(
            "set KOTAE_MATRIX_PASSWORD or KOTAE_MATRIX_ACCESS_TOKEN to log the bot in"
        )));
    };
    check_user(config, &session.meta.user_id)?;
    tracing::info!(user = %session.meta.user_id, device = %session.meta.device_id, "logged in to Matrix");
    Ok(session)
}

/// An access token alone does not say whose it is or which device it
/// belongs to; `whoami` does. Asked with a bare HTTP request because a
/// matrix-sdk client would start its encryption machinery for a user it
/// does not know yet.
async fn token_session(config: &MatrixConfig, token: &str) -> Result<MatrixSession, Failure> {
    #[derive(serde::Deserialize)]
    struct WhoAmI {
        user_id: OwnedUserId,
        device_id: Option<OwnedDeviceId>,
    }
    let url = format!(
        "{}/_matrix/client/v3/account/whoami",
        config.homeserver.trim_end_matches('/')
    );
    let response = matrix_sdk::reqwest::Client::new()
        .get(&url)
        .bearer_auth(token)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| Failure::Retry(anyhow!("cannot reach {url}: {e}")))?;
    let status = response.status();
    if status.is_server_error() || status.as_u16() == 429 {
        return Err(Failure::Retry(anyhow!("{url} answered {status}")));
    }
    if !status.is_success() {
        return Err(Failure::Fatal(anyhow!(
            "the homeserver refused the access token ({status})"
        )));
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| Failure::Retry(anyhow!("reading {url}: {e}")))?;
    let whoami: WhoAmI = serde_json::from_slice(&body)
        .map_err(|e| Failure::Fatal(anyhow!("unexpected whoami answer: {e}")))?;
    let device_id = whoami.device_id.ok_or_else(|| {
        anyhow!("the access token has no device; create it with a login so the bot can encrypt")
    })?;
    Ok(MatrixSession {
        meta: SessionMeta {
            user_id: whoami.user_id,
            device_id,
        },
        tokens: SessionTokens {
            access_token: token.to_string(),
            refresh_token: None,
        },
    })
}

/// A state directory belongs to one account; using it for another would
/// mix their keys.
fn check_user(config: &MatrixConfig, actual: &UserId) -> anyhow::Result<()> {
    let Some(user) = config.user.as_deref() else {
        return Ok(());
    };
    let same = match user.parse::<OwnedUserId>() {
        Ok(id) => id == actual,
        Err(_) => user.trim_start_matches('@') == actual.localpart(),
    };
    if !same {
        bail!(
            "the Matrix state belongs to {actual}, not {user}; use another KOTAE_STATE_DIR for another account"
        );
    }
    Ok(())
}

fn read_session(dir: &Path) -> anyhow::Result<Option<MatrixSession>> {
    let path = dir.join(SESSION_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let session = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a Matrix session", path.display()))?;
    Ok(Some(session))
}

/// Writes the session atomically (a crash leaves the old one or the new
/// one), readable by the owner only.
fn write_session(dir: &Path, session: &MatrixSession) -> anyhow::Result<()> {
    use std::io::Write;
    let path = dir.join(SESSION_FILE);
    let tmp = dir.join(format!("{SESSION_FILE}.tmp"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(serde_json::to_string(session)?.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}
