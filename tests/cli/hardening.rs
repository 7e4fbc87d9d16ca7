//! Input that must never crash, hang or leak: a crafted state that would exhaust the
//! stack, an endpoint that never answers, a FIFO, a device or a huge file as input,
//! config errors around secrets, text encodings, a damaged database, and a database
//! URL that is not one. Each is a clear error (exit 1), never a panic or an abort.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::cli::*;
use crate::support::region_gate::{HANG_LIMIT, Silent};
use serde_json::{Value, json};

/// A state whose one group is read from the legacy flat map, with an extra key of
/// `segments` dot-separated parts (which the reader ignores, once rebuilt).
fn flat_state(segments: usize) -> Value {
    let mut flat = json!({
        "id": "sg-0a1b2c3d4e5f60001",
        "arn": "arn:aws:ec2:us-east-1:123456789012:security-group/sg-0a1b2c3d4e5f60001",
        "name": "alb-public",
        "description": "flat",
        "vpc_id": "vpc-0c0ffee1234567890",
        "ingress.#": "0",
        "egress.#": "0",
        "tags.%": "0",
    });
    flat[vec!["a"; segments].join(".")] = json!("x");
    json!({
        "version": 4,
        "terraform_version": "0.12.31",
        "resources": [{
            "mode": "managed",
            "type": "aws_security_group",
            "name": "deep",
            "instances": [{"schema_version": 1, "attributes_flat": flat}]
        }]
    })
}

/// `report --format json` of `state` against the clean captured groups.
fn report_json(state: &Path, env: &[(String, String)]) -> Run {
    driftd_with_env(
        &[
            "report",
            "--state",
            state.to_str().unwrap(),
            "--live",
            CLEAN_GROUPS,
            "--region",
            "us-east-1",
            "--format",
            "json",
        ],
        env,
    )
}

fn source_errors(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "source-error")
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_flat_key_nests_at_most_64_levels_and_deeper_is_an_error_not_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    // At the bound the state is read; one past it and far past it (the 40 KB key
    // that aborted `report`) are each a clear error.
    let at_bound = write_json(dir.path(), "at.tfstate", &flat_state(64));
    let run = report_json(&at_bound, &[]);
    let report = run.json();
    assert_valid_report(&report);
    assert_eq!(
        source_errors(&report),
        Vec::<String>::new(),
        "{}",
        run.stderr
    );
    assert_eq!(report["summary"]["managed_security_groups"], 1);

    for segments in [65, 8_500] {
        let path = write_json(
            dir.path(),
            &format!("deep{segments}.tfstate"),
            &flat_state(segments),
        );
        let run = report_json(&path, &[]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(!run.stderr.contains("overflow"), "{}", run.stderr);
        let report = run.json();
        let errors = source_errors(&report);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].contains("at $.resources[0].instances[0].attributes_flat: key \"a.a.a")
                && errors[0].contains(&format!(
                    "has {segments} dot-separated segments; driftd reads at most 64"
                )),
            "{}",
            errors[0]
        );
    }
}

/// `serve` scans on tokio's worker threads (2 MiB stacks): the reader holds there,
/// and on a much smaller stack at the bound.
#[test]
fn the_state_reader_holds_on_small_stacks() {
    let parse = |segments: usize, stack: usize| {
        let text = serde_json::to_vec(&flat_state(segments)).unwrap();
        std::thread::Builder::new()
            .stack_size(stack)
            .spawn(move || {
                driftd::sources::terraform::parse_state("deep.tfstate", &text)
                    .map(|intent| intent.groups.len())
                    .map_err(|e| e.to_string())
            })
            .unwrap()
            .join()
            .expect("the reader does not overflow its stack")
    };
    assert_eq!(parse(64, 256 * 1024), Ok(1));
    let error = parse(2_500, 2 * 1024 * 1024).unwrap_err();
    assert!(error.contains("has 2500 dot-separated segments"), "{error}");
}

