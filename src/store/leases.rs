//! Which `serve` replica scans a schedule's run, or one scope of it (`scan_leases`):
//! the first to claim it holds a lease on it and renews it while it scans; once
//! stored, it is done. A replica that dies stops renewing, and when its lease runs out another
//! replica takes the run over. On one database every replica sees the same rows, so
//! no coordinator is needed: each claim is one conditional update.

use super::{Store, StoreError};

/// A run of a schedule (its cron expression and planned time), whole or one scope
/// of it (`account/region`; empty for the whole run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunKey<'a> {
    pub schedule: &'a str,
    pub tick: &'a str,
    pub scope: &'a str,
}

/// What a claim on a run found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This replica scans it, until `lease_until` unless renewed.
    Mine,
    /// Another replica scans it; it may be taken over after `until`.
    Held { by: String, until: String },
    /// Scanned and stored already.
    Done,
}

impl Store {
    /// Claims the run (or scope of a run) `key` for `holder` until `until`, unless another
    /// replica holds an unexpired lease on it (at `now`) or it is done.
    pub async fn claim_run(
        &self,
        key: RunKey<'_>,
        holder: &str,
        now: &str,
        until: &str,
    ) -> Result<Claim, StoreError> {
        sqlx::query(
            "INSERT INTO scan_leases (schedule, tick, scope, holder, lease_until, done)
             VALUES ($1, $2, $3, $4, $5, 0) ON CONFLICT (schedule, tick, scope) DO NOTHING",
        )
        .bind(key.schedule)
        .bind(key.tick)
        .bind(key.scope)
        .bind(holder)
        .bind(until)
        .execute(&self.pool)
        .await?;
        // One row, one conditional update: of two replicas racing, one wins.
        let taken: Option<String> = sqlx::query_scalar(
            "UPDATE scan_leases SET holder = $4, lease_until = $6
             WHERE schedule = $1 AND tick = $2 AND scope = $3 AND done = 0
               AND (holder = $4 OR lease_until < $5)
             RETURNING holder",
        )
        .bind(key.schedule)
        .bind(key.tick)
        .bind(key.scope)
        .bind(holder)
        .bind(now)
        .bind(until)
        .fetch_optional(&self.pool)
        .await?;
        if taken.is_some() {
            return Ok(Claim::Mine);
        }
        let (by, until, done): (String, String, i64) = sqlx::query_as(
            "SELECT holder, lease_until, done FROM scan_leases
             WHERE schedule = $1 AND tick = $2 AND scope = $3",
        )
        .bind(key.schedule)
        .bind(key.tick)
        .bind(key.scope)
        .fetch_one(&self.pool)
        .await?;
        Ok(match done {
            0 => Claim::Held { by, until },
            _ => Claim::Done,
        })
    }

    /// Extends `holder`'s lease on a run it still holds; false when it lost it.
    pub async fn renew_run(
        &self,
        key: RunKey<'_>,
        holder: &str,
        until: &str,
    ) -> Result<bool, StoreError> {
        let renewed = sqlx::query(
            "UPDATE scan_leases SET lease_until = $5
             WHERE schedule = $1 AND tick = $2 AND scope = $3 AND holder = $4 AND done = 0",
        )
        .bind(key.schedule)
        .bind(key.tick)
        .bind(key.scope)
        .bind(holder)
        .bind(until)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(renewed == 1)
    }

    /// Ends `holder`'s lease: the run is done (stored), or given back at `now` for
    /// another replica to try (the scan failed).
    pub async fn end_run(
        &self,
        key: RunKey<'_>,
        holder: &str,
        outcome: RunEnd<'_>,
    ) -> Result<(), StoreError> {
        let query = match outcome {
            RunEnd::Done => sqlx::query(
                "UPDATE scan_leases SET done = 1
                 WHERE schedule = $1 AND tick = $2 AND scope = $3 AND holder = $4",
            )
            .bind(key.schedule)
            .bind(key.tick)
            .bind(key.scope)
            .bind(holder),
            RunEnd::GivenBack { now } => sqlx::query(
                "UPDATE scan_leases SET lease_until = $5
                 WHERE schedule = $1 AND tick = $2 AND scope = $3 AND holder = $4 AND done = 0",
            )
            .bind(key.schedule)
            .bind(key.tick)
            .bind(key.scope)
            .bind(holder)
            .bind(now),
        };
        query.execute(&self.pool).await?;
        Ok(())
    }
}

/// How a replica's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd<'a> {
    Done,
    GivenBack { now: &'a str },
}
