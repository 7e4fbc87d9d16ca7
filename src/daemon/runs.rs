//! One run of a schedule across replicas: several `serve` processes on one
//! database each try to claim the run (`daemon::turns`), whole or scope by scope
//! (`daemon::scopes`); the one that gets it scans, the others wait. A replica that
//! did not scan takes the stored result, so that its `/report` and `/readyz` say
//! what the fleet saw.

use std::sync::Arc;

use tokio::sync::watch;
use tracing::info;

use super::turns::{Run, Turn, take_turn};
use super::{Shared, scan_once, scopes};
use crate::scan::ScanPlan;
use crate::store::Backend;

/// Scans `run` here, or lets the replicas that claimed it (or its scopes) do so.
/// On PostgreSQL, where replicas share a run, it is split by scope wherever that
/// gives the findings of a whole scan.
pub async fn scan_run(
    shared: &Arc<Shared>,
    run: Run,
    plan: &ScanPlan,
    retain_days: u32,
    stopped: &mut watch::Receiver<bool>,
) {
    if shared.store.backend() == Backend::Postgres {
        match crate::scan::split(plan).await {
            Ok(split) => {
                return scopes::scan_scopes(shared, &run, &split, retain_days, stopped).await;
            }
            Err(why) => info!(%why, "this run is scanned whole, by one replica"),
        }
    }
    loop {
        match take_turn(shared, run.key(""), || scan_once(shared, plan, retain_days)).await {
            Turn::Scanned { .. } => return,
            // The database is unreachable: the scan would not be stored either,
            // but it still tells the metrics and /report what is live.
            Turn::Unclaimed => {
                scan_once(shared, plan, retain_days).await;
                return;
            }
            Turn::ScannedElsewhere => {
                info!(run = %run.tick, "another replica scanned this run");
                scopes::show_stored_results(shared).await;
                return;
            }
            Turn::Held(wait) => {
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stopped.wait_for(|stop| *stop) => return,
                }
            }
        }
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
