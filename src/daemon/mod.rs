//! `driftd serve`: scans on `[[schedule]]`s, stores them, and answers on HTTP
//! (`/healthz`, `/readyz`, `/metrics`, `/report`) until SIGTERM or SIGINT.
//!
//! - A scan never overlaps another: one scan at a time, whatever the schedule.
//! - Missed runs are not stacked up: after a slow scan, the next run is the
//!   schedule's next time from now.
//! - On SIGTERM/SIGINT scheduling stops; a running scan gets `shutdown_grace` to
//!   finish and store; after that it is abandoned, and since a scan is stored in one
//!   transaction, nothing of it is stored. Exit 0.

mod http;
pub mod metrics;
mod runs;
mod scopes;
mod turns;

pub use http::HttpLimits;

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::{Mutex, watch};
use tokio::task::{JoinHandle, JoinSet};
use tracing::{Instrument, error, info, info_span, warn};

use crate::config::CronSchedule;
use crate::model::format_timestamp;
use crate::notify::Routing;
use crate::notify::deliver::{Deliverer, deliver_due};
use crate::scan::{ScanPlan, run_and_store, within_deadline};
use crate::store::Store;
use metrics::{Metrics, Outcome};

/// What `serve` runs with, resolved from the config.
pub struct Settings {
    pub listen: SocketAddr,
    pub ready_max_age: Duration,
    pub shutdown_grace: Duration,
    pub retain_days: u32,
    /// Scan every schedule once at start, before waiting for its first run.
    pub scan_on_start: bool,
    /// How long a replica's claim on a run lasts unless renewed.
    pub scan_lease: Duration,
    pub schedules: Vec<(Timing, ScanPlan)>,
    pub http: HttpLimits,
}

/// When one schedule scans: its cron expression, and a random delay of up to
/// `jitter` before each run.
#[derive(Debug, Clone)]
pub struct Timing {
    pub cron: CronSchedule,
    pub jitter: Duration,
}

/// What the scheduler shares with the HTTP handlers.
pub struct Shared {
    pub store: Store,
    pub routing: Routing,
    pub metrics: Metrics,
    /// The latest report as JSON: this process's, or the database's until then.
    pub latest: RwLock<Option<String>>,
    pub ready_max_age: Duration,
    /// This process among the replicas sharing the database.
    pub replica: String,
    pub scan_lease: Duration,
}

pub async fn serve(
    settings: Settings,
    store: Store,
    routing: Routing,
    deliverer: Deliverer,
) -> anyhow::Result<()> {
    let metrics = Metrics::default();
    // What the database knows already: /report and the scan-age metric are not
    // blind until this process's first scan.
    let latest = match scopes::stored_report(&store).await {
        Some(merged) => Some(merged.to_json()),
        // A database whose scans predate results by scope.
        None => store.latest_report().await.unwrap_or_else(|e| {
            warn!(error = %e, "could not read the latest stored report");
            None
        }),
    };
    if let Ok(Some(finished_at)) = store.last_complete_scan().await {
        metrics.set_last_complete_scan(&finished_at);
    }
    let shared = Arc::new(Shared {
        store,
        routing,
        metrics,
        latest: RwLock::new(latest),
        ready_max_age: settings.ready_max_age,
        replica: runs::replica_id(),
        scan_lease: settings.scan_lease,
    });
    // Installed first: a SIGTERM that arrives while starting up is not lost.
    let signal = shutdown_signal()?;
    let (stop, stopped) = watch::channel(false);
    // HTTP stops after the scans, so /metrics and /readyz see the last one.
    let (stop_http, http_stopped) = watch::channel(false);

    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.listen))?;
    info!(address = %listener.local_addr()?, "listening");
    let server = tokio::spawn(http::serve(
        listener,
        shared.clone(),
        settings.http,
        http_stopped,
    ));

    let delivery = tokio::spawn(
        deliver_outbox(shared.clone(), deliverer, stopped.clone()).instrument(info_span!("notify")),
    );
    let one_at_a_time = Arc::new(Mutex::new(()));
    let mut schedules = JoinSet::new();
    for (index, (schedule, plan)) in settings.schedules.into_iter().enumerate() {
        let span = info_span!("schedule", schedule = index, cron = %schedule.cron);
        schedules.spawn(
            run_schedule(
                format!("{index} {}", schedule.cron),
                schedule,
                plan,
                shared.clone(),
                (one_at_a_time.clone(), settings.scan_on_start),
                settings.retain_days,
                stopped.clone(),
            )
            .instrument(span),
        );
    }

    tokio::pin!(signal);
    loop {
        tokio::select! {
            _ = &mut signal => break,
            Some(ended) = schedules.join_next() => {
                if let Err(e) = ended {
                    // A scan panicked: its schedule is gone. Exit non-zero so that
                    // ECS replaces the task, rather than serve with nothing scanning.
                    error!(error = %e, "a schedule stopped unexpectedly; exiting");
                    let _ = stop.send(true);
                    let _ = stop_http.send(true);
                    anyhow::bail!("a schedule stopped unexpectedly: {e}");
                }
            }
        }
    }
    let _ = stop.send(true);
    shut_down(
        settings.shutdown_grace,
        schedules,
        delivery,
        (stop_http, server),
        &shared,
    )
    .await;
    Ok(())
}

