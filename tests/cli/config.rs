//! The configuration file (contracts/CONFIG.md): the example parses, unknown keys
//! and bad values are refused with a message that names them, secrets stay hidden.

use std::path::Path;

use chrono::{TimeZone, Utc};
use driftd::config::{Account, CloudFormationSource, Config, ConfigError};
use driftd::model::{FindingCode, Severity};
use driftd::sources::cloudformation::DriftOptions;

const SLACK_URL: &str = "https://hooks.slack.com/services/T000/B000/very-secret-token";
const WEBHOOK_SECRET: &str = "hmac-shared-secret-value";

fn env(name: &str) -> Option<String> {
    match name {
        "SLACK_WEBHOOK_URL" => Some(SLACK_URL.to_string()),
        "DRIFTD_WEBHOOK_SECRET" => Some(WEBHOOK_SECRET.to_string()),
        "ACCOUNT_ID" => Some("210987654321".to_string()),
        _ => None,
    }
}

fn example() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/driftd.example.toml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, "x.toml", None, env)
}

/// The error of `text`, which must be refused, as the user sees it.
fn error(text: &str) -> String {
    match parse(text) {
        Ok(config) => panic!("accepted:\n{text}\n→ {config:?}"),
        Err(e) => {
            assert_eq!(e.file, "x.toml");
            let shown = e.to_string();
            assert!(shown.starts_with("x.toml: "), "{shown}");
            shown
        }
    }
}

fn assert_error(text: &str, needles: &[&str]) {
    let message = error(text);
    for needle in needles {
        assert!(
            message.contains(needle),
            "error for\n{text}\nshould mention {needle:?}: {message}"
        );
    }
}

#[test]
fn the_example_file_parses_with_every_value() {
    let config = parse(&example()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.regions, ["us-east-1", "eu-west-1"]);
    assert!(!config.include_default_groups);
    assert_eq!(
        config.accounts,
        [Account {
            id: "123456789012".into(),
            role_arn: Some("arn:aws:iam::123456789012:role/driftd-read".into()),
        }]
    );
    assert_eq!(
        config.terraform_states,
        ["s3://bucket/path/terraform.tfstate"]
    );
    assert_eq!(
        config.cloudformation,
        [CloudFormationSource {
            stacks: vec!["prod-network".into()],
            regions: vec!["us-east-1".into()],
            drift: DriftOptions {
                reuse_younger_than: Some(std::time::Duration::from_secs(1800)),
                ..DriftOptions::default()
            },
        }]
    );
    assert_eq!(config.store_url.as_deref(), Some("sqlite://driftd.db"));
    assert_eq!(config.retain_days, Some(90));
    assert_eq!(config.listen, Some("0.0.0.0:9090".parse().unwrap()));
    let crons: Vec<String> = config
        .schedules
        .iter()
        .map(|s| s.cron.to_string())
        .collect();
    assert_eq!(crons, ["*/10 * * * *"]);
    assert_eq!(
        config.ready_max_age,
        Some(std::time::Duration::from_secs(1800))
    );
    assert_eq!(
        config.shutdown_grace,
        Some(std::time::Duration::from_secs(25))
    );
    assert_eq!(
        config.header_timeout,
        Some(std::time::Duration::from_secs(10))
    );
    assert_eq!(config.max_connections, Some(256));
    assert_eq!(
        config.scan_timeout,
        Some(std::time::Duration::from_secs(1800))
    );
    assert_eq!(
        (
            config.aws_connect_timeout,
            config.aws_read_timeout,
            config.aws_call_timeout
        ),
        (
            Some(std::time::Duration::from_secs(5)),
            Some(std::time::Duration::from_secs(60)),
            Some(std::time::Duration::from_secs(300))
        )
    );

    let slack = config.slack.as_ref().expect("notify.slack");
    assert_eq!(slack.url.expose(), SLACK_URL);
    assert_eq!(slack.min_severity, Severity::Medium);
    let webhook = config.webhook.as_ref().expect("notify.webhook");
    assert_eq!(webhook.url.expose(), "https://hooks.example.com/driftd");
    assert_eq!(webhook.min_severity, Severity::Low);
    assert_eq!(
        config.webhook_secret.as_ref().map(|s| s.expose()),
        Some(WEBHOOK_SECRET)
    );

    assert_eq!(config.acknowledgements.len(), 1);
    let ack = &config.acknowledgements[0];
    assert_eq!(ack.code, Some(FindingCode::RuleModified));
    assert_eq!(ack.group_id.as_deref(), Some("sg-0123456789abcdef0"));
    assert_eq!(
        ack.address.as_deref(),
        Some("module.net.aws_security_group.alb")
    );
    assert_eq!(ack.field.as_deref(), Some("description"));
    assert_eq!(ack.reason, "temporary debugging port, OPS-142");
    let expires = ack.expires.as_ref().expect("expires");
    assert_eq!(expires.text, "2027-01-31");
    assert_eq!(
        expires.at,
        Utc.with_ymd_and_hms(2027, 2, 1, 0, 0, 0).unwrap()
    );

    assert_eq!(
        config.severity.into_iter().collect::<Vec<_>>(),
        [(FindingCode::DependencyHidden, Severity::Low)]
    );
}

