//! Bad input gets a clear error naming the file (and the JSON path or line), exit 1,
//! no panic, and no false "deleted" finding from data that could not be read.

#[path = "support/cli.rs"]
mod cli;

use cli::*;
use serde_json::Value;

fn report_with_state(state: &std::path::Path) -> Run {
    driftd(&[
        "report",
        "--state",
        state.to_str().unwrap(),
        "--live",
        CLEAN_GROUPS,
        "--live",
        CLEAN_RULES,
        "--region",
        "us-east-1",
        "--format",
        "json",
    ])
}

/// Each bad state: (file name, content, what the error must say).
fn bad_states() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let good = std::fs::read_to_string(CHAIN_STATE).unwrap();
    vec![
        (
            "truncated.tfstate",
            good.as_bytes()[..good.len() / 2].to_vec(),
            "invalid JSON at line",
        ),
        (
            "v3.tfstate",
            br#"{"version": 3, "terraform_version": "0.11.14", "modules": []}"#.to_vec(),
            "unsupported state format version 3 (written by Terraform 0.11.14)",
        ),
        (
            "wrong-type.tfstate",
            good.replacen("\"version\": 4", "\"version\": \"4\"", 1)
                .into_bytes(),
            "at $.version",
        ),
        (
            "bad-port.tfstate",
            good.replacen("\"from_port\": 3306", "\"from_port\": \"mysql\"", 1)
                .into_bytes(),
            "$.resources[",
        ),
        (
            "missing-type.tfstate",
            good.replacen(
                "\"type\": \"aws_security_group_rule\"",
                "\"typo\": \"x\"",
                1,
            )
            .into_bytes(),
            "missing field `type`",
        ),
        (
            "bad-cidr.tfstate",
            good.replacen("\"0.0.0.0/0\"", "\"0.0.0.0/33\"", 1)
                .into_bytes(),
            "invalid IPv4 CIDR \"0.0.0.0/33\"",
        ),
        ("empty.tfstate", Vec::new(), "the file is empty"),
        (
            "binary.tfstate",
            vec![0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x00, 0x01],
            "invalid JSON",
        ),
        (
            "array.tfstate",
            b"[1, 2, 3]".to_vec(),
            "not a Terraform state: the document is not a JSON object",
        ),
        (
            "no-version.tfstate",
            b"{\"resources\": []}".to_vec(),
            "no top-level \"version\" field",
        ),
    ]
}

#[test]
fn every_bad_state_is_a_clear_error_and_a_partial_scan() {
    let dir = tempfile::tempdir().unwrap();
    for (name, content, expected) in bad_states() {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let run = report_with_state(&path);
        assert_eq!(run.code, 1, "{name}: exit 1\n{}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{name}: {}", run.stderr);
        assert!(
            run.stderr.contains(name),
            "{name}: the error names the file:\n{}",
            run.stderr
        );
        assert!(
            run.stderr.contains(expected),
            "{name}: expected {expected:?} in:\n{}",
            run.stderr
        );
        // The report is still printed, says what failed, and invents nothing.
        let report = run.json();
        assert_valid_report(&report);
        assert_eq!(report["scan"]["complete"], false);
        let codes = codes(report["findings"].as_array().unwrap());
        assert_eq!(
            codes,
            ["source-error"],
            "{name}: with the state unread, live groups are not called unmanaged"
        );
        let error = report["findings"][0]["message"].as_str().unwrap();
        assert!(error.contains(expected), "{name}: {error}");
    }
}

#[test]
fn syntax_errors_give_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("syntax.tfstate");
    std::fs::write(&path, "{\n  \"version\": 4,\n  \"resources\": [,]\n}").unwrap();
    let run = report_with_state(&path);
    assert!(
        run.stderr.contains("invalid JSON at line 3, column"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_directory_or_missing_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let run = report_with_state(dir.path());
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("cannot read the state"),
        "{}",
        run.stderr
    );
    let run = report_with_state(&dir.path().join("nope.tfstate"));
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("nope.tfstate: cannot read the state"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_bad_live_file_never_produces_missing_findings() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken-rules.json");
    std::fs::write(&broken, "{\"SecurityGroupRules\": [").unwrap();
    // The groups document alone would cover the account: with another live file
    // unreadable, nothing may be called missing or removed.
    let groups: Value = serde_json::json!({"SecurityGroups": []});
    let groups_path = write_json(dir.path(), "groups.json", &groups);
    let run = driftd(&[
        "report",
        "--state",
        CHAIN_STATE,
        "--live",
        groups_path.to_str().unwrap(),
        "--live",
        broken.to_str().unwrap(),
        "--region",
        "us-east-1",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("broken-rules.json"), "{}", run.stderr);
    let report = run.json();
    let codes = codes(report["findings"].as_array().unwrap());
    assert!(codes.contains(&"source-error"));
    assert!(
        !codes.contains(&"sg-missing") && !codes.contains(&"rule-removed"),
        "{codes:?}"
    );
}

#[test]
fn an_unknown_live_document_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_json(dir.path(), "vpcs.json", &serde_json::json!({"Vpcs": []}));
    let run = driftd(&[
        "report",
        "--state",
        CHAIN_STATE,
        "--live",
        path.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("not a describe-security-groups or describe-security-group-rules document"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_arguments_and_configs_exit_1() {
    let run = driftd(&["report", "--format", "yaml"]);
    assert_eq!(run.code, 1, "bad arguments exit 1, not clap's 2");
    // No --live and no reachable AWS: the region is a source error, exit 1.
    let run = driftd_with_env(
        &[
            "report",
            "--state",
            CHAIN_STATE,
            "--region",
            "us-east-1",
            "--format",
            "json",
        ],
        &[
            ("AWS_ENDPOINT_URL".into(), "http://127.0.0.1:9".into()),
            ("AWS_ACCESS_KEY_ID".into(), "testing".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "testing".into()),
            ("AWS_MAX_ATTEMPTS".into(), "1".into()),
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let findings = drift(&report);
    let codes = codes(&findings);
    assert_eq!(
        codes,
        ["source-error"],
        "nothing unread is reported missing"
    );
    assert!(
        findings[0]["message"]
            .as_str()
            .unwrap()
            .contains("us-east-1")
    );
    let run = driftd(&[
        "report",
        "--config",
        "/nonexistent/driftd.toml",
        "--live",
        CLEAN_RULES,
    ]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("/nonexistent/driftd.toml: cannot read the config"),
        "{}",
        run.stderr
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("secret.toml");
    std::fs::write(
        &cfg,
        "[notify.slack]\nwebhook_url = \"${DRIFTD_TEST_UNSET_VARIABLE}\"\n",
    )
    .unwrap();
    let run = driftd(&["check-config", "--config", cfg.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("DRIFTD_TEST_UNSET_VARIABLE is not set"),
        "{}",
        run.stderr
    );
}
