//! Scan history in SQLite or PostgreSQL (sqlx's `Any` driver, one set of queries
//! written in what both speak): every scan, content-addressed snapshots of what it
//! saw, and the lifecycle of every finding. Migrations live in `migrations/sqlite/`
//! and `migrations/postgres/` (the same tables in each one's spelling), embedded in
//! the binary and applied on open.
//!
//! Writers take the write lock up front (SQLite: `BEGIN IMMEDIATE` and a busy
//! timeout; PostgreSQL: a transaction-scoped advisory lock) and wait for it, so a
//! running `serve` and an on-demand `report`, or several replicas, share one
//! database. One scan is one transaction: a crash leaves the previous state intact.

mod attribution;
mod carriers;
mod history;
mod leases;
pub mod lifecycle;
mod neighbours;
mod results;
mod retention;
pub mod snapshot;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Connection, Executor, Row};
use tracing::{debug, info, warn};

use crate::attribution::AttributionHistory;
use crate::coverage::Coverage;
use crate::input::ReadError;
use crate::model::{Finding, FindingStatus, Intent, LiveView, Scope};
use crate::report::Report;

pub use crate::model::Event;
pub use history::{HistoryEntry, HistoryKind, HistoryQuery};
pub use leases::{Claim, RunEnd, RunKey};
use lifecycle::{Known, Update};
pub use retention::Pruned;
use snapshot::{Blob, Tree};

pub const DEFAULT_URL: &str = "sqlite://driftd.db";

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// What holds the history. The queries are the same for both; where the two
/// differ (locking, migrations, maintenance) the store asks which it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn of(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }

    fn migrator(self) -> &'static sqlx::migrate::Migrator {
        match self {
            Backend::Sqlite => &SQLITE_MIGRATOR,
            Backend::Postgres => &POSTGRES_MIGRATOR,
        }
    }
}

/// Serialises writers on PostgreSQL, as `BEGIN IMMEDIATE` does on SQLite: held by a
/// scan's (or a pruning's) transaction until it ends. Any number unique to driftd.
const POSTGRES_WRITE_LOCK: i64 = 0x6472_6966_7464; // "driftd"

/// How long opening waits for a connection (PostgreSQL: the server to answer).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the database URL is not valid (expected sqlite://PATH or postgres://USER@HOST/DB): {source}"
    )]
    Url { source: sqlx::Error },
    #[error(
        "the database URL is not one driftd can use: {reason} (the URL is not shown: it may hold a password)"
    )]
    Unsupported { reason: &'static str },
    #[error("{} is not a SQLite database; driftd left it untouched", path.display())]
    NotSqlite { path: PathBuf },
    #[error(
        "{} was written by a newer driftd (schema version {found}; this driftd knows up to {known}); upgrade driftd or use another database",
        path.display()
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("cannot open the database {}: {source}", path.display())]
    Open { path: PathBuf, source: sqlx::Error },
    #[error("cannot open the database {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        source: crate::input::ReadError,
    },
    #[error(
        "the database {} is damaged ({detail}); driftd left it as it is. Move it aside (a new one \
         is created) or restore a backup; `report --no-store` scans without it",
        path.display()
    )]
    Damaged { path: PathBuf, detail: String },
    #[error("no database at {}: run `driftd report` first, or point DRIFTD_DATABASE_URL at one", path.display())]
    Missing { path: PathBuf },
    #[error("cannot migrate the database {}: {source}", path.display())]
    Migrate {
        path: PathBuf,
        source: sqlx::migrate::MigrateError,
    },
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("the database is inconsistent: {0}")]
    Corrupt(String),
}

/// Whether opening may create the database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// `report`, `serve`: create the file and its schema when missing.
    Create,
    /// `history`: a missing file is an error, not an empty history.
    Existing,
}

#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// The file, or for PostgreSQL the server and database (never the password):
    /// what messages name.
    path: PathBuf,
}

/// What a scan hands to the store.
pub struct ScanRecord<'a> {
    pub report: &'a Report,
    pub intent: &'a Intent,
    pub live: &'a LiveView,
    /// The one scope this scan read, when a run is scanned by scope: it advances
    /// only the findings of that scope (and those of no place). `None`: a whole scan.
    pub scope: Option<&'a Scope>,
    /// Who is told about this scan's new, changed, recurred (and resolved) findings:
    /// the messages go into the outbox in the scan's transaction.
    pub compose: Compose<'a>,
}

