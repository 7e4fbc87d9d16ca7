//! The store on a real PostgreSQL server (tests/support/postgres.rs): the same
//! history as SQLite for the same scans (statuses, first_seen order, history,
//! retention, the groups of other scopes), writers from several processes taking turns, the outbox claimed once
//! across claimers, a server that goes away, and no password in any message.

use chrono::{Duration, TimeZone, Utc};
use driftd::store::{HistoryQuery, OpenMode, Pruned, Store};
use serde_json::Value;
use sqlx::Connection;

use super::database::{DRIFT_GROUPS, DRIFT_RULES, scan_example_at};
use crate::support::cli::*;
use crate::support::postgres::Postgres;

fn report_into(url: &str, live: [&str; 2]) -> Run {
    driftd_with_env(
        &[
            "report",
            "--state",
            CHAIN_STATE,
            "--live",
            live[0],
            "--live",
            live[1],
            "--format",
            "json",
        ],
        &[("DRIFTD_DATABASE_URL".to_string(), url.to_string())],
    )
}

async fn scalar(url: &str, sql: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let value = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    value
}

/// One report: its exit code, and (finding id, status, first seen by this scan).
type Reported = (i32, Vec<(String, String, bool)>);

/// What a run of reports and a `history` say, without the times and scan ids that
/// differ between two runs: each report's exit code and (finding id, status,
/// whether first_seen is this scan's), and each history entry's group, kind and
/// changed fields.
fn story(url: &str) -> (Vec<Reported>, Vec<Value>) {
    let clean = [CLEAN_GROUPS, CLEAN_RULES];
    let drifted = [DRIFT_GROUPS, DRIFT_RULES];
    let reports = [clean, drifted, drifted, clean]
        .into_iter()
        .map(|live| {
            let run = report_into(url, live);
            assert_ne!(run.code, 1, "{}", run.stderr);
            let report = run.json();
            let finished = report["scan"]["finished_at"].clone();
            let mut findings: Vec<(String, String, bool)> = report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    (
                        f["id"].as_str().unwrap().to_string(),
                        f["status"].as_str().unwrap().to_string(),
                        f["first_seen"] == finished,
                    )
                })
                .collect();
            findings.sort();
            (run.code, findings)
        })
        .collect();
    let history = driftd_with_env(
        &["history", "--format", "json"],
        &[("DRIFTD_DATABASE_URL".to_string(), url.to_string())],
    );
    assert_eq!(history.code, 0, "{}", history.stderr);
    let entries = history
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::json!([e["group_id"], e["kind"], e["changes"]]))
        .collect();
    (reports, entries)
}

#[test]
fn postgresql_keeps_the_same_history_as_sqlite() {
    let server = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = story(&format!(
        "sqlite://{}",
        dir.path().join("driftd.db").display()
    ));
    let postgres = story(&server.database("driftd"));
    assert_eq!(postgres, sqlite);
    // And that history is the lifecycle: drift new, then ongoing, then resolved.
    let statuses =
        |n: usize| -> Vec<&str> { sqlite.0[n].1.iter().map(|(_, s, _)| s.as_str()).collect() };
    assert_eq!(sqlite.0[0].0, 0);
    assert!(statuses(1).contains(&"new"), "{:?}", sqlite.0[1]);
    assert!(
        statuses(2).iter().all(|s| *s == "ongoing"),
        "{:?}",
        sqlite.0[2]
    );
    assert!(statuses(3).contains(&"resolved"), "{:?}", sqlite.0[3]);
    assert!(!sqlite.1.is_empty(), "history lists the drift and its fix");
}

/// The retention sequence of `database::retention_…` on one store: what each
/// pruning removed and the history left.
async fn pruned_story(url: &str) -> (Pruned, Pruned, Vec<Value>) {
    let store = Store::open(url, OpenMode::Create).await.unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
    let days_ago = |d: i64| now - Duration::days(d);
    let clean = [CLEAN_GROUPS, CLEAN_RULES];
    let drifted = [DRIFT_GROUPS, DRIFT_RULES];
    for (live, age) in [(clean, 100), (drifted, 60), (clean, 50), (clean, 40)] {
        scan_example_at(&store, live, days_ago(age)).await;
    }
    let first = store.prune(30, now).await.unwrap();
    scan_example_at(&store, drifted, now).await;
    let second = store.prune(30, now).await.unwrap();
    let history = store
        .history(&HistoryQuery::default())
        .await
        .unwrap()
        .iter()
        .map(|e| serde_json::json!([e.group_id, e.kind.label(), e.previous_at, e.at]))
        .collect();
    store.close().await;
    (first, second, history)
}