#[test]
fn the_example_needs_its_environment_variables() {
    let err = Config::parse(&example(), "driftd.toml", None, |_| None).unwrap_err();
    let message = err.to_string();
    assert!(message.starts_with("driftd.toml: "), "{message}");
    assert!(message.contains("SLACK_WEBHOOK_URL"), "{message}");
}

#[test]
fn an_empty_file_is_a_valid_config_with_defaults() {
    let config = parse("").unwrap();
    assert!(config.regions.is_empty());
    assert!(config.accounts.is_empty());
    assert!(config.terraform_states.is_empty());
    assert!(config.slack.is_none());
    assert!(config.acknowledgements.is_empty());
}

#[test]
fn defaults_of_optional_keys() {
    let config = parse(
        r#"
        [scan]
        regions = ["eu-west-1"]
        [[cloudformation]]
        stacks = ["*"]
        [notify.slack]
        webhook_url = "https://hooks.slack.com/x"
        [notify.webhook]
        url = "https://hooks.example.com/y"
        "#,
    )
    .unwrap();
    assert_eq!(config.cloudformation[0].regions, ["eu-west-1"]);
    assert_eq!(config.slack.unwrap().min_severity, Severity::Medium);
    assert_eq!(config.webhook.unwrap().min_severity, Severity::Low);
    assert!(config.webhook_secret.is_none());
}

#[test]
fn environment_variables_are_substituted_anywhere_in_a_string() {
    let config = parse(
        r#"
        [[account]]
        id = "${ACCOUNT_ID}"
        role_arn = "arn:aws:iam::${ACCOUNT_ID}:role/driftd-read"
        "#,
    )
    .unwrap();
    assert_eq!(
        config.accounts,
        [Account {
            id: "210987654321".into(),
            role_arn: Some("arn:aws:iam::210987654321:role/driftd-read".into()),
        }]
    );
}

#[test]
fn relative_state_paths_are_taken_from_the_config_directory() {
    let text = r#"
        [[terraform]]
        state = "states/prod.tfstate"
        [[terraform]]
        state = "/abs/other.tfstate"
        [[terraform]]
        state = "s3://b/k.tfstate"
    "#;
    let config = Config::parse(text, "x.toml", Some(Path::new("/etc/driftd")), env).unwrap();
    assert_eq!(
        config.terraform_states,
        [
            Path::new("/etc/driftd")
                .join("states/prod.tfstate")
                .display()
                .to_string(),
            "/abs/other.tfstate".to_string(),
            "s3://b/k.tfstate".to_string(),
        ]
    );
}

#[test]
fn unknown_keys_are_refused_by_name() {
    let cases = [
        ("top level", "regoins = [\"us-east-1\"]\n", "regoins"),
        ("in [scan]", "[scan]\nregion = [\"us-east-1\"]\n", "region"),
        (
            "in [notify.slack]",
            "[notify.slack]\nwebhook_url = \"https://x\"\nwebhok_url = \"https://y\"\n",
            "webhok_url",
        ),
        (
            "a table under [notify]",
            "[notify.teams]\nurl = \"https://x\"\n",
            "teams",
        ),
        (
            "in [[acknowledge]]",
            "[[acknowledge]]\ncode = \"rule-added\"\nreason = \"r\"\nexpiry = \"2027-01-01\"\n",
            "expiry",
        ),
        (
            "in [store]",
            "[store]\nurl = \"sqlite://x\"\nretain = 3\n",
            "retain",
        ),
    ];
    for (name, text, key) in cases {
        let message = error(text);
        assert!(
            message.contains(&format!("`{key}`")),
            "{name}: the error should name `{key}`: {message}"
        );
    }
    // A nested unknown key also says where it is.
    let message =
        error("[notify.slack]\nwebhook_url = \"https://x\"\nwebhok_url = \"https://y\"\n");
    assert!(message.contains("notify.slack"), "{message}");
}