/// Turns a scan's finding events into the messages to queue. It is the notifiers'
/// business, which the store does not know; the store calls it inside the scan's
/// transaction, so that the messages commit with the scan.
pub type Compose<'a> = &'a (dyn Fn(&str, &[(&Finding, Event)]) -> Vec<OutboxMessage> + Send + Sync);

/// One message for the outbox: the channel that delivers it and its exact body.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    pub channel: &'static str,
    pub payload: String,
}

/// What storing a scan decided.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The scan's row id.
    pub scan: i64,
    /// The report's findings with statuses from history, then those this scan resolved.
    pub findings: Vec<Finding>,
    /// What happened to which finding (new, changed, recurred, resolved).
    pub events: Vec<(String, Event)>,
    /// Messages this scan put in the outbox.
    pub queued: usize,
}

/// A message waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub id: i64,
    pub channel: String,
    pub payload: String,
    pub attempts: i64,
}

/// Refuses a database URL driftd cannot use, before anything is created: a bare
/// string would otherwise become a file of that name.
pub fn check_url(url: &str) -> Result<(), StoreError> {
    match Backend::of(url) {
        Some(_) => Ok(()),
        None => Err(StoreError::Unsupported {
            reason: "expected sqlite://PATH or postgres://USER@HOST/DB",
        }),
    }
}

