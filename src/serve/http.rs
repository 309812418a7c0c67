//! The operator's HTTP endpoint: `GET /healthz` for container health checks
//! and `GET /metrics` for Prometheus. It listens on `http.listen`
//! (127.0.0.1:9184 unless configured) and never serves chat traffic.
//!
//! No client can hold it up: a request's head must arrive within
//! [`HEADER_READ`], each connection serves one request and lives at most
//! [`CONNECTION_MAX`], at most [`CONNECTIONS_MAX`] are served at once, and
//! on shutdown every open connection is dropped at once, so SIGTERM is
//! never kept waiting by a half-sent request.

use crate::core::Kotae;
use crate::service::{AdapterStatus, Platform, Shutdown};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json};
use axum::routing::get;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// How long a client may take to send a request's head. Health checks and
/// scrapes send theirs at once; a connection that sends nothing is idle.
pub const HEADER_READ: Duration = Duration::from_secs(3);
/// How long one connection may take in all, a slow reader included.
pub const CONNECTION_MAX: Duration = Duration::from_secs(10);
/// Connections served at once; the next waits for one to end.
pub const CONNECTIONS_MAX: usize = 64;

/// What `/healthz` and `/metrics` read.
#[derive(Clone)]
pub struct Health {
    pub kotae: Arc<Kotae>,
    /// The semantic signal's model, if configured.
    pub embeddings: Option<Arc<crate::embeddings::Embeddings>>,
    pub status: Arc<AdapterStatus>,
    /// The adapters the configuration enables; each must be connected.
    pub expected: Vec<Platform>,
    pub metrics: PrometheusHandle,
}

/// Installs the process-wide Prometheus recorder (once).
pub fn install_metrics() -> anyhow::Result<PrometheusHandle> {
    const LATENCY_BUCKETS: &[f64] = &[
        1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 5e-3, 1e-2, 0.1,
    ];
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full("kotae_match_seconds".into()), LATENCY_BUCKETS)?
        .install_recorder()
        .map_err(|e| anyhow::anyhow!("cannot install the metrics recorder: {e}"))
}

/// Serves `/healthz` and `/metrics` on `listen` until shutdown.
pub async fn run(listen: SocketAddr, health: Health, shutdown: Shutdown) -> anyhow::Result<()> {
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(health);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen} for /healthz and /metrics: {e}"))?;
    tracing::info!(%listen, "health and metrics endpoint listening");
    let slots = Arc::new(Semaphore::new(CONNECTIONS_MAX));
    // Dropping the set at shutdown drops every connection still open.
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = accept(&listener, &slots) => accepted,
            () = shutdown.requested() => return Ok(()),
        };
        let Some((stream, slot)) = accepted else {
            continue;
        };
        let service = TowerToHyperService::new(app.clone());
        connections.spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ)
                .keep_alive(false)
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(CONNECTION_MAX, connection).await;
            drop(slot);
        });
        while connections.try_join_next().is_some() {}
    }
}

/// The next connection, once there is a free slot for it; `None` when
/// accepting failed (out of file descriptors, say), after a pause.
async fn accept(
    listener: &tokio::net::TcpListener,
    slots: &Arc<Semaphore>,
) -> Option<(tokio::net::TcpStream, tokio::sync::OwnedSemaphorePermit)> {
    let slot = slots.clone().acquire_owned().await.ok()?;
    match listener.accept().await {
        Ok((stream, _)) => Some((stream, slot)),
        Err(e) => {
            tracing::warn!("cannot accept a connection on the health endpoint: {e}");
            tokio::time::sleep(Duration::from_millis(100)).await;
            None
        }
    }
}

async fn healthz(State(h): State<Health>) -> impl IntoResponse {
    let snapshot = h.kotae.snapshot();
    let connected = h.status.snapshot();
    let is_up = |platform: Platform| connected.iter().any(|(p, up)| *p == platform && *up);
    let down: Vec<&str> = h
        .expected
        .iter()
        .copied()
        .filter(|platform| !is_up(*platform))
        .map(Platform::as_str)
        .collect();
    let adapters: serde_json::Map<String, serde_json::Value> = h
        .expected
        .iter()
        .map(|platform| (platform.to_string(), json!(is_up(*platform))))
        .collect();
    // Whether each adapter's own device is verified (Matrix), once known:
    // a warning for the operator, not a reason to be unhealthy.
    let verified: serde_json::Map<String, serde_json::Value> = h
        .status
        .verified_snapshot()
        .into_iter()
        .map(|(platform, verified)| (platform.to_string(), json!(verified)))
        .collect();
    let semantic = semantic_health(h.embeddings.as_deref(), &snapshot);
    let status = if !down.is_empty() {
        "unavailable"
    } else if semantic["state"] == "degraded" {
        // Still answering (lexically): degraded, not down.
        "degraded"
    } else {
        "ok"
    };
    let body = json!({
        "status": status,
        "reason": (!down.is_empty()).then(|| format!("not connected: {}", down.join(", "))),
        "facts": snapshot.base.facts().len(),
        "revision": snapshot.base.revision(),
        "adapters": adapters,
        "verified": verified,
        "reload": crate::reload::health(),
        "embeddings": semantic,
    });
    let code = if down.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body))
}

/// The semantic signal's state: off (not configured), preparing (the fact
/// base is being embedded), ready, or degraded (the model failed: answers
/// are lexical until it is back).
fn semantic_health(
    embeddings: Option<&crate::embeddings::Embeddings>,
    snapshot: &crate::core::Snapshot,
) -> serde_json::Value {
    use crate::embeddings::Health;
    let Some(embeddings) = embeddings else {
        return json!({ "state": "off" });
    };
    match embeddings.health(snapshot) {
        Health::Preparing => json!({ "state": "preparing" }),
        Health::Ready => json!({ "state": "ready" }),
        Health::Degraded { since, error } => json!({
            "state": "degraded",
            "since": since.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
            "error": error,
        }),
    }
}

async fn metrics(State(h): State<Health>) -> impl IntoResponse {
    let snapshot = h.kotae.snapshot();
    metrics::gauge!("kotae_facts").set(snapshot.base.facts().len() as f64);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        h.metrics.render(),
    )
}
