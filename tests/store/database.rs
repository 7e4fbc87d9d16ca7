//! Scan history in SQLite: bad database files, migration, crash safety, two
//! processes on one file, growth, retention. The scans read captured live data
//! (`--live`); the lifecycle on the local AWS endpoint is in `lifecycle.rs`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;

use crate::support::cli::*;
use crate::support::views;
use chrono::{Duration, TimeZone, Utc};
use driftd::diff::DiffOptions;
use driftd::model::{LiveView, Timestamp};
use driftd::report::Report;
use driftd::scan::{LiveSource, Scan, ScanPlan};
use driftd::store::{HistoryQuery, OpenMode, ScanRecord, Store};
use sqlx::Connection;

pub(super) const DRIFT_GROUPS: &str = "examples/live/describe-security-groups.json";
pub(super) const DRIFT_RULES: &str = "examples/live/describe-security-group-rules.json";

/// `driftd report` of the example state against captured data, into `db`.
fn report(db: &Path, live: [&str; 2], extra_env: &[(&str, &str)]) -> Run {
    let mut env = vec![database_env(db)];
    env.extend(
        extra_env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
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
        &env,
    )
}

async fn connect(db: &Path) -> sqlx::SqliteConnection {
    sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap()
}

async fn scalar(db: &Path, sql: &str) -> i64 {
    let mut conn = connect(db).await;
    let value = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    value
}

/// (id, status, first_seen) of every stored finding.
async fn stored_findings(db: &Path) -> Vec<(String, String, String)> {
    let mut conn = connect(db).await;
    let rows = sqlx::query_as("SELECT id, status, first_seen FROM findings ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    rows
}

async fn integrity(db: &Path) -> String {
    let mut conn = connect(db).await;
    let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    verdict
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("driftd.db");
    let text = "these are somebody's notes, not a database\n".repeat(200);
    std::fs::write(&db, &text).unwrap();

    let run = report(&db, [CLEAN_GROUPS, CLEAN_RULES], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("is not a SQLite database") && run.stderr.contains("driftd.db"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "nothing is scanned or printed");
    assert_eq!(std::fs::read_to_string(&db).unwrap(), text);
    assert!(!dir.path().join("driftd.db-wal").exists());

    let history = driftd_with_env(&["history"], &[database_env(&db)]);
    assert_eq!(history.code, 1);
    assert!(history.stderr.contains("is not a SQLite database"));
}

#[tokio::test]
async fn a_database_from_a_newer_driftd_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("driftd.db");
    assert_eq!(report(&db, [CLEAN_GROUPS, CLEAN_RULES], &[]).code, 0);
    let mut conn = connect(&db).await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (9999, 'from the future', 1, x'00', 0)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let before = std::fs::read(&db).unwrap();

    let run = report(&db, [DRIFT_GROUPS, DRIFT_RULES], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("written by a newer driftd (schema version 9999"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read(&db).unwrap(), before);
    assert_eq!(scalar(&db, "SELECT count(*) FROM scans").await, 1);
}

#[tokio::test]
async fn an_empty_file_is_migrated_and_no_store_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("empty.db");
    std::fs::write(&db, b"").unwrap();
    let run = report(&db, [CLEAN_GROUPS, CLEAN_RULES], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(scalar(&db, "SELECT count(*) FROM scans").await, 1);
    // Every migration the project ships was applied: the newest file's number.
    let newest = std::fs::read_dir("migrations/sqlite")
        .unwrap()
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().into_string().unwrap();
            name.split('_').next()?.parse::<i64>().ok()
        })
        .max()
        .unwrap();
    assert_eq!(
        scalar(&db, "SELECT max(version) FROM _sqlx_migrations").await,
        newest
    );

    let untouched = dir.path().join("never.db");
    let run = driftd_with_env(
        &[
            "report",
            "--state",
            CHAIN_STATE,
            "--live",
            CLEAN_GROUPS,
            "--no-store",
        ],
        &[database_env(&untouched)],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!untouched.exists());

    let missing = driftd_with_env(&["history"], &[database_env(&untouched)]);
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("no database at"),
        "{}",
        missing.stderr
    );
    assert!(!untouched.exists(), "history does not create a database");
}

