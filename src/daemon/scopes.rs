//! A run scanned scope by scope (`scan::split`): each replica walks the run's
//! scopes from a random start, claims each one it finds free, scans and stores it,
//! and comes back for the scopes others hold until every scope is done, so that a
//! replica that dies mid-scope has that scope finished by another. After each
//! scope, `/report` and the findings gauges show the merged latest results.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::watch;
use tracing::{error, info, warn};

use super::turns::{Run, Turn, take_turn};
use super::{Shared, outcome};
use crate::model::Scope;
use crate::scan::{ScopedRun, run_scope_and_store};

/// Scans the scopes of `run` that no other replica scans.
pub async fn scan_scopes(
    shared: &Arc<Shared>,
    run: &Run,
    split: &ScopedRun,
    retain_days: u32,
    stopped: &mut watch::Receiver<bool>,
) {
    let labels: Vec<String> = split.scopes.iter().map(Scope::label).collect();
    info!(run = %run.tick, scopes = labels.len(), "scanning this run by scope");
    // Replicas start at different scopes, so that they rarely race for one.
    let start = fastrand::usize(..labels.len().max(1));
    let mut pending: Vec<usize> = (0..labels.len())
        .map(|i| (i + start) % labels.len())
        .collect();
    // A scope that failed (the database went away mid-store, say) is tried again
    // until the run's deadline; then the next run reads it.
    let deadline = Instant::now() + split.deadline();
    while !pending.is_empty() {
        let mut again = Vec::new();
        let mut soonest = shared.scan_lease;
        for i in pending {
            if *stopped.borrow() {
                return;
            }
            let scope = &split.scopes[i];
            let scan = || scan_scope(shared, split, scope, retain_days, deadline);
            let wait = match take_turn(shared, run.key(&labels[i]), scan).await {
                Turn::Scanned { stored: true } | Turn::ScannedElsewhere => continue,
                Turn::Scanned { stored: false } | Turn::Unclaimed => RETRY,
                Turn::Held(wait) => wait,
            };
            again.push(i);
            soonest = soonest.min(wait);
        }
        pending = again;
        if !pending.is_empty() && Instant::now() >= deadline {
            let left: Vec<&str> = pending.iter().map(|&i| labels[i].as_str()).collect();
            error!(run = %run.tick, scopes = ?left, "these scopes could not be scanned and stored within [scan] timeout; the next run reads them");
            break;
        }
        if !pending.is_empty() {
            tokio::select! {
                _ = tokio::time::sleep(soonest) => {}
                _ = stopped.wait_for(|stop| *stop) => return,
            }
        }
    }
    if !pending.is_empty() {
        return;
    }
    if let Err(e) = shared.store.forget_scopes_except(&labels).await {
        warn!(error = %e, "could not forget the results of scopes no longer read");
    }
    show_stored_results(shared).await;
    info!(run = %run.tick, "every scope of this run is scanned");
}

/// How soon a scope that failed, or could not be claimed, is tried again.
const RETRY: Duration = Duration::from_secs(1);

/// Scans and stores one scope before the run's `deadline`; true when stored.
async fn scan_scope(
    shared: &Shared,
    split: &ScopedRun,
    scope: &Scope,
    retain_days: u32,
    deadline: Instant,
) -> bool {
    let started = Instant::now();
    let scan = run_scope_and_store(split, scope, &shared.store, retain_days, &shared.routing);
    let (scan, stored) = match tokio::time::timeout_at(deadline.into(), scan).await {
        Ok(done) => done,
        Err(_) => {
            error!(scope = %scope.label(), "the run's [scan] timeout passed during this scope: abandoned, not stored");
            shared
                .metrics
                .record_failed_scan(started.elapsed().as_secs_f64());
            return false;
        }
    };
    if let Err(e) = &stored {
        error!(scope = %scope.label(), error = %e, "could not store the scope's scan");
    }
    let report = &scan.report;
    let seconds = started.elapsed().as_secs_f64();
    shared
        .metrics
        .count_scan(outcome(report, &stored), seconds, report, &scan.api_errors);
    info!(
        scan.id = %report.scan.id,
        scope = %scope.label(),
        complete = report.scan.complete,
        findings = report.findings.len(),
        seconds,
        "scope scan done"
    );
    show_stored_results(shared).await;
    stored.is_ok()
}

/// The merged latest results of every scope (or the latest whole scan) as this
/// replica's `/report` and findings gauges.
pub async fn show_stored_results(shared: &Shared) {
    match stored_report(&shared.store).await {
        Some(report) => {
            shared.metrics.show_findings(&report);
            *shared.latest.write().expect("report lock") = Some(report.to_json());
        }
        None => warn!("no stored result to show"),
    }
    if let Ok(Some(finished_at)) = shared.store.last_complete_scan().await {
        shared.metrics.set_last_complete_scan(&finished_at);
    }
}

/// The merged latest results the store keeps, if any.
pub async fn stored_report(store: &crate::store::Store) -> Option<crate::report::Report> {
    match store.results().await {
        Ok(results) => crate::report::merge(results, Utc::now()),
        Err(e) => {
            warn!(error = %e, "could not read the stored results");
            None
        }
    }
}
