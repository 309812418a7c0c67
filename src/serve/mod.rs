//! `kotae serve`: runs every chat adapter enabled in the configuration on
//! one core and one fact base, with the health and metrics endpoint beside
//! them, until SIGTERM or SIGINT.

pub mod http;
pub mod moderation;

use crate::config::Config;
use crate::core::Kotae;
use crate::records::Records;
use crate::reload::ReloadReport;
use anyhow::{Result, bail};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tokio::sync::watch;

#[derive(clap::Args)]
pub struct Args {
    /// The configuration file (kotae.toml); `KOTAE_*` variables override it.
    #[arg(long, env = "KOTAE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// What every adapter gets: the core, where to keep state and records, a
/// place to say whether it is connected, reload reports, and a signal to stop.
#[derive(Clone)]
pub struct Context {
    pub kotae: Arc<Kotae>,
    pub state_dir: PathBuf,
    pub shutdown: watch::Receiver<bool>,
    pub status: Arc<AdapterStatus>,
    /// The moderator-maintained knowledge directory, if any (for `reload`).
    pub knowledge_dir: Option<PathBuf>,
    /// Every reload's report: subscribe to tell moderators and correct answers.
    pub reloads: tokio::sync::broadcast::Sender<Arc<ReloadReport>>,
    /// Unanswered questions, feedback and sent answers.
    pub records: Arc<Records>,
    /// How far back a reload corrects answers already sent.
    pub correction_window: std::time::Duration,
}

impl Context {
    /// A context with its records opened in `state_dir`.
    pub fn new(
        kotae: Arc<Kotae>,
        state_dir: PathBuf,
        shutdown: watch::Receiver<bool>,
    ) -> std::io::Result<Context> {
        let records = Arc::new(Records::open(&state_dir)?);
        Ok(Context {
            kotae,
            state_dir,
            shutdown,
            status: Arc::default(),
            knowledge_dir: None,
            reloads: tokio::sync::broadcast::channel(16).0,
            records,
            correction_window: crate::config::days(crate::config::DEFAULT_CORRECTION_WINDOW_DAYS),
        })
    }

    pub fn with_correction_window(mut self, window: std::time::Duration) -> Context {
        self.correction_window = window;
        self
    }

    pub fn with_status(mut self, status: Arc<AdapterStatus>) -> Context {
        self.status = status;
        self
    }

    pub fn with_knowledge_dir(mut self, dir: Option<PathBuf>) -> Context {
        self.knowledge_dir = dir;
        self
    }

    /// Watches the knowledge directory (if any): every settled edit is
    /// reloaded, logged and sent to the `reloads` subscribers. Dropping the
    /// returned watch stops it.
    pub fn watch_knowledge(&self) -> Result<Option<crate::reload::Watch>> {
        let Some(dir) = &self.knowledge_dir else {
            return Ok(None);
        };
        let reloads = self.reloads.clone();
        let watch = crate::reload::watch(self.kotae.clone(), dir.clone(), move |report| {
            crate::reload::log(&report);
            if report != ReloadReport::Unchanged {
                let _ = reloads.send(Arc::new(report));
            }
        })?;
        Ok(Some(watch))
    }

    /// Reloads the knowledge directory now (a moderator's `reload` command)
    /// and tells every subscriber. None when the bot runs on the built-in base.
    pub fn reload(&self) -> Option<Arc<ReloadReport>> {
        let dir = self.knowledge_dir.as_ref()?;
        let report = Arc::new(crate::reload::reload(&self.kotae, dir));
        crate::reload::log(&report);
        let _ = self.reloads.send(report.clone());
        Some(report)
    }
}

/// Which adapters are connected, for `/healthz`.
#[derive(Debug, Default)]
pub struct AdapterStatus {
    connected: std::sync::Mutex<std::collections::BTreeMap<&'static str, bool>>,
}

impl AdapterStatus {
    pub fn set(&self, adapter: &'static str, connected: bool) {
        let mut map = self.connected.lock().unwrap_or_else(|e| e.into_inner());
        if map.insert(adapter, connected) == Some(true) && !connected {
            metrics::counter!("kotae_adapter_disconnects_total", "platform" => adapter)
                .increment(1);
        }
    }

