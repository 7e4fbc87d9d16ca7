//! The HTTP endpoints of `serve` (CLI.md): health, readiness, metrics, report.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::{Notify, watch};
use tracing::{debug, warn};

use super::Shared;

/// What a slow or idle client may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// To send a request's headers; also how long a kept-alive connection may idle.
    pub header_timeout: Duration,
    /// Connections held open at once. Past it, a new connection closes the oldest
    /// one that has no request in progress (slow or idle clients go first), so that
    /// health checks are answered however many slow clients there are.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_timeout: Duration::from_secs(10),
            max_connections: 256,
        }
    }
}

pub async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    limits: Limits,
    mut stopped: watch::Receiver<bool>,
) {
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/report", get(report))
        .with_state(shared);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let open = Arc::new(Connections::default());
    let graceful = GracefulShutdown::new();
    let shutdown = async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, most often: wait rather than spin.
                    warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Some(slot) = open.admit(limits.max_connections) else {
            debug!("every connection has a request in progress; refusing a new one");
            continue;
        };
        let router = TowerToHyperService::new(app.clone());
        let in_flight = slot.in_flight.clone();
        let service = hyper::service::service_fn(move |request| {
            let request_guard = InFlight::enter(&in_flight);
            let response = hyper::service::Service::call(&router, request);
            async move {
                let _request_guard = request_guard;
                response.await
            }
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            tokio::select! {
                result = connection => {
                    if let Err(e) = result {
                        debug!(error = %e, "HTTP connection ended with an error");
                    }
                }
                _ = slot.evicted.notified() => debug!("closed an idle connection for a new one"),
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The open connections, oldest first.
#[derive(Default)]
struct Connections {
    open: Mutex<Registry>,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    slots: BTreeMap<u64, (Arc<AtomicUsize>, Arc<Notify>)>,
}

/// One admitted connection; leaves the registry when dropped.
struct Slot {
    id: u64,
    connections: Arc<Connections>,
    in_flight: Arc<AtomicUsize>,
    evicted: Arc<Notify>,
}

impl Connections {
    /// A slot for a new connection, closing the oldest connection without a request
    /// in progress when every slot is taken; `None` when all of them are busy.
    fn admit(self: &Arc<Self>, max: usize) -> Option<Slot> {
        let mut registry = self.open.lock().expect("connection registry lock");
        if registry.slots.len() >= max {
            let idle = registry
                .slots
                .iter()
                .find(|(_, (in_flight, _))| in_flight.load(Ordering::SeqCst) == 0)
                .map(|(id, _)| *id)?;
            if let Some((_, evicted)) = registry.slots.remove(&idle) {
                evicted.notify_one();
            }
        }
        let id = registry.next_id;
        registry.next_id += 1;
        let in_flight = Arc::new(AtomicUsize::new(0));
        let evicted = Arc::new(Notify::new());
        registry
            .slots
            .insert(id, (in_flight.clone(), evicted.clone()));
        Some(Slot {
            id,
            connections: self.clone(),
            in_flight,
            evicted,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut registry) = self.connections.open.lock() {
            registry.slots.remove(&self.id);
        }
    }
}

/// Marks a request in progress on its connection, until dropped.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn enter(count: &Arc<AtomicUsize>) -> InFlight {
        count.fetch_add(1, Ordering::SeqCst);
        InFlight(count.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
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
