//! `[store] retain_days`: forget old scans, keep what is still needed.
//!
//! Kept whatever its age: the latest scan and the latest complete one (their
//! snapshots are the present), every open finding (its row holds `first_seen`) and
//! the scans at and just before its `first_seen`, and every snapshot document a
//! kept scan reaches. Resolved findings go once resolved before the cutoff.

use std::collections::HashSet;

use chrono::Duration;
use sqlx::AnyConnection;
use tracing::info;

use super::snapshot::{Bucket, Hash, Root, from_hex};
use super::{Backend, StoreError, begin_write, load_document};
use crate::model::{Timestamp, format_timestamp};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub scans: u64,
    pub findings: u64,
    pub blobs: u64,
}

/// Scans older than the cutoff (`$1`) that nothing needs: not the latest scan, not
/// the latest complete one (a partial latest scan lacks what it could not read),
/// each of these per scope where runs are split by scope (and once for whole scans),
/// and not the scans at and just before an open finding's `first_seen` (the change
/// behind an open drift stays in `history`).
const PRUNABLE: &str = "finished_at < $1
    AND id NOT IN (SELECT max(id) FROM scans GROUP BY scope)
    AND id NOT IN (SELECT max(id) FROM scans WHERE complete = 1 GROUP BY scope)
    AND id NOT IN (
        SELECT s.id FROM scans s JOIN findings f
          ON f.status <> 'resolved' AND s.finished_at = f.first_seen)
    AND id NOT IN (
        SELECT (SELECT max(p.id) FROM scans p WHERE p.finished_at < s.finished_at)
        FROM scans s JOIN findings f
          ON f.status <> 'resolved' AND s.finished_at = f.first_seen
        WHERE s.finished_at > (SELECT min(finished_at) FROM scans))";

pub async fn prune(
    conn: &mut AnyConnection,
    backend: Backend,
    retain_days: u32,
    now: Timestamp,
) -> Result<Pruned, StoreError> {
    // The config bounds retain_days; a cutoff before the calendar's start keeps all.
    let Some(cutoff) = now.checked_sub_signed(Duration::days(i64::from(retain_days))) else {
        return Ok(Pruned::default());
    };
    let cutoff = format_timestamp(&cutoff);
    let mut tx = begin_write(conn, backend).await?;
    let old: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM scans WHERE {PRUNABLE}"))
        .bind(&cutoff)
        .fetch_one(&mut *tx)
        .await?;
    let mut pruned = Pruned::default();
    if old == 0 {
        return Ok(pruned);
    }
    pruned.findings =
        sqlx::query("DELETE FROM findings WHERE status = 'resolved' AND resolved_at < $1")
            .bind(&cutoff)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    // What carried a group that long ago is history too.
    // Which replica scanned which run matters while the run is going on.
    sqlx::query("DELETE FROM scan_leases WHERE lease_until < $1")
        .bind(&cutoff)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM group_carriers WHERE last_seen < $1")
        .bind(&cutoff)
        .execute(&mut *tx)
        .await?;
    // Delivered and refused messages are history too; pending ones always stay.
    sqlx::query("DELETE FROM outbox WHERE status <> 'pending' AND created_at < $1")
        .bind(&cutoff)
        .execute(&mut *tx)
        .await?;
    // Events of the dropped scans go with them (ON DELETE CASCADE).
    pruned.scans = sqlx::query(&format!("DELETE FROM scans WHERE {PRUNABLE}"))
        .bind(&cutoff)
        .execute(&mut *tx)
        .await?
        .rows_affected();

    // Mark every document a remaining scan reaches, then sweep the rest.
    let roots: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> =
        sqlx::query_as("SELECT DISTINCT sources, intent_root, live_root FROM scans")
            .fetch_all(&mut *tx)
            .await?;
    let mut reachable: HashSet<Hash> = HashSet::new();
    for (sources, intent, live) in roots {
        reachable.insert(hash(&sources)?);
        for root in [intent, live] {
            let root = hash(&root)?;
            if !reachable.insert(root) {
                continue;
            }
            let body: Root = load_document(&mut tx, &root).await?;
            for (_, bucket) in body.buckets {
                let bucket = parse_hex(&bucket)?;
                if !reachable.insert(bucket) {
                    continue;
                }
                let listing: Bucket = load_document(&mut tx, &bucket).await?;
                for (_, node) in listing {
                    reachable.insert(parse_hex(&node)?);
                }
            }
        }
    }
    sqlx::query(match backend {
        Backend::Sqlite => "CREATE TEMP TABLE IF NOT EXISTS reachable (hash BLOB PRIMARY KEY)",
        Backend::Postgres => "CREATE TEMP TABLE IF NOT EXISTS reachable (hash BYTEA PRIMARY KEY)",
    })
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM reachable")
        .execute(&mut *tx)
        .await?;
    for hash in &reachable {
        sqlx::query("INSERT INTO reachable (hash) VALUES ($1)")
            .bind(&hash[..])
            .execute(&mut *tx)
            .await?;
    }
    pruned.blobs = sqlx::query("DELETE FROM blobs WHERE hash NOT IN (SELECT hash FROM reachable)")
        .execute(&mut *tx)
        .await?
        .rows_affected();
    sqlx::query("DELETE FROM reachable")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    info!(
        retain_days,
        scans = pruned.scans,
        findings = pruned.findings,
        documents = pruned.blobs,
        "pruned history"
    );
    Ok(pruned)
}

fn hash(bytes: &[u8]) -> Result<Hash, StoreError> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt("a snapshot hash is not 32 bytes".into()))
}

fn parse_hex(text: &str) -> Result<Hash, StoreError> {
    from_hex(text).ok_or_else(|| StoreError::Corrupt(format!("bad snapshot reference {text:?}")))
}
