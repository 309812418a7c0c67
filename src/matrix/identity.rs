//! The bot's cross-signing identity, its recovery, and whether this device
//! is verified.
//!
//! Members' clients increasingly read encrypted messages only from devices
//! their owner's identity signed (Element's rule, and `sender_trust` here).
//! So at every start, before answering anything, the bot makes sure its
//! device is signed by its own identity:
//!
//! - on the first start of an account, it creates the identity
//!   (cross-signing keys; the homeserver may ask for the login password),
//!   then sets up recovery: secret storage holding those keys, and a
//!   server-side backup of room keys. The recovery key is written once to
//!   `DIR/recovery-key` for the operator to keep elsewhere;
//! - on a new device of an account that has an identity (a lost state
//!   directory, a second deployment), the recovery key from
//!   `matrix.recovery_key_file` restores the identity, which signs the new
//!   device, and the use of the key backup;
//! - otherwise the device stays unverified, which is logged with the fix,
//!   and answers still go out (to clients that accept unverified devices).
//!
//! The outcome is logged and shown by `/healthz` (`verified`).

use super::{MatrixConfig, keyfiles};
use crate::config::Secret;
use anyhow::{Context as _, anyhow};
use matrix_sdk::Client;
use matrix_sdk::encryption::recovery::RecoveryState;
use matrix_sdk::ruma::api::client::uiaa::{
    AuthData, MatrixUserIdentifier, Password, UserIdentifier,
};
use std::path::Path;

/// Where this device stands, for the log line that says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    /// Signed by the bot's own identity.
    Verified,
    /// The account has an identity whose keys this device does not hold.
    ForeignIdentity,
    /// The account has no identity, and the homeserver wanted a password
    /// the bot was not given to create one.
    NoPassword,
    /// Something failed on the way (logged where it did).
    Failed,
}

/// Makes this device verified if it can be; whether it is. Only a recovery
/// key that does not work is an error: the operator asked for it.
pub(super) async fn establish(
    client: &Client,
    config: &MatrixConfig,
    dir: &Path,
    recovery_key: Option<&Secret>,
) -> anyhow::Result<bool> {
    let encryption = client.encryption();
    // Login's own setup (backups resumed, recovery state read) first.
    encryption.wait_for_e2ee_initialization_tasks().await;
    let mut standing = None;
    if !holds_identity(client).await {
        standing = match recovery_key {
            Some(key) => {
                recover(client, key).await?;
                None
            }
            None => create(client, config).await,
        };
    }
    if holds_identity(client).await {
        set_up_recovery(client, dir).await;
    }
    let verified = match own_device_verified(client).await {
        Ok(verified) => verified,
        Err(e) => {
            tracing::warn!(error = %e, "cannot ask the homeserver whether this Matrix device is verified");
            false
        }
    };
    let standing = match standing {
        _ if verified => Standing::Verified,
        Some(reason) => reason,
        None if !holds_identity(client).await => Standing::ForeignIdentity,
        None => Standing::Failed,
    };
    report(client, standing);
    Ok(verified)
}

/// Whether this device holds the identity's private keys (created here, or
/// recovered).
async fn holds_identity(client: &Client) -> bool {
    let status = client.encryption().cross_signing_status().await;
    status.is_some_and(|s| s.is_complete())
}

/// Restores the identity from secret storage with the recovery key; the
/// SDK signs this device with it and turns on the key backup.
async fn recover(client: &Client, key: &Secret) -> anyhow::Result<()> {
    client
        .encryption()
        .recovery()
        .recover(key.expose())
        .await
        .map_err(|e| {
            anyhow!(
                "cannot restore the bot's Matrix identity with the recovery key (matrix.recovery_key_file, KOTAE_MATRIX_RECOVERY_KEY_FILE): {e}; check that it is the key this account's first start wrote"
            )
        })?;
    tracing::info!("restored the bot's Matrix identity with the recovery key");
    Ok(())
}

