//! The deployment files: the task-role policy grants exactly the AWS operations the
//! code calls (no more, no less, but for the one documented decrypt through S3), the
//! ECS task definition and service wire the pieces `serve` needs, and the Dockerfile
//! ships the stripped build of the code the tests exercise. The ecosystem's own tools
//! judge them too: hadolint the Dockerfile, botocore's ECS model the JSON inputs
//! (installed by scripts/setup-tools.sh on first use).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use driftd::aws::OPERATIONS;
use serde_json::{Value, json};

#[allow(dead_code)]
#[path = "../support/tools.rs"]
mod tools;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn read_json(path: &str) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The Dockerfile's instructions, one string each: comment lines dropped, continued
/// lines joined.
fn dockerfile_instructions() -> Vec<String> {
    let mut instructions = Vec::new();
    let mut current = String::new();
    for line in read("Dockerfile").lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part.trim_end());
                current.push(' ');
            }
            None => {
                current.push_str(line);
                instructions.push(std::mem::take(&mut current));
            }
        }
    }
    instructions
}

/// The arguments of every `keyword` instruction, in order.
fn arguments<'a>(instructions: &'a [String], keyword: &str) -> Vec<&'a str> {
    instructions
        .iter()
        .filter_map(|i| i.strip_prefix(keyword)?.strip_prefix(' '))
        .collect()
}

/// What the image runs, as its Dockerfile says: the exec-form arrays of its
/// ENTRYPOINT, CMD and HEALTHCHECK, and its numeric USER.
struct Image {
    entrypoint: Vec<String>,
    cmd: Vec<String>,
    healthcheck: Vec<String>,
    uid: String,
}

fn image() -> Image {
    let instructions = dockerfile_instructions();
    let last = |keyword: &str| -> String {
        let found = arguments(&instructions, keyword);
        let found = found
            .last()
            .unwrap_or_else(|| panic!("the Dockerfile has no {keyword}"));
        found.to_string()
    };
    let exec_form = |keyword: &str, array: &str| -> Vec<String> {
        serde_json::from_str(array)
            .unwrap_or_else(|e| panic!("{keyword} in exec form (the image has no shell): {e}"))
    };
    let healthcheck = last("HEALTHCHECK");
    let (_, command) = healthcheck
        .split_once(" CMD ")
        .expect("HEALTHCHECK [OPTIONS] CMD [...]");
    let user = last("USER");
    Image {
        entrypoint: exec_form("ENTRYPOINT", &last("ENTRYPOINT")),
        cmd: exec_form("CMD", &last("CMD")),
        healthcheck: exec_form("HEALTHCHECK", command),
        uid: user.split(':').next().unwrap().to_string(),
    }
}

/// Every `${NAME}` in the strings of a TOML document.
fn env_references(value: &toml::Value, out: &mut BTreeSet<String>) {
    match value {
        toml::Value::String(text) => {
            let mut rest = text.as_str();
            while let Some((_, after)) = rest.split_once("${") {
                let (name, tail) = after.split_once('}').expect("a closed ${...}");
                out.insert(name.to_string());
                rest = tail;
            }
        }
        toml::Value::Array(items) => items.iter().for_each(|v| env_references(v, out)),
        toml::Value::Table(table) => table.values().for_each(|v| env_references(v, out)),
        _ => {}
    }
}

