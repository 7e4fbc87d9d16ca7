//! Which CloudTrail event made a finding (`src/attribution/matching.rs`): the diff's
//! own findings against the fixture's documented records (read by driftd's record
//! parser), one rule of the issue at a time: only successful writes that produce
//! this drift, in the window, the latest winning.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use driftd::attribution::matching::latest;
use driftd::model::{CarrierRef, Timestamp, TrailEvent};
use driftd::sources::cloudtrail::record::parse;
use support::trail::{event, event_by, minutes_ago};

use super::*;

const ALB_ARN: &str =
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188";

fn read(events: &[Value]) -> Vec<TrailEvent> {
    events
        .iter()
        .map(|e| parse(&e["record"].to_string()).expect("a documented record parses"))
        .collect()
}

/// The last hour.
fn window() -> (Timestamp, Timestamp) {
    (Utc::now() - Duration::hours(1), Utc::now())
}

/// The id of the event `latest` picks for `finding`, if any.
fn picked(finding: &Finding, events: &[Value], carriers: &[(&str, &[&str])]) -> Option<String> {
    let carriers: HashMap<String, Vec<String>> = carriers
        .iter()
        .map(|(g, labels)| {
            (
                g.to_string(),
                labels.iter().map(|l| l.to_string()).collect(),
            )
        })
        .collect();
    let events = read(events);
    latest(finding, &events, window(), &carriers).map(|e| e.event_id.clone())
}

fn id(event: &Value) -> Option<String> {
    Some(event["record"]["eventID"].as_str().unwrap().to_string())
}

/// An `AuthorizeSecurityGroupIngress` of tcp `port` from 0.0.0.0/0 on `group`.
fn ssh_opened(group: &str, port: u16, minutes: i64, who: &str, how: &str) -> Value {
    event_by(
        "AuthorizeSecurityGroupIngress.current",
        who,
        how,
        &[
            ("GROUP_ID", json!(group)),
            ("FROM_PORT", json!(port)),
            ("TO_PORT", json!(port)),
            ("CIDR", json!("0.0.0.0/0")),
            ("EVENT_TIME", minutes_ago(minutes)),
        ],
    )
}

fn ssh_added() -> Finding {
    let world = chain().live_rule(tcp_in(ALB, 22, 22, v4("0.0.0.0/0")));
    only(&world.findings(), FindingCode::RuleAdded).clone()
}

#[test]
fn the_latest_successful_authorize_of_that_rule_on_that_group_wins() {
    let finding = ssh_added();
    let first = ssh_opened(ALB, 22, 50, "iam_user", "cli");
    let console = ssh_opened(ALB, 22, 30, "sso", "console");
    let other_port = ssh_opened(ALB, 2222, 20, "terraform_role", "terraform");
    let other_group = ssh_opened(FRONT, 22, 10, "terraform_role", "terraform");
    let mut failed = ssh_opened(ALB, 22, 5, "iam_user", "cli");
    failed["record"]["errorCode"] = json!("Client.InvalidPermission.Duplicate");
    let events = [first, console.clone(), other_port, other_group, failed];
    assert_eq!(picked(&finding, &events, &[]), id(&console));
}

#[test]
fn an_event_outside_the_window_is_not_taken() {
    let finding = ssh_added();
    let before = ssh_opened(ALB, 22, 90, "sso", "console");
    assert_eq!(picked(&finding, &[before], &[]), None);
}

#[test]
fn the_old_record_shape_counts_as_the_current_one() {
    let finding = ssh_added();
    let old = event(
        "AuthorizeSecurityGroupIngress.old",
        &[
            ("GROUP_ID", json!(ALB)),
            ("FROM_PORT", json!(22)),
            ("TO_PORT", json!(22)),
            ("EVENT_TIME", minutes_ago(3)),
        ],
    );
    assert_eq!(picked(&finding, std::slice::from_ref(&old), &[]), id(&old));
}

