//! Validation goes on past the first problem: every section's problems are told at
//! once, each with its key path, and none shows a secret or a substituted value.

use std::path::Path;

use super::*;

const SLACK_URL: &str = "https://hooks.slack.com/services/T000/B000/very-secret-token";
const HOOK_SECRET: &str = "hmac-shared-secret-value";
const TOKEN: &str = "not_a_region_but_a_token";

fn env(name: &str) -> Option<String> {
    match name {
        "SLACK_WEBHOOK_URL" => Some(SLACK_URL.to_string()),
        "HOOK_SECRET" => Some(HOOK_SECRET.to_string()),
        "REGION" => Some(TOKEN.to_string()),
        _ => None,
    }
}

fn problems(text: &str) -> ConfigError {
    match Config::parse(text, "x.toml", None, env) {
        Ok(config) => panic!("accepted:\n{text}\n→ {config:?}"),
        Err(e) => e,
    }
}

fn keys(error: &ConfigError) -> Vec<&str> {
    error.problems.iter().map(|p| p.key.as_str()).collect()
}

#[test]
fn problems_in_several_sections_are_all_told_with_their_key_paths() {
    let error = problems(
        r#"
        [[account]]
        id = "123456789012"
        role_arn = "driftd-read"

        [server]
        listen = "9090"

        [[schedule]]
        cron = "0 */10 * * * *"
        [[schedule]]
        cron = "*/10 * * *"

        [notify.slack]
        webhook_url = "${SLACK_WEBHOOK_URL}"
        min_severity = "warning"

        [[acknowledge]]
        code = "rule_added"
        "#,
    );
    assert_eq!(
        keys(&error),
        [
            "account[0].role_arn",
            "server.listen",
            "schedule[1].cron",
            "notify.slack.min_severity",
            "acknowledge[0]",
            "acknowledge[0].code",
        ]
    );
    let shown = error.to_string();
    let expected = [
        "x.toml: 6 problems:",
        "  at account[0].role_arn: \"driftd-read\" is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
        "  at server.listen: \"9090\" is not an address like 0.0.0.0:9090",
        "  at schedule[1].cron: \"*/10 * * *\" has 4 field(s); expected crontab(5): min hour day-of-month month day-of-week, optionally with seconds first, or @hourly/@daily/@weekly/@monthly (e.g. \"*/10 * * * *\")",
        "  at notify.slack.min_severity: unknown severity \"warning\" (expected critical, high, medium, low or info)",
        "  at acknowledge[0]: `reason` is required: say why this drift is intended",
        "  at acknowledge[0].code: unknown finding code \"rule_added\"",
    ];
    assert_eq!(shown, expected.join("\n"));
    assert!(!shown.contains(SLACK_URL), "{shown}");
}

#[test]
fn one_problem_reads_as_before() {
    let error = problems("[scan]\ntimeout = \"0s\"\n");
    assert_eq!(
        error.to_string(),
        "x.toml: at scan.timeout: must be longer than 0s"
    );
    let error = problems("[scan]\nregions = [\"us-east-1\",\n");
    assert_eq!(keys(&error), [""], "a syntax error is the file's");
    assert!(
        error
            .to_string()
            .starts_with("x.toml: invalid TOML at line 3")
    );
}

#[test]
fn no_problem_shows_a_secret_or_a_substituted_value() {
    let error = problems(
        r#"
        [scan]
        regions = ["${REGION}", "us-east"]
        timeout = "${HOOK_SECRET}"

        [notify.slack]
        webhook_url = "${SLACK_WEBHOOK_URL}"
        min_severity = "${SLACK_WEBHOOK_URL}"

        [notify.webhook]
        url = "hooks.example.com/${HOOK_SECRET}"
        secret = "${HOOK_SECRET}"
        min_severity = "${HOOK_SECRET}"
        "#,
    );
    assert_eq!(
        keys(&error),
        [
            "scan.regions[0]",
            "scan.regions[1]",
            "scan.timeout",
            "notify.slack.min_severity",
            "notify.webhook.url",
            "notify.webhook.min_severity",
        ]
    );
    let shown = error.to_string();
    for secret in [SLACK_URL, "very-secret-token", HOOK_SECRET, TOKEN] {
        assert!(!shown.contains(secret), "{secret:?} shown: {shown}");
    }
    assert!(
        shown.contains("\"us-east\" is not an AWS region name"),
        "{shown}"
    );
}

