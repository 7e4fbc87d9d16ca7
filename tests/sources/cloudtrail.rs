//! CloudTrail: every documented record shape (tests/fixtures/cloudtrail/records.json,
//! each with its source) read into what it did and who did it, and LookupEvents
//! against a local endpoint speaking its protocol: paging, one attribute a call, and
//! CloudTrail's 2 requests a second per account and region with scopes in parallel.

use std::collections::BTreeMap;

use driftd::attribution::AttributionHistory;
use driftd::aws::{ApiCalls, Timeouts, load_sdk_config};
use driftd::model::{CarrierRef, Direction, Effect, Finding, FindingCode, Via};
use driftd::sources::cloudtrail::record::parse;
use driftd::sources::cloudtrail::{Attribute, Trail};
use serde_json::{Value, json};

use crate::support::builders::{only, tcp_in, v4};
use crate::support::trail::{FakeTrail, event, fixture, identity};

const GROUP: &str = "sg-0a1b2c3d4e5f60718";

fn parsed(key: &str, values: &[(&str, Value)]) -> driftd::model::TrailEvent {
    let item = event(key, values);
    parse(&item["record"].to_string()).unwrap_or_else(|e| panic!("{key}: {e}"))
}

fn group(values: &[(&'static str, Value)]) -> Vec<(&'static str, Value)> {
    let mut all = vec![("GROUP_ID", json!(GROUP))];
    all.extend_from_slice(values);
    all
}

#[test]
fn every_documented_record_is_read() {
    let fixture = fixture();
    let keys: Vec<&String> = fixture["records"].as_object().unwrap().keys().collect();
    assert!(keys.len() >= 20, "{keys:?}");
    for key in keys {
        let event = parsed(key, &group(&[]));
        let name = key.split('.').next().unwrap();
        assert_eq!(event.event_name, name, "{key}");
        let failed = key.contains("failed");
        assert_eq!(event.error_code.is_some(), failed, "{key}");
        // Every write of a group or of what carries it says what it did (but the
        // force-deploy, which sets no groups).
        if !key.ends_with("force_deploy") {
            assert!(!event.effects.is_empty(), "{key} did nothing");
        }
    }
}

#[test]
fn rules_are_read_from_both_the_old_and_the_current_shape() {
    let values = group(&[
        ("FROM_PORT", json!(8443)),
        ("TO_PORT", json!(8443)),
        ("CIDR", json!("10.0.0.0/8")),
        ("RULE_ID", json!("sgr-0123456789abcdef0")),
    ]);
    let expected = tcp_in(GROUP, 8443, 8443, v4("10.0.0.0/8"));
    for key in [
        "AuthorizeSecurityGroupIngress.old",
        "AuthorizeSecurityGroupIngress.current",
        "AuthorizeSecurityGroupIngress.current_flat_params",
    ] {
        let effects = parsed(key, &values).effects;
        let Effect::Authorized(rule) = &effects[0] else {
            panic!("{key}: {effects:?}")
        };
        assert_eq!(rule.key(), expected.key(), "{key}");
    }
    // The current shape names the rule it made.
    let current = parsed("AuthorizeSecurityGroupIngress.current", &values);
    let Effect::Authorized(rule) = &current.effects[0] else {
        unreachable!()
    };
    assert_eq!(rule.rule_id.as_deref(), Some("sgr-0123456789abcdef0"));

    let egress = parsed("AuthorizeSecurityGroupEgress.old", &values);
    assert!(
        matches!(&egress.effects[0], Effect::Authorized(r) if r.direction == Direction::Egress)
    );
    let revoked = parsed("RevokeSecurityGroupIngress.by_ip_permissions", &values);
    assert!(matches!(&revoked.effects[0], Effect::Revoked(r) if r.key() == expected.key()));
}

#[test]
fn modify_security_group_rules_reads_its_wrapped_pascal_case_request() {
    let event = parsed(
        "ModifySecurityGroupRules",
        &group(&[
            ("RULE_ID", json!("sgr-0aaaaaaaaaaaaaaaa")),
            ("FROM_PORT", json!(8443)),
            ("TO_PORT", json!(8443)),
            ("CIDR", json!("0.0.0.0/0")),
            ("PROTOCOL", json!("tcp")),
            ("DESCRIPTION", json!("https")),
        ]),
    );
    let [Effect::Modified(patch)] = event.effects.as_slice() else {
        panic!("{:?}", event.effects)
    };
    assert_eq!(patch.group_id, GROUP);
    assert_eq!(patch.rule_id, "sgr-0aaaaaaaaaaaaaaaa");
    let live = driftd::model::Rule {
        description: Some("https".into()),
        ..tcp_in(GROUP, 8443, 8443, v4("0.0.0.0/0"))
    };
    assert!(patch.produces(&live));
    assert!(!patch.produces(&tcp_in(GROUP, 443, 443, v4("0.0.0.0/0"))));
}

#[test]
fn carriers_groups_are_read_from_each_service() {
    let lb =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188";
    let set = parsed("SetSecurityGroups.elbv2", &group(&[("LB_ARN", json!(lb))]));
    assert_eq!(
        set.effects,
        [Effect::GroupsSet {
            carrier: CarrierRef::LoadBalancer("app/web/50dc6c495c0c9188".into()),
            groups: vec![GROUP.into()],
        }]
    );
    let eni = parsed(
        "ModifyNetworkInterfaceAttribute.groups",
        &group(&[("ENI_ID", json!("eni-0123"))]),
    );
    assert_eq!(
        eni.effects,
        [Effect::GroupsSet {
            carrier: CarrierRef::Interface("eni-0123".into()),
            groups: vec![GROUP.into()],
        }]
    );
    let service = parsed(
        "UpdateService.network_configuration",
        &group(&[
            (
                "CLUSTER",
                json!("arn:aws:ecs:us-east-1:123456789012:cluster/prod"),
            ),
            ("SERVICE", json!("front")),
        ]),
    );
    assert_eq!(
        service.effects,
        [Effect::GroupsSet {
            carrier: CarrierRef::EcsService("prod/front".into()),
            groups: vec![GROUP.into()],
        }]
    );
    let created = parsed("CreateSecurityGroup", &group(&[]));
    assert_eq!(
        created.effects,
        [Effect::Created {
            group_id: GROUP.into()
        }]
    );
    let tagged = parsed("CreateTags.security_group", &group(&[]));
    assert_eq!(
        tagged.effects,
        [Effect::Tagged {
            resources: vec![GROUP.into()]
        }]
    );
}

#[test]
fn how_a_change_was_made_is_told_from_the_caller() {
    let agents = &fixture()["user_agents"];
    let via = |agent_key: &str, identity_key: &str| {
        let agent = &agents[agent_key];
        let mut record = event(
            "AuthorizeSecurityGroupIngress.old",
            &group(&[
                ("USER_AGENT", agent["userAgent"].clone()),
                ("USER_IDENTITY", identity(identity_key)),
            ]),
        )["record"]
            .clone();
        if let Some(flag) = agent.get("sessionCredentialFromConsole") {
            record["sessionCredentialFromConsole"] = flag.clone();
        }
        if let Some(by) = agent.get("invokedBy") {
            record["userIdentity"]["invokedBy"] = by.clone();
        }
        parse(&record.to_string()).unwrap().via
    };
    assert_eq!(via("console", "sso"), Some(Via::Console));
    assert_eq!(via("console_browser", "sso"), Some(Via::Console));
    assert_eq!(via("console_legacy", "iam_user"), Some(Via::Console));
    assert_eq!(via("terraform", "terraform_role"), Some(Via::Terraform));
    assert_eq!(via("cli", "iam_user"), Some(Via::Cli));
    assert_eq!(via("sdk", "assumed_role"), Some(Via::Sdk));
    assert_eq!(
        via("cloudformation", "cloudformation_invoked"),
        Some(Via::Cloudformation)
    );
    // An SSO session is the person.
    let by = parsed("AuthorizeSecurityGroupIngress.old", &group(&[])).changed_by();
    assert_eq!(by.who(), "jane.doe@example.com");
}

#[test]
fn a_record_that_is_not_one_is_refused_with_the_reason() {
    assert!(parse("not json").unwrap_err().contains("not JSON"));
    assert!(parse("{}").unwrap_err().contains("eventID"));
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn sdk(trail: &FakeTrail, region: &str) -> aws_config::SdkConfig {
    let base = load_sdk_config(Some(region), Timeouts::default()).await;
    base.to_builder()
        .endpoint_url(trail.endpoint())
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new("testing", "testing", None, None, "test"),
            ),
        )
        .build()
}

#[test]
fn lookups_read_every_page_newest_first() {
    let trail = FakeTrail::start();
    let now = chrono::Utc::now();
    let events: Vec<Value> = (0..120)
        .map(|i| {
            let at = now - chrono::Duration::minutes(i);
            event(
                "AuthorizeSecurityGroupIngress.current",
                &group(&[
                    (
                        "EVENT_TIME",
                        json!(at.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
                    ),
                    ("FROM_PORT", json!(1000 + i)),
                    ("TO_PORT", json!(1000 + i)),
                ]),
            )
        })
        .collect();
    trail.add(&events);
    let rt = runtime();
    let found = rt.block_on(async {
        let config = sdk(&trail, "us-east-1").await;
        let calls = ApiCalls::default();
        let found = Trail::new(&config, &calls)
            .lookup(
                &Attribute::ResourceName(GROUP.into()),
                now - chrono::Duration::days(1),
                now,
            )
            .await
            .unwrap();
        assert_eq!(calls.calls().get("cloudtrail:LookupEvents"), Some(&3));
        found
    });
    assert!(found.complete);
    let found = found.events;
    assert_eq!(found.len(), 120);
    assert!(found.windows(2).all(|w| w[0].time >= w[1].time));
    let requests = trail.requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests
            .iter()
            .all(|r| r["attributes"].as_array().unwrap().len() == 1)
    );
    assert_eq!(requests[1]["next_token"], "50");
}

/// A `rule-added` of port `port` on `group` in `region`.
fn added(group: &str, region: &str, port: i64) -> Finding {
    let mut world = crate::support::builders::World::new()
        .managed_live(
            group,
            "g",
            crate::support::builders::tf("s.tfstate", "aws_security_group.g"),
        )
        .live_rule(tcp_in(group, port, port, v4("0.0.0.0/0")));
    world = world.source(driftd::sources::SourceStatus::ok(
        driftd::sources::SourceKind::Terraform,
        "s.tfstate",
    ));
    let mut finding = only(&world.findings(), FindingCode::RuleAdded);
    finding.region = Some(region.into());
    finding.account_id = Some("123456789012".into());
    finding
}

#[test]
fn three_scopes_are_looked_up_in_parallel_each_under_two_requests_a_second() {
    let trail = FakeTrail::start();
    let regions = ["us-east-1", "eu-west-1", "ap-southeast-2"];
    let mut findings = Vec::new();
    for region in regions {
        for n in 0..4 {
            findings.push(added(&format!("sg-{region}-{n}"), region, 22));
        }
    }
    let rt = runtime();
    let statuses = rt.block_on(async {
        let config = sdk(&trail, "us-east-1").await;
        let calls = ApiCalls::default();
        driftd::attribution::attribute(
            &config,
            &[],
            &mut findings,
            &AttributionHistory::default(),
            chrono::Utc::now(),
            &calls,
        )
        .await
    });
    assert_eq!(statuses.len(), 3);
    assert!(statuses.iter().all(|s| s.ok), "{statuses:?}");
    // Nothing found, first seen now: CloudTrail may still deliver.
    assert!(
        findings
            .iter()
            .all(|f| f.changed_by == Some(driftd::model::Attribution::Pending))
    );

    let requests = trail.requests();
    let mut by_region: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in &requests {
        assert_eq!(r["throttled"], false, "{r}");
        by_region
            .entry(r["region"].as_str().unwrap().into())
            .or_default()
            .push(r["time"].as_f64().unwrap());
    }
    assert_eq!(by_region.len(), 3);
    for (region, times) in &by_region {
        // Four groups, then ModifySecurityGroupRules for the still unmatched.
        assert_eq!(times.len(), 5, "{region}");
        for pair in times.windows(3) {
            assert!(
                pair[2] - pair[0] >= 1.0,
                "{region}: three calls within a second: {pair:?}"
            );
        }
        let rate = (times.len() - 1) as f64 / (times[times.len() - 1] - times[0]);
        eprintln!("{region}: {} calls, {rate:.2} per second", times.len());
        assert!(rate <= 2.0, "{region}: {rate}");
    }
    // In parallel: every scope had begun before any finished.
    let first_end = by_region
        .values()
        .map(|t| t[t.len() - 1])
        .fold(f64::MAX, f64::min);
    assert!(
        by_region.values().all(|t| t[0] < first_end),
        "{by_region:?}"
    );
}
