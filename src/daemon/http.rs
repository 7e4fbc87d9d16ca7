//! The HTTP endpoints of `serve` (CLI.md): health, readiness, metrics, report.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use http_body_util::BodyExt;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::{Notify, watch};
use tracing::{debug, warn};

use super::Shared;

/// What a slow or idle client may hold.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// To send a request's headers; also how long a kept-alive connection may idle.
    pub header_timeout: Duration,
    /// Connections held open at once. Past it, a new connection closes the oldest
    /// one that has no request in progress (slow or idle clients go first), so that
    /// health checks are answered however many slow clients there are.
    pub max_connections: usize,
}

impl Default for HttpLimits {
    fn default() -> HttpLimits {
        HttpLimits {
            header_timeout: Duration::from_secs(10),
            max_connections: 256,
        }
    }
}

pub async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    limits: HttpLimits,
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
        let state = slot.state.clone();
        let service = hyper::service::service_fn(move |request| {
            // A request on a connection already chosen for closing is not started.
            let busy = InFlight::enter(&state);
            let response = hyper::service::Service::call(&router, request);
            async move {
                let busy = busy.ok_or(Evicted)?;
                let response = match response.await {
                    Ok(response) => response,
                    Err(infallible) => match infallible {},
                };
                // Busy until the body is sent, not just until the handler returns:
                // a slow reader of /report is not an idle connection.
                Ok::<_, Evicted>(response.map(|body| {
                    Body::new(body.map_frame(move |frame| {
                        let _busy = &busy;
                        frame
                    }))
                }))
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

/// A connection's requests in progress, or [`EVICTED`] once it was chosen for
/// closing: one atomic, so that a connection is never closed mid-request.
const EVICTED: usize = usize::MAX;

/// One admitted connection; leaves the registry when dropped.
struct Slot {
    id: u64,
    connections: Arc<Connections>,
    state: Arc<AtomicUsize>,
    evicted: Arc<Notify>,
}

#[derive(Debug, thiserror::Error)]
#[error("the connection is being closed for a newer one")]
struct Evicted;

impl Connections {
    /// A slot for a new connection, closing the oldest connection without a request
    /// in progress when every slot is taken; `None` when all of them are busy.
    fn admit(self: &Arc<Self>, max: usize) -> Option<Slot> {
        let mut registry = self.open.lock().expect("connection registry lock");
        if registry.slots.len() >= max {
            let idle = registry
                .slots
                .iter()
                .find(|(_, (state, _))| {
                    state
                        .compare_exchange(0, EVICTED, Ordering::SeqCst, Ordering::SeqCst)
                        .is_ok()
                })
                .map(|(id, _)| *id)?;
            if let Some((_, evicted)) = registry.slots.remove(&idle) {
                evicted.notify_one();
            }
        }
        let id = registry.next_id;
        registry.next_id += 1;
        let state = Arc::new(AtomicUsize::new(0));
        let evicted = Arc::new(Notify::new());
        registry.slots.insert(id, (state.clone(), evicted.clone()));
        Some(Slot {
            id,
            connections: self.clone(),
            state,
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
    /// `None` when the connection was already chosen for closing.
    fn enter(state: &Arc<AtomicUsize>) -> Option<InFlight> {
        state
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n != EVICTED).then_some(n + 1)
            })
            .ok()
            .map(|_| InFlight(state.clone()))
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
    let age = age_of(&last);
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
    // Scanned by scope: every scope must be fresh, not just the latest one.
    match shared.store.stalest_scope().await {
        Ok(Some((scope, None))) => {
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("scope {scope} has no complete scan yet\n"),
            );
        }
        Ok(Some((scope, Some(at)))) => {
            let age = age_of(&at);
            if age > shared.ready_max_age {
                return text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "the last complete scan of scope {scope} finished at {at}, {}s ago (more than {}s)\n",
                        age.as_secs(),
                        shared.ready_max_age.as_secs()
                    ),
                );
            }
        }
        Ok(None) => {}
        Err(e) => {
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("database unreachable: {e}\n"),
            );
        }
    }
    text(
        StatusCode::OK,
        format!("ready: last complete scan finished at {last}\n"),
    )
}

/// How long ago `at` (RFC 3339) was; zero for a time to come or unreadable.
fn age_of(at: &str) -> Duration {
    crate::model::parse_timestamp(at)
        .and_then(|t| (Utc::now() - t).to_std().ok())
        .unwrap_or_default()
}

async fn metrics(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .unwrap_or_default();
    let (body, content_type) = shared.metrics.render(accept);
    (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response()
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
