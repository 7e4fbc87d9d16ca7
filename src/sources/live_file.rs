//! Captured live data (`--live FILE`): the JSON printed by
//! `aws ec2 describe-security-groups` and `aws ec2 describe-security-group-rules`.
//!
//! Given both documents, rules come from the rules document (it carries rule ids
//! and tags) and group fields from the groups document; given only groups, rules
//! are derived from `IpPermissions`/`IpPermissionsEgress`. Boto3 dumps (with
//! `ResponseMetadata`) and recorded responses (the response under `data`) are read too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;

use crate::model::{Direction, LiveView, Peer, Protocol, Rule, Scope, SecurityGroup, Tags};
use crate::sources::json_error::{self, JsonError};

#[derive(Debug, thiserror::Error)]
pub enum LiveFileError {
    #[error("{location}: cannot read: {source}")]
    Io {
        location: String,
        source: std::io::Error,
    },
    #[error("{location}: {error}")]
    Json { location: String, error: JsonError },
    #[error(
        "{location}: not a describe-security-groups or describe-security-group-rules document \
         (expected a top-level \"SecurityGroups\" or \"SecurityGroupRules\" list)"
    )]
    UnknownDocument { location: String },
    #[error("{location}: at {json_path}: {message}")]
    Invalid {
        location: String,
        json_path: String,
        message: String,
    },
}