/// Creates the identity if the account has none, answering the
/// homeserver's password prompt with the login password. `None` when done
/// (or when another device's identity exists), else why it could not be.
async fn create(client: &Client, config: &MatrixConfig) -> Option<Standing> {
    let encryption = client.encryption();
    let error = match encryption.bootstrap_cross_signing_if_needed(None).await {
        Ok(()) => return None,
        Err(e) => e,
    };
    let Some(prompt) = error.as_uiaa_response() else {
        tracing::warn!(error = %error, "cannot create the bot's Matrix cross-signing identity");
        return Some(Standing::Failed);
    };
    let Some(password) = &config.password else {
        return Some(Standing::NoPassword);
    };
    let user = client.user_id().map(|u| u.to_string()).unwrap_or_default();
    let mut auth = Password::new(
        UserIdentifier::Matrix(MatrixUserIdentifier::new(user)),
        password.expose().to_owned(),
    );
    auth.session = prompt.session.clone();
    match encryption
        .bootstrap_cross_signing(Some(AuthData::Password(auth)))
        .await
    {
        Ok(()) => None,
        Err(e) => {
            tracing::warn!(error = %e, "the homeserver refused the password to create the bot's Matrix cross-signing identity");
            Some(Standing::Failed)
        }
    }
}

/// Turns on recovery (secret storage and the key backup) if the account
/// has none, and writes the new recovery key for the operator.
async fn set_up_recovery(client: &Client, dir: &Path) {
    let recovery = client.encryption().recovery();
    match recovery.state() {
        RecoveryState::Enabled => return,
        RecoveryState::Disabled => {}
        RecoveryState::Unknown => {
            tracing::warn!(
                "cannot tell whether the bot's Matrix account has recovery set up (see the errors above); \
                 it is checked again at the next start"
            );
            return;
        }
        state @ RecoveryState::Incomplete => {
            tracing::warn!(
                ?state,
                "the bot's Matrix account has recovery set up elsewhere, not usable from here; \
                 start the bot with KOTAE_MATRIX_RECOVERY_KEY_FILE set to that recovery key"
            );
            return;
        }
    }
    let key = match recovery.enable().await {
        Ok(key) => key,
        Err(e) => {
            tracing::warn!(error = %e, "cannot set up recovery and key backup for the bot's Matrix identity");
            return;
        }
    };
    match keyfiles::write_recovery_key(dir, &key).context("the recovery key") {
        Ok(path) => tracing::warn!(
            file = %path.display(),
            "recovery is set up and room keys are backed up on the homeserver; copy the recovery key \
             from this file to a safe place outside the state volume: it is the only way to restore \
             the bot's identity on a new device (KOTAE_MATRIX_RECOVERY_KEY_FILE)"
        ),
        Err(e) => tracing::error!(
            error = %format!("{e:#}"),
            "recovery is set up but its key could not be saved; the identity cannot be restored without it"
        ),
    }
}

/// Whether the homeserver shows this device signed by the bot's own
/// self-signing key (asked afresh, not read from the store).
async fn own_device_verified(client: &Client) -> anyhow::Result<bool> {
    let encryption = client.encryption();
    let user = client.user_id().context("not logged in")?;
    encryption.request_user_identity(user).await?;
    let device = encryption.get_own_device().await?;
    Ok(device.is_some_and(|d| d.is_cross_signed_by_owner()))
}

/// Says whether the device is verified; if not, why, what to do, and in
/// how many encrypted rooms members may not read it.
fn report(client: &Client, standing: Standing) {
    let device = client
        .device_id()
        .map(|d| d.to_string())
        .unwrap_or_default();
    if standing == Standing::Verified {
        tracing::info!(%device, verified = true, "Matrix device verified: cross-signed by the bot's own identity");
        return;
    }
    let fix = match standing {
        Standing::ForeignIdentity => {
            "the account's identity was made by another device (a lost state directory?): set KOTAE_MATRIX_RECOVERY_KEY_FILE \
             to the recovery key its first start wrote (state directory's matrix/recovery-key) and restart"
        }
        Standing::NoPassword => {
            "the bot logged in with an access token only, and the homeserver asks for the password to create its identity: \
             set KOTAE_MATRIX_PASSWORD_FILE (the bot's password) and restart, or KOTAE_MATRIX_RECOVERY_KEY_FILE if the account \
             already has a recovery key"
        }
        _ => "see the warnings above, then restart",
    };
    let encrypted = client
        .joined_rooms()
        .iter()
        .filter(|room| room.encryption_state().is_encrypted())
        .count();
    tracing::warn!(
        %device,
        verified = false,
        encrypted_rooms = encrypted,
        "Matrix device not verified: members whose clients require cross-signed devices cannot read its answers in encrypted rooms; {fix}"
    );
}
