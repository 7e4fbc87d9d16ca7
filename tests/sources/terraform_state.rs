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

/// A state over two accounts and two regions, a rule resource listed before its
/// group (as another module's would be).
const ORG_STATE: &str = r#"{"version": 4, "terraform_version": "1.9.8", "serial": 3,
  "lineage": "2f0e8c1a-4b7d-4e1f-9a3c-5d6e7f809a1b", "outputs": {},
  "resources": [
    {"module": "module.a", "mode": "managed", "type": "aws_security_group_rule", "name": "early",
     "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
     "instances": [{"schema_version": 2, "attributes": {"id": "sgrule-1", "type": "ingress",
       "security_group_id": "sg-0b1", "protocol": "tcp", "from_port": 22, "to_port": 22,
       "cidr_blocks": ["10.9.0.0/16"], "ipv6_cidr_blocks": [], "prefix_list_ids": [],
       "self": false, "source_security_group_id": null, "description": "bastion"}}]},
    {"mode": "managed", "type": "aws_security_group", "name": "g",
     "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
     "instances": [
      {"index_key": "a1", "schema_version": 1, "attributes": {"id": "sg-0a1", "name": "a1",
        "arn": "arn:aws:ec2:us-east-1:111111111111:security-group/sg-0a1", "description": "a1",
        "vpc_id": "vpc-1", "tags": {}, "egress": [], "ingress": [{"cidr_blocks": ["10.0.0.0/8"],
        "description": "", "from_port": 443, "to_port": 443, "ipv6_cidr_blocks": [],
        "prefix_list_ids": [], "protocol": "tcp", "security_groups": [], "self": false}]}},
      {"index_key": "b1", "schema_version": 1, "attributes": {"id": "sg-0b1", "name": "b1",
        "arn": "arn:aws:ec2:us-east-1:222222222222:security-group/sg-0b1", "description": "b1",
        "vpc_id": "vpc-2", "tags": {}, "egress": [], "ingress": []}},
      {"index_key": "c1", "schema_version": 1, "attributes": {"id": "sg-0c1", "name": "c1",
        "arn": "arn:aws:ec2:eu-west-1:111111111111:security-group/sg-0c1", "description": "c1",
        "vpc_id": "vpc-3", "tags": {}, "egress": [], "ingress": []}}]},
    {"module": "module.b", "mode": "managed", "type": "aws_security_group_rule", "name": "late",
     "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
     "instances": [{"schema_version": 2, "attributes": {"id": "sgrule-2", "type": "egress",
       "security_group_id": "sg-0c1", "protocol": "tcp", "from_port": 5432, "to_port": 5432,
       "cidr_blocks": ["10.8.0.0/16"], "ipv6_cidr_blocks": [], "prefix_list_ids": [],
       "self": false, "source_security_group_id": null, "description": "db"}},
      {"schema_version": 2, "deposed": "00000001", "attributes": {"id": "sgrule-old",
       "type": "egress", "security_group_id": "sg-0a1", "protocol": "tcp", "from_port": 1,
       "to_port": 1, "cidr_blocks": ["10.7.0.0/16"], "self": false}}]},
    {"mode": "managed", "type": "aws_default_security_group", "name": "default",
     "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
     "instances": [{"schema_version": 1, "attributes": {"id": "sg-0f1", "name": "default",
       "owner_id": "222222222222", "description": "default VPC security group",
       "arn": "arn:aws:ec2:us-east-1:222222222222:security-group/sg-0f1",
       "vpc_id": "vpc-2", "tags": {}, "egress": [], "ingress": []}}]},
    {"mode": "managed", "type": "aws_security_group_rule", "name": "flat",
     "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
     "instances": [{"schema_version": 2, "attributes_flat": {"id": "sgrule-3", "type": "ingress",
       "security_group_id": "sg-0b1", "protocol": "udp", "from_port": "53", "to_port": "53",
       "cidr_blocks.#": "1", "cidr_blocks.0": "10.6.0.0/16", "self": "false"}}]},
    {"mode": "data", "type": "aws_security_group", "name": "shared",
     "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
     "instances": [{"schema_version": 0, "attributes": {"id": "sg-0d1", "name": "shared",
       "arn": "arn:aws:ec2:us-east-1:222222222222:security-group/sg-0d1"}}]},
    {"mode": "managed", "type": "aws_vpc_security_group_ingress_rule", "name": "https",
     "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
     "instances": [{"schema_version": 0, "attributes": {"id": "sgr-0e1",
       "arn": "arn:aws:ec2:eu-west-1:111111111111:security-group-rule/sgr-0e1",
       "security_group_id": "sg-0c1", "ip_protocol": "tcp", "from_port": 443, "to_port": 443,
       "cidr_ipv4": "0.0.0.0/0", "security_group_rule_id": "sgr-0e1", "tags": null}}]}
  ]}"#;