/// Starts `driftd report` that stalls inside its store transaction; returns once
/// it is there (it holds the write lock).
fn start_stalled_report(db: &Path, secs: &str) -> (std::process::Child, tempfile::TempDir) {
    let mut env = vec![database_env(db)];
    env.push((
        "DRIFTD_FAULT_STALL_BEFORE_COMMIT".to_string(),
        secs.to_string(),
    ));
    let (mut command, scratch) = driftd_command(
        &[
            "report",
            "--state",
            CHAIN_STATE,
            "--live",
            DRIFT_GROUPS,
            "--live",
            DRIFT_RULES,
            "--format",
            "json",
        ],
        &env,
    );
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    loop {
        let line = lines
            .next()
            .expect("driftd reaches the stall before exiting")
            .unwrap();
        if line.contains("stalling") {
            break;
        }
    }
    // Keep draining stderr so that the child never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, scratch)
}

#[tokio::test]
async fn a_process_killed_while_storing_leaves_the_previous_state_intact() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("driftd.db");
    let first = report(&db, [CLEAN_GROUPS, CLEAN_RULES], &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let before = stored_findings(&db).await;
    assert_eq!(before.len(), 1, "the example's dependency-hidden note");

    let (mut child, _scratch) = start_stalled_report(&db, "120");
    child.kill().unwrap(); // SIGKILL: no cleanup, no rollback by driftd
    child.wait().unwrap();

    assert_eq!(integrity(&db).await, "ok");
    assert_eq!(scalar(&db, "SELECT count(*) FROM scans").await, 1);
    assert_eq!(stored_findings(&db).await, before);

    // The next scan carries on from the previous state.
    let next = report(&db, [DRIFT_GROUPS, DRIFT_RULES], &[]);
    assert_eq!(next.code, 2, "{}", next.stderr);
    let report = next.json();
    let hidden = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "dependency-hidden")
        .unwrap();
    assert_eq!(hidden["status"], "ongoing");
    assert_eq!(hidden["first_seen"], before[0].2.as_str());
    assert_eq!(scalar(&db, "SELECT count(*) FROM scans").await, 2);
}

#[tokio::test]
async fn two_processes_share_one_database_without_locking_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("driftd.db");
    assert_eq!(report(&db, [CLEAN_GROUPS, CLEAN_RULES], &[]).code, 0);

    // One process holds the write lock for 3 s (a slow `serve` scan); another
    // stores meanwhile: it waits for the lock instead of failing.
    let (stalled, _scratch) = start_stalled_report(&db, "3");
    let waiting = report(&db, [DRIFT_GROUPS, DRIFT_RULES], &[]);
    assert_eq!(waiting.code, 2, "{}", waiting.stderr);
    assert!(!waiting.stderr.contains("locked"), "{}", waiting.stderr);
    let output = stalled.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(2));

    // And many at once, each a full scan and store.
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let db = db.clone();
            std::thread::spawn(move || {
                (0..4)
                    .map(|_| report(&db, [DRIFT_GROUPS, DRIFT_RULES], &[]))
                    .collect::<Vec<Run>>()
            })
        })
        .collect();
    for worker in workers {
        for run in worker.join().unwrap() {
            assert_eq!(run.code, 2, "{}", run.stderr);
            assert!(!run.stderr.contains("locked"), "{}", run.stderr);
        }
    }
    assert_eq!(scalar(&db, "SELECT count(*) FROM scans").await, 11);
    assert_eq!(integrity(&db).await, "ok");
}

/// Scan number `n` of `live`, without findings.
fn scan_at(live: &LiveView, n: usize) -> Scan {
    Scan {
        report: views::report(n),
        intent: Default::default(),
        live: live.clone(),
        api_errors: Default::default(),
    }
}

pub(super) async fn record(store: &Store, scan: &Scan) -> Vec<driftd::model::Finding> {
    store
        .record(ScanRecord {
            report: &scan.report,
            intent: &scan.intent,
            live: &scan.live,
            scope: None,
            compose: &|_, _| Vec::new(),
        })
        .await
        .unwrap()
        .findings
}