#[test]
fn a_description_update_makes_a_modified_description() {
    let rule = tcp_in(ALB, 443, 443, v4("10.0.0.0/8"));
    let world = chain()
        .declare(declared(
            with_description(rule.clone(), Some("from the office")),
            rule_owner(),
        ))
        .live_rule(with_description(rule, Some("temporary")));
    let finding = only(&world.findings(), FindingCode::RuleModified).clone();
    let described = |text: &str| {
        event(
            "UpdateSecurityGroupRuleDescriptionsIngress",
            &[
                ("GROUP_ID", json!(ALB)),
                ("FROM_PORT", json!(443)),
                ("TO_PORT", json!(443)),
                ("CIDR", json!("10.0.0.0/8")),
                ("DESCRIPTION", json!(text)),
                ("EVENT_TIME", minutes_ago(4)),
            ],
        )
    };
    let right = described("temporary");
    let back = described("from the office");
    assert_eq!(picked(&finding, &[right.clone(), back], &[]), id(&right));
    // The rule's creation, with the declared description, did not make this drift.
    let created = event(
        "AuthorizeSecurityGroupIngress.current",
        &[
            ("GROUP_ID", json!(ALB)),
            ("FROM_PORT", json!(443)),
            ("TO_PORT", json!(443)),
            ("CIDR", json!("10.0.0.0/8")),
            ("EVENT_TIME", minutes_ago(2)),
        ],
    );
    assert_eq!(picked(&finding, &[created], &[]), None);
}

#[test]
fn an_attachment_is_tied_to_the_call_that_set_the_groups_found() {
    let world = chain()
        .live_group(live_group(SHARED, "wide-open"))
        .attach(
            CarrierRef::LoadBalancer("app/web/50dc6c495c0c9188".into()),
            &[ALB],
            tf(STATE, "module.lb.aws_lb.web"),
        )
        .interface("eni-0a1b", ALB_INTERFACE, &[ALB, SHARED]);
    let finding = only(&world.findings(), FindingCode::AttachmentModified).clone();
    let set = |groups: &[&str], minutes: i64| {
        let mut e = event(
            "SetSecurityGroups.elbv2",
            &[("EVENT_TIME", minutes_ago(minutes))],
        );
        e["record"]["requestParameters"]["securityGroups"] = json!(groups);
        e["record"]["requestParameters"]["loadBalancerArn"] = json!(ALB_ARN);
        e
    };
    let right = set(&[ALB, SHARED], 8);
    // Later, but to a list that is not what is live.
    let other = set(&[SHARED], 2);
    assert_eq!(picked(&finding, &[right.clone(), other], &[]), id(&right));
}

#[test]
fn an_empty_reference_is_tied_to_the_detach_from_what_last_carried_the_group() {
    let world = chain()
        .live_group(live_group(SHARED, "alb-by-hand"))
        .both(tcp_in(FRONT, 80, 80, sg(ALB)), front_owner())
        .interface("eni-0a1b", ALB_INTERFACE, &[SHARED])
        .interface("eni-0f00", TASK_INTERFACE, &[FRONT]);
    let finding = only(&world.findings(), FindingCode::ReferenceEmpty).clone();
    // The load balancer's groups set to the hand-made one alone.
    let mut detach = event("SetSecurityGroups.elbv2", &[("EVENT_TIME", minutes_ago(6))]);
    detach["record"]["requestParameters"]["securityGroups"] = json!([SHARED]);
    detach["record"]["requestParameters"]["loadBalancerArn"] = json!(ALB_ARN);
    let last_carried: &[(&str, &[&str])] = &[(ALB, &["ELB app/web"])];
    assert_eq!(
        picked(&finding, &[detach.clone()], last_carried),
        id(&detach)
    );
    // With nothing known to have carried it, a detach elsewhere proves nothing.
    assert_eq!(picked(&finding, &[detach], &[]), None);
}
