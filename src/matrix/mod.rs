//! The Matrix adapter: `kotae serve` with a `[matrix]` section (or
//! `KOTAE_MATRIX_*` variables) logs the bot in and answers questions in
//! Matrix rooms, encrypted ones included.
//!
//! The pieces, in the order a message meets them:
//! - [`session`]: the client, its SQLite store and the saved login, so a
//!   restart is the same device with no new login;
//! - [`keyfiles`]: the store's passphrase and the recovery key, secret
//!   files in the state directory;
//! - [`identity`]: the bot's cross-signing identity and its recovery, so
//!   its device is verified (signed by its own identity) before it answers;
//! - [`sync`]: the sync loop, resuming from the stored sync token with
//!   backoff, and the rules for which timeline events are new;
//! - [`invite`]: joining rooms when an allowed user invites the bot;
//! - [`command`]: whether a message is for the bot, and what it asks;
//! - [`rooms`]: one queue per room, answered off the sync loop, so rooms
//!   never wait on each other;
//! - [`bot`]: answering it (rate limit, room language, the service's
//!   answer, sending the reply);
//! - [`render`]: the reply as plain text and escaped HTML;
//! - [`memory`]: what must survive a restart besides the SDK's own state
//!   (answered event ids, room languages).
//!
//! The moderators' side lives beside it:
//! - [`moderation`]: who counts as a moderator in a room;
//! - [`reactions`]: which reactions are 👍/👎 votes on the bot's answers;
//! - [`reloads`]: what a reload of the fact base means in Matrix (a report
//!   in the moderators' room, and edits of answers the reload corrected),
//!   driven by the service's follower.
//!
//! Everything that is not about Matrix (asking, records, the rate limit,
//! backoff, which answers a reload makes wrong) is `crate::service`'s.

mod bot;
mod command;
mod identity;
mod invite;
mod keyfiles;
mod memory;
mod moderation;
mod reactions;
mod reloads;
mod render;
mod retry;
mod rooms;
mod session;
mod sync;

pub use crate::config::matrix::{MatrixConfig, SenderTrust};
use crate::service::{Platform, Service};

/// Runs the adapter until the service says to stop.
pub async fn run(config: MatrixConfig, service: Service) -> anyhow::Result<()> {
    let Some(state_dir) = service.state_dir() else {
        anyhow::bail!("the Matrix adapter needs a state directory for its session");
    };
    let dir = state_dir.join("matrix");
    // Read before logging in, so a bad file is named at once.
    let recovery_key = config.recovery_key()?;
    // Disconnected (for /healthz) until the first sync succeeds.
    service.status.set(Platform::Matrix, false);
    // Not known to be verified until the identity is checked.
    service.status.forget_verified(Platform::Matrix);
    // Subscribed before logging in, so that an edit saved while the bot
    // connects still reaches the moderators and corrects answers.
    let reports = service.subscribe_reloads();
    let shutdown = service.shutdown.clone();
    let Some(client) = session::connect(&config, &dir, &shutdown).await? else {
        return Ok(());
    };
    let memory = memory::Memory::load(&client).await?;
    let bot = bot::Bot::new(&config, &service, client.clone(), memory).await;
    let target = reloads::MatrixReloads::new(client.clone(), &config, shutdown.clone());
    let _follower = service.follow_reloads(Platform::Matrix, reports, target);
    let mut syncer = sync::Syncer::new(
        client.clone(),
        bot,
        &config,
        service.status.clone(),
        shutdown.clone(),
    );
    let result = async {
        // The identity signs the device the first sync announced, before
        // anything is answered.
        if !syncer.first_sync(&shutdown).await? {
            return Ok(());
        }
        let verified = identity::establish(&client, &config, &dir, recovery_key.as_ref()).await?;
        service.status.set_verified(Platform::Matrix, verified);
        syncer.run(shutdown).await
    }
    .await;
    service.status.set(Platform::Matrix, false);
    result
}
