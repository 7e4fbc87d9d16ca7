//! The shapes of `DescribeSecurityGroups`, `DescribeSecurityGroupRules` and
//! `DescribeNetworkInterfaces` (as the CLI prints them and as the API returns them)
//! and their normalisation into the canonical model. Captured files and the live EC2
//! scanner share this code.

use std::collections::HashMap;

use serde::Deserialize;

use crate::model::{
    Direction, NetworkInterface, Peer, Protocol, Rule, RuleKey, SecurityGroup, Tags,
    share_group_ids,
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

/// One entry of `NetworkInterfaces`: the fields that say what carries which groups.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InterfaceDoc {
    pub network_interface_id: String,
    pub interface_type: Option<String>,
    pub description: Option<String>,
    pub requester_id: Option<String>,
    pub owner_id: Option<String>,
    pub vpc_id: Option<String>,
    pub attachment: Option<AttachmentDoc>,
    #[serde(default)]
    pub groups: Vec<GroupIdentifierDoc>,
    #[serde(default)]
    pub private_ip_addresses: Vec<PrivateIpDoc>,
    #[serde(default)]
    pub ipv6_addresses: Vec<Ipv6AddressDoc>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttachmentDoc {
    pub instance_id: Option<String>,
    pub device_index: Option<i32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupIdentifierDoc {
    pub group_id: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PrivateIpDoc {
    pub private_ip_address: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ipv6AddressDoc {
    pub ipv6_address: String,
}

/// One `NetworkInterface` → the model: its groups sorted, its addresses (IPv4 then
/// IPv6). The region is the caller's to set.
pub fn interface_to_model(doc: InterfaceDoc) -> NetworkInterface {
    let mut groups: Vec<String> = doc.groups.into_iter().map(|g| g.group_id).collect();
    groups.sort();
    groups.dedup();
    let private_ips = doc
        .private_ip_addresses
        .into_iter()
        .map(|a| a.private_ip_address)
        .chain(doc.ipv6_addresses.into_iter().map(|a| a.ipv6_address))
        .collect();
    NetworkInterface {
        id: doc.network_interface_id,
        interface_type: doc.interface_type,
        description: doc.description.filter(|d| !d.is_empty()),
        requester_id: doc.requester_id,
        // Which service's task it is, ECS says (`sources::ecs`), not EC2.
        ecs_service: None,
        device_index: doc.attachment.as_ref().and_then(|a| a.device_index),
        instance_id: doc.attachment.and_then(|a| a.instance_id),
        groups,
        private_ips,
        vpc_id: doc.vpc_id,
        account_id: doc.owner_id,
        region: None,
    }
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
mod tests;