impl Store {
    pub async fn open(url: &str, mode: OpenMode) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of(url).ok_or(StoreError::Unsupported {
            reason: "expected sqlite://PATH or postgres://USER@HOST/DB",
        })?;
        let (options, path) = match backend {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(url)
                    .map_err(|source| StoreError::Url { source })?;
                let path = options.get_filename().to_path_buf();
                check_file(&path, mode)?;
                let options = options.create_if_missing(mode == OpenMode::Create);
                // One connection with SQLite's own driver first: a file it cannot
                // use (damaged, not a database) is said now, as what it is, instead
                // of the pool retrying its settings until it times out.
                let probe = options
                    .clone()
                    .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    .busy_timeout(BUSY_TIMEOUT)
                    .connect()
                    .await
                    .map_err(|source| open_error(&path, source))?;
                probe
                    .close()
                    .await
                    .map_err(|source| open_error(&path, source))?;
                (AnyConnectOptions::from_url(&options.to_url_lossy()), path)
            }
            Backend::Postgres => (AnyConnectOptions::from_str(url), server_of(url)),
        };
        let options = options.map_err(|source| StoreError::Url { source })?;
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            // A server that is down or refuses us is said within seconds (sqlx
            // retries a refused connection until then), not after half a minute.
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(sqlite_settings().as_str()).await?;
                    }
                    Ok(())
                })
            })
            // A COMMIT that fails on a full disk is rolled back by SQLite itself, but
            // sqlx still counts the transaction as open: back in the pool, that
            // connection would refuse every later BEGIN, and nothing would be stored
            // again. A connection released inside a transaction is closed instead.
            .after_release(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
            .connect_with(options)
            .await
            .map_err(|source| open_error(&path, source))?;
        let store = Store {
            pool,
            backend,
            path,
        };
        store.migrate().await?;
        debug!(database = %store.path.display(), "database open");
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = self.backend.migrator();
        let known = migrator.iter().map(|m| m.version).max().unwrap_or(0);
        let tables: i64 = sqlx::query_scalar(match self.backend {
            Backend::Sqlite => {
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
            }
            Backend::Postgres => {
                "SELECT count(*) FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'"
            }
        })
        .fetch_one(&self.pool)
        .await
        .map_err(|source| open_error(&self.path, source))?;
        if tables > 0 {
            let found: Option<i64> =
                sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations")
                    .fetch_one(&self.pool)
                    .await
                    .map_err(|source| open_error(&self.path, source))?;
            if let Some(found) = found.filter(|v| *v > known) {
                return Err(StoreError::NewerSchema {
                    path: self.path.clone(),
                    found,
                    known,
                });
            }
        }
        // Two processes starting on a new file may both try to migrate; the loser
        // fails on the tables the winner created, and finds them applied on retry.
        // (On PostgreSQL the migrator holds an advisory lock: replicas take turns.)
        if let Err(first) = migrator.run(&self.pool).await {
            debug!(error = %first, "migration failed once; retrying");
            migrator
                .run(&self.pool)
                .await
                .map_err(|source| match damage(&source) {
                    Some(detail) => StoreError::Damaged {
                        path: self.path.clone(),
                        detail,
                    },
                    None => StoreError::Migrate {
                        path: self.path.clone(),
                        source,
                    },
                })?;
        }
        Ok(())
    }

    /// Stores one scan, advances every finding's lifecycle and queues the
    /// notifications its events make (`ScanRecord::compose`), in one transaction.
    pub async fn record(&self, scan: ScanRecord<'_>) -> Result<Recorded, StoreError> {
        self.record_in_one_transaction(scan)
            .await
            .map_err(|e| e.naming(&self.path))
    }

    async fn record_in_one_transaction(
        &self,
        scan: ScanRecord<'_>,
    ) -> Result<Recorded, StoreError> {
        let report = scan.report;
        // Hashing is CPU work: done before taking the write lock.
        let live = snapshot::live_tree(scan.live, &report.carriers);
        let intent = snapshot::intent_tree(scan.intent);
        let sources =
            Blob::new(serde_json::to_vec(&report.scan.sources).expect("source statuses serialize"));
        let now = report.scan.finished_at.as_str();

        let mut conn = self.pool.acquire().await?;
        let mut tx = begin_write(&mut conn, self.backend).await?;
        // Two processes may finish scans in one order and store them in the other:
        // a scan older than the newest stored one is kept as a record, but must not
        // move the lifecycle backwards.
        // Scopes of one run are stored by several replicas in any order: a scope's
        // scan is stale only against newer scans of that scope, and newer whole
        // scans, which read it too.
        let label = scan.scope.map(Scope::label);
        let newest: Option<String> = match &label {
            None => sqlx::query_scalar("SELECT max(finished_at) FROM scans"),
            Some(label) => sqlx::query_scalar(
                "SELECT max(finished_at) FROM scans WHERE scope = $1 OR scope IS NULL",
            )
            .bind(label.clone()),
        }
        .fetch_one(&mut *tx)
        .await?;
        let stale = newest.is_some_and(|newest| newest.as_str() > now);
        let known = match scan.scope {
            None => load_findings(&mut tx).await?,
            Some(scope) => load_findings_of(&mut tx, scope).await?,
        };
        let coverage = Coverage::new(scan.intent, scan.live, &report.scan.sources);
        let mut updates = lifecycle::advance(known, report.findings.clone(), &coverage, now);

        put_blob(&mut tx, &sources).await?;
        put_tree(&mut tx, &live).await?;
        put_tree(&mut tx, &intent).await?;
        let scan_row = insert_scan(
            &mut tx,
            report,
            label.as_deref(),
            &sources,
            &intent,
            &live,
            updates.len(),
        )
        .await?;
        let (events, queued) = if stale {
            warn!(scan = %report.scan.id, "a newer scan was stored first; this one does not change finding statuses");
            (Vec::new(), 0)
        } else {
            carriers::tell_last_carriers(&mut tx, &mut updates).await?;
            carriers::remember(&mut tx, &report.carriers, now).await?;
            let events = put_updates(&mut tx, scan_row, label.as_deref(), &updates).await?;
            let queued = queue_messages(&mut tx, &report.scan.id, &updates, scan.compose).await?;
            (events, queued)
        };
        stall_before_commit_for_tests().await;
        if self.backend == Backend::Sqlite {
            fail_like_a_full_disk_for_tests(&mut tx).await?;
        }
        tx.commit().await?;
        info!(
            scan = %report.scan.id,
            findings = updates.len(),
            events = events.len(),
            notifications = queued,
            "scan stored"
        );
        Ok(Recorded {
            scan: scan_row,
            findings: updates.into_iter().map(|u| u.finding).collect(),
            events,
            queued,
        })
    }

    /// What history says about who changed `findings` (this scan's, before storing).
    pub async fn attribution_history(
        &self,
        findings: &[Finding],
    ) -> Result<AttributionHistory, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let mut tx = begin_read(&mut conn, self.backend).await?;
        let history = attribution::read(&mut tx, findings)
            .await
            .map_err(|e| e.naming(&self.path))?;
        tx.rollback().await?;
        Ok(history)
    }

    /// Drops scans older than `retain_days` (never the latest, never what an open
    /// finding needs) and the snapshots only they referenced.
    pub async fn prune(
        &self,
        retain_days: u32,
        now: crate::model::Timestamp,
    ) -> Result<Pruned, StoreError> {
        let mut conn = self.pool.acquire().await?;
        retention::prune(&mut conn, self.backend, retain_days, now)
            .await
            .map_err(|e| e.naming(&self.path))
    }

    /// Changes between consecutive live snapshots (`driftd history`).
    pub async fn history(&self, query: &HistoryQuery) -> Result<Vec<HistoryEntry>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        history::history(&mut conn, self.backend, query)
            .await
            .map_err(|e| e.naming(&self.path))
    }

    /// When the latest complete scan finished (RFC 3339), if any.
    pub async fn last_complete_scan(&self) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT max(finished_at) FROM scans WHERE complete = 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Keeps `report` as the latest, unless a scan that finished later is kept
    /// already (two processes may store in either order).
    pub async fn keep_latest_report(&self, report: &Report) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO latest_report (id, finished_at, body) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET finished_at = excluded.finished_at, body = excluded.body \
             WHERE excluded.finished_at >= latest_report.finished_at",
        )
        .bind(&report.scan.finished_at)
        .bind(report.to_json())
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::from(e).naming(&self.path))?;
        Ok(())
    }

    /// The latest report kept (report.schema.json), if any.
    pub async fn latest_report(&self) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT body FROM latest_report WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| StoreError::from(e).naming(&self.path))
    }

    /// Claims the oldest message due at `now` (RFC 3339) until `lease_until`: one
    /// atomic update, so that two processes (`serve` and `report --notify`) never
    /// post the same message at once. A claimer that dies leaves the message to be
    /// claimed again when the lease runs out.
    pub async fn claim_notification(
        &self,
        now: &str,
        lease_until: &str,
    ) -> Result<Option<Queued>, StoreError> {
        // On PostgreSQL two claimers may pick the same row in their subqueries; the
        // one that finds it locked skips to the next. SQLite's writers take turns.
        let row: Option<(i64, String, String, i64)> = sqlx::query_as(match self.backend {
            Backend::Sqlite => {
                "UPDATE outbox SET next_attempt_at = $2
                 WHERE id = (SELECT id FROM outbox
                             WHERE status = 'pending' AND next_attempt_at <= $1
                             ORDER BY id LIMIT 1)
                 RETURNING id, channel, payload, attempts"
            }
            Backend::Postgres => {
                "UPDATE outbox SET next_attempt_at = $2
                 WHERE id = (SELECT id FROM outbox
                             WHERE status = 'pending' AND next_attempt_at <= $1
                             ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
                 RETURNING id, channel, payload, attempts"
            }
        })
        .bind(now)
        .bind(lease_until)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id, channel, payload, attempts)| Queued {
            id,
            channel,
            payload,
            attempts,
        }))
    }

    /// When the next pending message is due, if any.
    pub async fn next_notification_due(&self) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT min(next_attempt_at) FROM outbox WHERE status = 'pending'")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    pub async fn pending_notifications(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status = 'pending'")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Records one delivery attempt: `Ok(())` delivered; `Err((retry_at, error))`
    /// to try again at `retry_at`, or never again when `retry_at` is `None`.
    pub async fn record_attempt(
        &self,
        id: i64,
        now: &str,
        outcome: Result<(), (Option<String>, String)>,
    ) -> Result<(), StoreError> {
        let query = match &outcome {
            Ok(()) => sqlx::query(
                "UPDATE outbox SET status = 'delivered', attempts = attempts + 1,
                        delivered_at = $2, last_error = NULL WHERE id = $1",
            )
            .bind(id)
            .bind(now),
            Err((Some(retry_at), error)) => sqlx::query(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $2,
                        last_error = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(retry_at)
            .bind(error),
            Err((None, error)) => sqlx::query(
                "UPDATE outbox SET status = 'failed', attempts = attempts + 1,
                        last_error = $2 WHERE id = $1",
            )
            .bind(id)
            .bind(error),
        };
        query.execute(&self.pool).await?;
        Ok(())
    }

    /// Number of stored scans.
    pub async fn scan_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM scans")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Copies SQLite's write-ahead log into the database file, so that the file's
    /// size is the size of the history (growth measurements). Nothing to do on
    /// PostgreSQL.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// The database's size on the server, for growth measurements: PostgreSQL's
    /// `pg_database_size`; none for SQLite (the file's size says it).
    pub async fn size(&self) -> Result<Option<u64>, StoreError> {
        if self.backend == Backend::Sqlite {
            return Ok(None);
        }
        let bytes: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
            .fetch_one(&self.pool)
            .await?;
        Ok(Some(bytes as u64))
    }

    pub async fn close(self) {
        self.pool.close().await;
    }
}

