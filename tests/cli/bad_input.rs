//! Bad input gets a clear error naming the file (and the JSON path or line), exit 1,
//! no panic, and no false "deleted" finding from data that could not be read.

use crate::support::cli::*;
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
fn bad_states() -> Vec<(&'static str, Vec<u8>, Vec<String>)> {
    let good = std::fs::read_to_string(CHAIN_STATE).unwrap();
    let state: Value = serde_json::from_str(&good).unwrap();
    let resources = state["resources"].as_array().unwrap();
    let position = |kind: &str| {
        resources
            .iter()
            .position(|r| r["type"].as_str().is_some_and(|t| t.starts_with(kind)))
            .unwrap_or_else(|| panic!("{CHAIN_STATE} has an {kind}"))
    };
    // The first rule resource without its `type`, and the first VPC rule resource
    // without the group its instance belongs to.
    let typeless = position("aws_security_group_rule");
    let vpc_rule = position("aws_vpc_security_group_");
    let mut without_type = state.clone();
    without_type["resources"][typeless]
        .as_object_mut()
        .unwrap()
        .remove("type")
        .expect("a resource has a type");
    let mut without_group = state.clone();
    without_group["resources"][vpc_rule]["instances"][0]["attributes"]
        .as_object_mut()
        .unwrap()
        .remove("security_group_id")
        .expect("a VPC rule names its group");
    let one = |text: &str| vec![text.to_string()];
    vec![
        (
            "truncated.tfstate",
            good.as_bytes()[..good.len() / 2].to_vec(),
            one("invalid JSON at line"),
        ),
        (
            "v3.tfstate",
            br#"{"version": 3, "terraform_version": "0.11.14", "modules": []}"#.to_vec(),
            one("unsupported state format version 3 (written by Terraform 0.11.14)"),
        ),
        (
            "wrong-type.tfstate",
            good.replacen("\"version\": 4", "\"version\": \"4\"", 1)
                .into_bytes(),
            one("at $.version"),
        ),
        (
            "bad-port.tfstate",
            good.replacen("\"from_port\": 3306", "\"from_port\": \"mysql\"", 1)
                .into_bytes(),
            one("$.resources["),
        ),
        (
            "missing-type.tfstate",
            serde_json::to_vec_pretty(&without_type).unwrap(),
            vec![
                format!("at $.resources[{typeless}] (line "),
                "missing field `type`".to_string(),
            ],
        ),
        (
            "missing-attribute.tfstate",
            serde_json::to_vec_pretty(&without_group).unwrap(),
            one(&format!(
                "at $.resources[{vpc_rule}].instances[0].attributes: missing field \"security_group_id\""
            )),
        ),
        (
            "bad-cidr.tfstate",
            good.replacen("\"0.0.0.0/0\"", "\"0.0.0.0/33\"", 1)
                .into_bytes(),
            one("invalid IPv4 CIDR \"0.0.0.0/33\""),
        ),
        ("empty.tfstate", Vec::new(), one("the file is empty")),
        (
            "binary.tfstate",
            vec![0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x00, 0x01],
            one("invalid JSON"),
        ),
        (
            "array.tfstate",
            b"[1, 2, 3]".to_vec(),
            one("not a Terraform state: the document is not a JSON object"),
        ),
        (
            "no-version.tfstate",
            b"{\"resources\": []}".to_vec(),
            one("no top-level \"version\" field"),
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
        for expected in &expected {
            assert!(
                run.stderr.contains(expected),
                "{name}: expected {expected:?} in:\n{}",
                run.stderr
            );
        }
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
        for expected in &expected {
            assert!(error.contains(expected), "{name}: {error}");
        }
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
    let named = format!("{}: cannot read the state", dir.path().display());
    assert!(run.stderr.contains(&named), "{}", run.stderr);
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
    let run = chain_report(&[&groups_path, &broken]);
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

/// Each bad capture: (file name, content, what the error must say). `None` for a
/// directory of that name.
fn bad_captures() -> Vec<(&'static str, Option<Vec<u8>>, &'static str)> {
    let rules = std::fs::read_to_string(CLEAN_RULES).unwrap();
    vec![
        ("empty.json", Some(Vec::new()), "the file is empty"),
        ("blank.json", Some(b"\n  \n".to_vec()), "the file is empty"),
        (
            "binary.json",
            Some(vec![0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x00, 0x01]),
            "invalid JSON at line 1, column 1",
        ),
        (
            "truncated.json",
            Some(rules.as_bytes()[..rules.len() / 2].to_vec()),
            "invalid JSON at line",
        ),
        (
            "wrong-type-groups.json",
            Some(br#"{"SecurityGroups": [{"GroupId": 5}]}"#.to_vec()),
            "at $.SecurityGroups[0].GroupId (line 1, column 33): invalid type: integer `5`",
        ),
        (
            "wrong-type-rules.json",
            Some(
                rules
                    .replacen("\"IsEgress\": false", "\"IsEgress\": \"no\"", 1)
                    .into_bytes(),
            ),
            "at $.SecurityGroupRules[0].IsEgress (line ",
        ),
        ("a-directory.json", None, "a-directory.json: cannot read: "),
    ]
}

#[test]
fn every_bad_live_file_is_a_clear_error_and_nothing_is_called_missing() {
    let dir = tempfile::tempdir().unwrap();
    for (name, content, expected) in bad_captures() {
        let path = dir.path().join(name);
        match content {
            Some(bytes) => std::fs::write(&path, bytes).unwrap(),
            None => std::fs::create_dir(&path).unwrap(),
        }
        let run = chain_report(&[&path]);
        assert_eq!(run.code, 1, "{name}: exit 1\n{}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{name}: {}", run.stderr);
        let located = format!("{}: ", path.display());
        assert!(
            run.stderr.contains(&located) && run.stderr.contains(expected),
            "{name}: expected {located:?} and {expected:?} in:\n{}",
            run.stderr
        );
        let report = run.json();
        assert_valid_report(&report);
        assert_eq!(report["scan"]["complete"], false, "{name}");
        // Only what the state alone says: nothing missing, removed or unowned.
        let findings = drift(&report);
        assert_eq!(codes(&findings), ["source-error"], "{name}");
        let message = findings[0]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{name}: {message}");
    }
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
            .contains("not a describe-security-groups, describe-security-group-rules or describe-network-interfaces document"),
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
