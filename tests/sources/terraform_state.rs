//! The Terraform state reader on a fixture holding every resource kind and shape
//! driftd reads, in the attribute shapes the AWS provider writes.

use driftd::model::{Direction, Intent, OwnerKind};
use driftd::sources::terraform::parse_state;

const SHAPES: &str = "tests/fixtures/terraform/shapes.tfstate";

fn shapes() -> Intent {
    parse_state(SHAPES, &std::fs::read(SHAPES).unwrap()).unwrap()
}

/// `address direction protocol from-to peer_kind:peer [description] [rule id]` per rule, sorted.
fn rule_lines(intent: &Intent) -> Vec<String> {
    let mut lines: Vec<String> = intent
        .rules
        .iter()
        .map(|r| {
            let port = |p: Option<i32>| p.map_or("*".to_string(), |p| p.to_string());
            format!(
                "{} {} {} {}-{} {}:{} {:?} {:?} inline={}",
                r.owner.address.as_deref().unwrap(),
                r.rule.direction,
                r.rule.protocol,
                port(r.rule.from_port),
                port(r.rule.to_port),
                r.rule.peer.kind(),
                r.rule.peer.value(),
                r.rule.description,
                r.rule.rule_id,
                r.inline,
            )
        })
        .collect();
    lines.sort();
    lines
}

#[test]
fn every_resource_kind_and_shape() {
    let intent = shapes();
    let expected = [
        r#"aws_security_group_rule.all_old_eks egress all *-* cidr_ipv4:0.0.0.0/0 None None inline=false"#,
        r#"aws_security_group_rule.from_shared ingress udp 53-53 security_group:sg-0shared None None inline=false"#,
        r#"aws_security_group_rule.multi ingress tcp 8080-8081 cidr_ipv4:10.1.0.0/16 None None inline=false"#,
        r#"aws_security_group_rule.multi ingress tcp 8080-8081 cidr_ipv4:10.2.0.0/16 None None inline=false"#,
        r#"aws_security_group_rule.multi ingress tcp 8080-8081 cidr_ipv6:2001:db8:1::/48 None None inline=false"#,
        r#"aws_security_group_rule.prefix egress tcp 443-443 prefix_list:pl-0s3 None None inline=false"#,
        r#"aws_security_group_rule.self["ingress_self_all"] ingress tcp 0-65535 security_group:sg-0web Some("Node to node") Some("sgr-0self") inline=false"#,
        r#"aws_security_group_rule.ssh ingress tcp 22-22 cidr_ipv4:10.9.0.0/16 None Some("sgr-0ssh") inline=false"#,
        r#"module.a.module.b["x"].aws_vpc_security_group_ingress_rule.this["https"] ingress tcp 443-443 cidr_ipv6:::/0 Some("public v6") Some("sgr-0vpc") inline=false"#,
        r#"module.web.aws_security_group.web[0] egress all *-* cidr_ipv4:0.0.0.0/0 None None inline=true"#,
        r#"module.web.aws_security_group.web[0] ingress tcp 22-22 cidr_ipv4:10.9.0.0/16 Some("shadowed by the rule resource below") None inline=true"#,
        r#"module.web.aws_security_group.web[0] ingress tcp 443-443 cidr_ipv4:10.0.0.0/8 None None inline=true"#,
        r#"module.web.aws_security_group.web[0] ingress tcp 443-443 cidr_ipv4:172.16.0.0/12 None None inline=true"#,
        r#"module.web.aws_security_group.web[0] ingress tcp 443-443 cidr_ipv6:2001:db8::/32 None None inline=true"#,
        r#"module.web.aws_security_group.web[0] ingress tcp 443-443 prefix_list:pl-0abc1234 None None inline=true"#,
        r#"module.web.aws_security_group.web[0] ingress tcp 443-443 security_group:sg-0peer None None inline=true"#,
        r#"module.web.aws_security_group.web[0] ingress tcp 443-443 security_group:sg-0web None None inline=true"#,
    ];
    assert_eq!(rule_lines(&intent), expected);
}

#[test]
fn groups_reads_and_scopes() {
    let intent = shapes();
    assert_eq!(
        intent.groups.len(),
        1,
        "the deposed instance is not what the config declares"
    );
    let web = &intent.groups[0];
    assert_eq!(web.group.id, "sg-0web");
    assert_eq!(web.owner.kind, OwnerKind::Terraform);
    assert_eq!(web.owner.location.as_deref(), Some(SHAPES));
    assert_eq!(
        web.owner.address.as_deref(),
        Some("module.web.aws_security_group.web[0]")
    );
    assert_eq!(web.group.account_id.as_deref(), Some("111122223333"));
    assert_eq!(web.group.region.as_deref(), Some("eu-west-1"));
    // tags_all (with default_tags) wins over tags.
    let tags = web.group.tags.as_ref().unwrap();
    assert_eq!(tags.get("env").map(String::as_str), Some("prod"));
    assert_eq!(intent.reads.len(), 1);
    assert_eq!(intent.reads[0].group_id, "sg-0shared");
    assert_eq!(
        intent.reads[0].reader.address.as_deref(),
        Some("data.aws_security_group.shared")
    );
    // Rules without an ARN take their group's scope.
    let ssh = intent
        .rules
        .iter()
        .find(|r| r.rule.rule_id.as_deref() == Some("sgr-0ssh"))
        .unwrap();
    assert_eq!(
        (ssh.account_id.as_deref(), ssh.region.as_deref()),
        (Some("111122223333"), Some("eu-west-1"))
    );
    // Rule tags: tags_all without aws:* tags.
    let v6 = intent
        .rules
        .iter()
        .find(|r| r.rule.rule_id.as_deref() == Some("sgr-0vpc"))
        .unwrap();
    assert_eq!(v6.rule.direction, Direction::Ingress);
    assert_eq!(v6.rule.tags.as_ref().unwrap().len(), 1);
}

