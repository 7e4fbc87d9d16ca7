//! A real PostgreSQL server for tests: Debian's `postgresql` binaries (installed by
//! scripts/setup-postgres.sh), a fresh cluster in a temporary directory, listening
//! on a free port on 127.0.0.1 only, stopped and removed when the test ends. As
//! root the server runs as the package's `postgres` user (PostgreSQL refuses root).
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub struct Postgres {
    child: Child,
    pub port: u16,
    bin: PathBuf,
    _dir: tempfile::TempDir,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The server's binaries, installed once per test process.
fn bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let output = Command::new(root().join("scripts/setup-postgres.sh"))
            .stderr(Stdio::inherit())
            .output()
            .expect("scripts/setup-postgres.sh runs");
        assert!(output.status.success(), "installing PostgreSQL failed");
        PathBuf::from(String::from_utf8(output.stdout).unwrap().trim())
    })
    .clone()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `program` run as the server's user: ourselves, or `postgres` when we are root
/// (`setpriv` execs it, so the child is the program itself and signals reach it).
fn as_server_user(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("setpriv");
        command.args([
            "--reuid=postgres",
            "--regid=postgres",
            "--init-groups",
            "--",
        ]);
        command.arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The server on the cluster in `dir`, listening on `port` on 127.0.0.1 only.
fn spawn(bin: &Path, dir: &Path, port: u16) -> Child {
    as_server_user(&bin.join("postgres"))
        .arg("-D")
        .arg(dir.join("data"))
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-k"])
        .arg(dir)
        // A test's data need not survive a crash of the machine.
        .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
        .args(["-c", "full_page_writes=off"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("postgres starts")
}

impl Postgres {
    pub fn start() -> Postgres {
        let bin = bin();
        let dir = tempfile::tempdir().unwrap();
        if is_root() {
            let status = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success());
        }
        let data = dir.path().join("data");
        let init = as_server_user(&bin.join("initdb"))
            .args([
                "--auth=trust",
                "--username=driftd",
                "--encoding=UTF8",
                "--no-sync",
                "-D",
            ])
            .arg(&data)
            .output()
            .expect("initdb runs");
        assert!(
            init.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        let port = free_port();
        let child = spawn(&bin, dir.path(), port);
        let server = Postgres {
            child,
            port,
            bin,
            _dir: dir,
        };
        server.wait_until_ready();
        server
    }

    /// Stops the server and starts it again on the same data and port, as a
    /// failover or a maintenance restart does.
    pub fn restart(&mut self) {
        self.stop();
        self.child = spawn(&self.bin, self._dir.path(), self.port);
        self.wait_until_ready();
    }

    fn wait_until_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = Command::new(self.bin.join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-q"])
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "PostgreSQL did not come up on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A new, empty database on this server, and its URL.
    pub fn database(&self, name: &str) -> String {
        let status = Command::new(self.bin.join("createdb"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "driftd",
            ])
            .arg(name)
            .status()
            .expect("createdb runs");
        assert!(status.success(), "createdb {name} failed");
        format!("postgres://driftd@127.0.0.1:{}/{name}", self.port)
    }

    /// Stops the server as an administrator would (fast shutdown: SIGINT), and
    /// waits for it to be gone.
    pub fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}
