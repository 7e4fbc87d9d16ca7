//! The diff of CloudFormation's own drift results (`cfn-drift`), as a pure function:
//! stack ownership and recorded drift results in, exact findings out. The AWS side
//! (detection, polling, failures) is in `tests/sources/cloudformation_api.rs`.

use crate::support::builders::*;
use driftd::model::{
    DeclaredGroup, DifferenceType, Direction, FindingCode, Owner, OwnerKind, PropertyDifference,
    ResourceDrift, ResourceDriftStatus, SECURITY_GROUP, SECURITY_GROUP_INGRESS, SecurityGroup,
    Severity, StackResource,
};
use driftd::sources::{SourceKind, SourceStatus};
use serde_json::{Value, json};

const STACK: &str = "prod-network";

fn stack_owner(logical_id: &str) -> Owner {
    Owner {
        kind: OwnerKind::Cloudformation,
        location: Some(STACK.to_string()),
        address: Some(logical_id.to_string()),
    }
}

fn resource(logical_id: &str, resource_type: &str, physical_id: &str) -> StackResource {
    StackResource {
        owner: stack_owner(logical_id),
        resource_type: resource_type.to_string(),
        physical_id: physical_id.to_string(),
        account_id: Some(ACCOUNT.to_string()),
        region: Some(REGION.to_string()),
    }
}

fn difference(
    path: &str,
    expected: Value,
    actual: Value,
    kind: DifferenceType,
) -> PropertyDifference {
    PropertyDifference {
        path: path.to_string(),
        expected,
        actual,
        kind,
    }
}

fn drift(
    logical_id: &str,
    resource_type: &str,
    physical_id: &str,
    status: ResourceDriftStatus,
    expected: Value,
    differences: Vec<PropertyDifference>,
) -> ResourceDrift {
    ResourceDrift {
        resource: resource(logical_id, resource_type, physical_id),
        status,
        expected,
        actual: Value::Null,
        differences,
    }
}

/// A world where the stack owns `alb-public` (sg-alb), which is live (its rules are
/// each test's), beside `ecs-front` (sg-front) of a state, and the stack was read.
fn alb_stack() -> World {
    let mut world = World::new()
        .group(DeclaredGroup {
            group: SecurityGroup {
                account_id: Some(ACCOUNT.to_string()),
                region: Some(REGION.to_string()),
                ..SecurityGroup::new("sg-alb")
            },
            owner: stack_owner("AlbSecurityGroup"),
        })
        .live_group(live_group("sg-alb", "alb-public"))
        .live_group(live_group("sg-front", "ecs-front"));
    world
        .intent
        .stack_resources
        .push(resource("AlbSecurityGroup", SECURITY_GROUP, "sg-alb"));
    world.intent.groups.push(managed(
        "sg-front",
        "ecs-front",
        tf(STATE, "aws_security_group.front"),
    ));
    world.sources.push(stack_source(true, None));
    world
}

fn stack_source(ok: bool, error: Option<&str>) -> SourceStatus {
    let mut status = match error {
        None => SourceStatus::ok(SourceKind::Cloudformation, STACK),
        Some(e) => SourceStatus::failed(SourceKind::Cloudformation, STACK, e.to_string()),
    };
    status.ok = ok;
    status.region = Some(REGION.to_string());
    status.ownership_read = true;
    status.drift_read = ok;
    status
}

fn alb_expected() -> Value {
    json!({
        "GroupDescription": "alb-public",
        "VpcId": "vpc-1",
        "SecurityGroupEgress": [
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "DestinationSecurityGroupId": "sg-front"}
        ]
    })
}