/// A replica of a run split by scope parses each scope's part of a state: exactly
/// what lives there, as the whole state's declarations filtered, whatever it skips
/// unread; planning the run keeps nothing and still knows where everything lives.
#[test]
fn a_state_parsed_for_one_scope_keeps_exactly_what_lives_there() {
    use driftd::model::{Places, Scope};
    use driftd::sources::terraform::StateText;
    let bytes = ORG_STATE.as_bytes();
    // The text held in memory, as a replica holds it where it has no temporary file.
    let (held, places) = StateText::Held(bytes.to_vec())
        .places("org.tfstate")
        .unwrap();
    let within = |scope: &Scope| held.within("org.tfstate", scope);
    let whole = parse_state("org.tfstate", bytes).unwrap();
    assert_eq!(
        (whole.groups.len(), whole.rules.len(), whole.reads.len()),
        (4, 5, 1)
    );
    let scope = |account: &str, region: &str| Scope {
        account_id: Some(account.to_string()),
        region: Some(region.to_string()),
    };
    let scopes = [
        scope("111111111111", "us-east-1"),
        scope("222222222222", "us-east-1"),
        scope("111111111111", "eu-west-1"),
    ];
    let mut rules = 0;
    for here in &scopes {
        let part = within(here).unwrap();
        assert_eq!(part, whole.within(here), "{}", here.label());
        rules += part.rules.len();
    }
    assert_eq!(rules, whole.rules.len(), "every rule in exactly one scope");
    // The rule resource read before its group lives where that group does.
    let b = within(&scopes[1]).unwrap();
    let lines = rule_lines(&b);
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(lines[0].starts_with("aws_security_group_rule.flat ingress udp 53-53"));
    assert!(lines[1].starts_with("module.a.aws_security_group_rule.early"));
    // A rule resource read after its group, which lives in another scope: skipped
    // here unread, kept there.
    let c = within(&scopes[2]).unwrap();
    let late = |l: &String| l.starts_with("module.b.aws_security_group_rule.late");
    assert!(rule_lines(&c).iter().any(late));
    assert!(!rule_lines(&b).iter().any(late));

    assert_eq!(places, Places::of(&whole));
    assert!(places.are_placed(2) && places.all_within(&scopes));
    assert!(!places.all_within(&scopes[..2]), "eu-west-1 is not read");
    assert_eq!(places.regions(), ["eu-west-1", "us-east-1"]);
    assert_eq!((places.groups(), places.rules()), (4, 5));
}

/// The same on every state of the corpus and the shapes fixture, in every place
/// they declare something, read whole and as a run split by scope reads it: the
/// instances its planning placed there read from the file, and (unplanned) the
/// whole file streamed one instance at a time. Neither ever drops or keeps what
/// the whole state filtered would not.
#[test]
fn every_corpus_state_read_by_scope_is_the_whole_state_filtered() {
    use driftd::model::{Places, Scope};
    use driftd::sources::terraform::StateText;
    let dir = tempfile::tempdir().unwrap();
    let org = dir.path().join("org.tfstate");
    std::fs::write(&org, ORG_STATE).unwrap();
    let mut paths = vec![org, std::path::PathBuf::from(SHAPES)];
    let corpus = std::path::Path::new("../shared/corpus/tfstate");
    for entry in std::fs::read_dir(corpus).unwrap() {
        paths.push(entry.unwrap().path());
    }
    let (mut states, mut compared) = (0, 0);
    for path in &paths {
        let location = path.display().to_string();
        let bytes = std::fs::read(path).unwrap();
        let Ok(whole) = parse_state(&location, &bytes) else {
            continue;
        };
        let text = StateText::copy_of(path).unwrap();
        let (text, places) = text.places(&location).unwrap();
        assert!(
            matches!(text, StateText::OnDisk { index: Some(_), .. }),
            "{location} was not streamed"
        );
        let unplanned = StateText::copy_of(path).unwrap();
        assert_eq!(places, Places::of(&whole), "{location}");
        states += 1;
        let places: std::collections::BTreeSet<(Option<String>, Option<String>)> = whole
            .places()
            .map(|(a, r)| (a.map(str::to_string), r.map(str::to_string)))
            .collect();
        for (account_id, region) in places {
            let here = Scope { account_id, region };
            let expected = whole.within(&here);
            let part = StateText::Held(bytes.clone())
                .within(&location, &here)
                .unwrap();
            assert_eq!(part, expected, "{location} in {}", here.label());
            let indexed = text.within(&location, &here).unwrap();
            assert_eq!(
                indexed,
                expected,
                "{location} in {} (indexed)",
                here.label()
            );
            let streamed = unplanned.within(&location, &here).unwrap();
            assert_eq!(
                streamed,
                expected,
                "{location} in {} (streamed)",
                here.label()
            );
            compared += 1;
        }
    }
    assert!(
        states >= 20 && compared >= 20,
        "{states} states, {compared} places"
    );
}

