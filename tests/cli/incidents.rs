//! End-to-end: the built binary on the bundled ECS chain (DESIGN.md, incident 3's
//! five groups) with each incident of DESIGN.md seeded into captured live data.

use crate::support::cli::*;
use serde_json::{Value, json};

const ALB_PUBLIC: &str = "sg-0a1b2c3d4e5f60001";
const ECS_FRONT: &str = "sg-0a1b2c3d4e5f60002";
const ECS_API: &str = "sg-0a1b2c3d4e5f60004";
const RDS: &str = "sg-0a1b2c3d4e5f60005";
const SHARED: &str = "sg-0a1b2c3d4e5f6ffff";
const ALB_TO_FRONT: &str = "sgr-0f000000000000067";

/// Runs `report --format json` on the chain's state against the given captures.
fn report_on(groups: &Value, rules: Option<&Value>, extra: &[&str]) -> (i32, Value) {
    let dir = tempfile::tempdir().unwrap();
    let groups_path = write_json(dir.path(), "groups.json", groups);
    let mut args = vec![
        "report".to_string(),
        "--state".into(),
        CHAIN_STATE.into(),
        "--live".into(),
        groups_path.display().to_string(),
        "--region".into(),
        "us-east-1".into(),
        "--format".into(),
        "json".into(),
    ];
    if let Some(rules) = rules {
        let rules_path = write_json(dir.path(), "rules.json", rules);
        args.extend(["--live".into(), rules_path.display().to_string()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = driftd(&args);
    assert!(run.code != 1, "driftd failed: {}", run.stderr);
    let report = run.json();
    assert_valid_report(&report);
    (run.code, report)
}

fn clean() -> (Value, Value) {
    (read_json(CLEAN_GROUPS), read_json(CLEAN_RULES))
}

fn rules_mut(rules: &mut Value) -> &mut Vec<Value> {
    rules["SecurityGroupRules"].as_array_mut().unwrap()
}

#[test]
fn matching_chain_reports_no_drift() {
    let (groups, rules) = clean();
    let (code, report) = report_on(&groups, Some(&rules), &[]);
    assert_eq!(drift(&report), Vec::<Value>::new());
    assert_eq!(code, 0, "only an info finding: exit 0");
    assert_eq!(report["summary"]["managed_security_groups"], 5);
    assert_eq!(report["summary"]["declared_rules"], 12);
    assert_eq!(report["summary"]["live_rules"], 12);
    assert_eq!(report["summary"]["compared_security_groups"], 5);
    assert_eq!(report["scan"]["complete"], true);
    assert_eq!(
        report["generator"],
        json!({"name": "driftd", "version": env!("CARGO_PKG_VERSION")})
    );
}

#[test]
fn matching_chain_from_groups_document_alone_reports_no_drift() {
    let (groups, _) = clean();
    let (code, report) = report_on(&groups, None, &[]);
    assert_eq!(drift(&report), Vec::<Value>::new());
    assert_eq!(code, 0);
}

/// Incident 1: the ALB's egress port to the ECS tasks edited in the console.
#[test]
fn incident_1_changed_alb_egress_is_one_field_level_finding() {
    let (groups, mut rules) = clean();
    for rule in rules_mut(&mut rules) {
        if rule["SecurityGroupRuleId"] == ALB_TO_FRONT {
            rule["FromPort"] = json!(8080);
            rule["ToPort"] = json!(8080);
        }
    }
    let (code, report) = report_on(&groups, Some(&rules), &[]);
    let findings = drift(&report);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f["code"], "rule-modified");
    assert_eq!(f["severity"], "high");
    assert_eq!(f["direction"], "egress");
    assert_eq!(f["resource"]["id"], ALB_TO_FRONT);
    assert_eq!(f["resource"]["group_id"], ALB_PUBLIC);
    assert_eq!(f["resource"]["group_name"], "alb-public");
    assert_eq!(f["account_id"], "123456789012");
    assert_eq!(f["region"], "us-east-1");
    assert_eq!(
        f["owner"],
        json!({"kind": "terraform", "location": CHAIN_STATE,
               "address": "module.net.aws_vpc_security_group_egress_rule.alb_to_front"})
    );
    assert_eq!(
        f["changes"],
        json!([
            {"field": "from_port", "expected": 80, "actual": 8080},
            {"field": "to_port", "expected": 80, "actual": 8080}
        ])
    );
    assert_eq!(
        f["expected"]["peer"],
        json!({"kind": "security_group", "value": ECS_FRONT})
    );
    assert_eq!(f["actual"]["to_port"], 8080);
    assert_eq!(code, 2);
}

/// Incident 1's other half: intentional drift acknowledged per field, so that
/// real drift is never hidden behind it.
#[test]
fn incident_1_acknowledgement_covers_only_the_fields_it_names() {
    let (groups, mut rules) = clean();
    for rule in rules_mut(&mut rules) {
        if rule["SecurityGroupRuleId"] == ALB_TO_FRONT {
            rule["FromPort"] = json!(8080);
            rule["ToPort"] = json!(8080);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let ack = |fields: &[&str]| {
        fields
            .iter()
            .map(|f| {
                format!(
                    "[[acknowledge]]\naddress = \"module.net.aws_vpc_security_group_egress_rule.alb_to_front\"\n\
                     field = \"{f}\"\nreason = \"blue/green port move, OPS-7\"\nexpires = \"2999-01-31\"\n"
                )
            })
            .collect::<String>()
    };
    let one = dir.path().join("one.toml");
    std::fs::write(&one, ack(&["to_port"])).unwrap();
    let (code, report) = report_on(&groups, Some(&rules), &["--config", one.to_str().unwrap()]);
    assert_eq!(
        drift(&report)[0]["acknowledged"],
        Value::Null,
        "from_port changed too"
    );
    assert_eq!(code, 2);

    let both = dir.path().join("both.toml");
    std::fs::write(&both, ack(&["to_port", "from_port"])).unwrap();
    let (code, report) = report_on(&groups, Some(&rules), &["--config", both.to_str().unwrap()]);
    let f = &drift(&report)[0];
    assert_eq!(f["code"], "rule-modified");
    assert_eq!(
        f["acknowledged"],
        json!({"reason": "blue/green port move, OPS-7", "expires": "2999-01-31"})
    );
    assert_eq!(report["summary"]["acknowledged"], 1);
    assert_eq!(code, 0, "acknowledged drift does not fail the report");

    let expired = dir.path().join("expired.toml");
    std::fs::write(
        &expired,
        ack(&["to_port", "from_port"]).replace("2999-01-31", "2020-01-31"),
    )
    .unwrap();
    let (code, report) = report_on(
        &groups,
        Some(&rules),
        &["--config", expired.to_str().unwrap()],
    );
    assert_eq!(drift(&report)[0]["acknowledged"], Value::Null);
    assert_eq!(code, 2, "an expired acknowledgement counts again");
}

/// Incident 2: the shared group a stack only reads is deleted elsewhere.
#[test]
fn incident_2_ghost_reference_and_hidden_dependency() {
    let (mut groups, rules) = clean();
    groups["SecurityGroups"]
        .as_array_mut()
        .unwrap()
        .retain(|g| g["GroupId"] != SHARED);
    let (code, report) = report_on(&groups, Some(&rules), &[]);
    let findings = report["findings"].as_array().unwrap();
    let codes = codes(findings);
    assert_eq!(
        codes,
        ["reference-dangling", "dependency-hidden"],
        "{findings:#?}"
    );
    let dangling = &findings[0];
    assert_eq!(dangling["severity"], "critical");
    assert_eq!(dangling["resource"]["group_id"], ECS_FRONT);
    assert_eq!(
        dangling["expected"]["peer"],
        json!({"kind": "security_group", "value": SHARED})
    );
    assert_eq!(
        dangling["actual"]["peer"],
        json!({"kind": "security_group", "value": SHARED})
    );
    assert_eq!(dangling["actual"]["from_port"], 9100);
    assert_eq!(
        dangling["owner"]["address"],
        "module.ecs.aws_security_group_rule.front[\"from_monitoring\"]"
    );
    assert!(
        dangling["message"]
            .as_str()
            .unwrap()
            .contains("module.ecs.data.aws_security_group.shared"),
        "the message names the data source that reads the group"
    );
    let hidden = &findings[1];
    assert_eq!(hidden["severity"], "info");
    assert_eq!(hidden["expected"]["peer"]["value"], SHARED);
    assert_eq!(code, 2);
}

/// Incident 3: rules added outside IaC to the least-privilege chain.
#[test]
fn incident_3_unowned_rules_are_reported_with_exact_values() {
    let (groups, mut rules) = clean();
    rules_mut(&mut rules).push(json!({
        "SecurityGroupRuleId": "sgr-0e5a1d2b3c4f5a6b7", "GroupId": ECS_API, "GroupOwnerId": "123456789012",
        "IsEgress": false, "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv4": "0.0.0.0/0",
        "Description": "debug", "Tags": []
    }));
    rules_mut(&mut rules).push(json!({
        "SecurityGroupRuleId": "sgr-0e5a1d2b3c4f5a6b8", "GroupId": RDS, "GroupOwnerId": "123456789012",
        "IsEgress": true, "IpProtocol": "-1", "FromPort": -1, "ToPort": -1, "CidrIpv4": "0.0.0.0/0", "Tags": []
    }));
    let (code, report) = report_on(&groups, Some(&rules), &[]);
    let findings = drift(&report);
    assert_eq!(findings.len(), 2, "{findings:#?}");
    let ssh = &findings[0];
    assert_eq!(ssh["code"], "rule-added");
    assert_eq!(ssh["severity"], "critical");
    assert_eq!(
        ssh["owner"],
        json!({"kind": "none", "location": null, "address": null})
    );
    assert_eq!(ssh["expected"], Value::Null);
    assert_eq!(
        ssh["actual"],
        json!({"group_id": ECS_API, "direction": "ingress", "protocol": "tcp", "from_port": 22,
               "to_port": 22, "peer": {"kind": "cidr_ipv4", "value": "0.0.0.0/0"},
               "description": "debug", "rule_id": "sgr-0e5a1d2b3c4f5a6b7", "tags": {}})
    );
    assert!(
        ssh["message"]
            .as_str()
            .unwrap()
            .contains("module.net.aws_security_group.this[\"ecs-api\"]")
    );
    let egress = &findings[1];
    assert_eq!(egress["code"], "rule-added");
    assert_eq!(egress["severity"], "high");
    assert_eq!(egress["resource"]["group_name"], "rds");
    assert_eq!(egress["actual"]["protocol"], "all");
    assert_eq!(egress["actual"]["from_port"], Value::Null);
    assert_eq!(code, 2);
}

#[test]
fn revoked_rule_and_unowned_group() {
    let (mut groups, mut rules) = clean();
    rules_mut(&mut rules).retain(|r| r["SecurityGroupRuleId"] != "sgr-0f00000000000006e");
    groups["SecurityGroups"].as_array_mut().unwrap().push(json!({
        "GroupId": "sg-0feedfeedfeed0001", "GroupName": "launch-wizard-1", "Description": "launch-wizard-1",
        "OwnerId": "123456789012", "VpcId": "vpc-0c0ffee1234567890", "IpPermissions": [], "IpPermissionsEgress": []
    }));
    let (_, report) = report_on(&groups, Some(&rules), &[]);
    let findings = drift(&report);
    let codes = codes(&findings);
    assert_eq!(codes, ["rule-removed", "sg-unmanaged"], "{findings:#?}");
    assert_eq!(findings[0]["expected"]["to_port"], 3306);
    assert_eq!(findings[0]["actual"], Value::Null);
    assert_eq!(
        findings[0]["owner"]["address"],
        "module.ecs.aws_security_group_rule.api[\"to_rds\"]"
    );
    assert_eq!(findings[1]["resource"]["id"], "sg-0feedfeedfeed0001");
    assert_eq!(findings[1]["severity"], "medium");
}

#[test]
fn groups_in_a_region_that_was_not_read_are_never_missing_and_never_an_all_clear() {
    let empty = json!({"SecurityGroups": [{
        "GroupId": "sg-0eu0000000000001", "GroupName": "default", "Description": "default VPC security group",
        "OwnerId": "123456789012", "VpcId": "vpc-0eu", "IpPermissions": [], "IpPermissionsEgress": []
    }]});
    let dir = tempfile::tempdir().unwrap();
    let path = write_json(dir.path(), "eu.json", &empty);
    let run = driftd(&[
        "report",
        "--state",
        CHAIN_STATE,
        "--live",
        path.to_str().unwrap(),
        "--region",
        "eu-west-1",
        "--format",
        "json",
    ]);
    let report = run.json();
    // The state's groups live in us-east-1: not compared, nothing called missing,
    // and said, with the fix.
    let found = drift(&report);
    let codes: Vec<&Value> = found.iter().map(|f| &f["code"]).collect();
    assert_eq!(codes, ["scope-unscanned"], "{found:#?}");
    assert_eq!(found[0]["resource"]["type"], "scope");
    assert_eq!(found[0]["resource"]["id"], "123456789012/us-east-1");
    assert_eq!(found[0]["severity"], "medium");
    assert!(
        found[0]["message"].as_str().unwrap().starts_with(
            "5 declared groups and 12 declared rules in 123456789012/us-east-1 were not compared"
        ),
        "{}",
        found[0]["message"]
    );
    assert_eq!(report["summary"]["compared_security_groups"], 0);
    assert_eq!(report["summary"]["managed_security_groups"], 5);
    assert_eq!(report["scan"]["complete"], false);
    assert_eq!(run.code, 1, "nothing compared is an error: {}", run.stderr);
    assert!(
        run.stderr
            .contains("none of the 5 declared groups was compared")
            && run.stderr.contains("123456789012/us-east-1")
            && run.stderr.contains("123456789012/eu-west-1")
            && run.stderr.contains("--region"),
        "{}",
        run.stderr
    );
    let table = driftd(&[
        "report",
        "--state",
        CHAIN_STATE,
        "--live",
        path.to_str().unwrap(),
        "--region",
        "eu-west-1",
    ]);
    assert!(!table.stdout.contains("No drift"), "{}", table.stdout);
    assert!(
        table
            .stdout
            .contains("PARTIAL: some declared scopes were not read")
            && table
                .stdout
                .contains("compared 0 of 5 managed groups (0 rules) in 123456789012/eu-west-1"),
        "{}",
        table.stdout
    );
    // The same capture said to stand for us-east-1: now every group is missing.
    let run = chain_report(&[&path]);
    let missing = drift(&run.json())
        .iter()
        .filter(|f| f["code"] == "sg-missing")
        .count();
    assert_eq!(missing, 5);
    assert_eq!(run.code, 2);
}

#[test]
fn fail_on_raises_the_bar() {
    let (groups, mut rules) = clean();
    rules_mut(&mut rules).retain(|r| r["SecurityGroupRuleId"] != "sgr-0f00000000000006e");
    let (code, _) = report_on(&groups, Some(&rules), &["--fail-on", "critical"]);
    assert_eq!(code, 0, "a high finding does not fail --fail-on critical");
    let (code, _) = report_on(&groups, Some(&rules), &["--fail-on", "high"]);
    assert_eq!(code, 2);
}

/// `examples/driftd.toml` in a scratch directory, its acknowledgement made to outlast
/// any clock a test runs on (the example's own expiry passes on a real date).
fn example_config(dir: &std::path::Path) -> std::path::PathBuf {
    let example = std::fs::read_to_string("examples/driftd.toml").unwrap();
    let state = std::fs::canonicalize(CHAIN_STATE).unwrap();
    let text = example
        .replacen(
            "state = \"ecs-chain.tfstate\"",
            &format!(
                "state = {}",
                toml::Value::String(state.display().to_string())
            ),
            1,
        )
        .replacen("expires = \"2027-01-31\"", "expires = \"2999-12-31\"", 1);
    assert!(
        text.contains("2999-12-31") && text.contains(&state.display().to_string()),
        "examples/driftd.toml changed: update this test\n{text}"
    );
    let path = dir.join("driftd.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `report` on the example's config (see `example_config`) and captured data.
fn example_report_args<'a>(config: &'a std::path::Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "report",
        "--config",
        config.to_str().unwrap(),
        "--live",
        "examples/live/describe-security-groups.json",
        "--live",
        "examples/live/describe-security-group-rules.json",
    ];
    args.extend(extra);
    args
}

#[test]
fn output_file_and_formats() {
    let dir = tempfile::tempdir().unwrap();
    let config = example_config(dir.path());
    let out = dir.path().join("report.md");
    let args = example_report_args(
        &config,
        &["--format", "markdown", "--output", out.to_str().unwrap()],
    );
    let run = driftd(&args);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stdout, "", "the report went to the file");
    let markdown = std::fs::read_to_string(&out).unwrap();
    assert!(
        markdown.contains(
            "| high | `rule-modified` | egress tcp 80 to sg-0a1b2c3d4e5f60002 | \
             `from_port`: `80` → `8080`<br>`to_port`: `80` → `8080` | \
             module.net.aws_vpc_security_group_egress_rule.alb_to_front ("
        ),
        "{markdown}"
    );

    // Piped, with NO_COLOR unset: plain text, because stdout is not a terminal.
    let args = example_report_args(&config, &[]);
    let (mut command, _db) = driftd_command(&args, &[]);
    let output = command.env_remove("NO_COLOR").output().unwrap();
    let table = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        !table.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
    assert!(table.contains("~ to_port    80 → 8080"), "{table}");
    assert!(
        table.contains("acknowledged: temporary allow-all egress"),
        "{table}"
    );
}

/// Whether util-linux `script` is here to give a command a pseudo-terminal.
/// Debian, and so CI, always has it: there a missing `script` is a failure.
fn script_is_installed() -> bool {
    let util_linux = std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| {
            o.status.success() && String::from_utf8_lossy(&o.stdout).contains("util-linux")
        });
    if !util_linux {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs util-linux `script`"
        );
        eprintln!("skipped: util-linux `script` is not installed");
    }
    util_linux
}

/// `command` run on a pseudo-terminal `columns` wide that util-linux `script`
/// opens around it; stdout and stderr both reach the terminal, captured as the
/// output's stdout.
fn on_a_terminal(command: &std::process::Command, columns: u16) -> std::process::Output {
    // `script` runs its command line with $SHELL -c: quote for /bin/sh.
    let quote = |s: &std::ffi::OsStr| format!("'{}'", s.to_str().unwrap().replace('\'', r"'\''"));
    let words: Vec<String> = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(quote)
        .collect();
    // `timeout`: a `script` that hangs must not stall the suite.
    let mut on_terminal = std::process::Command::new("timeout");
    on_terminal
        .args(["60", "script", "--quiet", "--return", "--command"])
        .arg(format!("stty rows 40 cols {columns}; {}", words.join(" ")))
        .arg("/dev/null")
        .env("SHELL", "/bin/sh")
        // A terminal names its type; CI may have none in its environment.
        .env("TERM", "xterm-256color")
        .stdin(std::process::Stdio::null());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => on_terminal.env(key, value),
            None => on_terminal.env_remove(key),
        };
    }
    let output = on_terminal.output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "driftd on a pseudo-terminal (does this machine have /dev/pts?):\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

