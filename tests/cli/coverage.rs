//! Never an all-clear for what was not compared (issue 19), end to end on captured
//! files: an empty or ownerless capture, a region left unread (and acknowledged), a
//! partly declared group, a default group, an unmanaged group open to the world.
//! Each case was silent before: exit 0, "No drift", or a medium finding.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::cli::*;

const SHARED: &str = "sg-0a1b2c3d4e5f6ffff";
const DEFAULT: &str = "sg-0a1b2c3d4e5f6d3f0";
const ACCOUNT: &str = "123456789012";

/// `report` on `state` against the clean chain captures after `edit`, in us-east-1.
fn report(
    dir: &Path,
    state: &Path,
    edit: impl FnOnce(&mut Value, &mut Value),
    extra: &[&str],
) -> Run {
    let mut groups = read_json(CLEAN_GROUPS);
    let mut rules = read_json(CLEAN_RULES);
    edit(&mut groups, &mut rules);
    let groups = write_json(dir, "groups.json", &groups);
    let rules = write_json(dir, "rules.json", &rules);
    let mut args = vec![
        "report",
        "--state",
        state.to_str().unwrap(),
        "--live",
        groups.to_str().unwrap(),
        "--live",
        rules.to_str().unwrap(),
        "--region",
        "us-east-1",
    ];
    args.extend(extra);
    driftd(&args)
}

/// The chain's state with `edit` applied, written to `dir`.
fn state_with(dir: &Path, edit: impl FnOnce(&mut Vec<Value>)) -> PathBuf {
    let mut state = read_json(CHAIN_STATE);
    edit(state["resources"].as_array_mut().unwrap());
    write_json(dir, "chain.tfstate", &state)
}

fn live_rule(id: &str, group: &str, port: i64, cidr: &str) -> Value {
    json!({
        "SecurityGroupRuleId": id, "GroupId": group, "GroupOwnerId": ACCOUNT,
        "IsEgress": false, "IpProtocol": "tcp", "FromPort": port, "ToPort": port,
        "CidrIpv4": cidr, "Tags": []
    })
}

fn rules_of(rules: &mut Value) -> &mut Vec<Value> {
    rules["SecurityGroupRules"].as_array_mut().unwrap()
}

fn only(report: &Value, code: &str) -> Value {
    let found = drift(report);
    assert_eq!(codes(&found), [code], "{found:#?}");
    found[0].clone()
}