#[test]
fn inline_rules_repeated_by_a_rule_resource_count_once() {
    use driftd::diff::{DiffInput, DiffOptions, diff};
    use driftd::model::LiveView;
    let intent = shapes();
    let outcome = diff(&DiffInput {
        intent: &intent,
        live: &LiveView::default(),
        stack_drifts: &[],
        sources: &[],
        options: &DiffOptions::default(),
    });
    assert_eq!(intent.rules.len(), 17);
    // The inline ssh rule belongs to aws_security_group_rule.ssh, and the inline
    // allow-all egress to aws_security_group_rule.all_old_eks.
    assert_eq!(outcome.declared_rules, 15);
    assert_eq!(outcome.managed_groups, 1);
}

/// The groups declared for what carries them, in the attribute shapes the AWS
/// provider (5.x) writes for each resource.
#[test]
fn what_carries_the_groups_is_read_from_each_resource_kind() {
    use driftd::model::CarrierRef;
    let provider = "provider[\"registry.terraform.io/hashicorp/aws\"]";
    let resource = |kind: &str, name: &str, attributes: serde_json::Value| {
        serde_json::json!({"mode": "managed", "type": kind, "name": name, "provider": provider,
            "instances": [{"schema_version": 0, "attributes": attributes, "sensitive_attributes": []}]})
    };
    let lb_arn =
        "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188";
    let state = serde_json::json!({"version": 4, "terraform_version": "1.9.8", "serial": 3,
        "lineage": "x", "outputs": {}, "resources": [
        resource("aws_lb", "web", serde_json::json!({"arn": lb_arn, "id": lb_arn, "name": "web",
            "load_balancer_type": "application", "security_groups": ["sg-0b", "sg-0a", "sg-0a"]})),
        // A Network Load Balancer without groups declares none.
        resource("aws_lb", "nlb", serde_json::json!({"arn": lb_arn.replace("app/web", "net/nlb"),
            "load_balancer_type": "network", "security_groups": []})),
        resource("aws_instance", "bastion", serde_json::json!({"id": "i-0abc",
            "arn": "arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc",
            "vpc_security_group_ids": ["sg-0c"], "security_groups": []})),
        resource("aws_network_interface", "extra", serde_json::json!({"id": "eni-0abc",
            "arn": "arn:aws:ec2:eu-west-1:123456789012:network-interface/eni-0abc",
            "security_groups": ["sg-0d"]})),
        resource("aws_network_interface_sg_attachment", "monitoring", serde_json::json!({
            "id": "sg-0e_eni-0abc", "network_interface_id": "eni-0abc", "security_group_id": "sg-0e"})),
        resource("aws_lambda_function", "orders", serde_json::json!({"function_name": "orders-api",
            "arn": "arn:aws:lambda:eu-west-1:123456789012:function:orders-api",
            "vpc_config": [{"security_group_ids": ["sg-0f"], "subnet_ids": ["subnet-1"], "vpc_id": "vpc-1"}]})),
        resource("aws_ecs_service", "front", serde_json::json!({"name": "front",
            "id": "arn:aws:ecs:eu-west-1:123456789012:service/prod/front",
            "cluster": "arn:aws:ecs:eu-west-1:123456789012:cluster/prod",
            "network_configuration": [{"security_groups": ["sg-10"], "subnets": ["subnet-1"],
                                       "assign_public_ip": false}]})),
        // Outside a VPC: no groups.
        resource("aws_lambda_function", "cron", serde_json::json!({"function_name": "cron",
            "arn": "arn:aws:lambda:eu-west-1:123456789012:function:cron", "vpc_config": []})),
    ]});
    let intent = parse_state("carriers.tfstate", state.to_string().as_bytes()).unwrap();
    // (carrier, groups, adds only, owner address, region)
    type Row = (CarrierRef, Vec<String>, bool, String, Option<String>);
    let got: Vec<Row> = intent
        .attachments
        .iter()
        .map(|a| {
            (
                a.carrier.clone(),
                a.groups.clone(),
                a.adds_only,
                a.owner.address.clone().unwrap(),
                a.region.clone(),
            )
        })
        .collect();
    let eu = Some("eu-west-1".to_string());
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        got,
        vec![
            (
                CarrierRef::LoadBalancer("app/web/50dc6c495c0c9188".into()),
                strings(&["sg-0a", "sg-0b"]),
                false,
                "aws_lb.web".into(),
                eu.clone()
            ),
            (
                CarrierRef::Instance("i-0abc".into()),
                strings(&["sg-0c"]),
                false,
                "aws_instance.bastion".into(),
                eu.clone()
            ),
            (
                CarrierRef::Interface("eni-0abc".into()),
                strings(&["sg-0d"]),
                false,
                "aws_network_interface.extra".into(),
                eu.clone()
            ),
            (
                CarrierRef::Interface("eni-0abc".into()),
                strings(&["sg-0e"]),
                true,
                "aws_network_interface_sg_attachment.monitoring".into(),
                None
            ),
            (
                CarrierRef::Lambda("orders-api".into()),
                strings(&["sg-0f"]),
                false,
                "aws_lambda_function.orders".into(),
                eu.clone()
            ),
            (
                CarrierRef::EcsService("prod/front".into()),
                strings(&["sg-10"]),
                false,
                "aws_ecs_service.front".into(),
                eu
            ),
        ]
    );
}
