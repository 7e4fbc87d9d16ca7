//! Several `serve` replicas of one config on one real PostgreSQL server and one
//! local AWS endpoint: each run of a schedule is scanned and stored once, by one
//! replica; a replica killed (SIGKILL) while it stores a run hands that run over to
//! another when its lease runs out, and nothing it had not committed is kept.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::Connection;

use crate::support::cli::*;
use crate::support::moto::Moto;
use crate::support::postgres::Postgres;

pub(super) struct Fleet {
    pub replicas: Vec<Child>,
    pub url: String,
    _scratch: Vec<tempfile::TempDir>,
}

/// The ECS chain on a new local AWS endpoint, and `count` replicas scanning it on
/// the `cron` schedule into a new database on `server`, with `env` added.
fn fleet(
    server: &Postgres,
    count: usize,
    cron: &str,
    env: &[(&str, &str)],
) -> (Fleet, Moto, tempfile::TempDir) {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    moto.seed_chain(&dir.path().join("chain.tfstate"), &[]);
    let config = dir.path().join("driftd.toml");
    std::fs::write(
        &config,
        format!(
            "[scan]\nregions = [\"us-east-1\"]\n\n[[terraform]]\nstate = \"chain.tfstate\"\n\n\
             [server]\nlisten = \"127.0.0.1:0\"\nscan_on_start = false\nscan_lease = \"2s\"\n\n\
             [[schedule]]\ncron = \"{cron}\"\n"
        ),
    )
    .unwrap();
    let mut all_env = moto.env();
    all_env.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let fleet = Fleet::spawn(&config, all_env, count, server.database("fleet"));
    (fleet, moto, dir)
}

impl Fleet {
    /// `count` `serve` replicas of `config` storing into `url`, with `env`.
    pub fn spawn(
        config: &Path,
        mut env: Vec<(String, String)>,
        count: usize,
        url: String,
    ) -> Fleet {
        env.push(("DRIFTD_DATABASE_URL".into(), url.clone()));
        let mut replicas = Vec::new();
        let mut scratch = Vec::new();
        for _ in 0..count {
            let (mut command, dir) =
                driftd_command(&["serve", "--config", config.to_str().unwrap()], &env);
            let child = command
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            replicas.push(child);
            scratch.push(dir);
        }
        Fleet {
            replicas,
            url,
            _scratch: scratch,
        }
    }

    /// Stops every replica still running as ECS does (SIGTERM, then waiting).
    pub fn terminate(&mut self) {
        for child in &mut self.replicas {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
        for child in &mut self.replicas {
            let _ = child.wait();
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for child in &mut self.replicas {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub(super) fn query<T>(url: &str, sql: &str) -> T
where
    T: Send + Unpin + for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
{
    rows(url, sql).into_iter().next().expect("one row")
}

/// Every row of `sql`.
pub(super) fn rows<T>(url: &str, sql: &str) -> Vec<T>
where
    T: Send + Unpin + for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
{
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
        let rows = sqlx::query_as(sql).fetch_all(&mut conn).await.unwrap();
        conn.close().await.unwrap();
        rows
    })
}

/// `count(*)` of `sql`, or none while the replicas have not made the tables yet.
pub(super) fn count_when_ready(url: &str, sql: &str) -> Option<i64> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(url).await.ok()?;
        let value = sqlx::query_scalar(sql).fetch_one(&mut conn).await.ok();
        let _ = conn.close().await;
        value
    })
}

pub(super) fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn three_replicas_scan_each_run_once() {
    let server = Postgres::start();
    let (mut fleet, _moto, _dir) = fleet(&server, 3, "*/3 * * * * *", &[]);
    let url = fleet.url.clone();
    wait_for("three runs stored", Duration::from_secs(60), || {
        count_when_ready(&url, "SELECT count(*) FROM scan_leases WHERE done = 1") >= Some(3)
    });
    fleet.terminate();
    let (done,): (i64,) = query(&url, "SELECT count(*) FROM scan_leases WHERE done = 1");
    let (runs,): (i64,) = query(&url, "SELECT count(*) FROM scan_leases");
    let (scans,): (i64,) = query(&url, "SELECT count(*) FROM scans");
    assert_eq!(
        scans, done,
        "every stored run is one scan, and no run is scanned twice"
    );
    assert_eq!(runs, done, "no run is left half done by a clean shutdown");
    assert!(done >= 3);
}

#[test]
fn a_replica_killed_while_storing_hands_its_run_over() {
    let server = Postgres::start();
    // Every replica holds its scan's transaction open for 6 s before committing:
    // long enough to kill the one that claimed the run in the middle of it.
    let (mut fleet, _moto, _dir) = fleet(
        &server,
        3,
        "*/30 * * * * *",
        &[("DRIFTD_FAULT_STALL_BEFORE_COMMIT", "6")],
    );
    let url = fleet.url.clone();
    wait_for(
        "a replica claiming the run",
        Duration::from_secs(60),
        || count_when_ready(&url, "SELECT count(*) FROM scan_leases") == Some(1),
    );
    let (tick, holder): (String, String) = query(&url, "SELECT tick, holder FROM scan_leases");
    // The holder is host/pid/random.
    let pid: u32 = holder.split('/').nth(1).unwrap().parse().unwrap();
    std::thread::sleep(Duration::from_secs(1));
    let victim = fleet
        .replicas
        .iter_mut()
        .find(|c| c.id() == pid)
        .expect("the holder is one of the replicas");
    victim.kill().unwrap();
    victim.wait().unwrap();

    wait_for(
        "another replica finishing the run",
        Duration::from_secs(60),
        || count_when_ready(&url, "SELECT count(*) FROM scan_leases WHERE done = 1") == Some(1),
    );
    let (done_tick, done_by): (String, String) =
        query(&url, "SELECT tick, holder FROM scan_leases WHERE done = 1");
    assert_eq!(done_tick, tick, "the same run");
    assert_ne!(done_by, holder, "finished by another replica");
    let (scans,): (i64,) = query(&url, "SELECT count(*) FROM scans");
    assert_eq!(
        scans, 1,
        "the killed replica's uncommitted scan is not kept"
    );
    fleet.terminate();
}
