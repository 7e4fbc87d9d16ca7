//! Taking turns on a run, or one scope of it (`store::leases`): the first replica
//! to claim it holds a lease and renews it while it scans; should it die, the lease
//! runs out and a waiting replica takes it; should its scan fail, it gives it back
//! at once.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tracing::{info, warn};

use super::Shared;
use crate::model::format_timestamp;
use crate::store::{Claim, RunEnd, RunKey};

/// Which run: the schedule (its index and cron expression) and the run's planned
/// time (or `start …` for the scan at start).
pub struct Run {
    pub schedule: String,
    pub tick: String,
}

impl Run {
    /// The run whole (`scope` empty) or one scope of it.
    pub fn key<'a>(&'a self, scope: &'a str) -> RunKey<'a> {
        RunKey {
            schedule: &self.schedule,
            tick: &self.tick,
            scope,
        }
    }
}

/// What one claim on a run (or scope) came to.
pub enum Turn {
    /// Scanned here: stored, or (`stored` false) given back for another try.
    Scanned { stored: bool },
    /// The database could not be asked (it is down, say): nothing was scanned.
    Unclaimed,
    /// Another replica scanned and stored it.
    ScannedElsewhere,
    /// Another replica is scanning it; worth asking again after this long.
    Held(Duration),
}

/// Claims `key` and, when this replica gets it, runs `scan` (true when stored)
/// while renewing the lease.
pub async fn take_turn<F>(shared: &Arc<Shared>, key: RunKey<'_>, scan: impl FnOnce() -> F) -> Turn
where
    F: Future<Output = bool>,
{
    let now = format_timestamp(&Utc::now());
    let until = lease_end(shared.scan_lease);
    match shared
        .store
        .claim_run(key, &shared.replica, &now, &until)
        .await
    {
        Ok(Claim::Mine) => {
            let renewing = tokio::spawn(renew(shared.clone(), Owned::of(key)));
            let stored = scan().await;
            renewing.abort();
            let now = format_timestamp(&Utc::now());
            let end = match stored {
                true => RunEnd::Done,
                false => RunEnd::GivenBack { now: &now },
            };
            if let Err(error) = shared.store.end_run(key, &shared.replica, end).await {
                warn!(%error, "could not record the end of this run");
            }
            Turn::Scanned { stored }
        }
        Ok(Claim::Done) => Turn::ScannedElsewhere,
        Ok(Claim::Held { by, until }) => {
            info!(run = %key.tick, scope = %key.scope, holder = %by, lease_until = %until, "another replica is scanning this; it is taken over if that replica stops");
            let wait = chrono::DateTime::parse_from_rfc3339(&until)
                .ok()
                .and_then(|t| (t.with_timezone(&Utc) - Utc::now()).to_std().ok())
                .unwrap_or_default()
                .max(Duration::from_millis(200));
            Turn::Held(wait)
        }
        Err(error) => {
            warn!(%error, run = %key.tick, scope = %key.scope, "cannot claim this run");
            Turn::Unclaimed
        }
    }
}

fn lease_end(lease: Duration) -> String {
    let lease = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
    format_timestamp(&(Utc::now() + lease))
}

/// A [`RunKey`] the renewing task can keep.
struct Owned {
    schedule: String,
    tick: String,
    scope: String,
}

impl Owned {
    fn of(key: RunKey<'_>) -> Owned {
        Owned {
            schedule: key.schedule.to_string(),
            tick: key.tick.to_string(),
            scope: key.scope.to_string(),
        }
    }

    fn key(&self) -> RunKey<'_> {
        RunKey {
            schedule: &self.schedule,
            tick: &self.tick,
            scope: &self.scope,
        }
    }
}

/// Renews the lease a third of the way through it, until aborted or lost.
async fn renew(shared: Arc<Shared>, key: Owned) {
    loop {
        tokio::time::sleep(shared.scan_lease / 3).await;
        let until = lease_end(shared.scan_lease);
        match shared
            .store
            .renew_run(key.key(), &shared.replica, &until)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                warn!(run = %key.tick, scope = %key.scope, "this replica's lease was taken over");
                return;
            }
            Err(error) => warn!(%error, "could not renew the lease on this run"),
        }
    }
}