/// One captured document, before groups and rules documents are combined.
#[derive(Debug, Default)]
pub struct Capture {
    groups: Vec<SecurityGroup>,
    /// Rules derived from `IpPermissions`, used only when no rules document is given.
    permission_rules: Vec<Rule>,
    rules: Vec<Rule>,
    /// `GroupOwnerId` of rules, naming the account of groups known only from rules.
    rule_group_owners: BTreeMap<String, String>,
    has_rules_document: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Document {
    security_groups: Option<Vec<GroupDoc>>,
    security_group_rules: Option<Vec<RuleDoc>>,
    /// Recorded test responses keep the real response under `data`.
    #[serde(rename = "data")]
    data: Option<Box<Document>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupDoc {
    group_id: String,
    group_name: Option<String>,
    description: Option<String>,
    vpc_id: Option<String>,
    owner_id: Option<String>,
    tags: Option<Vec<TagDoc>>,
    #[serde(default)]
    ip_permissions: Vec<PermissionDoc>,
    #[serde(default)]
    ip_permissions_egress: Vec<PermissionDoc>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagDoc {
    key: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PermissionDoc {
    ip_protocol: String,
    from_port: Option<i64>,
    to_port: Option<i64>,
    #[serde(default)]
    ip_ranges: Vec<Ipv4RangeDoc>,
    #[serde(default)]
    ipv6_ranges: Vec<Ipv6RangeDoc>,
    #[serde(default)]
    prefix_list_ids: Vec<PrefixListDoc>,
    #[serde(default)]
    user_id_group_pairs: Vec<GroupPairDoc>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Ipv4RangeDoc {
    cidr_ip: String,
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Ipv6RangeDoc {
    cidr_ipv6: String,
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PrefixListDoc {
    prefix_list_id: String,
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupPairDoc {
    group_id: Option<String>,
    group_name: Option<String>,
    user_id: Option<String>,
    vpc_peering_connection_id: Option<String>,
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RuleDoc {
    security_group_rule_id: Option<String>,
    group_id: String,
    group_owner_id: Option<String>,
    is_egress: bool,
    ip_protocol: String,
    from_port: Option<i64>,
    to_port: Option<i64>,
    cidr_ipv4: Option<String>,
    cidr_ipv6: Option<String>,
    prefix_list_id: Option<String>,
    referenced_group_info: Option<ReferencedGroupDoc>,
    description: Option<String>,
    tags: Option<Vec<TagDoc>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReferencedGroupDoc {
    group_id: Option<String>,
    user_id: Option<String>,
    vpc_peering_connection_id: Option<String>,
}

fn tags(docs: Option<Vec<TagDoc>>) -> Option<Tags> {
    docs.map(|tags| tags.into_iter().map(|t| (t.key, t.value)).collect())
}

pub fn load_file(path: &Path) -> Result<Capture, LiveFileError> {
    let location = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| LiveFileError::Io {
        location: location.clone(),
        source,
    })?;
    parse_capture(&location, &bytes)
}

pub fn parse_capture(location: &str, bytes: &[u8]) -> Result<Capture, LiveFileError> {
    let mut doc: Document =
        json_error::parse_document(bytes).map_err(|error| LiveFileError::Json {
            location: location.to_string(),
            error,
        })?;
    let mut base = "$".to_string();
    if doc.security_groups.is_none()
        && doc.security_group_rules.is_none()
        && let Some(inner) = doc.data.take()
    {
        doc = *inner;
        base = "$.data".to_string();
    }
    let invalid = |json_path: String, message: String| LiveFileError::Invalid {
        location: location.to_string(),
        json_path,
        message,
    };
    let mut capture = Capture::default();
    match (doc.security_groups, doc.security_group_rules) {
        (None, None) => {
            return Err(LiveFileError::UnknownDocument {
                location: location.to_string(),
            });
        }
        (groups, rules) => {
            for (g, group) in groups.into_iter().flatten().enumerate() {
                let path = format!("{base}.SecurityGroups[{g}]");
                read_group(group, &path, &mut capture).map_err(|(p, m)| invalid(p, m))?;
            }
            if let Some(rules) = rules {
                capture.has_rules_document = true;
                for (r, rule) in rules.into_iter().enumerate() {
                    let path = format!("{base}.SecurityGroupRules[{r}]");
                    if let Some(owner) = &rule.group_owner_id {
                        capture
                            .rule_group_owners
                            .insert(rule.group_id.clone(), owner.clone());
                    }
                    let rule = read_rule(rule).map_err(|m| invalid(path, m))?;
                    capture.rules.push(rule);
                }
            }
        }
    }
    Ok(capture)
}

fn read_group(group: GroupDoc, path: &str, capture: &mut Capture) -> Result<(), (String, String)> {
    for (direction, permissions, field) in [
        (Direction::Ingress, &group.ip_permissions, "IpPermissions"),
        (
            Direction::Egress,
            &group.ip_permissions_egress,
            "IpPermissionsEgress",
        ),
    ] {
        for (p, permission) in permissions.iter().enumerate() {
            let at = format!("{path}.{field}[{p}]");
            let rules =
                permission_rules(&group.group_id, direction, permission).map_err(|m| (at, m))?;
            capture.permission_rules.extend(rules);
        }
    }
    capture.groups.push(SecurityGroup {
        id: group.group_id,
        name: group.group_name,
        description: group.description,
        vpc_id: group.vpc_id,
        tags: Some(tags(group.tags).unwrap_or_default()),
        account_id: group.owner_id,
        region: None,
    });
    Ok(())
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

fn read_rule(doc: RuleDoc) -> Result<Rule, String> {
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

/// Combines captured documents into one live view, covering the accounts their
/// `OwnerId` fields name in each of `regions` (any region when none is given).
pub fn combine(captures: Vec<Capture>, regions: &[String]) -> LiveView {
    let has_rules_document = captures.iter().any(|c| c.has_rules_document);
    let mut groups: BTreeMap<String, SecurityGroup> = BTreeMap::new();
    let mut rules = Vec::new();
    let mut rule_group_owners = BTreeMap::new();
    for capture in captures {
        rule_group_owners.extend(capture.rule_group_owners);
        for group in capture.groups {
            groups.entry(group.id.clone()).or_insert(group);
        }
        if has_rules_document {
            rules.extend(capture.rules);
        } else {
            rules.extend(capture.permission_rules);
        }
    }
    // A rules-only capture still names its groups.
    for rule in &rules {
        groups
            .entry(rule.group_id.clone())
            .or_insert_with(|| SecurityGroup {
                account_id: rule_group_owners.get(&rule.group_id).cloned(),
                ..SecurityGroup::new(&rule.group_id)
            });
    }
    let region = (regions.len() == 1).then(|| regions[0].clone());
    for group in groups.values_mut() {
        group.region = region.clone();
    }
    let accounts: BTreeSet<Option<String>> =
        groups.values().map(|g| g.account_id.clone()).collect();
    let region_scopes: Vec<Option<String>> = if regions.is_empty() {
        vec![None]
    } else {
        regions.iter().cloned().map(Some).collect()
    };
    let mut scopes = Vec::new();
    for account in &accounts {
        for region in &region_scopes {
            scopes.push(Scope {
                account_id: account.clone(),
                region: region.clone(),
            });
        }
    }
    LiveView {
        groups: groups.into_values().collect(),
        rules,
        scopes,
    }
}