/// SQLite's settings on every connection: a write-ahead log (readers never wait for
/// the writer), fsync at checkpoints only, a writer waits for another's
/// transaction (`BUSY_TIMEOUT`), and foreign keys enforced.
fn sqlite_settings() -> String {
    format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
         PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON;",
        BUSY_TIMEOUT.as_millis()
    )
}

/// A PostgreSQL URL as messages may show it: the server and the database, never
/// the user's password.
fn server_of(url: &str) -> PathBuf {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let rest = rest.split('?').next().unwrap_or(rest);
    PathBuf::from(format!("postgres://{rest}"))
}

/// Starts a transaction that holds the write lock until it ends: writers take
/// turns, readers never wait.
async fn begin_write(conn: &mut AnyConnection, backend: Backend) -> Result<Tx<'_>, StoreError> {
    match backend {
        Backend::Sqlite => Ok(conn.begin_with("BEGIN IMMEDIATE").await?),
        Backend::Postgres => {
            let mut tx = conn.begin().await?;
            // The lock function returns `void`, which no driver decodes: count it.
            sqlx::query("SELECT count(*) FROM (SELECT pg_advisory_xact_lock($1)) AS locked")
                .bind(POSTGRES_WRITE_LOCK)
                .execute(&mut *tx)
                .await?;
            Ok(tx)
        }
    }
}

