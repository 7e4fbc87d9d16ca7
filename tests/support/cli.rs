//! Runs the built `driftd` binary on fixtures, the way a user or CI would.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

pub const CHAIN_STATE: &str = "examples/ecs-chain.tfstate";
pub const CLEAN_GROUPS: &str = "tests/fixtures/ecs-chain/clean-groups.json";
pub const CLEAN_RULES: &str = "tests/fixtures/ecs-chain/clean-rules.json";

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

pub fn driftd(args: &[&str]) -> Run {
    driftd_with_env(args, &[])
}

/// Runs driftd with extra environment (e.g. a local AWS endpoint). AWS variables of
/// the calling environment are removed so that no test reaches real AWS.
pub fn driftd_with_env(args: &[&str], env: &[(String, String)]) -> Run {
    let (mut command, _scratch) = driftd_command(args, env);
    let output = command.output().expect("driftd runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The command `driftd_with_env` runs, for tests that spawn it; keep the returned
/// directory alive while it runs (it holds the default database).
pub fn driftd_command(args: &[&str], env: &[(String, String)]) -> (Command, tempfile::TempDir) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_driftd"));
    command
        .args(args)
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1");
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") || key.starts_with("DRIFTD_") {
            command.env_remove(key);
        }
    }
    command
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    // Each run gets a database of its own unless the test names one: scans of
    // unrelated tests must not become each other's history.
    let scratch = tempfile::tempdir().expect("a temporary directory");
    command.env(
        "DRIFTD_DATABASE_URL",
        format!("sqlite://{}", scratch.path().join("driftd.db").display()),
    );
    for (key, value) in env {
        command.env(key, value);
    }
    (command, scratch)
}

/// `text` with its wrapping undone: its words joined by single spaces, so that a
/// sentence the table wrapped can be looked for whole.
pub fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `DRIFTD_DATABASE_URL` for a database file.
pub fn database_env(path: &Path) -> (String, String) {
    (
        "DRIFTD_DATABASE_URL".to_string(),
        format!("sqlite://{}", path.display()),
    )
}

/// `report --format json` of the chain's state against the given captures, read as
/// covering us-east-1.
pub fn chain_report(live: &[&Path]) -> Run {
    let mut args = vec!["report", "--state", CHAIN_STATE];
    for file in live {
        args.extend(["--live", file.to_str().unwrap()]);
    }
    args.extend(["--region", "us-east-1", "--format", "json"]);
    driftd(&args)
}

pub fn read_json(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub fn write_json(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
    path
}

/// The finding codes, in order.
pub fn codes(findings: &[Value]) -> Vec<&str> {
    findings
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect()
}

/// The findings of a JSON report without the ever-present dependency-hidden
/// risk note of the example's monitoring rule.
pub fn drift(report: &Value) -> Vec<Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] != "dependency-hidden")
        .cloned()
        .collect()
}

/// A validator for our copy of the report schema.
pub fn schema_validator() -> jsonschema::Validator {
    let schema = read_json("schema/report.schema.json");
    jsonschema::validator_for(&schema).expect("the schema compiles")
}

pub fn assert_valid_report(report: &Value) {
    let validator = schema_validator();
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "report does not match report.schema.json: {errors:#?}"
    );
}

/// A partial scan's JSON report (exit 1, valid, `complete: false`) and its drift
/// findings.
pub fn partial_report(run: &Run) -> (Value, Vec<Value>) {
    assert_eq!(run.code, 1, "a partial scan exits 1\n{}", run.stderr);
    let report = run.json();
    assert_valid_report(&report);
    assert_eq!(report["scan"]["complete"], false);
    let findings = drift(&report);
    (report, findings)
}
