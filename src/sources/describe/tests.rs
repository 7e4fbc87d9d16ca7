//! The two describe shapes as the AWS CLI prints them, normalised rule by rule.

use serde_json::json;

use super::*;

/// A rule's every compared field on one line: `ingress tcp 443-443 cidr_ipv4
/// 10.0.0.0/8 "office"` (`*` for no port, `-` for no description).
fn line(rule: &Rule) -> String {
    let port = |p: Option<i32>| p.map_or("*".to_string(), |p| p.to_string());
    let description = rule
        .description
        .as_ref()
        .map_or("-".to_string(), |d| format!("{d:?}"));
    format!(
        "{} {} {}-{} {} {} {description}",
        rule.direction,
        rule.protocol,
        port(rule.from_port),
        port(rule.to_port),
        rule.peer.kind(),
        rule.peer.value(),
    )
}

fn lines(rules: &[Rule]) -> Vec<String> {
    rules.iter().map(line).collect()
}

/// A group as `aws ec2 describe-security-groups` prints it: one permission with
/// a peer of every kind, and an allow-all egress whose `-1` carries no ports.
fn group_doc() -> GroupDoc {
    serde_json::from_value(json!({
        "Description": "web tier",
        "GroupName": "web",
        "IpPermissions": [{
            "FromPort": 443,
            "IpProtocol": "tcp",
            "IpRanges": [{"CidrIp": "192.168.0.1/31", "Description": "office"}],
            "Ipv6Ranges": [{"CidrIpv6": "2600:1f18:abcd::/56", "Description": ""}],
            "PrefixListIds": [{"PrefixListId": "pl-63a5400a", "Description": "S3"}],
            "ToPort": 443,
            "UserIdGroupPairs": [{
                "GroupId": "sg-0b0000000000000cc",
                "UserId": "210987654321",
                "VpcPeeringConnectionId": "pcx-0123456789abcdef0",
                "Description": "peer VPC"
            }]
        }],
        "OwnerId": "123456789012",
        "GroupId": "sg-0a0000000000000aa",
        "IpPermissionsEgress": [{
            "IpProtocol": "-1",
            "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
            "PrefixListIds": [],
            "UserIdGroupPairs": []
        }],
        "Tags": [{"Key": "Name", "Value": "web"}],
        "VpcId": "vpc-0c0ffee1234567890"
    }))
    .unwrap()
}

#[test]
fn a_permission_is_one_rule_per_peer_of_every_kind() {
    let (group, rules) = group_to_model(group_doc()).unwrap();
    assert_eq!(group.id, "sg-0a0000000000000aa");
    assert_eq!(group.account_id.as_deref(), Some("123456789012"));
    assert_eq!(group.tags.unwrap()["Name"], "web");
    assert_eq!(
        lines(&rules),
        [
            // Host bits set, as AWS returns them: compared as the network.
            r#"ingress tcp 443-443 cidr_ipv4 192.168.0.0/31 "office""#,
            "ingress tcp 443-443 cidr_ipv6 2600:1f18:abcd::/56 -",
            r#"ingress tcp 443-443 prefix_list pl-63a5400a "S3""#,
            r#"ingress tcp 443-443 security_group sg-0b0000000000000cc "peer VPC""#,
            "egress all *-* cidr_ipv4 0.0.0.0/0 -",
            "egress all *-* cidr_ipv6 ::/0 -",
        ]
    );
    let pair = &rules[3];
    assert_eq!(pair.peer_account.as_deref(), Some("210987654321"));
    assert!(pair.peer_via_peering);
    assert!(
        rules
            .iter()
            .all(|r| r.rule_id.is_none() && r.tags.is_none())
    );
}

#[test]
fn a_bad_permission_names_its_place() {
    let mut doc = group_doc();
    doc.ip_permissions_egress[0].ipv6_ranges[0].cidr_ipv6 = "::/129".into();
    let (at, message) = group_to_model(doc).unwrap_err();
    assert_eq!(at, "IpPermissionsEgress[0]");
    assert_eq!(message, "invalid IPv6 CIDR \"::/129\"");

    let mut doc = group_doc();
    doc.ip_permissions[0].user_id_group_pairs[0].group_id = None;
    let (at, message) = group_to_model(doc).unwrap_err();
    assert_eq!(at, "IpPermissions[0]");
    assert!(
        message.contains("neither GroupId nor GroupName"),
        "{message}"
    );
}