#[test]
fn every_notifiers_secret_keys_are_hidden_in_type_errors() {
    let value = "98765432109876";
    for channel in Channel::ALL {
        for key in channel.secret_keys() {
            let text = format!("[notify.{}]\n{key} = {value}\n", channel.as_str());
            let shown = problems(&text).to_string();
            assert!(
                shown.contains(&format!("notify.{}.{key}", channel.as_str())),
                "{shown}"
            );
            assert!(!shown.contains(value), "{channel:?}.{key} shown: {shown}");
        }
    }
}

#[test]
fn every_unset_variable_is_named_at_once() {
    let error = problems(
        "[store]\nurl = \"${UNSET_A}\"\n[[terraform]]\nstate = \"${UNSET_B}/x\"\n\
         [notify.webhook]\nurl = \"${SLACK_WEBHOOK_URL}\"\nsecret = \"${UNSET_C\"\n",
    );
    // In the order of the parsed table's keys.
    assert_eq!(
        keys(&error),
        ["notify.webhook.secret", "store.url", "terraform[0].state"]
    );
    let shown = error.to_string();
    assert!(shown.contains("UNSET_A is not set (referenced as ${UNSET_A})"));
    assert!(shown.contains("UNSET_B is not set"));
    assert!(shown.contains("unterminated ${"));
}

#[test]
fn several_problems_of_one_entry_are_all_told() {
    let error = problems(
        "[[cloudformation]]\nstacks = [\"\"]\nregions = [\"moon-1\"]\n\
         reuse_drift_younger_than = \"a week\"\ndrift_timeout = \"0s\"\n\
         [[account]]\nid = \"12345\"\nrole_arn = \"bob\"\n",
    );
    assert_eq!(
        keys(&error),
        [
            "account[0].id",
            "account[0].role_arn",
            "cloudformation[0].stacks[0]",
            "cloudformation[0].regions[0]",
            "cloudformation[0].reuse_drift_younger_than",
            "cloudformation[0].drift_timeout",
        ]
    );
}

#[test]
fn a_bad_value_is_not_compared_with_others() {
    // A wrong scan.timeout is told once, not again as a drift_timeout too long for
    // the default it fell back to.
    let error = problems(
        "[scan]\ntimeout = \"soon\"\n[[cloudformation]]\nstacks = [\"*\"]\ndrift_timeout = \"1h\"\n",
    );
    assert_eq!(keys(&error), ["scan.timeout"]);
    // A wrong cron is not compared with the other schedules.
    let error =
        problems("[[schedule]]\ncron = \"0 0 25 * * *\"\n[[schedule]]\ncron = \"0 0 25 * * *\"\n");
    assert_eq!(keys(&error), ["schedule[0].cron", "schedule[1].cron"]);
}

#[test]
fn a_callers_check_is_told_with_the_configs_own_problems() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("driftd.toml");
    std::fs::write(
        &path,
        "[store]\nurl = \"mysql://db\"\nretain_days = 4000\n[server]\nmax_connections = 0\n",
    )
    .unwrap();
    let error = Config::load_and_check(&path, |config| {
        let url = config.store_url.as_deref().unwrap_or_default();
        vec![Problem::at(
            "store.url",
            format!("{} is not sqlite", url.len()),
        )]
    })
    .unwrap_err();
    assert_eq!(error.file, path.display().to_string());
    assert_eq!(
        keys(&error),
        ["store.retain_days", "server.max_connections", "store.url"]
    );
    // Without a check the same file has two problems.
    let error = Config::load(&path).unwrap_err();
    assert_eq!(error.problems.len(), 2);
    assert!(Config::load_and_check(Path::new("/nonexistent/x.toml"), |_| Vec::new()).is_err());
}