#[test]
fn unset_environment_variable_is_named() {
    let message = error("[notify.webhook]\nurl = \"https://x\"\nsecret = \"${UNSET_SECRET}\"\n");
    assert!(message.contains("UNSET_SECRET"), "{message}");
    assert!(message.contains("notify.webhook.secret"), "{message}");
    let message = error("[[terraform]]\nstate = \"${UNSET}/prod.tfstate\"\n");
    assert!(message.contains("UNSET"), "{message}");
    // An unterminated reference is refused rather than kept literally.
    assert_error("[store]\nurl = \"${UNSET\"\n", &["store.url"]);
}

#[test]
fn acknowledgements_are_validated() {
    let cases: [(&str, &str, &[&str]); 8] = [
        (
            "no reason",
            "[[acknowledge]]\ncode = \"rule-added\"\n",
            &["acknowledge[0]", "reason"],
        ),
        (
            "empty reason",
            "[[acknowledge]]\ncode = \"rule-added\"\nreason = \"  \"\n",
            &["acknowledge[0]", "reason"],
        ),
        (
            "only a reason",
            "[[acknowledge]]\nreason = \"everything is fine\"\n",
            &[
                "acknowledge[0]",
                "code",
                "group_id",
                "address",
                "changed_by",
            ],
        ),
        (
            "anyone at all",
            "[[acknowledge]]\nchanged_by = \"**\"\nreason = \"r\"\n",
            &["acknowledge[0].changed_by", "bare `*`"],
        ),
        (
            "only a reason and a field",
            "[[acknowledge]]\nfield = \"description\"\nreason = \"r\"\n",
            &["acknowledge[0]"],
        ),
        (
            "unknown code",
            "[[acknowledge]]\ncode = \"rule_modified\"\nreason = \"r\"\n",
            &["acknowledge[0].code", "rule_modified"],
        ),
        (
            "bad expiry",
            "[[acknowledge]]\ncode = \"rule-added\"\nreason = \"r\"\nexpires = \"next week\"\n",
            &["acknowledge[0].expires", "next week"],
        ),
        (
            "the second one is bad",
            "[[acknowledge]]\ncode = \"rule-added\"\nreason = \"r\"\n\
             [[acknowledge]]\ngroup_id = \"sg-1\"\n",
            &["acknowledge[1]", "reason"],
        ),
    ];
    for (name, text, needles) in cases {
        let message = error(text);
        for needle in needles {
            assert!(
                message.contains(needle),
                "{name}: should mention {needle:?}: {message}"
            );
        }
    }
}

#[test]
fn unknown_codes_and_severities_are_refused() {
    let cases: [(&str, &[&str]); 5] = [
        ("[severity]\nrule-changed = \"low\"\n", &["rule-changed"]),
        (
            "[severity]\nrule-added = \"urgent\"\n",
            &["urgent", "severity.rule-added"],
        ),
        (
            "[notify.slack]\nwebhook_url = \"https://x\"\nmin_severity = \"warning\"\n",
            &["warning", "notify.slack.min_severity"],
        ),
        (
            "[notify.webhook]\nurl = \"https://x\"\nmin_severity = \"HIGH\"\n",
            &["HIGH", "notify.webhook.min_severity"],
        ),
        ("[severity]\nrule-added = 3\n", &["severity"]),
    ];
    for (text, needles) in cases {
        assert_error(text, needles);
    }
    // Every documented code and severity is accepted.
    for code in FindingCode::ALL {
        for level in Severity::ALL {
            let config = parse(&format!("[severity]\n{code} = \"{level}\"\n"))
                .unwrap_or_else(|e| panic!("{code} = {level}: {e}"));
            assert_eq!(config.severity.get(&code), Some(&level));
        }
    }
}