/// Rules as `aws ec2 describe-security-group-rules` prints them.
fn rule_docs() -> Vec<RuleDoc> {
    let rule = |peer: serde_json::Value| {
        let mut doc = json!({
            "SecurityGroupRuleId": "sgr-0123456789abcdef0",
            "GroupId": "sg-0a0000000000000aa",
            "GroupOwnerId": "123456789012",
            "IsEgress": false,
            "IpProtocol": "tcp",
            "FromPort": 5432,
            "ToPort": 5432,
            "Description": "db",
            "Tags": [{"Key": "team", "Value": "data"}]
        });
        doc.as_object_mut()
            .unwrap()
            .extend(peer.as_object().unwrap().clone());
        serde_json::from_value(doc).unwrap()
    };
    vec![
        rule(json!({"CidrIpv6": "2600:1f18:abcd::/56"})),
        rule(json!({"PrefixListId": "pl-63a5400a"})),
        rule(json!({"ReferencedGroupInfo": {
            "GroupId": "sg-0b0000000000000cc",
            "UserId": "210987654321",
            "VpcPeeringConnectionId": "pcx-0123456789abcdef0"
        }})),
        rule(
            json!({"CidrIpv4": "0.0.0.0/0", "IsEgress": true, "IpProtocol": "-1",
                    "FromPort": -1, "ToPort": -1, "Description": null, "Tags": []}),
        ),
    ]
}

#[test]
fn a_rules_call_entry_is_one_rule_with_its_id_and_tags() {
    let rules: Vec<Rule> = rule_docs()
        .into_iter()
        .map(|d| rule_to_model(d).unwrap())
        .collect();
    assert_eq!(
        lines(&rules),
        [
            r#"ingress tcp 5432-5432 cidr_ipv6 2600:1f18:abcd::/56 "db""#,
            r#"ingress tcp 5432-5432 prefix_list pl-63a5400a "db""#,
            r#"ingress tcp 5432-5432 security_group sg-0b0000000000000cc "db""#,
            "egress all *-* cidr_ipv4 0.0.0.0/0 -",
        ]
    );
    assert!(
        rules
            .iter()
            .all(|r| r.rule_id.as_deref() == Some("sgr-0123456789abcdef0"))
    );
    assert_eq!(rules[0].tags.as_ref().unwrap()["team"], "data");
    assert_eq!(rules[3].tags, Some(Tags::new()));
    assert_eq!(rules[2].peer_account.as_deref(), Some("210987654321"));
    assert!(rules[2].peer_via_peering);
    assert!(!rules[0].peer_via_peering && rules[0].peer_account.is_none());
}

#[test]
fn a_rule_without_a_peer_is_an_error() {
    let mut doc = rule_docs().remove(0);
    doc.cidr_ipv6 = None;
    let err = rule_to_model(doc).unwrap_err();
    assert!(err.starts_with("rule names no peer"), "{err}");
}

#[test]
fn the_rules_call_wins_and_takes_missing_descriptions_from_permissions() {
    let (_, permissions) = group_to_model(group_doc()).unwrap();
    // moto's rules call drops the description of a prefix-list rule.
    let mut listed = rule_to_model(rule_docs().remove(1)).unwrap();
    listed.from_port = Some(443);
    listed.to_port = Some(443);
    listed.description = None;
    let rules = live_rules(permissions.clone(), Some(vec![listed]));
    assert_eq!(rules.len(), 1, "only the rules call's rules");
    assert_eq!(rules[0].description.as_deref(), Some("S3"));
    assert_eq!(rules[0].rule_id.as_deref(), Some("sgr-0123456789abcdef0"));

    let rules = live_rules(permissions, None);
    assert_eq!(rules.len(), 6, "without the rules call, the permissions");
}