    /// Adapters and whether each is connected.
    pub fn snapshot(&self) -> Vec<(&'static str, bool)> {
        let map = self.connected.lock().unwrap_or_else(|e| e.into_inner());
        map.iter().map(|(k, v)| (*k, *v)).collect()
    }
}

/// Counts one answered or declined question and how long matching took.
pub fn record_question(
    platform: &'static str,
    reply: &crate::core::Reply,
    elapsed: std::time::Duration,
) {
    let outcome = if reply.answer().is_some() {
        "answered"
    } else {
        "declined"
    };
    metrics::counter!("kotae_questions_total", "platform" => platform, "lang" => reply.lang.code(), "outcome" => outcome).increment(1);
    metrics::histogram!("kotae_match_seconds").record(elapsed.as_secs_f64());
}

/// Counts a request dropped by a per-user rate limit.
pub fn record_rate_limited(platform: &'static str) {
    metrics::counter!("kotae_rate_limited_total", "platform" => platform).increment(1);
}

pub fn run(args: Args) -> Result<ExitCode> {
    let config = Config::load(args.config.as_deref())?;
    init_logging(&config);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(serve(config))?;
    Ok(ExitCode::SUCCESS)
}

/// matrix-sdk warns on every sync that the bot has no key backup, which it
/// never needs: that one target is kept to errors by default.
const DEFAULT_LOG: &str = "info,matrix_sdk_crypto::backups=error";

fn init_logging(config: &Config) {
    let filter =
        tracing_subscriber::EnvFilter::try_new(config.log.level.as_deref().unwrap_or(DEFAULT_LOG))
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if config.log.json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

async fn serve(config: Config) -> Result<()> {
    let enabled = enabled_adapters(&config);
    if enabled.is_empty() {
        bail!(
            "no chat adapter is enabled: configure [matrix] or [discord] in kotae.toml, or set KOTAE_MATRIX_HOMESERVER or KOTAE_DISCORD_TOKEN"
        );
    }
    let base = crate::cli::load_base(config.knowledge.as_deref())?;
    let kotae = Arc::new(Kotae::new(base));
    std::fs::create_dir_all(&config.state_dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot create state directory {}: {e}",
            config.state_dir.display()
        )
    })?;
    let (stop, shutdown) = watch::channel(false);
    let ctx = Context::new(kotae, config.state_dir.clone(), shutdown)
        .map_err(|e| anyhow::anyhow!("cannot open records in {}: {e}", config.state_dir.display()))?
        .with_knowledge_dir(config.knowledge.clone())
        .with_correction_window(crate::config::days(config.correction_window_days));
    let health = http::Health {
        kotae: ctx.kotae.clone(),
        status: ctx.status.clone(),
        expected: enabled,
        metrics: http::install_metrics()?,
    };
    let _watch = ctx.watch_knowledge()?;
    let mut tasks: tokio::task::JoinSet<Result<()>> = tokio::task::JoinSet::new();
    tasks.spawn(http::run(config.http.listen, health, ctx.shutdown.clone()));
    spawn_adapters(&config, &ctx, &mut tasks);
    tracing::info!(
        facts = ctx.kotae.snapshot().base.facts().len(),
        "kotae serving"
    );
    let outcome = tokio::select! {
        _ = shutdown_signal() => {
            tracing::info!("shutting down: finishing questions in flight");
            Ok(())
        }
        Some(done) = tasks.join_next() => done.map_err(anyhow::Error::from).and_then(|r| r),
    };
    let _ = stop.send(true);
    // Adapters stop taking questions at once and get the rest of the
    // 10 seconds a container runtime allows to finish and flush state.
    let drained = tokio::time::timeout(std::time::Duration::from_secs(8), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("some adapters did not stop within 8 s");
    }
    outcome
}

// Without the adapter features (a core-only build) these have nothing to do.
#[cfg_attr(
    not(all(feature = "matrix", feature = "discord")),
    allow(unused_mut, unused_variables)
)]
pub fn enabled_adapters(config: &Config) -> Vec<&'static str> {
    let mut enabled = Vec::new();
    #[cfg(feature = "matrix")]
    if config.matrix.is_some() {
        enabled.push("matrix");
    }
    #[cfg(feature = "discord")]
    if config.discord.is_some() {
        enabled.push("discord");
    }
    enabled
}

#[cfg_attr(
    not(all(feature = "matrix", feature = "discord")),
    allow(unused_variables)
)]
fn spawn_adapters(config: &Config, ctx: &Context, tasks: &mut tokio::task::JoinSet<Result<()>>) {
    #[cfg(feature = "matrix")]
    if let Some(matrix) = config.matrix.clone() {
        tasks.spawn(crate::matrix::run(matrix, ctx.clone()));
    }
    #[cfg(feature = "discord")]
    if let Some(discord) = config.discord.clone() {
        tasks.spawn(crate::discord::run(discord, ctx.clone()));
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