/// Starts a transaction that reads one snapshot throughout, whatever writers do
/// meanwhile (SQLite's readers do in WAL mode; PostgreSQL's need REPEATABLE READ).
async fn begin_read(conn: &mut AnyConnection, backend: Backend) -> Result<Tx<'_>, StoreError> {
    Ok(match backend {
        Backend::Sqlite => conn.begin().await?,
        Backend::Postgres => {
            conn.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ")
                .await?
        }
    })
}

/// Refuses what is not SQLite before SQLite touches it, so nothing is overwritten.
fn check_file(path: &Path, mode: OpenMode) -> Result<(), StoreError> {
    use std::io::Read;
    if path.as_os_str().is_empty() || path == Path::new(":memory:") {
        return Ok(());
    }
    let mut header = [0u8; 16];
    match crate::input::open_regular(path) {
        Ok(mut file) => {
            let read = file.read(&mut header).map_err(|e| StoreError::Open {
                path: path.to_path_buf(),
                source: sqlx::Error::Io(e),
            })?;
            // An empty file is a new database; anything else must be SQLite's.
            if read > 0 && (read < header.len() || &header != b"SQLite format 3\0") {
                return Err(StoreError::NotSqlite {
                    path: path.to_path_buf(),
                });
            }
            Ok(())
        }
        Err(ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => match mode {
            OpenMode::Create => Ok(()),
            OpenMode::Existing => Err(StoreError::Missing {
                path: path.to_path_buf(),
            }),
        },
        Err(source) => Err(StoreError::Unreadable {
            path: path.to_path_buf(),
            source,
        }),
    }
}

const SQLITE_CORRUPT: i32 = 11;

impl StoreError {
    /// A damaged page met while reading or writing is said as such, naming the file.
    fn naming(self, path: &Path) -> StoreError {
        match &self {
            StoreError::Sql(source) => match damage(source) {
                Some(detail) => StoreError::Damaged {
                    path: path.to_path_buf(),
                    detail,
                },
                None => self,
            },
            _ => self,
        }
    }
}

/// SQLite's word for a damaged file (SQLITE_CORRUPT), if that is what `error` is.
fn damage(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut next = Some(error);
    while let Some(error) = next {
        // Extended codes (SQLITE_CORRUPT_INDEX = 779, …) keep the primary code in
        // their low byte.
        if let Some(sqlx::Error::Database(db)) = error.downcast_ref::<sqlx::Error>()
            && db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some()
            && db
                .code()
                .and_then(|code| code.parse::<i32>().ok())
                .is_some_and(|code| code & 0xff == SQLITE_CORRUPT)
        {
            return Some(format!("SQLite: {}", db.message()));
        }
        next = error.source();
    }
    None
}

fn open_error(path: &Path, source: sqlx::Error) -> StoreError {
    let text = source.to_string();
    if let Some(detail) = damage(&source) {
        StoreError::Damaged {
            path: path.to_path_buf(),
            detail,
        }
    } else if text.contains("file is not a database") {
        StoreError::NotSqlite {
            path: path.to_path_buf(),
        }
    } else {
        StoreError::Open {
            path: path.to_path_buf(),
            source,
        }
    }
}

type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// `findings.body`: the finding as reported, and the owner of its group (which the
/// report does not carry, but messages about a resolved finding still name).
#[derive(serde::Deserialize)]
struct StoredFinding {
    finding: Finding,
    group_owner: Option<crate::model::Owner>,
}

/// [`StoredFinding`] as written: borrowed, nothing copied.
#[derive(serde::Serialize)]
struct StoredFindingRef<'a> {
    finding: &'a Finding,
    group_owner: Option<&'a crate::model::Owner>,
}

