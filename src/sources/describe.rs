//! The shapes of `DescribeSecurityGroups` and `DescribeSecurityGroupRules` (as the
//! CLI prints them and as the API returns them) and their normalisation into the
//! canonical model. Captured files and the live EC2 scanner share this code.

use std::collections::HashMap;

use serde::Deserialize;

use crate::model::{
    Direction, Peer, Protocol, Rule, RuleKey, SecurityGroup, Tags, share_group_ids,
};

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupDoc {
    pub group_id: String,
    pub group_name: Option<String>,
    pub description: Option<String>,
    pub vpc_id: Option<String>,
    pub owner_id: Option<String>,
    pub tags: Option<Vec<TagDoc>>,
    #[serde(default)]
    pub ip_permissions: Vec<PermissionDoc>,
    #[serde(default)]
    pub ip_permissions_egress: Vec<PermissionDoc>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagDoc {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PermissionDoc {
    pub ip_protocol: String,
    pub from_port: Option<i64>,
    pub to_port: Option<i64>,
    #[serde(default)]
    pub ip_ranges: Vec<Ipv4RangeDoc>,
    #[serde(default)]
    pub ipv6_ranges: Vec<Ipv6RangeDoc>,
    #[serde(default)]
    pub prefix_list_ids: Vec<PrefixListDoc>,
    #[serde(default)]
    pub user_id_group_pairs: Vec<GroupPairDoc>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ipv4RangeDoc {
    pub cidr_ip: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ipv6RangeDoc {
    pub cidr_ipv6: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PrefixListDoc {
    pub prefix_list_id: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupPairDoc {
    pub group_id: Option<String>,
    pub group_name: Option<String>,
    pub user_id: Option<String>,
    pub vpc_peering_connection_id: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuleDoc {
    pub security_group_rule_id: Option<String>,
    pub group_id: String,
    pub group_owner_id: Option<String>,
    pub is_egress: bool,
    pub ip_protocol: String,
    pub from_port: Option<i64>,
    pub to_port: Option<i64>,
    pub cidr_ipv4: Option<String>,
    pub cidr_ipv6: Option<String>,
    pub prefix_list_id: Option<String>,
    pub referenced_group_info: Option<ReferencedGroupDoc>,
    pub description: Option<String>,
    pub tags: Option<Vec<TagDoc>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReferencedGroupDoc {
    pub group_id: Option<String>,
    pub user_id: Option<String>,
    pub vpc_peering_connection_id: Option<String>,
}

pub fn tags(docs: Option<Vec<TagDoc>>) -> Option<Tags> {
    docs.map(|tags| tags.into_iter().map(|t| (t.key, t.value)).collect())
}

/// A group and the rules its `IpPermissions` lists imply. On error: the field
/// (`IpPermissions[2]`) and what is wrong.
pub fn group_to_model(group: GroupDoc) -> Result<(SecurityGroup, Vec<Rule>), (String, String)> {
    let mut rules = Vec::new();
    for (direction, permissions, field) in [
        (Direction::Ingress, &group.ip_permissions, "IpPermissions"),
        (
            Direction::Egress,
            &group.ip_permissions_egress,
            "IpPermissionsEgress",
        ),
    ] {
        for (p, permission) in permissions.iter().enumerate() {
            let at = format!("{field}[{p}]");
            rules.extend(
                permission_rules(&group.group_id, direction, permission).map_err(|m| (at, m))?,
            );
        }
    }
    let model = SecurityGroup {
        id: group.group_id,
        name: group.group_name,
        description: group.description,
        vpc_id: group.vpc_id,
        tags: Some(tags(group.tags).unwrap_or_default()),
        account_id: group.owner_id,
        region: None,
    };
    Ok((model, rules))
}

/// One `IpPermission` → one rule per peer, as `DescribeSecurityGroupRules` would list.
fn permission_rules(
    group_id: &str,
    direction: Direction,
    p: &PermissionDoc,
) -> Result<Vec<Rule>, String> {
    let protocol = Protocol::parse(&p.ip_protocol).map_err(|e| e.to_string())?;
    let rule = |peer: Peer, description: &Option<String>| {
        Rule::new(
            group_id,
            direction,
            protocol,
            p.from_port,
            p.to_port,
            peer,
            description.as_deref(),
        )
        .map_err(|e| e.to_string())
    };
    let mut rules = Vec::new();
    for range in &p.ip_ranges {
        rules.push(rule(
            Peer::ipv4(&range.cidr_ip).map_err(|e| e.to_string())?,
            &range.description,
        )?);
    }
    for range in &p.ipv6_ranges {
        rules.push(rule(
            Peer::ipv6(&range.cidr_ipv6).map_err(|e| e.to_string())?,
            &range.description,
        )?);
    }
    for list in &p.prefix_list_ids {
        rules.push(rule(
            Peer::PrefixList(list.prefix_list_id.clone()),
            &list.description,
        )?);
    }
    for pair in &p.user_id_group_pairs {
        let id = pair
            .group_id
            .as_deref()
            .or(pair.group_name.as_deref())
            .ok_or("a UserIdGroupPairs entry has neither GroupId nor GroupName")?;
        let mut r = rule(Peer::group(id), &pair.description)?;
        r.peer_account = pair.user_id.clone();
        r.peer_via_peering = pair.vpc_peering_connection_id.is_some();
        rules.push(r);
    }
    Ok(rules)
}

/// One `SecurityGroupRule` → one rule.
pub fn rule_to_model(doc: RuleDoc) -> Result<Rule, String> {
    let protocol = Protocol::parse(&doc.ip_protocol).map_err(|e| e.to_string())?;
    let direction = if doc.is_egress {
        Direction::Egress
    } else {
        Direction::Ingress
    };
    let (peer, peer_account, via_peering) = match (
        &doc.cidr_ipv4,
        &doc.cidr_ipv6,
        &doc.prefix_list_id,
        &doc.referenced_group_info,
    ) {
        (Some(cidr), _, _, _) => (Peer::ipv4(cidr).map_err(|e| e.to_string())?, None, false),
        (_, Some(cidr), _, _) => (Peer::ipv6(cidr).map_err(|e| e.to_string())?, None, false),
        (_, _, Some(id), _) => (Peer::PrefixList(id.clone()), None, false),
        (
            _,
            _,
            _,
            Some(ReferencedGroupDoc {
                group_id: Some(id),
                user_id,
                vpc_peering_connection_id,
            }),
        ) => (
            Peer::group(id),
            user_id.clone(),
            vpc_peering_connection_id.is_some(),
        ),
        _ => return Err(
            "rule names no peer (CidrIpv4, CidrIpv6, PrefixListId or ReferencedGroupInfo.GroupId)"
                .into(),
        ),
    };
    let mut rule = Rule::new(
        &doc.group_id,
        direction,
        protocol,
        doc.from_port,
        doc.to_port,
        peer,
        doc.description.as_deref(),
    )
    .map_err(|e| e.to_string())?
    .with_rule_id(doc.security_group_rule_id.as_deref())
    .with_tags(Some(tags(doc.tags).unwrap_or_default()));
    rule.peer_account = peer_account;
    rule.peer_via_peering = via_peering;
    Ok(rule)
}

/// Builds the live rule set of groups read through both calls. Rules come from
/// `DescribeSecurityGroupRules` where it was read (it carries rule ids and tags),
/// else from the groups' permissions. A rule whose description the rules call left
/// out takes it from the matching permission: moto drops descriptions of rules that
/// reference a group or prefix list there (see docs/local-aws.md), and on AWS the two
/// calls agree, so this changes nothing but that gap.
///
/// The rules of one group share their group's id (see `GroupId`).
pub fn live_rules(permission_rules: Vec<Rule>, rules_call: Option<Vec<Rule>>) -> Vec<Rule> {
    let mut rules = match rules_call {
        None => permission_rules,
        Some(rules) => with_permission_descriptions(rules, permission_rules),
    };
    share_group_ids(rules.iter_mut().map(|r| &mut r.group_id));
    rules
}

fn with_permission_descriptions(mut rules: Vec<Rule>, permission_rules: Vec<Rule>) -> Vec<Rule> {
    let described: HashMap<RuleKey, String> = permission_rules
        .into_iter()
        .filter_map(|r| {
            let key = r.key();
            r.description.map(|d| (key, d))
        })
        .collect();
    for rule in &mut rules {
        if rule.description.is_none()
            && let Some(description) = described.get(&rule.key())
        {
            rule.description = Some(description.clone());
        }
    }
    rules
}

#[cfg(test)]
mod tests {
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
}