const RED_HIGH: &str = "\x1b[31mhigh";

/// On a terminal the table is coloured unless `NO_COLOR` is set.
#[test]
fn colour_only_on_a_terminal_and_without_no_color() {
    if !script_is_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = example_config(dir.path());
    let args = example_report_args(&config, &[]);
    for no_color in [false, true] {
        let (mut command, _db) = driftd_command(&args, &[]);
        if !no_color {
            command.env_remove("NO_COLOR");
        }
        // Logs share the terminal: with NO_COLOR they are plain too.
        command.env("RUST_LOG", "info");
        let output = on_a_terminal(&command, 120);
        let table = String::from_utf8_lossy(&output.stdout);
        assert!(table.contains("rule-modified"), "{table}");
        assert!(table.contains("INFO"), "logs on the terminal: {table}");
        assert_eq!(
            table.contains(RED_HIGH),
            !no_color,
            "NO_COLOR set: {no_color}\n{table}"
        );
        if no_color {
            // Progress lines still redraw themselves (that is cursor control, not
            // colour); no text is coloured.
            assert!(
                !has_colour(&table),
                "nothing coloured with NO_COLOR:\n{table}"
            );
        }
    }
}

/// `--color always` colours a pipe, `--color never` a terminal; a bad value is a
/// usage error that lists the good ones.
#[test]
fn color_flag_overrides_the_terminal_test() {
    let dir = tempfile::tempdir().unwrap();
    let config = example_config(dir.path());
    let piped = driftd(&example_report_args(&config, &["--color", "always"]));
    assert_eq!(piped.code, 2, "{}", piped.stderr);
    assert!(piped.stdout.contains(RED_HIGH), "{}", piped.stdout);
    let to_file = dir.path().join("report.txt");
    let filed = driftd(&example_report_args(
        &config,
        &["--output", to_file.to_str().unwrap()],
    ));
    assert_eq!(filed.code, 2, "{}", filed.stderr);
    let file = std::fs::read_to_string(&to_file).unwrap();
    assert!(
        file.contains("rule-modified") && !has_colour(&file),
        "{file}"
    );

    let bad = driftd(&example_report_args(&config, &["--color", "sometimes"]));
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr.contains("'sometimes'") && bad.stderr.contains("auto, always, never"),
        "{}",
        bad.stderr
    );

    if !script_is_installed() {
        return;
    }
    let args = example_report_args(&config, &["--color", "never"]);
    let (mut command, _db) = driftd_command(&args, &[]);
    command.env_remove("NO_COLOR");
    let output = on_a_terminal(&command, 120);
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("rule-modified") && !has_colour(&table),
        "{table}"
    );
}