#[test]
fn bad_values_are_refused_with_their_path() {
    let cases: [(&str, &[&str]); 22] = [
        (
            "[scan]\nregions = [\"us-east\"]\n",
            &["scan.regions[0]", "us-east"],
        ),
        (
            "[scan]\nregions = [\"us-east-1\", \"US-EAST-1\"]\n",
            &["scan.regions[1]"],
        ),
        ("[scan]\nregions = [\"useast1\"]\n", &["useast1"]),
        (
            "[[cloudformation]]\nstacks = [\"a\"]\nregions = [\"mars-north-x\"]\n",
            &["cloudformation[0].regions[0]", "mars-north-x"],
        ),
        (
            "[[cloudformation]]\nstacks = []\n",
            &["cloudformation[0].stacks"],
        ),
        (
            "[[cloudformation]]\nstacks = [\"a\"]\ndrift_timeout = \"soon\"\n",
            &[
                "cloudformation[0].drift_timeout",
                "\"soon\" is not a duration",
            ],
        ),
        (
            "[[cloudformation]]\nstacks = [\"a\"]\ndrift_timeout = \"0s\"\n",
            &["cloudformation[0].drift_timeout", "longer than 0s"],
        ),
        (
            "[[cloudformation]]\nstacks = [\"a\"]\nreuse_drift_younger_than = \"a week\"\n",
            &["cloudformation[0].reuse_drift_younger_than"],
        ),
        (
            "[[cloudformation]]\nstacks = [\"a\", \" \"]\n",
            &["cloudformation[0].stacks[1]", "cannot be empty"],
        ),
        (
            "[[cloudformation]]\nstacks = [\"a\"]\nregions = []\n",
            &["cloudformation[0].regions", "at least one region"],
        ),
        ("[[account]]\nid = \"12345\"\n", &["account[0].id", "12345"]),
        ("[[account]]\nid = \"12345678901a\"\n", &["account[0].id"]),
        (
            "[[account]]\nid = \"123456789012\"\nrole_arn = \"driftd-read\"\n",
            &["account[0].role_arn", "driftd-read"],
        ),
        (
            "[[account]]\nid = \"123456789012\"\nrole_arn = \"arn:aws:iam::123456789012:user/bob\"\n",
            &["account[0].role_arn"],
        ),
        ("[server]\nlisten = \"9090\"\n", &["server.listen", "9090"]),
        (
            "[server]\nlisten = \"localhost:http\"\n",
            &["server.listen"],
        ),
        (
            "[[schedule]]\ncron = \"*/10 * * *\"\n",
            &["schedule[0].cron"],
        ),
        (
            "[[schedule]]\ncron = \"0 0 25 * * *\"\n",
            &["schedule[0].cron", "not a valid cron expression"],
        ),
        (
            "[[schedule]]\ncron = \"0 * * * * *\"\njitter = \"soon\"\n",
            &["schedule[0].jitter", "soon"],
        ),
        (
            "[[schedule]]\ncron = \"0 * * * * *\"\nregions = [\"moon-1\"]\n",
            &["schedule[0].regions[0]", "moon-1"],
        ),
        (
            "[server]\nshutdown_grace = \"twenty-five seconds\"\n",
            &["server.shutdown_grace"],
        ),
        (
            "[notify.webhook]\nurl = \"hooks.example.com/x\"\n",
            &["notify.webhook.url", "http(s)://"],
        ),
    ];
    for (text, needles) in cases {
        assert_error(text, needles);
    }
}

#[test]
fn wrong_types_are_refused_with_their_path() {
    assert_error("[scan]\nregions = \"us-east-1\"\n", &["scan.regions"]);
    assert_error(
        "[store]\nretain_days = \"ninety\"\n",
        &["store.retain_days"],
    );
    assert_error("[[terraform]]\n", &["state"]);
}

#[test]
fn syntax_errors_give_a_line_number() {
    let text = "[scan]\nregions = [\"us-east-1\"]\n\n[store\nurl = \"x\"\n";
    let message = error(text);
    assert!(message.contains("line 4"), "{message}");
    let message = error("[scan]\nregions = [\"us-east-1\",\n");
    assert!(message.contains("line"), "{message}");
    let message = error("[scan]\nregions = [\"a\"]\n[scan]\nregions = [\"b\"]\n");
    assert!(message.contains("line 3"), "a duplicate table: {message}");
}

