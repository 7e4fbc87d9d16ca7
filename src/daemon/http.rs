//! The HTTP endpoints of `serve` (CLI.md): health, readiness, metrics, report.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use tokio::sync::watch;

use super::Shared;

pub async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/report", get(report))
        .with_state(shared);
    let shutdown = async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::error!(error = %e, "HTTP server failed");
    }
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// 200 while the process runs.
async fn healthz() -> Response {
    text(StatusCode::OK, "ok\n".into())
}

/// 200 when the database answers and the last complete scan is young enough.
async fn readyz(State(shared): State<Arc<Shared>>) -> Response {
    let last = match shared.store.last_complete_scan().await {
        Ok(last) => last,
        Err(e) => {
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("database unreachable: {e}\n"),
            );
        }
    };
    let Some(last) = last else {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "no complete scan yet\n".into(),
        );
    };
    let age = DateTime::parse_from_rfc3339(&last)
        .map(|t| Utc::now().signed_duration_since(t))
        .ok()
        .and_then(|age| age.to_std().ok())
        .unwrap_or_default();
    if age > shared.ready_max_age {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the last complete scan finished at {last}, {}s ago (more than {}s)\n",
                age.as_secs(),
                shared.ready_max_age.as_secs()
            ),
        );
    }
    text(
        StatusCode::OK,
        format!("ready: last complete scan finished at {last}\n"),
    )
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        shared.metrics.render(),
    )
        .into_response()
}

/// The latest report (report.schema.json), or 503 before the first scan.
async fn report(State(shared): State<Arc<Shared>>) -> Response {
    match shared.latest.read().expect("report lock").clone() {
        Some(json) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            json,
        )
            .into_response(),
        None => text(
            StatusCode::SERVICE_UNAVAILABLE,
            "no scan since this process started\n".into(),
        ),
    }
}