/// The table fits the terminal it is printed on, and 100 columns in a pipe.
#[test]
fn the_table_fits_the_terminal_width() {
    let dir = tempfile::tempdir().unwrap();
    let config = example_config(dir.path());
    let widest = |text: &str| {
        text.lines()
            .map(textwrap::core::display_width)
            .max()
            .unwrap_or(0)
    };

    let piped = driftd(&example_report_args(&config, &[]));
    assert_eq!(piped.code, 2, "{}", piped.stderr);
    assert!(piped.stdout.contains("rule-modified"), "{}", piped.stdout);
    let piped_width = widest(&piped.stdout);
    assert!(
        (90..=100).contains(&piped_width),
        "{piped_width}\n{}",
        piped.stdout
    );

    if !script_is_installed() {
        return;
    }
    // Neither is the 80 columns a terminal of unknown size is taken for.
    for columns in [72, 140] {
        let args = example_report_args(&config, &["--color", "never"]);
        // The report alone: progress and logs stay off this terminal.
        let (mut command, _db) = driftd_command(&args, &[]);
        command.env("RUST_LOG", "off");
        let output = on_a_terminal(&command, columns);
        let table = String::from_utf8_lossy(&output.stdout).replace('\r', "");
        // The status lines pad themselves to the terminal's width and end where
        // the report starts.
        let report = &table[table.find("driftd report ·").expect("the report")..];
        assert!(report.contains("rule-modified"), "{table}");
        let width = widest(report);
        assert!(
            width <= usize::from(columns) && width > usize::from(columns) - 20,
            "{width} columns on a terminal of {columns}:\n{report}"
        );
    }
}

