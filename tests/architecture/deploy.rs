//! The deployment files: the task-role policy grants exactly the AWS operations the
//! code calls (no more, no less), the ECS task definition wires the pieces `serve`
//! needs, and the Dockerfile builds the binary the tests exercise.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use driftd::aws::OPERATIONS;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_json(path: &str) -> Value {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The SDK method of every `.send()` in `src/`: the operation builder is the
/// first call after the client (`client` / `sts_client(..)` on the line before).
fn sdk_calls_in_source() -> Vec<(String, String)> {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut calls = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        for (i, line) in lines.iter().enumerate() {
            if !line.starts_with(".send()") {
                continue;
            }
            let operation = (1..i).rev().take(20).find_map(|j| {
                let method = lines[j].strip_prefix('.')?.strip_suffix("()")?;
                let is_method = method.chars().all(|c| c.is_ascii_lowercase() || c == '_');
                (is_method && lines[j - 1].contains("client")).then(|| method.to_string())
            });
            let site = format!("{}:{}", file.display(), i + 1);
            let operation = operation
                .unwrap_or_else(|| panic!("{site}: cannot tell which AWS operation this sends"));
            calls.push((site, operation));
        }
    }
    calls
}

#[test]
fn the_policy_grants_exactly_the_operations_the_code_calls() {
    let calls = sdk_calls_in_source();
    assert!(calls.len() >= 5, "{calls:?}");
    let called: BTreeSet<&str> = calls.iter().map(|(_, op)| op.as_str()).collect();
    let listed: BTreeSet<&str> = OPERATIONS.iter().map(|(_, method)| *method).collect();
    assert_eq!(
        called, listed,
        "aws::OPERATIONS against the calls in src/: {calls:#?}"
    );

    let policy = read_json("deploy/iam-policy.json");
    assert_eq!(policy["Version"], "2012-10-17");
    let mut granted = BTreeSet::new();
    for statement in policy["Statement"].as_array().unwrap() {
        assert_eq!(statement["Effect"], "Allow");
        for action in statement["Action"].as_array().unwrap() {
            let action = action.as_str().unwrap();
            assert!(!action.contains('*'), "no wildcard actions: {action}");
            granted.insert(action);
        }
    }
    let needed: BTreeSet<&str> = OPERATIONS.iter().map(|(action, _)| *action).collect();
    assert_eq!(granted, needed);
}

#[test]
fn the_task_definition_has_what_serve_needs() {
    let task = read_json("deploy/ecs-task-definition.json");
    assert_eq!(task["family"], "driftd");
    assert!(task["taskRoleArn"].as_str().unwrap().contains(":role/"));
    let container = &task["containerDefinitions"][0];
    assert_eq!(container["essential"], true);
    assert_eq!(container["command"][0], "serve");
    assert_eq!(container["command"][1], "--config");

    // The database on the EFS volume.
    let env: Vec<(&str, &str)> = container["environment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["value"].as_str().unwrap()))
        .collect();
    let database = env
        .iter()
        .find(|(name, _)| *name == "DRIFTD_DATABASE_URL")
        .unwrap()
        .1;
    let mount = &container["mountPoints"][0];
    let data = mount["containerPath"].as_str().unwrap();
    assert!(
        database.starts_with(&format!("sqlite://{data}/")),
        "{database}"
    );
    let volume = task["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == mount["sourceVolume"])
        .expect("the mounted volume is defined");
    assert!(volume["efsVolumeConfiguration"]["fileSystemId"].is_string());
    assert!(env.contains(&("DRIFTD_LOG_FORMAT", "json")));

    // The Slack webhook from Secrets Manager, as the config's ${SLACK_WEBHOOK_URL}.
    let secret = &container["secrets"][0];
    assert_eq!(secret["name"], "SLACK_WEBHOOK_URL");
    assert!(
        secret["valueFrom"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:secretsmanager:")
    );
    let example = std::fs::read_to_string(root().join("config/driftd.example.toml")).unwrap();
    assert!(example.contains("${SLACK_WEBHOOK_URL}"));

    assert_eq!(container["logConfiguration"]["logDriver"], "awslogs");
    // The health check asks /healthz on the port the example config listens on.
    let port = container["portMappings"][0]["containerPort"]
        .as_u64()
        .unwrap();
    assert!(example.contains(&format!("listen = \"0.0.0.0:{port}\"")));
    let check = container["healthCheck"]["command"].to_string();
    assert!(
        check.contains("/healthz") && check.contains(&port.to_string()),
        "{check}"
    );
    // ECS waits stopTimeout after SIGTERM: more than serve's default grace (25 s).
    assert!(container["stopTimeout"].as_u64().unwrap() > 25);
}

#[test]
fn the_image_runs_the_release_build_of_this_crate_as_a_non_root_user() {
    let dockerfile = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    let froms = dockerfile
        .lines()
        .filter(|l| l.starts_with("FROM "))
        .count();
    assert_eq!(froms, 2, "multi-stage: build, then a small runtime");
    assert!(dockerfile.contains("RUN cargo build --release --locked --bin driftd\n"));
    assert!(!dockerfile.contains("--features"));
    assert!(
        dockerfile.contains("COPY --from=build /src/target/release/driftd /usr/local/bin/driftd")
    );
    assert!(dockerfile.contains("ca-certificates"));
    assert!(dockerfile.contains("USER 10001"));
    assert!(dockerfile.contains("VOLUME [\"/data\"]"));
    assert!(dockerfile.contains("ENTRYPOINT [\"/usr/local/bin/driftd\"]"));
    assert!(dockerfile.contains("CMD [\"serve\""));

    // Everything the build reads is copied in: the manifest's targets, the
    // embedded migrations, the workspace members' manifests.
    let copied: Vec<&str> = dockerfile
        .lines()
        .filter_map(|l| l.strip_prefix("COPY "))
        .filter(|l| !l.starts_with("--from"))
        .flat_map(|l| l.split_whitespace().rev().skip(1))
        .collect();
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let mut needed: Vec<String> = manifest
        .lines()
        .filter_map(|l| l.strip_prefix("path = \""))
        .map(|p| p.trim_end_matches('"').to_string())
        .collect();
    needed.extend([
        "Cargo.lock".into(),
        "migrations/0001_scan_history.sql".into(),
    ]);
    // Cargo loads every workspace member's manifest, even to build one package.
    let members = manifest
        .split_once("members = [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(list, _)| list)
        .expect("the root manifest lists the workspace members");
    needed.extend(
        members
            .split(',')
            .map(|m| m.trim().trim_matches('"'))
            .filter(|m| !m.is_empty())
            .map(|m| format!("{m}/Cargo.toml")),
    );
    for path in needed {
        assert!(
            copied
                .iter()
                .any(|c| path == *c || path.starts_with(&format!("{c}/"))),
            "the Dockerfile does not copy {path} (copies {copied:?})"
        );
    }
}