/// Runs driftd, killing it (and failing) if it outlives [`HANG_LIMIT`].
fn run_bounded(args: &[&str], env: &[(String, String)]) -> (Run, Duration) {
    let (mut command, _scratch) = driftd_command(args, env);
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || std::io::read_to_string(&mut stdout).unwrap());
    let err = std::thread::spawn(move || std::io::read_to_string(&mut stderr).unwrap());
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code().unwrap_or(-1);
        }
        if started.elapsed() > HANG_LIMIT {
            let _ = child.kill();
            panic!("driftd {args:?} hung for {HANG_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = started.elapsed();
    let run = Run {
        code,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    (run, took)
}

fn dummy_aws(endpoint: &str) -> Vec<(String, String)> {
    [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[test]
fn an_endpoint_that_never_answers_fails_its_region_within_the_timeouts() {
    let silent = Silent::start();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("driftd.toml");
    std::fs::write(
        &config,
        "[aws]\nconnect_timeout = \"1s\"\nread_timeout = \"1s\"\ncall_timeout = \"5s\"\n",
    )
    .unwrap();
    let (run, took) = run_bounded(
        &[
            "report",
            "--config",
            config.to_str().unwrap(),
            "--state",
            CHAIN_STATE,
            "--region",
            "us-east-1",
            "--format",
            "json",
        ],
        &dummy_aws(&silent.endpoint()),
    );
    // Every attempt timed out and was retried within the call's 5 s.
    assert!(took < Duration::from_secs(20), "{took:?}");
    assert!(silent.connections.load(std::sync::atomic::Ordering::SeqCst) >= 2);
    let (_, findings) = partial_report(&run);
    assert_eq!(
        codes(&findings),
        ["source-error"],
        "nothing is called missing"
    );
    let message = findings[0]["message"].as_str().unwrap();
    assert!(
        message.contains("default/us-east-1")
            && message.contains("DescribeSecurityGroups")
            && message.contains("timeout"),
        "{message}"
    );
    // What failed, where and why, in words: no Rust `Debug` dump of the SDK error.
    for dump in ["DispatchFailure", "ConnectorError", "source:", "{"] {
        assert!(!message.contains(dump), "{message}");
    }
    assert!(
        message.len() < 250,
        "{} characters: {message}",
        message.len()
    );
    // The retries are said while they happen.
    assert!(
        run.stderr.contains("AWS call attempt 1 of up to 5 failed")
            && run.stderr.contains("AWS call attempt 2 of up to 5 failed"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_fifo_a_device_and_a_file_past_the_limit_are_refused_without_reading() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("state.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // A sparse file one byte past the documented 2 GiB: nothing of it is read.
    let huge = dir.path().join("huge.tfstate");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len((2 << 30) + 1)
        .unwrap();
    let cases: [(&[&str], PathBuf, &str); 4] = [
        (
            &["--live", CLEAN_GROUPS, "--state"],
            fifo.clone(),
            "it is a FIFO (named pipe), not a regular file",
        ),
        (
            &["--state", CHAIN_STATE, "--live"],
            fifo.clone(),
            "it is a FIFO (named pipe), not a regular file",
        ),
        (
            &["--state", CHAIN_STATE, "--live"],
            PathBuf::from("/dev/zero"),
            "it is a device, not a regular file",
        ),
        (
            &["--live", CLEAN_GROUPS, "--state"],
            huge,
            "it holds 2.0 GiB (2147483649 bytes), more than the 2 GiB driftd reads",
        ),
    ];
    for (args, path, expected) in cases {
        let mut all = vec!["report", "--region", "us-east-1", "--format", "json"];
        all.extend(args);
        all.push(path.to_str().unwrap());
        let (run, _) = run_bounded(&all, &[]);
        assert_eq!(run.code, 1, "{all:?}: {}", run.stderr);
        let report = run.json();
        let errors = source_errors(&report);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].contains(path.to_str().unwrap()) && errors[0].contains(expected),
            "{}",
            errors[0]
        );
        assert_eq!(
            codes(&drift(&report)),
            ["source-error"],
            "nothing read, nothing called missing or unmanaged"
        );
    }
}

#[test]
fn a_config_error_never_shows_a_secret_or_a_substituted_value() {
    let dir = tempfile::tempdir().unwrap();
    let url = "https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX";
    let cases = [
        // A missing closing quote: toml would print the line, URL and all.
        (
            format!("[notify.slack]\nwebhook_url = \"{url}\n"),
            vec![url, "XXXXSECRETXXXX"],
            "invalid TOML at line 2, column",
        ),
        (
            "[notify.webhook]\nurl = \"https://hooks.example.com/x\"\nsecret = 987654321987\n"
                .to_string(),
            vec!["987654321987"],
            "at notify.webhook.secret: invalid type: integer",
        ),
        (
            "[notify.webhook]\nurl = \"${HOOK}\"\nmin_severity = \"${HOOK_SECRET}\"\n".to_string(),
            vec!["s3cr3t-value-from-env", "hooks.internal"],
            "at notify.webhook.min_severity: unknown severity \"***\"",
        ),
        // A substituted value in the wrong place is not echoed either.
        (
            "[scan]\nregions = [\"${REGION}\"]\n".to_string(),
            vec!["not_a_region_but_a_token"],
            "at scan.regions[0]",
        ),
    ];
    let env = [
        ("HOOK".to_string(), "https://hooks.internal/abc".to_string()),
        (
            "HOOK_SECRET".to_string(),
            "s3cr3t-value-from-env".to_string(),
        ),
        ("REGION".to_string(), "not_a_region_but_a_token".to_string()),
    ];
    for (i, (text, secrets, expected)) in cases.iter().enumerate() {
        let config = dir.path().join(format!("c{i}.toml"));
        std::fs::write(&config, text).unwrap();
        for subcommand in ["check-config", "serve"] {
            let run = driftd_with_env(&[subcommand, "--config", config.to_str().unwrap()], &env);
            assert_eq!(run.code, 1, "{text}");
            let output = format!("{}{}", run.stdout, run.stderr);
            assert!(output.contains(expected), "{expected:?} in {output}");
            for secret in secrets {
                assert!(!output.contains(secret), "{secret:?} shown: {output}");
            }
        }
    }
}

#[test]
fn durations_schedules_and_retention_are_bounded_in_check_config() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[[schedule]]\ncron = \"0 */10 * * * *\"\njitter = \"1000000000d\"\n",
            "at schedule[0].jitter: \"1000000000d\" is longer than 3650d, the longest duration driftd accepts",
        ),
        (
            "[[schedule]]\ncron = \"0 */10 * * * *\"\njitter = \"18446744073709551615\"\n",
            "at schedule[0].jitter: \"18446744073709551615\" is longer than 3650d",
        ),
        (
            "[[schedule]]\ncron = \"0 */10 * * * *\"\nregions = [\"us-east-1\", \"eu-west-1\"]\n\n\
             [[schedule]]\ncron = \"*/10  * * * *\"\nregions = [\"eu-west-1\", \"us-east-1\"]\njitter = \"30s\"\n",
            "at schedule[1]: the same scans at the same times as schedule[0]",
        ),
        (
            "[store]\nretain_days = 4000000000\n",
            "at store.retain_days: 4000000000 is more than 3650",
        ),
        (
            "[scan]\ntimeout = \"0s\"\n",
            "at scan.timeout: must be longer than 0s",
        ),
        (
            "[scan]\ntimeout = \"5m\"\n\n[[cloudformation]]\nstacks = [\"*\"]\n",
            "at cloudformation[0].drift_timeout: 600s, the default, is not shorter than scan.timeout (300s)",
        ),
        (
            "[aws]\nread_timeout = \"soon\"\n",
            "at aws.read_timeout: \"soon\" is not a duration",
        ),
        (
            "[server]\nmax_connections = 0\n",
            "at server.max_connections: must be at least 1",
        ),
        (
            "[store]\nurl = \"not a url\"\n",
            "the database URL is not one driftd can use: expected sqlite://PATH",
        ),
    ];
    for (i, (text, expected)) in cases.iter().enumerate() {
        let config = dir.path().join(format!("c{i}.toml"));
        std::fs::write(&config, text).unwrap();
        let run = driftd(&["check-config", "--config", config.to_str().unwrap()]);
        assert_eq!(run.code, 1, "{text}\n{}", run.stdout);
        assert!(
            run.stderr.contains(expected),
            "{expected:?} in {}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
}

#[test]
fn a_database_url_that_is_not_one_is_refused_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    // Not a URL; and a PostgreSQL server that is not there (port 1).
    let cases = [
        ("not a url", "the database URL is not one driftd can use"),
        (
            "postgres://driftd:hunter2@127.0.0.1:1/driftd",
            "cannot open the database postgres://127.0.0.1:1/driftd",
        ),
    ];
    for (url, said) in cases {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_driftd"));
        let output = command
            .current_dir(dir.path())
            .args(["report", "--state"])
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(CHAIN_STATE))
            .args(["--live"])
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(CLEAN_GROUPS))
            .args(["--region", "us-east-1"])
            .env("DRIFTD_DATABASE_URL", url)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(said), "{stderr}");
        assert!(!stderr.contains("hunter2"), "{stderr}");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no file made"
        );
    }
}