/// Whether the text holds an ANSI colour or style sequence (SGR: ESC [ … m).
fn has_colour(text: &str) -> bool {
    text.split("\x1b[").skip(1).any(|after| {
        let parameters = after.trim_start_matches(|c: char| c.is_ascii_digit() || c == ';');
        parameters.starts_with('m')
    })
}

#[test]
fn help_and_version() {
    let help = driftd(&["--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("report"));
    assert!(help.stdout.contains("check-config"));
    let report_help = driftd(&["report", "--help"]);
    assert!(report_help.stdout.contains("--live"));
    assert!(report_help.stdout.contains("--fail-on"));
    let version = driftd(&["--version"]);
    assert_eq!(version.code, 0);
    assert!(version.stdout.starts_with("driftd "));
}

#[test]
fn check_config_accepts_the_example_and_refuses_a_broken_one() {
    let ok = driftd(&["check-config", "--config", "examples/driftd.toml"]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(ok.stdout.contains("ok"));
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[scan]\nregion = [\"us-east-1\"]\n").unwrap();
    let run = driftd(&["check-config", "--config", bad.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("bad.toml"), "{}", run.stderr);
    assert!(
        run.stderr.contains("unknown field `region`"),
        "{}",
        run.stderr
    );
}

#[test]
fn check_config_names_the_next_runs_of_each_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("weekdays.toml");
    std::fs::write(
        &config,
        "[[schedule]]\ncron = \"0 9 * * 1-5\"\n\n[[schedule]]\ncron = \"@hourly\"\n",
    )
    .unwrap();
    let run = driftd(&["check-config", "--config", config.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let runs_of = |prefix: &str| -> Vec<String> {
        let line = run
            .stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .unwrap_or_else(|| panic!("{prefix} in {}", run.stdout));
        line.split(", ").map(str::to_string).collect()
    };
    // Monday to Friday at 09:00 UTC, never the weekend (crontab: 1 = Monday).
    let weekdays = runs_of("schedule[0] \"0 9 * * 1-5\": next runs ");
    assert_eq!(weekdays.len(), 3, "{weekdays:?}");
    for run in &weekdays {
        assert!(
            ["Mon", "Tue", "Wed", "Thu", "Fri"].contains(&&run[..3])
                && run.ends_with(" 09:00:00 UTC"),
            "{run}"
        );
    }
    let hourly = runs_of("schedule[1] \"@hourly\": next runs ");
    assert!(
        hourly.iter().all(|run| run.ends_with(":00:00 UTC")),
        "{hourly:?}"
    );
}

#[test]
fn our_schema_copy_matches_the_contract() {
    let contract = std::path::Path::new("../shared/contracts/report.schema.json");
    if !contract.exists() {
        eprintln!("skipped: ../shared/contracts is not beside this checkout");
        return;
    }
    assert_eq!(
        read_json("schema/report.schema.json"),
        read_json(contract.to_str().unwrap()),
        "schema/report.schema.json drifted from the contract"
    );
}

#[test]
fn several_states_at_once_and_owner_conflicts() {
    let (groups, rules) = clean();
    let dir = tempfile::tempdir().unwrap();
    let groups_path = write_json(dir.path(), "groups.json", &groups);
    let rules_path = write_json(dir.path(), "rules.json", &rules);
    let run_with = |states: &[&str]| {
        let mut args = vec![
            "report",
            "--live",
            groups_path.to_str().unwrap(),
            "--live",
            rules_path.to_str().unwrap(),
        ];
        for s in states {
            args.extend(["--state", s]);
        }
        args.extend(["--format", "json"]);
        driftd(&args)
    };
    // The same declarations in two files: read both, compare once, no conflict.
    let copy = dir.path().join("copy.tfstate");
    std::fs::copy(CHAIN_STATE, &copy).unwrap();
    let run = run_with(&[CHAIN_STATE, copy.to_str().unwrap()]);
    let report = run.json();
    assert_eq!(drift(&report), Vec::<Value>::new());
    assert_eq!(report["summary"]["declared_rules"], 12);
    assert_eq!(
        report["scan"]["sources"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["kind"] == "terraform")
            .count(),
        2
    );

    // A second state managing alb-public with another description: owner-conflict.
    let other = dir.path().join("other.tfstate");
    let text = std::fs::read_to_string(CHAIN_STATE).unwrap().replacen(
        "\"alb-public tier\"",
        "\"public ALB\"",
        1,
    );
    std::fs::write(&other, text).unwrap();
    let run = run_with(&[CHAIN_STATE, other.to_str().unwrap()]);
    let findings = drift(&run.json());
    let conflict = findings
        .iter()
        .find(|f| f["code"] == "owner-conflict")
        .expect("owner-conflict");
    assert_eq!(conflict["resource"]["group_id"], ALB_PUBLIC);
    assert_eq!(conflict["severity"], "medium");
    // Owners are compared in a fixed order (by location), so either may be "expected".
    let change = &conflict["changes"][0];
    assert_eq!(conflict["changes"].as_array().unwrap().len(), 1);
    assert_eq!(change["field"], "description");
    let mut values = [
        change["expected"].as_str().unwrap(),
        change["actual"].as_str().unwrap(),
    ];
    values.sort();
    assert_eq!(values, ["alb-public tier", "public ALB"]);
    let message = conflict["message"].as_str().unwrap();
    assert!(
        message.contains(CHAIN_STATE) && message.contains("other.tfstate"),
        "{message}"
    );
    assert_eq!(run.code, 2);
    // The table names both owners too, not only the first one's owner line.
    let table = driftd(&[
        "report",
        "--live",
        groups_path.to_str().unwrap(),
        "--live",
        rules_path.to_str().unwrap(),
        "--state",
        CHAIN_STATE,
        "--state",
        other.to_str().unwrap(),
    ])
    .stdout;
    let conflict_lines: String = table
        .split("owner-conflict")
        .nth(1)
        .expect("an owner-conflict row")
        .split("\n\n")
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    for owner in [CHAIN_STATE, other.to_str().unwrap()] {
        assert!(conflict_lines.contains(owner), "{owner} in:\n{table}");
    }
}