#[test]
fn notifier_sections_come_from_the_notifiers() {
    let config = Config::parse(
        "[notify.webhook]\nurl = \"https://hooks.example.com/y\"\nsecret = \"${HOOK_SECRET}\"\n\
         [notify.slack]\nwebhook_url = \"${SLACK_WEBHOOK_URL}\"\nresolutions = true\n",
        "x.toml",
        None,
        env,
    )
    .unwrap();
    let channels: Vec<Channel> = config.notifiers.keys().copied().collect();
    assert_eq!(channels, [Channel::Slack, Channel::Webhook]);
    let webhook = &config.notifiers[&Channel::Webhook];
    assert_eq!(
        webhook.secret.as_ref().map(Secret::expose),
        Some(HOOK_SECRET)
    );
    assert_eq!(webhook.min_severity, Severity::Low);
    let slack = &config.notifiers[&Channel::Slack];
    assert!(slack.secret.is_none() && slack.resolutions);
    assert_eq!(
        config.slack.as_ref().map(|s| s.url.expose()),
        Some(SLACK_URL)
    );
    assert_eq!(
        config.webhook_secret.as_ref().map(Secret::expose),
        Some(HOOK_SECRET)
    );
    // A section no notifier declares is refused, naming those that exist.
    let shown = problems("[notify.teams]\nurl = \"https://x\"\n").to_string();
    assert_eq!(
        shown,
        "x.toml: at notify.teams: unknown field `teams`, expected `slack` or `webhook`"
    );
}

#[test]
fn one_duration_grammar_for_every_flag_and_key() {
    let secs = |raw: &str| parse_duration(raw).map(|d| d.as_secs());
    assert_eq!(secs("30s"), Ok(30));
    assert_eq!(secs("10m"), Ok(600));
    assert_eq!(secs("2h"), Ok(7200));
    assert_eq!(secs("1d"), Ok(86_400));
    assert_eq!(secs("1w"), Ok(604_800));
    assert_eq!(secs("1h 30m"), Ok(5400));
    assert_eq!(secs(" 90 "), Ok(90));
    assert_eq!(
        secs("soon"),
        Err("\"soon\" is not a duration like 30s, 10m, 2h, 1d or 1w".into())
    );
    assert_eq!(
        secs("3651d"),
        Err("\"3651d\" is longer than 3650d, the longest duration driftd accepts".into())
    );
    assert!(
        secs("99999999999999999999999d")
            .unwrap_err()
            .contains("longer than 3650d")
    );
}

#[test]
fn flows_are_read_and_every_problem_of_one_is_told() {
    let config = Config::parse(
        "[[flow]]\nname = \"alb-to-front\"\nfrom = \"aws_lb.main\"\nto = \"sg-0123\"\nprotocol = \"tcp\"\nport = 80\n\
         [[flow]]\nname = \"all\"\nfrom = \"a\"\nto = \"b\"\nprotocol = \"-1\"\n",
        "x.toml",
        None,
        env,
    )
    .unwrap();
    assert_eq!(
        config.flows,
        [
            Flow {
                name: "alb-to-front".into(),
                from: "aws_lb.main".into(),
                to: "sg-0123".into(),
                protocol: crate::model::Protocol::Tcp,
                port: Some(80),
            },
            Flow {
                name: "all".into(),
                from: "a".into(),
                to: "b".into(),
                protocol: crate::model::Protocol::All,
                port: None,
            }
        ]
    );
    let error = problems(
        "[[flow]]\nfrom = \" \"\nprotocol = \"tcp\"\n\
         [[flow]]\nname = \"x\"\nfrom = \"a\"\nto = \"b\"\nprotocol = \"sctp\"\n\
         [[flow]]\nname = \"y\"\nfrom = \"a\"\nto = \"b\"\nport = 70000\n\
         [[flow]]\nname = \"y\"\nfrom = \"a\"\nto = \"b\"\nport = 80\n\
         [[flow]]\nname = \"z\"\nfrom = \"a\"\nto = \"b\"\nprotocol = \"icmp\"\nport = 8\n",
    );
    assert_eq!(
        keys(&error),
        [
            "flow[0].name",
            "flow[0].from",
            "flow[0].to",
            "flow[0].port",
            "flow[1].protocol",
            "flow[2].port",
            "flow[3].name",
            "flow[4].port",
        ]
    );
}