/// A state the stream cannot read is read whole: a byte-order mark before the
/// document, and a resource naming its type after its instances, give the same
/// declarations; a broken one gives the whole reader's precise error.
#[test]
fn a_state_the_stream_cannot_read_is_read_whole() {
    use driftd::sources::terraform::StateText;
    let dir = tempfile::tempdir().unwrap();
    let reordered = ORG_STATE.replacen(
        r#""mode": "managed", "type": "aws_security_group", "name": "g",
     "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
     "instances": ["#,
        r#""provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
     "instances": ["#,
        1,
    );
    assert_ne!(reordered, ORG_STATE, "the test's edit applies");
    let reordered = reordered.replacen(
        r#""vpc_id": "vpc-3", "tags": {}, "egress": [], "ingress": []}}]},"#,
        r#""vpc_id": "vpc-3", "tags": {}, "egress": [], "ingress": []}}],
     "mode": "managed", "type": "aws_security_group", "name": "g"},"#,
        1,
    );
    for (name, text) in [
        ("bom.tfstate", format!("\u{feff}{ORG_STATE}")),
        ("reordered.tfstate", reordered),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, &text).unwrap();
        let location = path.display().to_string();
        let whole = parse_state(&location, ORG_STATE.as_bytes()).unwrap();
        assert_eq!(parse_state(&location, text.as_bytes()).unwrap(), whole);
        let (held, _) = StateText::copy_of(&path)
            .unwrap()
            .places(&location)
            .unwrap();
        assert!(matches!(held, StateText::Held(_)), "{name} is held");
        for group in &whole.groups {
            let here = driftd::model::Scope {
                account_id: group.group.account_id.clone(),
                region: group.group.region.clone(),
            };
            let part = held.within(&location, &here).unwrap();
            assert_eq!(part, whole.within(&here), "{name}");
        }
    }
    let broken = dir.path().join("broken.tfstate");
    std::fs::write(&broken, &ORG_STATE[..ORG_STATE.len() / 2]).unwrap();
    let location = broken.display().to_string();
    let streamed = StateText::copy_of(&broken)
        .unwrap()
        .places(&location)
        .err()
        .unwrap();
    let whole_error = parse_state(&location, &std::fs::read(&broken).unwrap()).unwrap_err();
    assert_eq!(streamed.to_string(), whole_error.to_string());

    // Every scope of a run reads the text the run was planned from, whatever
    // happens to the file meanwhile (`terraform apply` writing it, say).
    let (path, location, whole, text) = planned_org_state(dir.path());
    std::fs::write(&path, "{\"version\": 4, \"resources\": [").unwrap();
    let here = driftd::model::Scope {
        account_id: Some("111111111111".into()),
        region: Some("us-east-1".into()),
    };
    assert_eq!(text.within(&location, &here).unwrap(), whole.within(&here));
}

/// Once a run is planned, a scope reads only the instances that declare something
/// there: another scope's instance made unreadable in the run's copy of the state
/// leaves this scope's reading as it was, and only that other scope fails.
#[test]
fn a_planned_scope_reads_only_its_own_instances() {
    use driftd::model::Scope;
    use driftd::sources::terraform::StateText;
    let dir = tempfile::tempdir().unwrap();
    let (_, location, whole, text) = planned_org_state(dir.path());
    let StateText::OnDisk { file, .. } = &text else {
        panic!("the state was not streamed");
    };
    // The eu-west-1 group's instance, overwritten in place with as many bytes.
    let start = ORG_STATE.find(r#"{"index_key": "c1""#).unwrap();
    let end = start + ORG_STATE[start..].find("}}").unwrap() + 2;
    let mut copy = ORG_STATE.as_bytes().to_vec();
    copy[start..end].fill(b'x');
    std::fs::write(file.path(), &copy).unwrap();

    let scope = |account: &str, region: &str| Scope {
        account_id: Some(account.to_string()),
        region: Some(region.to_string()),
    };
    for here in [
        scope("111111111111", "us-east-1"),
        scope("222222222222", "us-east-1"),
    ] {
        let part = text.within(&location, &here).unwrap();
        assert_eq!(part, whole.within(&here), "{}", here.label());
        assert!(!part.groups.is_empty(), "{} compared nothing", here.label());
    }
    let broken = text
        .within(&location, &scope("111111111111", "eu-west-1"))
        .unwrap_err();
    assert!(broken.to_string().starts_with(&location), "{broken}");
}

/// `ORG_STATE` written in `dir` and planned, as a run split by scope plans it: its
/// path, its location, its declarations read whole, and its planned text.
fn planned_org_state(
    dir: &std::path::Path,
) -> (
    std::path::PathBuf,
    String,
    Intent,
    driftd::sources::terraform::StateText,
) {
    let path = dir.join("org.tfstate");
    std::fs::write(&path, ORG_STATE).unwrap();
    let location = path.display().to_string();
    let whole = parse_state(&location, ORG_STATE.as_bytes()).unwrap();
    let (text, _) = driftd::sources::terraform::StateText::copy_of(&path)
        .unwrap()
        .places(&location)
        .unwrap();
    (path, location, whole, text)
}
