//! A running `driftd serve` for tests: the ECS chain seeded on a local AWS endpoint
//! (moto), a config written beside its state, JSON logs collected as they come, and
//! plain HTTP/1.1 requests to its endpoints. Include `cli` and `moto` beside it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::Connection;

use super::cli::*;
use super::moto::Moto;

pub struct Service {
    pub child: Child,
    pub logs: Arc<Mutex<Vec<Value>>>,
    reader: Option<std::thread::JoinHandle<()>>,
    pub address: String,
    pub moto: Moto,
    pub dir: tempfile::TempDir,
    env: Vec<(String, String)>,
    _scratch: tempfile::TempDir,
}

impl Service {
    /// Seeds the ECS chain, writes a config with `extra` appended, starts serve.
    pub fn start(extra: &str, env: &[(&str, &str)]) -> Service {
        Service::start_with("", extra, env)
    }

    /// Like [`Service::start`], with `scan` lines added to the config's `[scan]`.
    pub fn start_with(scan: &str, extra: &str, env: &[(&str, &str)]) -> Service {
        let moto = Moto::start();
        let dir = tempfile::tempdir().unwrap();
        moto.seed_chain(&dir.path().join("chain.tfstate"), &[]);
        let config = dir.path().join("driftd.toml");
        std::fs::write(
            &config,
            format!(
                "[scan]\nregions = [\"us-east-1\"]\n{scan}\n\n[[terraform]]\nstate = \"chain.tfstate\"\n\n\
                 [server]\nlisten = \"127.0.0.1:0\"\nready_max_age = \"60s\"\n{extra}"
            ),
        )
        .unwrap();
        let mut all_env = moto.env();
        all_env.push(database_env(&dir.path().join("driftd.db")));
        all_env.push(("DRIFTD_LOG_FORMAT".into(), "json".into()));
        all_env.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let (child, scratch) = spawn(&config, &all_env);
        let mut service = Service {
            child,
            logs: Arc::new(Mutex::new(Vec::new())),
            reader: None,
            address: String::new(),
            moto,
            dir,
            env: all_env,
            _scratch: scratch,
        };
        service.collect_logs_and_wait_until_listening();
        service
    }

    /// Starts `serve` again on the same config, database and AWS endpoint (after
    /// [`Service::terminate`]); its logs replace the previous process's.
    pub fn restart(&mut self) {
        let (child, scratch) = spawn(&self.config(), &self.env);
        self.child = child;
        self._scratch = scratch;
        self.logs = Arc::new(Mutex::new(Vec::new()));
        self.collect_logs_and_wait_until_listening();
    }

    pub fn config(&self) -> std::path::PathBuf {
        self.dir.path().join("driftd.toml")
    }

    fn collect_logs_and_wait_until_listening(&mut self) {
        let sink = self.logs.clone();
        let stderr = self.child.stderr.take().unwrap();
        self.reader = Some(std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let line = line.unwrap();
                let value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("a log line is not JSON ({e}): {line}"));
                sink.lock().unwrap().push(value);
            }
        }));
        let listening = self.wait_for_log("listening", 1, Duration::from_secs(60));
        self.address = listening["fields"]["address"].as_str().unwrap().to_string();
    }

    pub fn messages(&self, message: &str) -> Vec<Value> {
        self.logs
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l["fields"]["message"] == message)
            .cloned()
            .collect()
    }

    /// Waits for the `count`th log line with this message; returns it.
    pub fn wait_for_log(&self, message: &str, count: usize, limit: Duration) -> Value {
        let start = Instant::now();
        loop {
            let found = self.messages(message);
            if found.len() >= count {
                return found[count - 1].clone();
            }
            assert!(
                start.elapsed() < limit,
                "no {count} × {message:?} in {limit:?}; logs:\n{:#?}",
                self.logs.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        let (status, _, body) = self.get_with(path, "");
        (status, body)
    }

    /// GET with extra header lines (`"Accept: …\r\n"`): status, head, body.
    pub fn get_with(&self, path: &str, headers: &str) -> (u16, String, String) {
        let mut stream = TcpStream::connect(&self.address).unwrap();
        // A server that stops answering fails the test instead of hanging it.
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: driftd\r\n{headers}Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = response[9..12].parse().unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        (status, head.to_string(), body.to_string())
    }

    /// SIGTERM; returns the exit code and how long the process took to exit.
    pub fn terminate(&mut self) -> (Option<i32>, Duration) {
        let start = Instant::now();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let code = self.child.wait().unwrap().code();
        let took = start.elapsed();
        // Every line the process wrote is read before the test looks at them.
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        (code, took)
    }

    pub fn db(&self) -> std::path::PathBuf {
        self.dir.path().join("driftd.db")
    }
}

fn spawn(config: &std::path::Path, env: &[(String, String)]) -> (Child, tempfile::TempDir) {
    let (mut command, scratch) =
        driftd_command(&["serve", "--config", config.to_str().unwrap()], env);
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    (child, scratch)
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// (started_at, finished_at) of every stored scan, and the integrity check.
pub async fn stored_scans(db: &std::path::Path) -> (Vec<(String, String)>, String) {
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let scans = sqlx::query_as("SELECT started_at, finished_at FROM scans ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    (scans, integrity)
}

/// The value of one series in a Prometheus text exposition.
pub fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.trim().parse().ok()))
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
}