#[test]
fn the_changed_alb_egress_port_is_one_field_on_its_rule() {
    let mut world = alb_stack().live_rule(tcp_out("sg-alb", 8080, 8080, sg("sg-front")));
    world.intent.drifts.push(drift(
        "AlbSecurityGroup",
        SECURITY_GROUP,
        "sg-alb",
        ResourceDriftStatus::Modified,
        alb_expected(),
        vec![
            difference(
                "/SecurityGroupEgress/0/ToPort",
                json!(80),
                json!(8080),
                DifferenceType::NotEqual,
            ),
            difference(
                "/SecurityGroupEgress/0/FromPort",
                json!(80),
                json!(8080),
                DifferenceType::NotEqual,
            ),
        ],
    ));
    let findings = world.findings();
    let finding = only(&findings, FindingCode::CfnDrift);
    assert_eq!(
        codes(&findings),
        [FindingCode::CfnDrift],
        "no rule-added for a stack's group"
    );
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(finding.direction, Some(Direction::Egress));
    assert_eq!(finding.owner, stack_owner("AlbSecurityGroup"));
    assert_eq!(finding.resource.group_id.as_deref(), Some("sg-alb"));
    assert_eq!(finding.resource.group_name.as_deref(), Some("alb-public"));
    assert_eq!(
        changes(&finding),
        [
            ("from_port".to_string(), json!(80), json!(8080)),
            ("to_port".to_string(), json!(80), json!(8080)),
        ]
    );
    assert_eq!(
        finding.changes[1].property_path.as_deref(),
        Some("/SecurityGroupEgress/0/ToPort")
    );
    assert_eq!(
        finding.changes[1].difference_type,
        Some(DifferenceType::NotEqual)
    );
    assert_eq!(finding.expected.as_ref().unwrap().to_port, Some(80));
    assert_eq!(finding.actual.as_ref().unwrap().to_port, Some(8080));
    assert!(
        finding.message.contains("to_port 80 → 8080"),
        "{}",
        finding.message
    );
}