async fn load_findings(tx: &mut Tx<'_>) -> Result<Vec<Known>, StoreError> {
    let rows = sqlx::query("SELECT id, status, recurrences, fingerprint, body FROM findings")
        .fetch_all(&mut **tx)
        .await?;
    known_from_rows(rows)
}

/// The findings one scope's scan may advance: those that scope raised last, those
/// a whole scan raised where the scope reads (before the run was split by scope),
/// and those of no place (a state that cannot be read), which every scope raises.
/// Anything else is another scope's to resolve.
async fn load_findings_of(tx: &mut Tx<'_>, scope: &Scope) -> Result<Vec<Known>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, status, recurrences, fingerprint, body, scope FROM findings
         WHERE scope = $1 OR scope IS NULL",
    )
    .bind(scope.label())
    .fetch_all(&mut **tx)
    .await?;
    let raised_here: Vec<bool> = rows
        .iter()
        .map(|row| row.get::<Option<String>, _>("scope").is_some())
        .collect();
    let known = known_from_rows(rows)?;
    Ok(known
        .into_iter()
        .zip(raised_here)
        .filter(|(k, raised_here)| {
            let f = &k.finding;
            *raised_here || scope.covers(f.account_id.as_deref(), f.region.as_deref())
        })
        .map(|(k, _)| k)
        .collect())
}

/// The scope a finding is stored under: the scope that raised it, unless it has no
/// place (then every scope raises it, and none owns it).
fn owning_scope<'a>(scope: Option<&'a str>, finding: &Finding) -> Option<&'a str> {
    scope.filter(|_| finding.account_id.is_some() && finding.region.is_some())
}

