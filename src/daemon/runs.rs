//! One run of a schedule across replicas: several `serve` processes on one
//! database each try to claim the run (`store::leases`); the one that gets it scans
//! and renews its lease meanwhile, the others wait. Should the scanning replica die,
//! its lease runs out and a waiting replica scans the run instead; should its scan
//! fail, it gives the run back at once. A replica that did not scan takes the
//! stored result, so that its `/report` and `/readyz` say what the fleet saw.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;
use tracing::{info, warn};

use super::{Shared, scan_once};
use crate::model::format_timestamp;
use crate::scan::ScanPlan;
use crate::store::{Claim, RunEnd};

/// Which run: the schedule (its index and cron expression) and the run's planned
/// time (or `start …` for the scan at start).
pub struct Run {
    pub schedule: String,
    pub tick: String,
}

impl Run {
    fn key(&self) -> (&str, &str) {
        (&self.schedule, &self.tick)
    }
}

/// Scans `run` here, or lets the replica that claimed it do so.
pub async fn scan_run(
    shared: &Arc<Shared>,
    run: Run,
    plan: &ScanPlan,
    retain_days: u32,
    stopped: &mut watch::Receiver<bool>,
) {
    loop {
        let now = Utc::now();
        let until = lease_end(shared.scan_lease);
        let claim = shared
            .store
            .claim_run(run.key(), &shared.replica, &format_timestamp(&now), &until)
            .await;
        match claim {
            Ok(Claim::Mine) => {
                let renewing = tokio::spawn(renew(
                    shared.clone(),
                    run.schedule.clone(),
                    run.tick.clone(),
                ));
                let stored = scan_once(shared, plan, retain_days).await;
                renewing.abort();
                let now = format_timestamp(&Utc::now());
                let end = if stored {
                    RunEnd::Done
                } else {
                    RunEnd::GivenBack { now: &now }
                };
                if let Err(error) = shared.store.end_run(run.key(), &shared.replica, end).await {
                    warn!(%error, "could not record the end of this run");
                }
                return;
            }
            Ok(Claim::Done) => {
                info!(run = %run.tick, "another replica scanned this run");
                take_stored_result(shared).await;
                return;
            }
            Ok(Claim::Held { by, until }) => {
                info!(run = %run.tick, holder = %by, lease_until = %until, "another replica is scanning this run; it is taken over if that replica stops");
                let wait = chrono::DateTime::parse_from_rfc3339(&until)
                    .ok()
                    .and_then(|t| (t.with_timezone(&Utc) - Utc::now()).to_std().ok())
                    .unwrap_or_default()
                    .max(Duration::from_millis(200));
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stopped.wait_for(|stop| *stop) => return,
                }
            }
            // The database is unreachable: the scan would not be stored either,
            // but it still tells the metrics and /report what is live.
            Err(error) => {
                warn!(%error, "cannot claim this run: scanning it here");
                scan_once(shared, plan, retain_days).await;
                return;
            }
        }
    }
}

fn lease_end(lease: Duration) -> String {
    let lease = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
    format_timestamp(&(Utc::now() + lease))
}

/// Renews the lease a third of the way through it, until aborted or lost.
async fn renew(shared: Arc<Shared>, schedule: String, tick: String) {
    loop {
        tokio::time::sleep(shared.scan_lease / 3).await;
        let until = lease_end(shared.scan_lease);
        match shared
            .store
            .renew_run((&schedule, &tick), &shared.replica, &until)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                warn!(run = %tick, "this replica's lease on the run was taken over");
                return;
            }
            Err(error) => warn!(%error, "could not renew the lease on this run"),
        }
    }
}

/// What another replica stored: this one's /report and readiness follow it.
async fn take_stored_result(shared: &Shared) {
    if let Ok(Some(report)) = shared.store.latest_report().await {
        *shared.latest.write().expect("report lock") = Some(report);
    }
    if let Ok(Some(finished_at)) = shared.store.last_complete_scan().await {
        shared.metrics.set_last_complete_scan(&finished_at);
    }
}

/// This process among the replicas: host, process and a random part (two
/// containers may share a host name and a pid).
pub fn replica_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".to_string());
    format!("{host}/{}/{:08x}", std::process::id(), fastrand::u32(..))
}