#[test]
fn a_damaged_database_is_named_and_the_report_still_printed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("driftd.db");
    let report = || report_json(Path::new(CHAIN_STATE), &[database_env(&db)]);
    let run = report();
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Fold the write-ahead log in, then overwrite the body of every page but the first.
    let checkpoint = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('PRAGMA wal_checkpoint(TRUNCATE)'); c.close()",
        ])
        .arg(&db)
        .status()
        .unwrap();
    assert!(checkpoint.success());
    let mut bytes = std::fs::read(&db).unwrap();
    let page = u16::from_be_bytes([bytes[16], bytes[17]]) as usize;
    for start in (page..bytes.len()).step_by(page) {
        bytes[start + 8..start + 300].fill(0x5a);
    }
    std::fs::write(&db, &bytes).unwrap();

    let run = report();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_valid_report(&run.json());
    assert!(
        run.stderr
            .contains(&format!("the database {} is damaged", db.display()))
            && run.stderr.contains("database disk image is malformed")
            && run.stderr.contains("this scan is not stored"),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.stderr.matches("malformed").count(),
        1,
        "said once: {}",
        run.stderr
    );
    assert_eq!(std::fs::read(&db).unwrap(), bytes, "left as it was");
}

#[test]
fn a_utf8_mark_is_read_and_utf16_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let groups = std::fs::read_to_string(CLEAN_GROUPS).unwrap();
    let state = std::fs::read_to_string(CHAIN_STATE).unwrap();
    let marked = |text: &str| [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
    let utf16 = |text: &str| -> Vec<u8> {
        "\u{feff}"
            .chars()
            .chain(text.chars())
            .collect::<String>()
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect()
    };
    std::fs::write(dir.path().join("groups-bom.json"), marked(&groups)).unwrap();
    std::fs::write(dir.path().join("state-bom.tfstate"), marked(&state)).unwrap();
    std::fs::write(dir.path().join("groups-16.json"), utf16(&groups)).unwrap();
    std::fs::write(dir.path().join("state-16.tfstate"), utf16(&state)).unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();

    let clean = chain_report(&[Path::new(CLEAN_GROUPS)]).json();
    let marked_run = driftd(&[
        "report",
        "--state",
        &path("state-bom.tfstate"),
        "--live",
        &path("groups-bom.json"),
        "--region",
        "us-east-1",
        "--format",
        "json",
    ]);
    let marked_report = marked_run.json();
    assert_eq!(
        marked_report["summary"], clean["summary"],
        "{}",
        marked_run.stderr
    );
    assert_eq!(
        codes(marked_report["findings"].as_array().unwrap()),
        codes(clean["findings"].as_array().unwrap())
    );

    for (state, live, named) in [
        (
            CHAIN_STATE.to_string(),
            path("groups-16.json"),
            path("groups-16.json"),
        ),
        (
            path("state-16.tfstate"),
            CLEAN_GROUPS.to_string(),
            path("state-16.tfstate"),
        ),
    ] {
        let run = driftd(&[
            "report",
            "--state",
            &state,
            "--live",
            &live,
            "--region",
            "us-east-1",
            "--format",
            "json",
        ]);
        assert_eq!(run.code, 1);
        let errors = source_errors(&run.json());
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].contains(&named)
                && errors[0].contains("the document is UTF-16 (little-endian); save it as UTF-8"),
            "{}",
            errors[0]
        );
    }
}