#[tokio::test]
async fn unchanged_scans_add_a_row_and_a_changed_rule_adds_only_its_group() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("growth.db");
    let url = format!("sqlite://{}", db.display());
    let store = Store::open(&url, OpenMode::Create).await.unwrap();
    let mut live = views::view(200, 10);
    record(&store, &scan_at(&live, 0)).await;
    store.checkpoint().await.unwrap();
    let first = std::fs::metadata(&db).unwrap().len();
    assert!(
        first > 200_000,
        "2,000 rules are stored once ({first} bytes)"
    );

    for n in 1..=50 {
        record(&store, &scan_at(&live, n)).await;
    }
    store.checkpoint().await.unwrap();
    let unchanged = std::fs::metadata(&db).unwrap().len() - first;
    assert!(
        unchanged < 50 * 1024,
        "50 unchanged scans grew the file by {unchanged} bytes"
    );

    live.rules[1234].to_port = Some(9999);
    let before_change = std::fs::metadata(&db).unwrap().len();
    record(&store, &scan_at(&live, 51)).await;
    store.checkpoint().await.unwrap();
    let changed = std::fs::metadata(&db).unwrap().len() - before_change;
    assert!(
        changed < first / 10,
        "one changed rule grew the file by {changed} bytes (all rules: {first})"
    );

    // ...and history finds exactly that change.
    let entries = store.history(&HistoryQuery::default()).await.unwrap();
    assert_eq!(entries.len(), 1, "{entries:#?}");
    assert_eq!(entries[0].scan_id, "scan-51");
    assert_eq!(entries[0].previous_scan_id, "scan-50");
    assert_eq!(entries[0].group_id, live.rules[1234].group_id.as_str());
    store.close().await;
}

fn example_plan(live: [&str; 2]) -> ScanPlan {
    ScanPlan {
        cloudformation: None,
        states: vec![CHAIN_STATE.to_string()],
        live: LiveSource::Files {
            paths: live.iter().map(Into::into).collect(),
            regions: vec![],
        },
        options: DiffOptions::default(),
        acknowledgements: vec![],
        limits: Default::default(),
        cloudtrail: false,
    }
}

pub(super) async fn scan_example_at(store: &Store, live: [&str; 2], at: Timestamp) -> Report {
    let mut scan = driftd::scan::run(&example_plan(live), || at).await;
    let findings = record(store, &scan).await;
    scan.report.set_findings(findings);
    scan.report
}

#[tokio::test]
async fn retention_drops_old_scans_but_keeps_open_findings_and_the_latest_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("retention.db");
    let store = Store::open(&format!("sqlite://{}", db.display()), OpenMode::Create)
        .await
        .unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
    let days_ago = |d: i64| now - Duration::days(d);
    let clean = [CLEAN_GROUPS, CLEAN_RULES];
    // 1: the dependency-hidden note appears (and stays open): this scan is kept.
    let first = scan_example_at(&store, clean, days_ago(100)).await;
    let open_since = first.findings[0].first_seen.clone();
    // 2: drift; 3: fixed; 4: still clean (the latest).
    scan_example_at(&store, [DRIFT_GROUPS, DRIFT_RULES], days_ago(60)).await;
    let fixed = scan_example_at(&store, clean, days_ago(50)).await;
    let resolved = fixed
        .findings
        .iter()
        .filter(|f| f.status == driftd::model::FindingStatus::Resolved)
        .count();
    assert!(resolved >= 3, "the drift was fixed: {resolved} resolved");
    scan_example_at(&store, clean, days_ago(40)).await;
    let blobs_before = scalar(&db, "SELECT count(*) FROM blobs").await;

    let pruned = store.prune(30, now).await.unwrap();
    // All four are older than 30 days; the first (an open finding's first_seen)
    // and the last (the latest) stay.
    assert_eq!(pruned.scans, 2);
    assert_eq!(pruned.findings as usize, resolved);
    assert!(pruned.blobs > 0, "the drifted snapshot went with its scan");
    let kept: Vec<(String,)> = {
        let mut conn = connect(&db).await;
        sqlx::query_as("SELECT finished_at FROM scans ORDER BY id")
            .fetch_all(&mut conn)
            .await
            .unwrap()
    };
    assert_eq!(kept.len(), 2);
    assert_eq!(Some(kept[0].0.clone()), open_since);
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM blobs").await,
        blobs_before - pruned.blobs as i64
    );
    assert_eq!(integrity(&db).await, "ok");

    // The open finding keeps its first_seen; both kept snapshots are whole, and a
    // scan that returns to the swept (drifted) snapshot stores it again in full.
    let again = scan_example_at(&store, [DRIFT_GROUPS, DRIFT_RULES], now).await;
    let hidden = again
        .findings
        .iter()
        .find(|f| f.code.as_str() == "dependency-hidden")
        .unwrap();
    assert_eq!(hidden.first_seen, open_since);
    assert_eq!(hidden.status, driftd::model::FindingStatus::Ongoing);
    let changes = store.history(&HistoryQuery::default()).await.unwrap();
    assert!(!changes.is_empty());
    assert!(
        changes.iter().all(|c| c.scan_id == again.scan.id),
        "{changes:#?}"
    );
    // The 40-day-old scan is no longer the latest, but it is the last one before
    // the drift now open: kept, so that history shows what changed.
    assert_eq!(store.prune(30, now).await.unwrap(), Default::default());
    assert_eq!(
        store.history(&HistoryQuery::default()).await.unwrap(),
        changes
    );
    assert_eq!(integrity(&db).await, "ok");
    store.close().await;
}

