//! A real local AWS endpoint for tests: `moto_server` (pinned, installed into the
//! project's .venv by scripts/setup-local-aws.sh), one per test, on a free port on
//! 127.0.0.1, stopped when the test ends.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Moto {
    child: Child,
    pub port: u16,
    /// CloudTrail beside it (moto has no LookupEvents): empty until a test adds
    /// events.
    pub trail: super::trail::FakeTrail,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn setup() {
    static SETUP: Once = Once::new();
    SETUP.call_once(|| {
        let status = Command::new(root().join("scripts/setup-local-aws.sh"))
            .status()
            .expect("scripts/setup-local-aws.sh runs");
        assert!(status.success(), "installing the local AWS endpoint failed");
    });
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Moto {
    pub fn start() -> Moto {
        setup();
        let port = free_port();
        let child = Command::new(root().join(".venv/bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let moto = Moto {
            child,
            port,
            trail: super::trail::FakeTrail::start(),
        };
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not come up on {addr}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Environment for driftd (and boto3) to reach this endpoint and nothing else.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ENDPOINT_URL_CLOUDTRAIL", self.trail.endpoint()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("AWS_CONFIG_FILE", "/dev/null".into()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// [`Moto::env`] with every call sent to `endpoint` instead (a relay in front of
    /// this endpoint, or a dead one).
    pub fn env_through(&self, endpoint: &str) -> Vec<(String, String)> {
        let mut env = self.env();
        env.retain(|(k, _)| k != "AWS_ENDPOINT_URL");
        env.push(("AWS_ENDPOINT_URL".into(), endpoint.to_string()));
        env
    }

    /// Seeds the five-group ECS chain (scripts/localaws/seed_chain.py) with the given
    /// drift; writes the matching state to `state_out`; returns the seed summary.
    pub fn seed_chain(&self, state_out: &Path, extra: &[&str]) -> Value {
        let mut cmd = Command::new(root().join(".venv/bin/python"));
        cmd.arg(root().join("scripts/localaws/seed_chain.py"))
            .args(["--endpoint", &self.endpoint(), "--state-out"])
            .arg(state_out)
            .args(extra);
        let output = cmd.output().expect("seed script runs");
        assert!(
            output.status.success(),
            "seeding failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("seed summary is JSON")
    }

    /// Runs a short boto3 snippet against this endpoint (`ec2`, `s3` and `cfn` are
    /// bound).
    pub fn python(&self, code: &str) -> String {
        let prelude = format!(
            "import boto3, json\nkw=dict(endpoint_url='{}', region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')\nec2=boto3.client('ec2', **kw)\ns3=boto3.client('s3', **kw)\ncfn=boto3.client('cloudformation', **kw)\n",
            self.endpoint()
        );
        let output = Command::new(root().join(".venv/bin/python"))
            .args(["-c", &format!("{prelude}{code}")])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