#[test]
fn an_empty_or_ownerless_capture_is_an_error_never_no_drift() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write_json(dir.path(), "empty.json", &json!({"SecurityGroups": []}));
    let mut ownerless = read_json(CLEAN_GROUPS);
    for group in ownerless["SecurityGroups"].as_array_mut().unwrap() {
        group.as_object_mut().unwrap().remove("OwnerId");
    }
    let ownerless = write_json(dir.path(), "ownerless.json", &ownerless);
    for capture in [&empty, &ownerless] {
        let run = driftd(&[
            "report",
            "--state",
            CHAIN_STATE,
            "--live",
            capture.to_str().unwrap(),
            "--region",
            "us-east-1",
        ]);
        assert_eq!(run.code, 1, "{}: {}", capture.display(), run.stderr);
        assert!(!run.stdout.contains("No drift"), "{}", run.stdout);
        assert!(
            run.stdout.contains("compared 0 of 5 managed groups"),
            "{}",
            run.stdout
        );
        assert!(
            run.stderr
                .contains("none of the 5 declared groups was compared")
                && run.stderr.contains("123456789012/us-east-1")
                && run.stderr.contains("without OwnerId"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn a_region_nobody_read_is_scope_unscanned_until_acknowledged_by_region() {
    let dir = tempfile::tempdir().unwrap();
    // One more group, in eu-west-1: a copy of rds under another id.
    let state = state_with(dir.path(), |resources| {
        let mut west = resources
            .iter()
            .find(|r| r["type"] == "aws_security_group" && r["mode"] == "managed")
            .unwrap()
            .clone();
        west["name"] = json!("west");
        let mut instance = west["instances"][0].clone();
        instance.as_object_mut().unwrap().remove("index_key");
        let attrs = &mut instance["attributes"];
        attrs["id"] = json!("sg-0e0000000000000e1");
        attrs["name"] = json!("west");
        attrs["arn"] =
            json!("arn:aws:ec2:eu-west-1:123456789012:security-group/sg-0e0000000000000e1");
        attrs["ingress"] = json!([]);
        attrs["egress"] = json!([]);
        west["instances"] = json!([instance]);
        resources.push(west);
    });
    let run = report(dir.path(), &state, |_, _| {}, &["--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report_json = run.json();
    assert_valid_report(&report_json);
    let unscanned = only(&report_json, "scope-unscanned");
    assert_eq!(unscanned["resource"]["id"], "123456789012/eu-west-1");
    assert_eq!(unscanned["severity"], "medium");
    assert_eq!(report_json["summary"]["compared_security_groups"], 5);
    assert_eq!(report_json["summary"]["managed_security_groups"], 6);
    assert_eq!(report_json["scan"]["complete"], false);

    let config = dir.path().join("driftd.toml");
    std::fs::write(
        &config,
        "[[acknowledge]]\ncode = \"scope-unscanned\"\nregion = \"eu-west-1\"\nreason = \"the EU deployment scans eu-west-1\"\n",
    )
    .unwrap();
    let run = report(
        dir.path(),
        &state,
        |_, _| {},
        &["--format", "json", "--config", config.to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report_json = run.json();
    let unscanned = only(&report_json, "scope-unscanned");
    assert_eq!(
        unscanned["acknowledged"]["reason"],
        "the EU deployment scans eu-west-1"
    );
    assert_eq!(report_json["scan"]["complete"], true);
}

#[test]
fn a_rule_added_on_a_partly_declared_group_is_rule_added_low_or_critical() {
    let dir = tempfile::tempdir().unwrap();
    // Incident 2's layout: the shared group is read through a data source, and this
    // state manages one rule on it.
    let state = state_with(dir.path(), |resources| {
        resources.push(json!({
            "module": "module.ecs", "mode": "managed", "type": "aws_security_group_rule",
            "name": "shared_from_vpn", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
            "instances": [{"schema_version": 2, "attributes": {
                "cidr_blocks": ["10.8.0.0/16"], "description": null, "from_port": 443,
                "id": "sgrule-1", "ipv6_cidr_blocks": null, "prefix_list_ids": null,
                "protocol": "tcp", "security_group_id": SHARED,
                "security_group_rule_id": "sgr-0f0000000000000a1", "self": false,
                "source_security_group_id": null, "timeouts": null, "to_port": 443,
                "type": "ingress"
            }}]
        }));
    });
    let with_rule = |port: i64, cidr: &'static str| {
        move |_: &mut Value, rules: &mut Value| {
            let rules = rules_of(rules);
            rules.push(live_rule(
                "sgr-0f0000000000000a1",
                SHARED,
                443,
                "10.8.0.0/16",
            ));
            rules.push(live_rule("sgr-0f0000000000000a2", SHARED, port, cidr));
        }
    };
    for (cidr, severity, code) in [("10.9.0.0/16", "low", 2), ("0.0.0.0/0", "critical", 2)] {
        let run = report(
            dir.path(),
            &state,
            with_rule(22, cidr),
            &["--format", "json"],
        );
        assert_eq!(run.code, code, "{}", run.stderr);
        let added = only(&run.json(), "rule-added");
        assert_eq!(added["severity"], severity, "{cidr}");
        assert_eq!(added["owner"]["kind"], "none");
        assert_eq!(added["actual"]["from_port"], 22);
        assert_eq!(added["actual"]["peer"]["value"], cidr);
        let message = added["message"].as_str().unwrap();
        assert!(
            message.contains("the group's owner is not loaded")
                && message.contains("data.aws_security_group.shared"),
            "{message}"
        );
    }
}

/// The rules AWS creates with a VPC's default group.
fn aws_default_rules(rules: &mut Value) {
    rules_of(rules).extend([
        json!({
            "SecurityGroupRuleId": "sgr-0f0000000000000d8", "GroupId": DEFAULT,
            "GroupOwnerId": ACCOUNT, "IsEgress": false, "IpProtocol": "-1",
            "FromPort": -1, "ToPort": -1,
            "ReferencedGroupInfo": {"GroupId": DEFAULT, "UserId": ACCOUNT}, "Tags": []
        }),
        json!({
            "SecurityGroupRuleId": "sgr-0f0000000000000d9", "GroupId": DEFAULT,
            "GroupOwnerId": ACCOUNT, "IsEgress": true, "IpProtocol": "-1",
            "FromPort": -1, "ToPort": -1, "CidrIpv4": "0.0.0.0/0", "Tags": []
        }),
    ]);
}

#[test]
fn a_rule_added_to_a_default_group_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let state = Path::new(CHAIN_STATE);
    // AWS's own rules only: nothing, and the all-clear is earned.
    let run = report(
        dir.path(),
        state,
        |_, rules| aws_default_rules(rules),
        &["--format", "json"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let clean = run.json();
    assert_eq!(drift(&clean), Vec::<Value>::new());
    assert_eq!(clean["summary"]["live_rules"], 14);
    assert_eq!(clean["summary"]["compared_security_groups"], 5);
    let run = report(
        dir.path(),
        state,
        |_, rules| {
            aws_default_rules(rules);
            rules_of(rules).push(live_rule(
                "sgr-0f0000000000000d1",
                DEFAULT,
                22,
                "1.2.3.4/32",
            ));
        },
        &["--format", "json"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let added = only(&run.json(), "rule-added");
    assert_eq!(added["severity"], "high");
    assert_eq!(added["resource"]["group_id"], DEFAULT);
    assert_eq!(added["actual"]["peer"]["value"], "1.2.3.4/32");
}

#[test]
fn an_unmanaged_group_open_to_the_world_on_ssh_is_critical_and_lists_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let loose = "sg-0a1b2c3d4e5f6aaaa";
    let run = report(
        dir.path(),
        Path::new(CHAIN_STATE),
        |groups, rules| {
            groups["SecurityGroups"]
                .as_array_mut()
                .unwrap()
                .push(json!({
                    "GroupId": loose, "GroupName": "hand-made", "Description": "made by hand",
                    "OwnerId": ACCOUNT, "VpcId": "vpc-0c0ffee1234567890",
                    "IpPermissions": [], "IpPermissionsEgress": []
                }));
            rules_of(rules).push(json!({
                "SecurityGroupRuleId": "sgr-0f0000000000000b1", "GroupId": loose,
                "GroupOwnerId": ACCOUNT, "IsEgress": false, "IpProtocol": "tcp",
                "FromPort": 22, "ToPort": 22, "CidrIpv6": "::/0", "Tags": []
            }));
        },
        &["--format", "json"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let unmanaged = only(&run.json(), "sg-unmanaged");
    assert_eq!(unmanaged["severity"], "critical");
    // The rule that exposes it, whole; every rule by its label.
    assert_eq!(unmanaged["actual"]["peer"]["value"], "::/0");
    assert_eq!(unmanaged["actual"]["from_port"], 22);
    assert_eq!(
        unmanaged["changes"],
        json!([{"field": "rule", "expected": null, "actual": "ingress tcp 22 from ::/0"}])
    );
}
