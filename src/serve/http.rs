//! The operator's HTTP endpoint: `GET /healthz` for container health checks
//! and `GET /metrics` for Prometheus. It listens on `http.listen`
//! (127.0.0.1:9184 unless configured) and never serves chat traffic.

use super::AdapterStatus;
use crate::core::Kotae;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;

#[derive(Clone)]
pub struct Health {
    pub kotae: Arc<Kotae>,
    pub status: Arc<AdapterStatus>,
    /// The adapters the configuration enables; each must be connected.
    pub expected: Vec<&'static str>,
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

pub async fn run(
    listen: SocketAddr,
    health: Health,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(health);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen} for /healthz and /metrics: {e}"))?;
    tracing::info!(%listen, "health and metrics endpoint listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        })
        .await?;
    Ok(())
}

async fn healthz(State(h): State<Health>) -> impl IntoResponse {
    let snapshot = h.kotae.snapshot();
    let connected = h.status.snapshot();
    let is_up = |name: &str| connected.iter().any(|(n, up)| *n == name && *up);
    let down: Vec<&str> = h
        .expected
        .iter()
        .copied()
        .filter(|name| !is_up(name))
        .collect();
    let adapters: serde_json::Map<String, serde_json::Value> = h
        .expected
        .iter()
        .map(|name| (name.to_string(), json!(is_up(name))))
        .collect();
    let body = json!({
        "status": if down.is_empty() { "ok" } else { "unavailable" },
        "reason": (!down.is_empty()).then(|| format!("not connected: {}", down.join(", "))),
        "facts": snapshot.base.facts().len(),
        "revision": snapshot.base.revision(),
        "adapters": adapters,
        "reload": crate::reload::health(),
    });
    let code = if down.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body))
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