fn known_from_rows(rows: Vec<sqlx::any::AnyRow>) -> Result<Vec<Known>, StoreError> {
    rows.into_iter()
        .map(|row| {
            let id: String = row.get("id");
            let body: String = row.get("body");
            let StoredFinding {
                mut finding,
                group_owner,
            } = serde_json::from_str(&body)
                .map_err(|e| StoreError::Corrupt(format!("finding {id}: {e}")))?;
            finding.group_owner = group_owner;
            finding.status = match row.get::<String, _>("status").as_str() {
                "new" => FindingStatus::New,
                "ongoing" => FindingStatus::Ongoing,
                _ => FindingStatus::Resolved,
            };
            let fingerprint: Vec<u8> = row.get("fingerprint");
            Ok(Known {
                finding,
                recurrences: row.get("recurrences"),
                fingerprint: fingerprint
                    .try_into()
                    .map_err(|_| StoreError::Corrupt(format!("finding {id}: bad fingerprint")))?,
            })
        })
        .collect()
}

/// The scan's own row, pointing at its snapshots.
async fn insert_scan(
    tx: &mut Tx<'_>,
    report: &Report,
    scope: Option<&str>,
    sources: &Blob,
    intent: &Tree,
    live: &Tree,
    findings: usize,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO scans (scan_id, started_at, finished_at, complete, sources, api_calls,
                            intent_root, live_root, findings, scope)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(&report.scan.id)
    .bind(&report.scan.started_at)
    .bind(&report.scan.finished_at)
    .bind(i64::from(report.scan.complete))
    .bind(&sources.hash[..])
    .bind(serde_json::to_string(&report.scan.api_calls).expect("counts serialize"))
    .bind(&intent.root.hash[..])
    .bind(&live.root.hash[..])
    .bind(findings as i64)
    .bind(scope)
    .fetch_one(&mut **tx)
    .await?)
}

/// Every finding's new state, and each event that happened to one.
async fn put_updates(
    tx: &mut Tx<'_>,
    scan_row: i64,
    scope: Option<&str>,
    updates: &[Update],
) -> Result<Vec<(String, Event)>, StoreError> {
    let mut events = Vec::new();
    for update in updates {
        put_finding(tx, owning_scope(scope, &update.finding), update).await?;
        if let Some(event) = update.event {
            sqlx::query(
                "INSERT INTO finding_events (scan_id, finding_id, event) VALUES ($1, $2, $3)",
            )
            .bind(scan_row)
            .bind(&update.finding.id)
            .bind(event.as_str())
            .execute(&mut **tx)
            .await?;
            events.push((update.finding.id.clone(), event));
        }
    }
    Ok(events)
}

