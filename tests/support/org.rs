//! An AWS Organization on the local endpoint: member accounts reached through
//! `sts:AssumeRole` into each one's `driftd-read` role, each account and region with
//! its own VPC and groups (scripts/localaws/seed_org.py), and in front of it a proxy
//! that counts the calls each scope receives (scripts/localaws/counting_proxy.py).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use super::moto::Moto;

pub struct Org {
    pub moto: Moto,
    proxy: Child,
    proxy_port: u16,
    pub dir: tempfile::TempDir,
    accounts_toml: String,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> Command {
    Command::new(root().join(".venv/bin/python"))
}

impl Org {
    /// `accounts` accounts × `regions` (comma-separated), `groups` groups of `rules`
    /// rules in each; with `drift`, the drift seed_org.py describes.
    pub fn seed(accounts: usize, regions: &str, groups: usize, rules: usize, drift: bool) -> Org {
        let extra: &[&str] = if drift { &["--drift"] } else { &[] };
        Org::seed_with(accounts, regions, groups, rules, extra)
    }

    /// As `seed`, with more of seed_org.py's options (`--cross-account-reference`).
    pub fn seed_with(
        accounts: usize,
        regions: &str,
        groups: usize,
        rules: usize,
        extra: &[&str],
    ) -> Org {
        let moto = Moto::start();
        let mut proxy = python()
            .arg(root().join("scripts/localaws/counting_proxy.py"))
            .args(["--upstream", &moto.endpoint(), "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the counting proxy starts");
        let mut line = String::new();
        BufReader::new(proxy.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let proxy_port = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the proxy said {line:?}"));
        let dir = tempfile::tempdir().unwrap();
        let mut seed = python();
        seed.arg(root().join("scripts/localaws/seed_org.py"))
            .args(["--endpoint", &format!("http://127.0.0.1:{proxy_port}")])
            .args(["--accounts", &accounts.to_string(), "--regions", regions])
            .args([
                "--groups",
                &groups.to_string(),
                "--rules",
                &rules.to_string(),
            ])
            .arg("--state-out")
            .arg(dir.path().join("org.tfstate"))
            .arg("--accounts-out")
            .arg(dir.path().join("accounts.toml"))
            .arg("--cross-out")
            .arg(dir.path().join("cross-account-group"))
            .args(extra);
        let output = seed.output().expect("seed_org.py runs");
        assert!(
            output.status.success(),
            "seeding the organisation failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let accounts_toml = std::fs::read_to_string(dir.path().join("accounts.toml")).unwrap();
        let org = Org {
            moto,
            proxy,
            proxy_port,
            dir,
            accounts_toml,
        };
        org.reset_counts();
        org
    }

    /// Environment for driftd to reach the organisation through the proxy.
    pub fn env(&self) -> Vec<(String, String)> {
        self.moto
            .env_through(&format!("http://127.0.0.1:{}", self.proxy_port))
    }

    /// A config reading the organisation's state and every account, with `extra`
    /// appended; CloudTrail off (its calls are counted elsewhere).
    pub fn config(&self, extra: &str) -> PathBuf {
        self.config_reading("org.tfstate", extra)
    }

    /// As `config`, reading the organisation's state from `state` (`state_to_s3`).
    pub fn config_reading(&self, state: &str, extra: &str) -> PathBuf {
        let path = self.dir.path().join("driftd.toml");
        std::fs::write(
            &path,
            format!(
                "[[terraform]]\nstate = \"{state}\"\n\n[cloudtrail]\nenabled = false\n\n{}\n{extra}",
                self.accounts_toml
            ),
        )
        .unwrap();
        path
    }

    /// Uploads the organisation's state to `s3://BUCKET/KEY` (the bucket created).
    pub fn state_to_s3(&self, bucket: &str, key: &str) -> String {
        let state = self.dir.path().join("org.tfstate");
        self.moto.python(&format!(
            "s3.create_bucket(Bucket='{bucket}')\n\
             s3.put_object(Bucket='{bucket}', Key='{key}', Body=open('{}', 'rb').read())",
            state.display()
        ));
        format!("s3://{bucket}/{key}")
    }

    /// The first account's group that the second account's first group allows
    /// (`--cross-account-reference`).
    pub fn cross_account_group(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("cross-account-group")).unwrap()
    }

    /// Deletes `group` from `account` in `region`, as its owner would.
    pub fn delete_group(&self, account: &str, region: &str, group: &str) {
        let output = python()
            .arg(root().join("scripts/localaws/seed_org.py"))
            .args([
                "--endpoint",
                &format!("http://127.0.0.1:{}", self.proxy_port),
            ])
            .args(["--delete", &format!("{account}/{region}/{group}")])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "deleting {group}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Calls received since the last reset: `{"account/region": {"Action": n}}`.
    pub fn counts(&self) -> Value {
        serde_json::from_str(&self.proxy_call("GET", "/_counts", "")).unwrap()
    }

    pub fn reset_counts(&self) {
        self.proxy_call("POST", "/_counts/reset", "");
    }

    /// Every EC2 call of `scope` (`account/region`) is refused from now on (403
    /// `UnauthorizedOperation`).
    pub fn refuse(&self, scope: &str) {
        self.proxy_call("POST", "/_refuse", scope);
    }

    fn proxy_call(&self, method: &str, path: &str, body: &str) -> String {
        let code = format!(
            "import urllib.request\nr = urllib.request.Request('http://127.0.0.1:{}{path}', method='{method}', data=b'{body}' if '{method}' == 'POST' else None)\nprint(urllib.request.urlopen(r).read().decode())",
            self.proxy_port
        );
        let output = python().args(["-c", &code]).output().unwrap();
        assert!(output.status.success(), "{method} {path} on the proxy");
        String::from_utf8(output.stdout).unwrap()
    }
}

impl Drop for Org {
    fn drop(&mut self) {
        let _ = self.proxy.kill();
        let _ = self.proxy.wait();
    }
}