/// An IAM resource pattern (a trailing `*` at most) against an ARN.
fn iam_matches(pattern: &str, arn: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => arn.starts_with(prefix),
        None => pattern == arn,
    }
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
            // A plain HTTP request (reqwest's `client.get(url)` ... `.send()`, as in
            // `driftd healthcheck`) starts its chain with a verb and a URL; the
            // SDK's operation builders take no argument.
            let head = (0..i).rev().find(|&j| !lines[j].starts_with('.'));
            let first_call = head.and_then(|j| lines.get(j + 1)).copied();
            let verbs = [".get(", ".post(", ".put(", ".patch(", ".delete(", ".head("];
            if let Some(call) = first_call
                && verbs.iter().any(|verb| call.starts_with(verb))
                && !call.ends_with("()")
            {
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
    let mut decrypt_through_s3 = false;
    for statement in policy["Statement"].as_array().unwrap() {
        assert_eq!(statement["Effect"], "Allow");
        let actions: Vec<&str> = statement["Action"]
            .as_array()
            .unwrap()
            .iter()
            .map(|action| action.as_str().unwrap())
            .collect();
        for action in &actions {
            assert!(!action.contains('*'), "no wildcard actions: {action}");
        }
        // The one action granted without a call in the code: S3 decrypts an SSE-KMS
        // object with its reader's permissions, so a state in such a bucket needs
        // kms:Decrypt. In a statement of its own, usable through S3 only.
        if actions.contains(&"kms:Decrypt") {
            assert_eq!(
                actions,
                ["kms:Decrypt"],
                "kms:Decrypt in a statement of its own"
            );
            assert_eq!(
                statement["Condition"],
                json!({ "StringLike": { "kms:ViaService": "s3.*.amazonaws.com" } }),
                "kms:Decrypt only through S3"
            );
            decrypt_through_s3 = true;
            continue;
        }
        granted.extend(actions);
    }
    let needed: BTreeSet<&str> = OPERATIONS.iter().map(|(action, _)| *action).collect();
    assert_eq!(granted, needed);
    assert!(
        decrypt_through_s3,
        "kms:Decrypt for states in SSE-KMS buckets"
    );
    assert!(
        needed.contains("s3:GetObject"),
        "kms:Decrypt serves the state read from S3"
    );
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

    // Every ${NAME} the example config reads (the Slack webhook, the webhook's
    // signing secret) is injected from Secrets Manager, which the execution role
    // may read.
    let example = read("config/driftd.example.toml");
    let mut wanted = BTreeSet::new();
    env_references(&toml::from_str(&example).unwrap(), &mut wanted);
    assert!(
        wanted.contains("SLACK_WEBHOOK_URL") && wanted.contains("DRIFTD_WEBHOOK_SECRET"),
        "{wanted:?}"
    );
    let secrets: BTreeMap<String, &str> = container["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["valueFrom"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(wanted, secrets.keys().cloned().collect::<BTreeSet<_>>());
    let execution = read_json("deploy/execution-role-policy.json");
    let readable: Vec<&str> = execution["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            s["Action"]
                .as_array()
                .unwrap()
                .contains(&json!("secretsmanager:GetSecretValue"))
        })
        .flat_map(|s| match &s["Resource"] {
            Value::Array(resources) => resources
                .iter()
                .map(|r| r.as_str().unwrap())
                .collect::<Vec<_>>(),
            resource => vec![resource.as_str().unwrap()],
        })
        .collect();
    for (name, arn) in &secrets {
        assert!(arn.starts_with("arn:aws:secretsmanager:"), "{name}: {arn}");
        assert!(
            readable.iter().any(|pattern| iam_matches(pattern, arn)),
            "the execution role cannot read {name} ({arn}): {readable:?}"
        );
    }
    assert!(
        task["executionRoleArn"]
            .as_str()
            .unwrap()
            .contains(":role/")
    );

    assert_eq!(container["logConfiguration"]["logDriver"], "awslogs");
    // The port the example config listens on.
    let port = container["portMappings"][0]["containerPort"]
        .as_u64()
        .unwrap();
    assert!(example.contains(&format!("listen = \"0.0.0.0:{port}\"")));

    // The image's own command, user and health check: `driftd healthcheck` reads
    // [server] listen from the config `serve` runs with; no shell, no curl.
    let image = image();
    let command: Vec<&str> = container["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(command, image.cmd);
    assert_eq!(
        container["user"].as_str().unwrap().split(':').next(),
        Some(image.uid.as_str())
    );
    let check: Vec<&str> = container["healthCheck"]["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(check[0], "CMD", "exec form: the image has no shell");
    assert_eq!(check[1..], image.healthcheck);
    // ECS waits stopTimeout after SIGTERM: more than serve's default grace (25 s).
    assert!(container["stopTimeout"].as_u64().unwrap() > 25);
}

#[test]
fn the_image_ships_the_stripped_build_of_this_crate_as_a_non_root_user() {
    let dockerfile = read("Dockerfile");
    let instructions = dockerfile_instructions();
    let froms = arguments(&instructions, "FROM");
    assert_eq!(froms.len(), 2, "multi-stage: build, then a small runtime");
    // The runtime is distroless (glibc, libgcc, CA certificates, no shell, no package
    // manager) on the Debian release the binary is built on: the same glibc.
    assert!(
        froms[0].starts_with("rust:") && froms[0].contains("-bookworm "),
        "{froms:?}"
    );
    assert!(
        froms[1].starts_with("gcr.io/distroless/cc-debian12:"),
        "{froms:?}"
    );
    let has = |instruction: &str| instructions.iter().any(|i| i == instruction);
    assert!(has("RUN cargo build --profile image --locked --bin driftd"));
    assert!(!dockerfile.contains("--features"));
    assert!(has(
        "COPY --from=build /src/target/image/driftd /usr/local/bin/driftd"
    ));
    // Whatever a stage installs with apt-get, it installs pinned (hadolint's DL3008).
    for run in arguments(&instructions, "RUN") {
        for command in run.split("&&").flat_map(|c| c.split(';')) {
            let words: Vec<&str> = command.split_whitespace().collect();
            if let Some(install) = words.iter().position(|w| *w == "install")
                && words[..install].contains(&"apt-get")
            {
                for package in words[install + 1..].iter().filter(|w| !w.starts_with('-')) {
                    assert!(
                        package.contains('='),
                        "apt-get install {package} without a version: RUN {run}"
                    );
                }
            }
        }
    }

    // A numeric, non-root user, who owns the volume: the only place it writes.
    let image = image();
    assert!(
        image.uid.parse::<u32>().is_ok_and(|uid| uid != 0),
        "USER {}",
        image.uid
    );
    assert!(has(&format!(
        "COPY --from=build --chown={uid}:{uid} /image/data /data",
        uid = image.uid
    )));
    assert!(has("VOLUME [\"/data\"]"));
    assert_eq!(image.entrypoint, ["/usr/local/bin/driftd"]);
    assert_eq!(image.cmd[..2], ["serve", "--config"]);
    // The health check is the binary's own, on the config `serve` reads.
    assert_eq!(
        image.healthcheck,
        [
            image.entrypoint[0].as_str(),
            "healthcheck",
            "--config",
            image.cmd[2].as_str()
        ]
    );

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
        "migrations/sqlite/0001_scan_history.sql".into(),
        "migrations/postgres/0001_scan_history.sql".into(),
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

#[test]
fn the_image_profile_strips_the_binary() {
    let manifest: toml::Table = toml::from_str(&read("Cargo.toml")).unwrap();
    let profile = manifest
        .get("profile")
        .and_then(|p| p.get("image"))
        .expect("Cargo.toml has [profile.image]");
    assert_eq!(
        profile.get("inherits").and_then(toml::Value::as_str),
        Some("release")
    );
    assert_eq!(
        profile.get("debug").and_then(toml::Value::as_bool),
        Some(false)
    );
    assert_eq!(
        profile.get("strip").and_then(toml::Value::as_str),
        Some("symbols")
    );
}

#[test]
fn the_service_runs_one_task_and_never_two_at_once() {
    let service = read_json("deploy/ecs-service.json");
    let task = read_json("deploy/ecs-task-definition.json");
    assert_eq!(service["taskDefinition"], task["family"]);
    assert_eq!(service["desiredCount"], 1);
    // One writer on the SQLite file: a deployment stops the old task before it
    // starts the new one, and a rolling ECS deployment (blue/green runs two sets).
    let deployment = &service["deploymentConfiguration"];
    assert_eq!(deployment["maximumPercent"], 100);
    assert_eq!(deployment["minimumHealthyPercent"], 0);
    assert_eq!(service["deploymentController"]["type"], "ECS");
    assert_eq!(service["schedulingStrategy"], "REPLICA");
    // Where the task definition can run: Fargate, awsvpc.
    assert_eq!(service["launchType"], "FARGATE");
    assert!(
        task["requiresCompatibilities"]
            .as_array()
            .unwrap()
            .contains(&service["launchType"])
    );
    assert_eq!(task["networkMode"], "awsvpc");
    let vpc = &service["networkConfiguration"]["awsvpcConfiguration"];
    assert!(!vpc["subnets"].as_array().unwrap().is_empty());
    assert!(!vpc["securityGroups"].as_array().unwrap().is_empty());
    assert_eq!(service["enableExecuteCommand"], false);
}

#[test]
fn hadolint_finds_nothing_in_the_dockerfile() {
    // An explicit empty configuration, no inline ignores and no HADOLINT_* variables:
    // neither a hadolint.yaml in a home directory nor a comment silences a rule.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hadolint.yaml");
    std::fs::write(&config, "ignored: []\n").unwrap();
    let mut hadolint = tools::hadolint();
    hadolint
        .current_dir(root())
        .arg("--config")
        .arg(config)
        .args(["--failure-threshold", "style", "--disable-ignore-pragma"])
        .args(["--no-color", "Dockerfile"]);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("HADOLINT_") {
            hadolint.env_remove(name);
        }
    }
    let output = hadolint.output().expect("hadolint runs");
    assert!(
        output.status.success(),
        "hadolint:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The PostgreSQL variant: several tasks, no file system, the database URL (which
/// holds a password) injected from Secrets Manager, which the execution role reads.
#[test]
fn the_postgresql_variant_runs_replicas_without_a_file_system() {
    let task = read_json("deploy/ecs-task-definition-postgres.json");
    let service = read_json("deploy/ecs-service-postgres.json");
    assert!(task.get("volumes").is_none());
    let container = &task["containerDefinitions"][0];
    assert!(container.get("mountPoints").is_none());
    let url = container["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "DRIFTD_DATABASE_URL")
        .expect("the database URL is a secret");
    assert!(
        container["environment"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["name"] != "DRIFTD_DATABASE_URL")
    );
    let execution = read_json("deploy/execution-role-policy.json");
    let readable = execution.to_string();
    assert!(
        readable.contains("secret:driftd/database-url*"),
        "the execution role reads {}",
        url["valueFrom"]
    );
    assert_eq!(service["taskDefinition"], task["family"]);
    assert!(service["desiredCount"].as_i64().unwrap() > 1);
    // Replicas take turns per run: a rolling deployment may overlap old and new.
    assert!(
        service["deploymentConfiguration"]["maximumPercent"]
            .as_i64()
            .unwrap()
            > 100
    );
}

#[test]
fn botocore_accepts_the_ecs_files_as_the_input_of_their_calls() {
    let script = root().join("scripts/tools/validate_ecs.py");
    let output = tools::python()
        .arg(&script)
        .current_dir(root())
        .output()
        .expect("validate_ecs.py runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("deploy/ecs-task-definition.json: valid RegisterTaskDefinition input"),
        "{stdout}"
    );
    assert!(
        stdout.contains("deploy/ecs-service.json: valid CreateService input"),
        "{stdout}"
    );
    for variant in [
        "deploy/ecs-task-definition-postgres.json: valid RegisterTaskDefinition input",
        "deploy/ecs-service-postgres.json: valid CreateService input",
    ] {
        assert!(stdout.contains(variant), "{stdout}");
    }

    // The validator does reject what the API would: a count given as a string.
    let mut broken = read_json("deploy/ecs-service.json");
    broken["desiredCount"] = json!("1");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ecs-service.json");
    std::fs::write(&path, broken.to_string()).unwrap();
    let output = tools::python()
        .arg(script)
        .arg(format!("CreateService={}", path.display()))
        .output()
        .expect("validate_ecs.py runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !output.status.success() && stdout.contains("Invalid type for parameter desiredCount"),
        "{stdout}"
    );
}