#[test]
fn a_removed_and_an_added_element_pair_up_as_the_fields_that_changed() {
    let mut world = alb_stack().live_rule(tcp_out("sg-alb", 80, 8080, sg("sg-front")));
    let old = json!({"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "DestinationSecurityGroupId": "sg-front"});
    let new = json!({"IpProtocol": "tcp", "FromPort": 80, "ToPort": 8080, "DestinationSecurityGroupId": "sg-front"});
    world.intent.drifts.push(drift(
        "AlbSecurityGroup",
        SECURITY_GROUP,
        "sg-alb",
        ResourceDriftStatus::Modified,
        alb_expected(),
        vec![
            difference(
                "/SecurityGroupEgress/0",
                old,
                Value::Null,
                DifferenceType::Remove,
            ),
            difference(
                "/SecurityGroupEgress/1",
                Value::Null,
                new,
                DifferenceType::Add,
            ),
        ],
    ));
    let finding = only(&world.findings(), FindingCode::CfnDrift);
    assert_eq!(
        changes(&finding),
        [("to_port".to_string(), json!(80), json!(8080))]
    );
    assert_eq!(
        finding.changes[0].property_path.as_deref(),
        Some("/SecurityGroupEgress/0")
    );
}

#[test]
fn differences_the_stack_itself_explains_are_not_drift() {
    let mut world = alb_stack()
        .live_rule(tcp_in("sg-alb", 443, 443, v4("0.0.0.0/0")))
        .live_rule(tcp_in("sg-alb", 22, 22, v4("10.0.0.0/8")))
        .live_rule(tcp_in("sg-alb", 22, 22, v4("10.1.0.0/16")))
        .live_rule(all_out("sg-alb", v4("0.0.0.0/0")));
    // A standalone ingress of the same stack adds 443 from anywhere (issue 1198)...
    let standalone = json!({"GroupId": "sg-alb", "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"});
    world.intent.drifts.push(drift(
        "AlbHttpsIngress",
        SECURITY_GROUP_INGRESS,
        "sgr-0aaa",
        ResourceDriftStatus::InSync,
        standalone,
        Vec::new(),
    ));
    let mut expected = alb_expected();
    expected
        .as_object_mut()
        .unwrap()
        .remove("SecurityGroupEgress");
    world.intent.drifts.push(drift(
        "AlbSecurityGroup",
        SECURITY_GROUP,
        "sg-alb",
        ResourceDriftStatus::Modified,
        expected,
        vec![
            difference(
                "/SecurityGroupIngress/0",
                Value::Null,
                json!({"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}),
                DifferenceType::Add,
            ),
            // ...EC2's default egress is kept when the template declares none...
            difference(
                "/SecurityGroupEgress/0",
                Value::Null,
                json!({"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}),
                DifferenceType::Add,
            ),
            // ...and "6" is tcp: the same rule spelled another way.
            difference(
                "/SecurityGroupIngress/1/IpProtocol",
                json!("tcp"),
                json!("6"),
                DifferenceType::NotEqual,
            ),
        ],
    ));
    // The element that "6" concerns, as the template declares it.
    world.intent.drifts[1].expected["SecurityGroupIngress"] = json!([
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "10.0.0.0/8"},
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "10.1.0.0/16"}
    ]);
    assert_eq!(summary(&world.findings()), []);
}

#[test]
fn a_group_named_by_name_is_the_same_group_by_id() {
    let mut world = alb_stack()
        .live_rule(tcp_in("sg-alb", 80, 80, sg("sg-front")))
        .live_rule(all_out("sg-alb", v4("0.0.0.0/0")));
    world.intent.drifts.push(drift(
        "AlbSecurityGroup",
        SECURITY_GROUP,
        "sg-alb",
        ResourceDriftStatus::Modified,
        json!({"SecurityGroupIngress": [
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "SourceSecurityGroupName": "ecs-front"}
        ]}),
        vec![
            difference(
                "/SecurityGroupIngress/0/SourceSecurityGroupName",
                json!("ecs-front"),
                Value::Null,
                DifferenceType::Remove,
            ),
            difference(
                "/SecurityGroupIngress/0/SourceSecurityGroupId",
                Value::Null,
                json!("sg-front"),
                DifferenceType::Add,
            ),
        ],
    ));
    assert_eq!(summary(&world.findings()), []);
}

#[test]
fn a_hand_added_rule_and_other_properties_are_reported_by_path() {
    let mut world = alb_stack()
        .live_rule(tcp_out("sg-alb", 80, 80, sg("sg-front")))
        .live_rule(tcp_in("sg-alb", 22, 22, v4("0.0.0.0/0")));
    world.intent.drifts.push(drift(
        "AlbSecurityGroup",
        SECURITY_GROUP,
        "sg-alb",
        ResourceDriftStatus::Modified,
        alb_expected(),
        vec![
            difference(
                "/SecurityGroupIngress/0",
                Value::Null,
                json!({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}),
                DifferenceType::Add,
            ),
            difference(
                "/Tags/0/Value",
                json!("web"),
                json!("legacy"),
                DifferenceType::NotEqual,
            ),
        ],
    ));
    let findings = world.findings();
    let cfn = of_code(&findings, FindingCode::CfnDrift);
    assert_eq!(cfn.len(), 2, "{:#?}", summary(&findings));
    let added = cfn
        .iter()
        .find(|f| f.direction == Some(Direction::Ingress))
        .unwrap();
    assert!(added.expected.is_none());
    assert_eq!(added.actual.as_ref().unwrap().from_port, Some(22));
    assert_eq!(added.changes[0].field, "/SecurityGroupIngress/0");
    assert_eq!(added.changes[0].difference_type, Some(DifferenceType::Add));
    assert!(
        added.message.contains("added outside CloudFormation"),
        "{}",
        added.message
    );
    let group = cfn.iter().find(|f| f.direction.is_none()).unwrap();
    assert_eq!(
        changes(group),
        [("/Tags/0/Value".to_string(), json!("web"), json!("legacy"))]
    );
    assert_eq!(group.resource.kind, "security_group");
}

#[test]
fn a_standalone_ingress_changed_or_deleted_is_told_on_its_rule() {
    let mut world = alb_stack().live_rule(tcp_in("sg-alb", 443, 443, v4("10.0.0.0/8")));
    let props = json!({"GroupId": "sg-alb", "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0", "Description": "https"});
    world.intent.drifts.push(drift(
        "AlbHttpsIngress",
        SECURITY_GROUP_INGRESS,
        "sgr-0aaa",
        ResourceDriftStatus::Modified,
        props.clone(),
        vec![difference(
            "/CidrIp",
            json!("0.0.0.0/0"),
            json!("10.0.0.0/8"),
            DifferenceType::NotEqual,
        )],
    ));
    world.intent.drifts.push(drift(
        "AlbHttpIngress",
        SECURITY_GROUP_INGRESS,
        "sgr-0bbb",
        ResourceDriftStatus::Deleted,
        json!({"GroupId": "sg-alb", "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIp": "0.0.0.0/0"}),
        Vec::new(),
    ));
    let findings = world.findings();
    let cfn = of_code(&findings, FindingCode::CfnDrift);
    assert_eq!(cfn.len(), 2, "{:#?}", summary(&findings));
    let changed = cfn.iter().find(|f| f.actual.is_some()).unwrap();
    assert_eq!(
        changes(changed),
        [(
            "peer".to_string(),
            json!({"kind": "cidr_ipv4", "value": "0.0.0.0/0"}),
            json!({"kind": "cidr_ipv4", "value": "10.0.0.0/8"})
        )]
    );
    assert_eq!(changed.changes[0].property_path.as_deref(), Some("/CidrIp"));
    assert_eq!(changed.owner, stack_owner("AlbHttpsIngress"));
    let deleted = cfn.iter().find(|f| f.actual.is_none()).unwrap();
    assert_eq!(deleted.expected.as_ref().unwrap().from_port, Some(80));
    assert_eq!(deleted.owner, stack_owner("AlbHttpIngress"));
    assert!(
        deleted.message.contains("removed outside CloudFormation"),
        "{}",
        deleted.message
    );
}

#[test]
fn a_rule_added_beside_an_empty_list_is_reported_though_cloudformation_says_in_sync() {
    // CloudFormation's issue 2091: `SecurityGroupIngress: []` plus a hand-added rule
    // reads IN_SYNC. The stack's own expected properties say what it declares.
    // EC2's default IPv4 egress is explained; an allow-all IPv6 egress is not (EC2
    // adds none by default).
    let mut world = alb_stack()
        .live_rule(tcp_in("sg-alb", 22, 22, v4("0.0.0.0/0")))
        .live_rule(all_out("sg-alb", v4("0.0.0.0/0")))
        .live_rule(all_out("sg-alb", v6("::/0")));
    world.intent.drifts.push(drift(
        "AlbSecurityGroup",
        SECURITY_GROUP,
        "sg-alb",
        ResourceDriftStatus::InSync,
        json!({"GroupDescription": "alb-public", "SecurityGroupIngress": []}),
        Vec::new(),
    ));
    let findings = world.findings();
    assert_eq!(
        codes(&findings),
        [FindingCode::RuleAdded, FindingCode::RuleAdded],
        "{:#?}",
        summary(&findings)
    );
    assert!(
        findings
            .iter()
            .any(|f| f.actual.as_ref().unwrap().peer == v6("::/0"))
    );
    let added = findings
        .iter()
        .find(|f| f.direction == Some(Direction::Ingress))
        .unwrap();
    assert_eq!(added.severity, Severity::Critical);
    assert_eq!(added.owner.kind, OwnerKind::None);
    assert_eq!(added.actual.as_ref().unwrap().from_port, Some(22));
    assert!(
        added.message.contains("AlbSecurityGroup (prod-network)"),
        "the stack should act: {}",
        added.message
    );
    // Without detection results nothing is judged: the stack's rules are its own.
    world.intent.drifts.clear();
    assert_eq!(summary(&world.findings()), []);
}

#[test]
fn elements_of_different_directions_never_pair() {
    let mut world = alb_stack().live_rule(tcp_out("sg-alb", 443, 443, v4("0.0.0.0/0")));
    let https = json!({"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"});
    world.intent.drifts.push(drift(
        "AlbSecurityGroup",
        SECURITY_GROUP,
        "sg-alb",
        ResourceDriftStatus::Modified,
        json!({"SecurityGroupIngress": [https.clone()], "SecurityGroupEgress": []}),
        vec![
            difference(
                "/SecurityGroupIngress/0",
                https.clone(),
                Value::Null,
                DifferenceType::Remove,
            ),
            difference(
                "/SecurityGroupEgress/0",
                Value::Null,
                https,
                DifferenceType::Add,
            ),
        ],
    ));
    let findings = world.findings();
    let directions: Vec<(Option<Direction>, bool, bool)> =
        of_code(&findings, FindingCode::CfnDrift)
            .iter()
            .map(|f| (f.direction, f.expected.is_some(), f.actual.is_some()))
            .collect();
    assert_eq!(
        directions,
        [
            (Some(Direction::Ingress), true, false),
            (Some(Direction::Egress), false, true)
        ],
        "{:#?}",
        summary(&findings)
    );
}

#[test]
fn without_drift_results_no_rule_is_called_undeclared() {
    // Another stack's detection failed: its standalone rules are unknown.
    let mut world = alb_stack().live_rule(tcp_in("sg-alb", 22, 22, v4("0.0.0.0/0")));
    world.intent.drifts.push(drift(
        "AlbSecurityGroup",
        SECURITY_GROUP,
        "sg-alb",
        ResourceDriftStatus::InSync,
        json!({"SecurityGroupIngress": []}),
        Vec::new(),
    ));
    let mut other = SourceStatus::failed(
        SourceKind::Cloudformation,
        "other-stack",
        "timed out".into(),
    );
    other.ownership_read = true;
    world.sources.push(other);
    assert_eq!(codes(&world.findings()), [FindingCode::SourceError]);
}

#[test]
fn a_deleted_group_is_sg_missing_once() {
    let mut world = alb_stack();
    world.live.groups.retain(|g| g.id != "sg-alb");
    world.live.rules.retain(|r| r.group_id != "sg-alb");
    world.intent.drifts.push(drift(
        "AlbSecurityGroup",
        SECURITY_GROUP,
        "sg-alb",
        ResourceDriftStatus::Deleted,
        alb_expected(),
        Vec::new(),
    ));
    let findings = world.findings();
    let missing = only(&findings, FindingCode::SgMissing);
    assert_eq!(missing.owner, stack_owner("AlbSecurityGroup"));
    assert_eq!(codes(&findings), [FindingCode::SgMissing]);
}

#[test]
fn a_group_owned_by_a_stack_and_a_state_is_an_owner_conflict() {
    let world = alb_stack().group(managed(
        "sg-alb",
        "alb-public",
        tf(STATE, "aws_security_group.alb"),
    ));
    let findings = world.findings();
    let conflict = only(&findings, FindingCode::OwnerConflict);
    assert!(
        conflict.changes.iter().any(|c| c.field == "owner"),
        "{:?}",
        conflict.changes
    );
}

#[test]
fn a_stack_whose_detection_failed_still_owns_its_groups() {
    let mut world = alb_stack();
    world.sources.pop();
    world.sources.push(stack_source(
        false,
        Some("drift detection failed: timed out"),
    ));
    // An unrelated group nobody owns is still reported: ownership was read.
    world = world.live_group(live_group("sg-stray", "stray"));
    let findings = world.findings();
    assert_eq!(
        summary(&findings),
        [
            (FindingCode::SourceError, None),
            (FindingCode::SgUnmanaged, Some("sg-stray".to_string())),
        ]
    );
    let error = only(&findings, FindingCode::SourceError);
    assert_eq!(error.resource.kind, "cloudformation_stack");
    assert!(
        error.message.contains("drift detection failed"),
        "{}",
        error.message
    );
}

#[test]
fn a_rule_a_stack_owns_by_id_is_neither_added_nor_its_group_unmanaged() {
    let mut world = World::new()
        .managed_live("sg-app", "app", tf(STATE, "aws_security_group.app"))
        .live_group(live_group("sg-shared", "shared"))
        .live_rule(with_id(
            tcp_in("sg-app", 443, 443, v4("10.0.0.0/8")),
            "sgr-0ccc",
        ))
        .live_rule(with_id(
            tcp_in("sg-shared", 5432, 5432, sg("sg-app")),
            "sgr-0ddd",
        ));
    world
        .intent
        .stack_resources
        .push(resource("AppIngress", SECURITY_GROUP_INGRESS, "sgr-0ccc"));
    world.intent.stack_resources.push(resource(
        "SharedIngress",
        SECURITY_GROUP_INGRESS,
        "sgr-0ddd",
    ));
    world.sources.push(stack_source(true, None));
    assert_eq!(summary(&world.findings()), []);
}

/// The ALB finding of `the_changed_alb_egress_port_is_one_field_on_its_rule`, but
/// with only the port's upper bound edited.
fn alb_to_port_only() -> driftd::model::Finding {
    let mut world = alb_stack().live_rule(tcp_out("sg-alb", 80, 8080, sg("sg-front")));
    world.intent.drifts.push(drift(
        "AlbSecurityGroup",
        SECURITY_GROUP,
        "sg-alb",
        ResourceDriftStatus::Modified,
        alb_expected(),
        vec![difference(
            "/SecurityGroupEgress/0/ToPort",
            json!(80),
            json!(8080),
            DifferenceType::NotEqual,
        )],
    ));
    only(&world.findings(), FindingCode::CfnDrift)
}

#[test]
fn cfn_drift_is_acknowledged_per_field_by_canonical_name_or_property_path() {
    use driftd::acknowledge::{Acknowledgement, apply};
    let ack = |field: &str, address: &str| Acknowledgement {
        code: Some(FindingCode::CfnDrift),
        group_id: None,
        address: Some(address.to_string()),
        field: Some(field.to_string()),
        account: None,
        region: None,
        changed_by: None,
        reason: "blue/green cut-over, OPS-7".to_string(),
        expires: None,
    };
    let now = chrono::Utc::now();
    for (field, address, acknowledged) in [
        ("to_port", "AlbSecurityGroup", true),
        ("/SecurityGroupEgress/0/ToPort", "AlbSecurityGroup", true),
        ("from_port", "AlbSecurityGroup", false),
        ("to_port", "OtherSecurityGroup", false),
    ] {
        let mut findings = vec![alb_to_port_only()];
        apply(&mut findings, &[ack(field, address)], now);
        assert_eq!(
            findings[0].acknowledged.is_some(),
            acknowledged,
            "{field} of {address}"
        );
    }
}

#[test]
fn the_table_and_markdown_show_the_property_path_beside_the_field() {
    use driftd::report::{Compared, Report, TableStyle, render_markdown, render_table};
    let at = chrono::Utc::now();
    let report = Report::new(
        "scan-1".to_string(),
        at,
        at,
        vec![stack_source(true, None)],
        Default::default(),
        Compared {
            live_security_groups: 2,
            live_rules: 1,
            managed_security_groups: 2,
            declared_rules: 0,
            compared_security_groups: 2,
            compared_rules: 0,
            scopes: vec![format!("{ACCOUNT}/{REGION}")],
            ..Compared::default()
        },
        vec![alb_to_port_only()],
    );
    let table = render_table(&report, TableStyle::Plain, 100);
    assert!(
        table.contains("~ to_port  80 → 8080  (/SecurityGroupEgress/0/ToPort)"),
        "{table}"
    );
    let markdown = render_markdown(&report);
    assert!(
        markdown.contains("`to_port`: `80` → `8080` (`/SecurityGroupEgress/0/ToPort`)"),
        "{markdown}"
    );
}

/// A load balancer of the stack whose only drift is its `SecurityGroups`: the same
/// finding as Terraform's, `attachment-modified`, not a `cfn-drift` by path.
#[test]
fn a_stacks_load_balancer_carrying_other_groups_is_attachment_modified() {
    let arn =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188";
    let mut world = alb_stack();
    let mut lb = drift(
        "WebLoadBalancer",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        arn,
        ResourceDriftStatus::Modified,
        json!({"Scheme": "internet-facing", "SecurityGroups": ["sg-alb"]}),
        vec![difference(
            "/SecurityGroups/1",
            Value::Null,
            json!("sg-front"),
            DifferenceType::Add,
        )],
    );
    lb.actual = json!({"Scheme": "internet-facing", "SecurityGroups": ["sg-alb", "sg-front"]});
    world.intent.drifts.push(lb.clone());
    let findings = world.findings();
    let f = only(&findings, FindingCode::AttachmentModified);
    assert_eq!(f.resource.kind, "load_balancer");
    assert_eq!(f.resource.id.as_deref(), Some("app/web/50dc6c495c0c9188"));
    assert_eq!(f.owner, stack_owner("WebLoadBalancer"));
    assert_eq!(
        changes(&f),
        vec![crate::json_change(
            "security_groups",
            json!(["sg-alb"]),
            json!(["sg-alb", "sg-front"])
        )]
    );
    assert!(
        f.message
            .starts_with("ELB app/web carries ecs-front (sg-front), which "),
        "{}",
        f.message
    );
    assert!(of_code(&findings, FindingCode::CfnDrift).is_empty());

    // Another property drifted too: every difference stays a cfn-drift by path.
    let mut world = alb_stack();
    lb.differences.push(difference(
        "/Scheme",
        json!("internet-facing"),
        json!("internal"),
        DifferenceType::NotEqual,
    ));
    world.intent.drifts.push(lb);
    let findings = world.findings();
    assert!(of_code(&findings, FindingCode::AttachmentModified).is_empty());
    assert_eq!(of_code(&findings, FindingCode::CfnDrift).len(), 1);
}
