//! The bot's Matrix client and its login, kept in the state directory.
//!
//! `DIR/store/` is matrix-sdk's SQLite store (rooms, sync token, crypto
//! keys), encrypted with the passphrase in `DIR/store-passphrase`
//! ([`super::keyfiles`]); `DIR/session.json` is the login (user, device,
//! access token). With both present a restart restores the session instead
//! of logging in, so the bot stays one device with the same keys. The
//! session file holds the access token, so it is written readable by its
//! owner only.
//!
//! The client reads encrypted messages only from senders' devices that
//! meet `sender_trust`, and fetches from the key backup the room keys of
//! messages it cannot decrypt otherwise, as on a device that recovered
//! the bot's identity ([`super::identity`]).

use super::keyfiles;
use super::retry::{is_transient, is_unknown_token};
use super::{MatrixConfig, SenderTrust};
use crate::service::Shutdown;
use crate::service::backoff::Backoff;
use anyhow::{Context as _, anyhow, bail};
use matrix_sdk::authentication::matrix::MatrixSession;
use matrix_sdk::config::RequestConfig;
use matrix_sdk::encryption::{BackupDownloadStrategy, EncryptionSettings};
use matrix_sdk::ruma::{OwnedDeviceId, OwnedUserId, UserId};
use matrix_sdk::{Client, SessionMeta, SessionTokens};
use matrix_sdk_crypto::{DecryptionSettings, TrustRequirement};
use std::path::Path;
use std::time::Duration;

const SESSION_FILE: &str = "session.json";
const STORE_DIR: &str = "store";

/// Where the client's store is, and what opens it.
struct Store<'a> {
    dir: &'a Path,
    /// `None` for a store made before kotae encrypted it.
    passphrase: Option<&'a str>,
}

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
    let passphrase = keyfiles::store_passphrase(dir, &dir.join(STORE_DIR))?;
    let store = Store {
        dir,
        passphrase: passphrase.as_deref(),
    };
    let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
    loop {
        match try_connect(config, &store).await {
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

async fn try_connect(config: &MatrixConfig, store: &Store<'_>) -> Result<Client, Failure> {
    let dir = store.dir;
    let Some(saved) = read_session(dir)? else {
        let client = build(config, store).await?;
        let session = login(&client, config, None).await?;
        write_session(dir, &session)?;
        return Ok(client);
    };
    check_user(config, &saved.meta.user_id)?;
    let client = build(config, store).await?;
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
            let client = build(config, store).await?;
            let session = login(&client, config, Some(&saved)).await?;
            write_session(dir, &session)?;
            Ok(client)
        }
        Err(e) => Err(e.into()),
    }
}

async fn build(config: &MatrixConfig, store: &Store<'_>) -> Result<Client, Failure> {
    let path = store.dir.join(STORE_DIR);
    Client::builder()
        .homeserver_url(&config.homeserver)
        .sqlite_store(&path, store.passphrase)
        .request_config(RequestConfig::new().timeout(Duration::from_secs(30)))
        .with_encryption_settings(encryption_settings())
        .with_decryption_settings(config.sender_trust.decryption_settings())
        .build()
        .await
        .map_err(|e| {
            Failure::Fatal(anyhow!(
                "cannot open the Matrix client with its store {} (encrypted with {}, if that file exists): {e}",
                path.display(),
                store.dir.join("store-passphrase").display()
            ))
        })
}

/// Cross-signing and recovery are set up by [`super::identity`], which can
/// say what went wrong and how to fix it. The SDK only fetches from the key
/// backup the room key of a message it cannot decrypt otherwise (so a
/// recovered device reads what the lost one could); one key at a time,
/// since fetching the whole backup at once does not scale (the SDK's own
/// warning).
fn encryption_settings() -> EncryptionSettings {
    EncryptionSettings {
        auto_enable_cross_signing: false,
        backup_download_strategy: BackupDownloadStrategy::AfterDecryptionFailure,
        auto_enable_backups: false,
    }
}

impl SenderTrust {
    /// The rule as matrix-sdk takes it (its crypto crate's type): for the
    /// bot's client, and for test clients that read like a strict one.
    pub fn decryption_settings(self) -> DecryptionSettings {
        DecryptionSettings {
            sender_device_trust_requirement: match self {
                SenderTrust::Untrusted => TrustRequirement::Untrusted,
                SenderTrust::CrossSignedOrLegacy => TrustRequirement::CrossSignedOrLegacy,
                SenderTrust::CrossSigned => TrustRequirement::CrossSigned,
            },
        }
    }
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
    let path = dir.join(SESSION_FILE);
    keyfiles::write_private(&path, serde_json::to_string(session)?.as_bytes())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Each setting reaches the SDK as the trust requirement of that name.
    #[tokio::test]
    async fn the_sender_rule_reaches_the_client() {
        for trust in SenderTrust::ALL {
            let client = Client::builder()
                .homeserver_url("http://127.0.0.1:9")
                .with_decryption_settings(trust.decryption_settings())
                .build()
                .await
                .unwrap();
            let taken = serde_json::to_value(client.decryption_settings()).unwrap();
            let expected = match trust {
                SenderTrust::Untrusted => "Untrusted",
                SenderTrust::CrossSignedOrLegacy => "CrossSignedOrLegacy",
                SenderTrust::CrossSigned => "CrossSigned",
            };
            assert_eq!(
                taken["sender_device_trust_requirement"], expected,
                "{trust:?}: {taken}"
            );
        }
    }
}