/// After the stop signal: a running scan gets the grace, then the delivery in
/// flight and the open HTTP connections get what is left of it (at least a second
/// each), and the store is closed.
async fn shut_down(
    grace: Duration,
    mut schedules: JoinSet<()>,
    delivery: JoinHandle<()>,
    (stop_http, mut server): (watch::Sender<bool>, JoinHandle<()>),
    shared: &Shared,
) {
    let shutdown_started = Instant::now();
    info!(
        grace_seconds = grace.as_secs_f64(),
        "shutting down: no new scans; a running scan may finish within the grace"
    );
    let finished = tokio::time::timeout(grace, async {
        while schedules.join_next().await.is_some() {}
    })
    .await;
    if finished.is_err() {
        warn!(
            "the running scan did not finish within the grace; abandoned (a scan is stored in one transaction: whole or not at all)"
        );
        schedules.abort_all();
        while schedules.join_next().await.is_some() {}
    }
    // A delivery in flight finishes (it stops before the next message), so that
    // the outbox records what the receiver accepted.
    let left = |started: Instant| {
        grace
            .saturating_sub(started.elapsed())
            .max(Duration::from_secs(1))
    };
    if tokio::time::timeout(left(shutdown_started), delivery)
        .await
        .is_err()
    {
        warn!(
            "a notification was still being delivered at the end of the grace; it will be sent again"
        );
    }
    let _ = stop_http.send(true);
    let left = left(shutdown_started);
    if tokio::time::timeout(left, &mut server).await.is_err() {
        warn!("HTTP connections still open at the end of the grace; closing them");
        server.abort();
    }
    shared.store.clone().close().await;
    info!("stopped");
}

async fn run_schedule(
    key: String,
    schedule: Timing,
    plan: ScanPlan,
    shared: Arc<Shared>,
    (one_at_a_time, scan_now): (Arc<Mutex<()>>, bool),
    retain_days: u32,
    mut stopped: watch::Receiver<bool>,
) {
    let mut scan_now = scan_now;
    loop {
        let tick;
        if scan_now {
            info!("scanning at start");
            // Replicas started together share one scan at start.
            tick = format!("start {}", Utc::now().format("%Y-%m-%dT%H:%MZ"));
        } else {
            // From now, not from the last planned time: runs missed during a slow
            // scan are skipped, not stacked up.
            let Some(next) = schedule.cron.next_after(&Utc::now()) else {
                info!("the schedule has no further runs");
                return;
            };
            // The config bounds jitter; should a sum still not fit, run without it.
            let jitter =
                chrono::Duration::from_std(random_up_to(schedule.jitter)).unwrap_or_default();
            let at = next.checked_add_signed(jitter).unwrap_or(next);
            tick = format_timestamp(&next);
            info!(next_run = %format_timestamp(&at), "next scan scheduled");
            let wait = (at - Utc::now()).to_std().unwrap_or_default();
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stopped.wait_for(|stop| *stop) => return,
            }
        }
        scan_now = false;
        let _turn = tokio::select! {
            turn = one_at_a_time.lock() => turn,
            _ = stopped.wait_for(|stop| *stop) => return,
        };
        if *stopped.borrow() {
            return;
        }
        let run = turns::Run {
            schedule: key.clone(),
            tick,
        };
        runs::scan_run(&shared, run, &plan, retain_days, &mut stopped).await;
    }
}

/// Scans and stores; true when the scan was stored.
async fn scan_once(shared: &Shared, plan: &ScanPlan, retain_days: u32) -> bool {
    let started = Instant::now();
    let scan = within_deadline(
        plan,
        run_and_store(plan, &shared.store, retain_days, &shared.routing),
    )
    .await;
    let (scan, stored) = match scan {
        Ok(done) => done,
        Err(passed) => {
            // The next run is scheduled as after any other failed scan.
            error!(error = %passed, "scan abandoned");
            shared
                .metrics
                .record_failed_scan(started.elapsed().as_secs_f64());
            return false;
        }
    };
    let report = &scan.report;
    if let Err(e) = &stored {
        error!(error = %e, "could not store the scan");
    }
    shared.metrics.record_scan(
        outcome(report, &stored),
        started.elapsed().as_secs_f64(),
        report,
        &scan.api_errors,
    );
    *shared.latest.write().expect("report lock") = Some(report.to_json());
    info!(
        scan.id = %report.scan.id,
        complete = report.scan.complete,
        findings = report.findings.len(),
        seconds = started.elapsed().as_secs_f64(),
        "scan done"
    );
    stored.is_ok()
}

/// What a scan came to, for the metrics.
fn outcome(
    report: &crate::report::Report,
    stored: &Result<(), crate::store::StoreError>,
) -> Outcome {
    match stored {
        Err(_) => Outcome::Failed,
        Ok(()) if !report.scan.complete => Outcome::Partial,
        Ok(()) if report.exit_code(crate::model::Severity::Low) == 2 => Outcome::Drift,
        Ok(()) => Outcome::Clean,
    }
}

/// Delivers the outbox every few seconds (and right after a scan queued
/// something), keeping `driftd_notifications_pending` current.
async fn deliver_outbox(
    shared: Arc<Shared>,
    deliverer: Deliverer,
    mut stopped: watch::Receiver<bool>,
) {
    const EVERY: Duration = Duration::from_secs(2);
    loop {
        let go_on = || !*stopped.borrow();
        match deliver_due(&shared.store, &deliverer, go_on).await {
            Ok(round) => shared.metrics.record_deliveries(&round),
            Err(e) => error!(error = %e, "could not read the outbox"),
        }
        if let Ok(pending) = shared.store.pending_notifications().await {
            shared.metrics.set_notifications_pending(pending);
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stopped.wait_for(|stop| *stop) => return,
        }
    }
}

/// Up to `max`, uniformly: spreads many instances' scans over time.
fn random_up_to(max: Duration) -> Duration {
    if max.is_zero() {
        return max;
    }
    Duration::from_millis(fastrand::u64(0..=max.as_millis() as u64))
}

/// Resolves on the first SIGTERM or SIGINT.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => info!("SIGTERM received"),
            _ = int.recv() => info!("SIGINT received"),
        }
    })
}