#[test]
fn a_non_utf8_state_path_is_named() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"st\xffte.tfstate");
    let path = dir.path().join(name);
    std::fs::copy(CHAIN_STATE, &path).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_driftd"))
        .args(["report", "--no-store", "--live", CLEAN_GROUPS, "--state"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "--state {}: the path is not valid UTF-8",
            path.to_string_lossy()
        )),
        "{stderr}"
    );
}

#[test]
fn flat_map_errors_point_at_the_flat_map() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = flat_state(1);
    let flat = &mut state["resources"][0]["instances"][0]["attributes_flat"];
    flat["ingress.#"] = json!("1");
    flat["ingress.0.from_port"] = json!("abc");
    flat["ingress.0.to_port"] = json!("80");
    flat["ingress.0.protocol"] = json!("tcp");
    let path = write_json(dir.path(), "flat.tfstate", &state);
    let run = report_json(&path, &[]);
    let errors = source_errors(&run.json());
    assert_eq!(errors.len(), 1);
    // write_json pretty-prints: the flat map opens on line 6, column 30.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.lines()
            .nth(5)
            .unwrap()
            .ends_with("\"attributes_flat\": {"),
        "{text}"
    );
    assert_eq!(
        text.lines().nth(5).unwrap().len(),
        30,
        "the brace is column 30"
    );
    assert!(
        errors[0].contains("at $.resources[0].instances[0].attributes_flat.ingress[0].from_port (line 6, column 30)"),
        "{}",
        errors[0]
    );
}