#[test]
fn secrets_are_never_printed() {
    let config = parse(&example()).unwrap();
    let debug = format!("{config:?}");
    assert!(!debug.contains(SLACK_URL), "{debug}");
    assert!(!debug.contains("very-secret-token"), "{debug}");
    assert!(!debug.contains(WEBHOOK_SECRET), "{debug}");
    assert!(!debug.contains("hooks.example.com"), "{debug}");
    assert!(debug.contains("***"), "{debug}");
    let slack = config.slack.unwrap();
    assert_eq!(format!("{:?}", slack.url), "***");
    assert_eq!(format!("{}", slack.url), "***");
    assert!(!format!("{slack:?}").contains(SLACK_URL));
    let pretty = format!("{:#?}", config.webhook_secret);
    assert!(!pretty.contains(WEBHOOK_SECRET), "{pretty}");
}

#[test]
fn real_region_names_and_addresses_are_accepted() {
    let config = parse(
        r#"
        [scan]
        regions = ["us-gov-west-1", "cn-northwest-1", "ap-southeast-4", "il-central-1"]
        [server]
        listen = "[::]:9090"
        "#,
    )
    .unwrap();
    assert_eq!(config.regions.len(), 4);
    assert_eq!(config.listen, Some("[::]:9090".parse().unwrap()));
}

#[test]
fn webhook_urls_can_come_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("slack-url"),
        "https://hooks.slack.com/services/X\n",
    )
    .unwrap();
    let config_path = dir.path().join("driftd.toml");
    std::fs::write(
        &config_path,
        "[notify.slack]\nwebhook_url_file = \"slack-url\"\nresolutions = true\n",
    )
    .unwrap();
    let config = Config::load(&config_path).unwrap();
    let slack = config.slack.unwrap();
    assert_eq!(slack.url.expose(), "https://hooks.slack.com/services/X");
    assert!(slack.resolutions);
    assert!(!format!("{slack:?}").contains("hooks.slack.com"));

    assert_error(
        "[notify.slack]\nwebhook_url = \"a\"\nwebhook_url_file = \"b\"\n",
        &["notify.slack.webhook_url", "not both"],
    );
    assert_error("[notify.webhook]\n", &["notify.webhook.url", "required"]);
    std::fs::write(dir.path().join("hmac"), "s3cr3t\n").unwrap();
    std::fs::write(
        &config_path,
        "[notify.webhook]\nurl = \"https://hooks.example.com/x\"\nsecret_file = \"hmac\"\n",
    )
    .unwrap();
    let config = Config::load(&config_path).unwrap();
    assert_eq!(config.webhook_secret.unwrap().expose(), "s3cr3t");
    assert_error(
        "[notify.slack]\nwebhook_url_file = \"/nonexistent/slack\"\n",
        &["notify.slack.webhook_url_file", "/nonexistent/slack"],
    );
}

/// `check-config` says what each flow endpoint names in the local states, and a
/// Terraform address none of them declares is an error (a typo would break the flow
/// on every scan).
#[test]
fn check_config_resolves_flow_endpoints() {
    use crate::support::cli::{CHAIN_STATE, driftd};
    let dir = tempfile::tempdir().unwrap();
    let state = std::fs::canonicalize(CHAIN_STATE).unwrap();
    let config = dir.path().join("flows.toml");
    let text = |to: &str| {
        format!(
            "[[terraform]]\nstate = {}\n[[flow]]\nname = \"alb-to-front\"\n\
             from = 'module.net.aws_security_group.this[\"alb-public\"]'\nto = \"{to}\"\nport = 80\n",
            toml::Value::String(state.display().to_string())
        )
    };
    std::fs::write(&config, text("ecs-front")).unwrap();
    let run = driftd(&["check-config", "--config", config.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("flow[0] \"alb-to-front\": tcp 80 from module.net.aws_security_group.this[\"alb-public\"] to ecs-front")
            && run.stdout.contains("from: group sg-0a1b2c3d4e5f60001 (module.net.aws_security_group.this[\"alb-public\"]")
            && run.stdout.contains("to: a live group's name, resolved at scan time"),
        "{}",
        run.stdout
    );
    std::fs::write(&config, text("module.ecs.aws_security_group.typo")).unwrap();
    let run = driftd(&["check-config", "--config", config.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(
            "flow[0].to: module.ecs.aws_security_group.typo is declared by none of the loaded states"
        ),
        "{}",
        run.stderr
    );
}