#[tokio::test(flavor = "multi_thread")]
async fn retention_prunes_the_same_on_postgresql() {
    let server = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = pruned_story(&format!("sqlite://{}", dir.path().join("r.db").display())).await;
    let url = server.database("retention");
    let postgres = pruned_story(&url).await;
    assert_eq!(postgres, sqlite);
    assert_eq!(postgres.0.scans, 2, "{:?}", postgres.0);
    assert!(postgres.0.blobs > 0);
    assert_eq!(scalar(&url, "SELECT count(*) FROM scans").await, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn neighbours_come_from_the_latest_scan_of_their_scope_on_postgresql() {
    let server = Postgres::start();
    super::database::neighbours_come_from_the_latest_scan_of_their_scope(
        &server.database("neighbours"),
    )
    .await;
}

/// Several processes storing at once take turns (an advisory lock), none fails.
#[test]
fn writers_from_several_processes_take_turns() {
    let server = Postgres::start();
    let url = server.database("writers");
    assert_eq!(report_into(&url, [CLEAN_GROUPS, CLEAN_RULES]).code, 0);
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                (0..3)
                    .map(|_| report_into(&url, [DRIFT_GROUPS, DRIFT_RULES]))
                    .collect::<Vec<Run>>()
            })
        })
        .collect();
    for worker in workers {
        for run in worker.join().unwrap() {
            assert_eq!(run.code, 2, "{}", run.stderr);
        }
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    assert_eq!(rt.block_on(scalar(&url, "SELECT count(*) FROM scans")), 10);
    // Every drift is one finding row, whatever the interleaving.
    let open = rt.block_on(scalar(
        &url,
        "SELECT count(*) FROM findings WHERE status <> 'resolved'",
    ));
    let last = report_into(&url, [DRIFT_GROUPS, DRIFT_RULES]).json();
    assert_eq!(open as usize, last["findings"].as_array().unwrap().len());
}

/// Two claimers draining one outbox: every message is claimed exactly once.
#[tokio::test(flavor = "multi_thread")]
async fn every_outbox_message_is_claimed_once_across_claimers() {
    let server = Postgres::start();
    let url = server.database("outbox");
    let first = Store::open(&url, OpenMode::Create).await.unwrap();
    let second = Store::open(&url, OpenMode::Create).await.unwrap();
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    for n in 0..40 {
        sqlx::query(
            "INSERT INTO outbox (scan_id, channel, payload, created_at, status, next_attempt_at)
             VALUES ($1, 'slack', '{}', '2026-11-25T10:00:00.000Z', 'pending',
                     '2026-11-25T10:00:00.000Z')",
        )
        .bind(format!("scan-{n}"))
        .execute(&mut conn)
        .await
        .unwrap();
    }
    conn.close().await.unwrap();
    let (now, lease) = ("2026-11-25T10:00:01.000Z", "2026-11-25T10:01:01.000Z");
    let drain = |store: Store| async move {
        let mut claimed = Vec::new();
        while let Some(message) = store.claim_notification(now, lease).await.unwrap() {
            claimed.push(message.id);
        }
        claimed
    };
    let (a, b) = tokio::join!(
        tokio::spawn(drain(first.clone())),
        tokio::spawn(drain(second.clone()))
    );
    let mut all: Vec<i64> = a.unwrap().into_iter().chain(b.unwrap()).collect();
    all.sort();
    assert_eq!(all, (1..=40).collect::<Vec<i64>>());
    first.close().await;
    second.close().await;
}

/// A server that is gone: a clear error naming the server, never the password.
#[test]
fn an_unreachable_server_is_said_without_its_password() {
    let mut server = Postgres::start();
    let url = server.database("gone");
    server.stop();
    let with_password = url.replace("driftd@", "driftd:s3cr3t-pw@");
    let run = report_into(&with_password, [DRIFT_GROUPS, DRIFT_RULES]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!run.stderr.contains("s3cr3t-pw"), "{}", run.stderr);
    assert!(!run.stdout.contains("s3cr3t-pw"));
    assert!(
        run.stderr
            .contains(&format!("127.0.0.1:{}/gone", server.port)),
        "{}",
        run.stderr
    );
}