#[tokio::test]
async fn an_outbox_message_is_claimed_by_one_process_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("outbox.db");
    let store = Store::open(&format!("sqlite://{}", db.display()), OpenMode::Create)
        .await
        .unwrap();
    let mut conn = connect(&db).await;
    sqlx::query(
        "INSERT INTO outbox (scan_id, channel, payload, created_at, status, next_attempt_at)
         VALUES ('scan-1', 'slack', '{}', '2026-11-25T10:00:00.000Z', 'pending', '2026-11-25T10:00:00.000Z')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let (now, lease) = ("2026-11-25T10:00:01.000Z", "2026-11-25T10:01:01.000Z");
    // A second store on the same file stands for the other process.
    let other = Store::open(&format!("sqlite://{}", db.display()), OpenMode::Create)
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        store.claim_notification(now, lease),
        other.claim_notification(now, lease)
    );
    let claimed: Vec<_> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(claimed.len(), 1, "exactly one claimer gets it");
    // Until the lease runs out, nobody else does; after it, someone may again.
    assert!(
        store
            .claim_notification("2026-11-25T10:00:30.000Z", lease)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        other
            .claim_notification("2026-11-25T10:01:02.000Z", "2026-11-25T10:02:02.000Z")
            .await
            .unwrap()
            .is_some()
    );
    store.close().await;
    other.close().await;
}

/// Runs split by scope store one scan per scope: retention keeps the latest scan of
/// each scope, not only the latest overall, so that a scope not read for a while
/// keeps what it last saw.
#[tokio::test]
async fn retention_keeps_the_latest_scan_of_every_scope() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("scopes.db");
    let store = Store::open(&format!("sqlite://{}", db.display()), OpenMode::Create)
        .await
        .unwrap();
    let live = views::view(2, 1);
    let a = driftd::model::Scope {
        account_id: Some("123456789012".into()),
        region: Some("us-east-1".into()),
    };
    let b = driftd::model::Scope {
        region: Some("eu-west-1".into()),
        ..a.clone()
    };
    for (n, scope) in [(0, &a), (1, &b), (2, &a), (3, &a)] {
        let scan = scan_at(&live, n);
        store
            .record(ScanRecord {
                report: &scan.report,
                intent: &scan.intent,
                live: &scan.live,
                scope: Some(scope),
                compose: &|_, _| Vec::new(),
            })
            .await
            .unwrap();
    }
    let a_year_later = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
    let pruned = store.prune(30, a_year_later).await.unwrap();
    assert_eq!(pruned.scans, 2, "the two older scans of the first scope");
    let kept: Vec<(String, String)> = {
        let mut conn = connect(&db).await;
        sqlx::query_as("SELECT scan_id, scope FROM scans ORDER BY id")
            .fetch_all(&mut conn)
            .await
            .unwrap()
    };
    assert_eq!(
        kept,
        [
            ("scan-1".to_string(), b.label()),
            ("scan-3".to_string(), a.label())
        ]
    );
    store.close().await;
}