/// `report --from-store` prints what was stored, without scanning: a whole scan's
/// result as it was stored (statuses from history), exit code and all; an empty or
/// missing database is an error naming it, never an empty all-clear.
#[test]
fn report_from_store_prints_the_stored_result_and_refuses_an_empty_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = database_env(&dir.path().join("driftd.db"));
    let missing = driftd_with_env(
        &["report", "--from-store", "--format", "json"],
        std::slice::from_ref(&db),
    );
    assert_eq!(missing.code, 1, "{}", missing.stderr);
    assert!(missing.stderr.contains("driftd.db"), "{}", missing.stderr);
    assert!(missing.stdout.is_empty());

    // The public load balancer's HTTPS ingress edited to 8443 in the console.
    let mut rules = read_json(CLEAN_RULES);
    rules["SecurityGroupRules"][0]["FromPort"] = json!(8443);
    rules["SecurityGroupRules"][0]["ToPort"] = json!(8443);
    let rules = write_json(dir.path(), "rules.json", &rules);
    let args = [
        "report",
        "--state",
        CHAIN_STATE,
        "--live",
        CLEAN_GROUPS,
        "--live",
        rules.to_str().unwrap(),
        "--region",
        "us-east-1",
        "--format",
        "json",
    ];
    let scanned = driftd_with_env(&args, std::slice::from_ref(&db));
    assert_eq!(scanned.code, 2, "{}", scanned.stderr);
    let scanned = scanned.json();
    let stored = driftd_with_env(
        &["report", "--from-store", "--format", "json"],
        std::slice::from_ref(&db),
    );
    assert_eq!(stored.code, 2, "{}", stored.stderr);
    let stored = stored.json();
    assert_valid_report(&stored);
    assert_eq!(stored["findings"], scanned["findings"]);
    assert_eq!(stored["summary"], scanned["summary"]);
    assert_eq!(stored["scan"]["id"], scanned["scan"]["id"]);
    assert!(
        stored["scan"].get("scopes").is_none(),
        "one whole scan, not scopes"
    );

    let both = driftd_with_env(
        &["report", "--from-store", "--state", CHAIN_STATE],
        std::slice::from_ref(&db),
    );
    assert_eq!(both.code, 1);
    assert!(
        both.stderr.contains("cannot be used with"),
        "{}",
        both.stderr
    );
}