/// The notifications these events make (`compose`), queued in the outbox so that
/// they commit, or not, with the scan.
async fn queue_messages(
    tx: &mut Tx<'_>,
    scan_id: &str,
    updates: &[Update],
    compose: Compose<'_>,
) -> Result<usize, StoreError> {
    let happened: Vec<(&Finding, Event)> = updates
        .iter()
        .filter_map(|u| u.event.map(|e| (&u.finding, e)))
        .collect();
    let messages = compose(scan_id, &happened);
    let queued_at = crate::model::format_timestamp(&chrono::Utc::now());
    for message in &messages {
        sqlx::query(
            "INSERT INTO outbox (scan_id, channel, payload, created_at, status, next_attempt_at)
             VALUES ($1, $2, $3, $4, 'pending', $5)",
        )
        .bind(scan_id)
        .bind(message.channel)
        .bind(&message.payload)
        .bind(&queued_at)
        .bind(&queued_at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(messages.len())
}

/// Writes a finding's new state; `scope` is the scope that raised or resolved it
/// (`None`: a whole scan).
async fn put_finding(
    tx: &mut Tx<'_>,
    scope: Option<&str>,
    update: &Update,
) -> Result<(), StoreError> {
    let f = &update.finding;
    let status = serde_json::to_value(f.status).expect("status serializes");
    sqlx::query(
        "INSERT INTO findings (id, code, group_id, status, first_seen, last_seen, resolved_at,
                               recurrences, fingerprint, body, scope)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (id) DO UPDATE SET
             code = excluded.code, group_id = excluded.group_id, status = excluded.status,
             first_seen = excluded.first_seen, last_seen = excluded.last_seen,
             resolved_at = excluded.resolved_at, recurrences = excluded.recurrences,
             fingerprint = excluded.fingerprint, body = excluded.body, scope = excluded.scope",
    )
    .bind(&f.id)
    .bind(f.code.as_str())
    .bind(f.resource.group_id.as_deref())
    .bind(status.as_str())
    .bind(f.first_seen.as_deref().unwrap_or_default())
    .bind(f.last_seen.as_deref().unwrap_or_default())
    .bind(update.resolved_at.as_deref())
    .bind(update.recurrences)
    .bind(&update.fingerprint[..])
    .bind(
        serde_json::to_string(&StoredFindingRef {
            finding: f,
            group_owner: f.group_owner.as_ref(),
        })
        .expect("findings serialize"),
    )
    .bind(scope)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn blob_exists(tx: &mut Tx<'_>, hash: &snapshot::Hash) -> Result<bool, StoreError> {
    Ok(sqlx::query("SELECT 1 FROM blobs WHERE hash = $1")
        .bind(&hash[..])
        .fetch_optional(&mut **tx)
        .await?
        .is_some())
}

async fn put_blob(tx: &mut Tx<'_>, blob: &Blob) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO blobs (hash, body) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING")
        .bind(&blob.hash[..])
        .bind(&blob.body)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Children before parents, skipping what is stored: a stored root or bucket
/// implies everything below it is stored too.
async fn put_tree(tx: &mut Tx<'_>, tree: &Tree) -> Result<(), StoreError> {
    if blob_exists(tx, &tree.root.hash).await? {
        return Ok(());
    }
    for (bucket, nodes) in &tree.buckets {
        if blob_exists(tx, &bucket.hash).await? {
            continue;
        }
        for node in nodes {
            put_blob(tx, node).await?;
        }
        put_blob(tx, bucket).await?;
    }
    put_blob(tx, &tree.root).await
}

/// Reads one stored document.
pub(crate) async fn load_document<T: serde::de::DeserializeOwned>(
    conn: &mut AnyConnection,
    hash: &snapshot::Hash,
) -> Result<T, StoreError> {
    let body: Option<Vec<u8>> = sqlx::query_scalar("SELECT body FROM blobs WHERE hash = $1")
        .bind(&hash[..])
        .fetch_optional(&mut *conn)
        .await?;
    let body = body.ok_or_else(|| {
        StoreError::Corrupt(format!(
            "snapshot document {} is missing",
            snapshot::to_hex(hash)
        ))
    })?;
    serde_json::from_slice(&body).map_err(|e| {
        StoreError::Corrupt(format!("snapshot document {}: {e}", snapshot::to_hex(hash)))
    })
}

/// Fault injection for the full-disk test where no small filesystem can be mounted:
/// while the file `DRIFTD_FAULT_DISK_FULL` names exists, the scan's transaction ends
/// as a COMMIT on a full disk does: SQLite rolls it back (here by a ROLLBACK that sqlx
/// does not see) and the write fails with SQLite's own "database or disk is full".
async fn fail_like_a_full_disk_for_tests(tx: &mut Tx<'_>) -> Result<(), StoreError> {
    let Some(flag) = std::env::var_os("DRIFTD_FAULT_DISK_FULL") else {
        return Ok(());
    };
    if !Path::new(&flag).exists() {
        return Ok(());
    }
    warn!("fault injection: the disk is full");
    sqlx::query("ROLLBACK").execute(&mut **tx).await?;
    // A write beyond a one-page limit fails with SQLITE_FULL, outside any transaction.
    sqlx::query("PRAGMA max_page_count = 1")
        .execute(&mut **tx)
        .await?;
    let full = sqlx::query("CREATE TABLE fault_disk_full (x)")
        .execute(&mut **tx)
        .await;
    sqlx::query("PRAGMA max_page_count = 4294967294")
        .execute(&mut **tx)
        .await?;
    full?;
    Err(StoreError::Corrupt(
        "fault injection: expected a full-disk error".to_string(),
    ))
}

/// Fault injection for the crash test: `DRIFTD_FAULT_STALL_BEFORE_COMMIT=SECS`
/// holds the scan's transaction open so that the test can kill the process there.
async fn stall_before_commit_for_tests() {
    if let Some(secs) = std::env::var("DRIFTD_FAULT_STALL_BEFORE_COMMIT")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        warn!("fault injection: stalling {secs}s before committing the scan");
        tokio::time::sleep(Duration::from_secs(secs)).await;
    }
}