/// A scope's rules referencing groups of other scopes are judged from the latest
/// stored scan that read each completely: what it saw of those groups and what
/// carried them; a later scan that failed part-way, or a whole scan of other
/// places, does not hide it; no scan at all for a scope never stored.
pub(super) async fn neighbours_come_from_the_latest_scan_of_their_scope(url: &str) {
    use driftd::model::Scope;
    use std::collections::{BTreeMap, BTreeSet};
    let store = Store::open(url, OpenMode::Create).await.unwrap();
    let there = Scope {
        account_id: Some("123456789012".into()),
        region: Some("us-east-1".into()),
    };
    let never = Scope {
        account_id: Some("210987654321".into()),
        ..there.clone()
    };
    let elsewhere = Scope {
        region: Some("eu-west-1".into()),
        ..there.clone()
    };
    let kept = views::view(3, 1);
    let (alb, idle, gone) = (
        kept.groups[0].id.clone(),
        kept.groups[1].id.clone(),
        "sg-0dead",
    );
    let carriers = BTreeMap::from([
        (alb.clone(), vec!["ELB app/web".to_string()]),
        (idle.clone(), vec![]),
    ]);
    let wanted = BTreeMap::from([
        (
            there.clone(),
            BTreeSet::from([alb.clone(), idle.clone(), gone.to_string()]),
        ),
        (never.clone(), BTreeSet::from(["sg-0elsewhere".to_string()])),
    ]);
    let store_scan = |n: usize, scope: Option<Scope>, live_scopes: Vec<Scope>, with_alb: bool| {
        let mut scan = scan_at(&kept, n);
        scan.live.scopes = live_scopes;
        scan.report.carriers = carriers.clone();
        if !with_alb {
            scan.live.groups.retain(|g| g.id != alb);
            scan.report.carriers.remove(&alb);
        }
        let store = &store;
        async move {
            store
                .record(ScanRecord {
                    report: &scan.report,
                    intent: &scan.intent,
                    live: &scan.live,
                    scope: scope.as_ref(),
                    compose: &|_, _| Vec::new(),
                })
                .await
                .unwrap();
        }
    };
    let looked_up = || async {
        let neighbours = store.neighbours(&wanted).await.unwrap();
        let looked: Vec<(String, Option<String>, bool)> = neighbours
            .looked
            .iter()
            .map(|l| (l.scope.label(), l.scan_id.clone(), l.complete))
            .collect();
        let found: Vec<(String, Option<Vec<String>>)> = neighbours
            .groups
            .iter()
            .map(|(id, n)| (id.clone(), n.carried_by.clone()))
            .collect();
        (looked, found)
    };
    let both_found = vec![
        (alb.clone(), Some(vec!["ELB app/web".to_string()])),
        (idle.clone(), Some(vec![])),
    ];
    let unread = (never.label(), None, false);

    store_scan(0, Some(there.clone()), vec![there.clone()], true).await;
    let (looked, found) = looked_up().await;
    assert_eq!(
        looked,
        [(there.label(), Some("scan-0".into()), true), unread.clone()]
    );
    assert_eq!(found, both_found);
    let neighbours = store.neighbours(&wanted).await.unwrap();
    assert_eq!(neighbours.groups[&alb].group, kept.groups[0]);

    // Failed part-way (the scope not read whole), then a whole scan of another
    // region: neither hides what the first scan saw.
    store_scan(1, Some(there.clone()), vec![], false).await;
    store_scan(2, None, vec![elsewhere.clone()], false).await;
    let (looked, found) = looked_up().await;
    assert_eq!(
        looked,
        [(there.label(), Some("scan-0".into()), true), unread.clone()]
    );
    assert_eq!(found, both_found);

    // Read whole again, the load balancer's group gone.
    store_scan(3, Some(there.clone()), vec![there.clone()], false).await;
    let (looked, found) = looked_up().await;
    assert_eq!(
        looked,
        [(there.label(), Some("scan-3".into()), true), unread]
    );
    assert_eq!(found, [(idle.clone(), Some(vec![]))]);
    store.close().await;
}

#[tokio::test]
async fn neighbours_come_from_the_latest_scan_of_their_scope_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("neighbours.db").display());
    neighbours_come_from_the_latest_scan_of_their_scope(&url).await;
}
