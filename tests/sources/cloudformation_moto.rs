//! CloudFormation ownership against the real local AWS endpoint (moto server): a
//! stack creates groups and standalone ingress/egress rules, and driftd lists the
//! stack's resources. The endpoint does not implement drift detection (its drift
//! calls answer 500), so these scans set `detect_drift = false`, and one test shows
//! that leaving detection on there is a `source-error`, never "in sync". Drift
//! results are tested against recorded responses in `cloudformation_api.rs`.
//! The endpoint drops the standalone egress and gives the standalone ingress no
//! physical id (docs/local-aws.md); the groups' ownership is what it shows.

use crate::support::cli::*;
use crate::support::moto::Moto;
use serde_json::{Value, json};

/// Two groups (the ALB's without declared egress, so EC2's allow-all egress stays),
/// a standalone ingress from the ALB to the app, a standalone egress, and a group
/// created by hand that no stack owns. Returns (stack group ids, stray group id).
fn seed(moto: &Moto) -> (Vec<String>, String) {
    let template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "AlbSecurityGroup": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
                "GroupDescription": "alb-public", "VpcId": {"Ref": "VpcId"},
                "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}]}},
            "AppSecurityGroup": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
                "GroupDescription": "ecs-app", "VpcId": {"Ref": "VpcId"}}},
            "AppFromAlb": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
                "GroupId": {"Fn::GetAtt": ["AppSecurityGroup", "GroupId"]}, "IpProtocol": "tcp",
                "FromPort": 8080, "ToPort": 8080,
                "SourceSecurityGroupId": {"Fn::GetAtt": ["AlbSecurityGroup", "GroupId"]}}},
            "AlbToApp": {"Type": "AWS::EC2::SecurityGroupEgress", "Properties": {
                "GroupId": {"Fn::GetAtt": ["AlbSecurityGroup", "GroupId"]}, "IpProtocol": "tcp",
                "FromPort": 8080, "ToPort": 8080,
                "DestinationSecurityGroupId": {"Fn::GetAtt": ["AppSecurityGroup", "GroupId"]}}}
        },
        "Parameters": {"VpcId": {"Type": "String"}}
    });
    let out = moto.python(&format!(
        r#"
vpc = ec2.create_vpc(CidrBlock='10.20.0.0/16')['Vpc']['VpcId']
cfn.create_stack(StackName='prod-network', TemplateBody={template},
                 Parameters=[{{'ParameterKey': 'VpcId', 'ParameterValue': vpc}}])
resources = cfn.list_stack_resources(StackName='prod-network')['StackResourceSummaries']
groups = sorted(r['PhysicalResourceId'] for r in resources if r['ResourceType'] == 'AWS::EC2::SecurityGroup')
stray = ec2.create_security_group(GroupName='hand-made', Description='hand-made', VpcId=vpc)['GroupId']
print(json.dumps({{'groups': groups, 'stray': stray}}))
"#,
        template = serde_json::to_string(&template.to_string()).unwrap()
    ));
    let seeded: Value = serde_json::from_str(out.trim()).unwrap();
    let groups = seeded["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap().to_string())
        .collect();
    (groups, seeded["stray"].as_str().unwrap().to_string())
}

fn report(moto: &Moto, cloudformation: &str) -> (i32, Value) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("driftd.toml");
    std::fs::write(
        &config,
        format!("[scan]\nregions = [\"us-east-1\"]\n\n[[cloudformation]]\n{cloudformation}\n"),
    )
    .unwrap();
    let config = config.display().to_string();
    let run = driftd_with_env(
        &[
            "report",
            "--config",
            &config,
            "--format",
            "json",
            "--no-store",
        ],
        &moto.env(),
    );
    let report = run.json();
    assert_valid_report(&report);
    (run.code, report)
}

/// Each finding's code and its resource's `key` (`group_id`, `id`).
fn codes_and<'a>(key: &str, report: &'a Value) -> Vec<(&'a str, &'a str)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap(),
                f["resource"][key].as_str().unwrap_or(""),
            )
        })
        .collect()
}

#[test]
fn a_stack_owns_its_groups_and_standalone_rules() {
    let moto = Moto::start();
    let (stack_groups, stray) = seed(&moto);
    assert_eq!(stack_groups.len(), 2);
    let (code, report) = report(&moto, "stacks = [\"*\"]\ndetect_drift = false");
    assert_eq!(code, 2, "the hand-made group is drift");
    let found = codes_and("group_id", &report);
    // The stack's groups are managed: no sg-unmanaged, and no rule-added for EC2's
    // default allow-all egress that CloudFormation keeps on the ALB group.
    assert_eq!(
        found,
        [("sg-unmanaged", stray.as_str())],
        "{:#?}",
        report["findings"]
    );
    assert_eq!(report["summary"]["managed_security_groups"], 2);
    // The `*` listing, then the stack it found.
    let sources: Vec<(&Value, &Value, &Value)> = report["scan"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == "cloudformation")
        .map(|s| (&s["location"], &s["ok"], &s["region"]))
        .collect();
    let (ok, region) = (json!(true), json!("us-east-1"));
    assert_eq!(
        sources,
        [
            (&json!("*"), &ok, &region),
            (&json!("prod-network"), &ok, &region)
        ]
    );
    assert_eq!(
        report["scan"]["api_calls"]["cloudformation:ListStackResources"],
        1
    );
    assert_eq!(
        report["scan"]["api_calls"]["cloudformation:DetectStackDrift"],
        Value::Null
    );
    // The ALB group still has EC2's default egress, which nobody reported.
    let alb_egress = moto.python(&format!(
        "print(json.dumps(ec2.describe_security_groups(GroupIds=['{}'])['SecurityGroups'][0]['IpPermissionsEgress']))",
        stack_groups.iter().find(|g| **g != stray).unwrap()
    ));
    assert!(alb_egress.contains("0.0.0.0/0"), "{alb_egress}");
}

#[test]
fn drift_detection_the_endpoint_cannot_do_is_a_source_error_not_in_sync() {
    let moto = Moto::start();
    let (_, stray) = seed(&moto);
    let (code, report) = report(
        &moto,
        "stacks = [\"prod-network\"]\ndrift_timeout = \"30s\"",
    );
    assert_eq!(code, 1, "a partial scan exits 1");
    let found = codes_and("id", &report);
    assert_eq!(
        found,
        [
            ("source-error", "prod-network"),
            ("sg-unmanaged", stray.as_str())
        ],
        "{:#?}",
        report["findings"]
    );
    let message = report["findings"][0]["message"].as_str().unwrap();
    assert!(message.contains("DetectStackDrift"), "{message}");
}
