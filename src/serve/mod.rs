//! `kotae serve`: wires the adapters enabled in the configuration to one
//! [`Service`] (one core, one fact base, one set of records), with the
//! health and metrics endpoint beside them, until SIGTERM or SIGINT.

pub mod http;

use crate::config::Config;
use crate::core::Kotae;
use crate::service::{Platform, Service, Shutdown};
use anyhow::{Result, bail};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// How long adapters get to finish questions in flight and flush state
/// after SIGTERM: within the 10 seconds a container runtime allows.
const DRAIN: Duration = Duration::from_secs(8);

/// Reads the configuration (`config_path`, then `KOTAE_*`) and serves.
pub fn run(config_path: Option<&Path>) -> Result<ExitCode> {
    let config = Config::load(config_path)?;
    config.log.init(DEFAULT_LOG);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(serve(config))?;
    Ok(ExitCode::SUCCESS)
}

/// Two of matrix-sdk's targets are quieter by default. Without a key
/// backup (a bot that logged in with a token only, so could not set up
/// recovery) it warns on every sync, which the adapter has already said
/// once with the fix. And it logs every refused request at ERROR, the 404s
/// it expects included (no recovery data yet, at a first start); the
/// adapter logs the failures that matter itself, with what they mean.
const DEFAULT_LOG: &str = "info,matrix_sdk_crypto::backups=error,matrix_sdk::http_client=off";

async fn serve(config: Config) -> Result<()> {
    let enabled = enabled_adapters(&config);
    if enabled.is_empty() {
        bail!(
            "no chat adapter is enabled: configure [matrix] or [discord] in kotae.toml, or set KOTAE_MATRIX_HOMESERVER or KOTAE_DISCORD_TOKEN"
        );
    }
    let base = crate::service::load_base(config.knowledge.as_deref())?;
    let kotae = Arc::new(Kotae::new(base));
    std::fs::create_dir_all(&config.state_dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot create state directory {}: {e}",
            config.state_dir.display()
        )
    })?;
    let (stop, shutdown) = Shutdown::new();
    let service = Service::open(kotae, &config.state_dir, shutdown)?
        .with_knowledge_dir(config.knowledge.clone())
        .with_correction_window(crate::config::days(config.correction_window_days))
        .with_embeddings(crate::service::open_embeddings(
            &config.embeddings,
            Some(&config.state_dir),
        )?);
    let health = http::Health {
        kotae: service.kotae.clone(),
        embeddings: service.embeddings().cloned(),
        status: service.status.clone(),
        expected: enabled,
        metrics: http::install_metrics()?,
    };
    let _watch = service.watch_knowledge()?;
    let mut tasks: tokio::task::JoinSet<Result<()>> = tokio::task::JoinSet::new();
    tasks.spawn(http::run(
        config.http.listen,
        health,
        service.shutdown.clone(),
    ));
    spawn_adapters(&config, &service, &mut tasks);
    tracing::info!(
        facts = service.kotae.snapshot().base.facts().len(),
        "kotae serving"
    );
    let outcome = tokio::select! {
        _ = shutdown_signal() => {
            tracing::info!("shutting down: finishing questions in flight");
            Ok(())
        }
        Some(done) = tasks.join_next() => done.map_err(anyhow::Error::from).and_then(|r| r),
    };
    stop.stop();
    let drained =
        tokio::time::timeout(DRAIN, async { while tasks.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!("some adapters did not stop within {DRAIN:?}");
    }
    outcome
}

/// The adapters this configuration turns on (and this build has).
// Without the adapter features (a core-only build) these have nothing to do.
#[cfg_attr(
    not(all(feature = "matrix", feature = "discord")),
    allow(unused_mut, unused_variables)
)]
pub fn enabled_adapters(config: &Config) -> Vec<Platform> {
    let mut enabled = Vec::new();
    #[cfg(feature = "matrix")]
    if config.matrix.is_some() {
        enabled.push(Platform::Matrix);
    }
    #[cfg(feature = "discord")]
    if config.discord.is_some() {
        enabled.push(Platform::Discord);
    }
    enabled
}

#[cfg_attr(
    not(all(feature = "matrix", feature = "discord")),
    allow(unused_variables)
)]
fn spawn_adapters(
    config: &Config,
    service: &Service,
    tasks: &mut tokio::task::JoinSet<Result<()>>,
) {
    #[cfg(feature = "matrix")]
    if let Some(matrix) = config.matrix.clone() {
        tasks.spawn(crate::matrix::run(matrix, service.clone()));
    }
    #[cfg(feature = "discord")]
    if let Some(discord) = config.discord.clone() {
        tasks.spawn(crate::discord::run(discord, service.clone()));
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
