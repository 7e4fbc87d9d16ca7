//! One CloudTrail record (`CloudTrailEvent`, a JSON string inside LookupEvents'
//! answer) into a `TrailEvent`: who, when, and the effects driftd compares.
//!
//! Shapes (tests/fixtures/cloudtrail/records.json cites each): EC2 requests are
//! camelCase with `items` lists; current `Authorize*` responses add a flat
//! `securityGroupRuleSet` (rule ids included), old ones do not; a legacy request may
//! put one permission's fields at the top level; `ModifySecurityGroupRules` alone is
//! PascalCase and wrapped in `ModifySecurityGroupRulesRequest`.

use serde_json::Value;

use crate::model::{
    CarrierRef, Direction, Effect, Peer, Protocol, Rule, RulePatch, TrailEvent, Via,
};

/// Parses a record; an error says what it lacks (not JSON, no event id, name or time).
pub fn parse(text: &str) -> Result<TrailEvent, String> {
    let record: Value =
        serde_json::from_str(text).map_err(|e| format!("CloudTrailEvent is not JSON: {e}"))?;
    let str_at = |key: &str| record.get(key).and_then(Value::as_str).map(str::to_string);
    let event_id = str_at("eventID").ok_or("the record has no eventID")?;
    let event_name = str_at("eventName").ok_or("the record has no eventName")?;
    let time = str_at("eventTime")
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
        .ok_or("the record has no RFC 3339 eventTime")?;
    let identity = record.get("userIdentity").unwrap_or(&Value::Null);
    let identity_str = |key: &str| identity.get(key).and_then(Value::as_str);
    let invoked_by = identity_str("invokedBy");
    let principal = identity_str("arn")
        .or(invoked_by)
        .or(identity_str("principalId"))
        .unwrap_or("unknown")
        .to_string();
    let user_agent = str_at("userAgent");
    let from_console = record
        .get("sessionCredentialFromConsole")
        .is_some_and(|v| v == "true" || v == true);
    let via = Via::classify(
        user_agent.as_deref(),
        invoked_by,
        from_console,
        identity_str("type"),
    );
    let request = record.get("requestParameters").unwrap_or(&Value::Null);
    let response = record.get("responseElements").unwrap_or(&Value::Null);
    Ok(TrailEvent {
        effects: effects(&event_name, request, response),
        event_id,
        event_name,
        time,
        error_code: str_at("errorCode"),
        principal,
        source_ip: str_at("sourceIPAddress"),
        user_agent,
        via,
    })
}

/// What the call did, as far as driftd compares it; nothing for other calls.
fn effects(name: &str, request: &Value, response: &Value) -> Vec<Effect> {
    let direction = if name.ends_with("Egress") {
        Direction::Egress
    } else {
        Direction::Ingress
    };
    match name {
        "AuthorizeSecurityGroupIngress" | "AuthorizeSecurityGroupEgress" => {
            let created = rule_set(response, "securityGroupRuleSet");
            let rules = if created.is_empty() {
                permissions(request, direction)
            } else {
                created
            };
            rules.into_iter().map(Effect::Authorized).collect()
        }
        "RevokeSecurityGroupIngress" | "RevokeSecurityGroupEgress" => {
            let mut effects: Vec<Effect> = permissions(request, direction)
                .into_iter()
                .map(Effect::Revoked)
                .collect();
            if let Some(group_id) = str_of(request, "groupId") {
                for rule_id in items(request, "securityGroupRuleIds")
                    .filter_map(|i| i.as_str().or_else(|| str_of(i, "securityGroupRuleId")))
                {
                    effects.push(Effect::RevokedId {
                        group_id: group_id.to_string(),
                        direction,
                        rule_id: rule_id.to_string(),
                    });
                }
            }
            effects
        }
        "UpdateSecurityGroupRuleDescriptionsIngress"
        | "UpdateSecurityGroupRuleDescriptionsEgress" => permissions(request, direction)
            .into_iter()
            .map(Effect::Described)
            .collect(),
        "ModifySecurityGroupRules" => modified(request),
        "CreateTags" | "DeleteTags" => vec![Effect::Tagged {
            resources: items(request, "resourcesSet")
                .filter_map(|i| str_of(i, "resourceId"))
                .map(str::to_string)
                .collect(),
        }],
        "CreateSecurityGroup" => str_of(response, "groupId")
            .map(|id| Effect::Created {
                group_id: id.to_string(),
            })
            .into_iter()
            .collect(),
        "DeleteSecurityGroup" => str_of(request, "groupId")
            .map(|id| Effect::Deleted {
                group_id: id.to_string(),
            })
            .into_iter()
            .collect(),
        "ModifyNetworkInterfaceAttribute" | "ModifyInstanceAttribute" => {
            let groups: Vec<String> = items(request, "groupSet")
                .filter_map(|i| str_of(i, "groupId"))
                .map(str::to_string)
                .collect();
            let carrier = str_of(request, "networkInterfaceId")
                .map(|id| CarrierRef::Interface(id.to_string()))
                .or_else(|| {
                    str_of(request, "instanceId").map(|id| CarrierRef::Instance(id.to_string()))
                });
            match carrier {
                // A call that changed another attribute set no groups.
                Some(carrier) if request.get("groupSet").is_some() => {
                    vec![Effect::GroupsSet { carrier, groups }]
                }
                _ => Vec::new(),
            }
        }
        "SetSecurityGroups" => {
            let carrier = str_of(request, "loadBalancerArn").and_then(CarrierRef::load_balancer);
            match (
                carrier,
                request.get("securityGroups").and_then(Value::as_array),
            ) {
                (Some(carrier), Some(groups)) => vec![Effect::GroupsSet {
                    carrier,
                    groups: strings(groups),
                }],
                _ => Vec::new(),
            }
        }
        "UpdateService" => {
            let groups = request
                .pointer("/networkConfiguration/awsvpcConfiguration/securityGroups")
                .and_then(Value::as_array);
            let service = str_of(request, "service").map(last_segment);
            let cluster = str_of(request, "cluster").map_or("default", last_segment);
            match (service, groups) {
                (Some(service), Some(groups)) => vec![Effect::GroupsSet {
                    carrier: CarrierRef::EcsService(format!("{cluster}/{service}")),
                    groups: strings(groups),
                }],
                _ => Vec::new(),
            }
        }
        _ => Vec::new(),
    }
}

/// `arn:aws:ecs:r:1:service/cluster/name` or `name` → `name`.
fn last_segment(text: &str) -> &str {
    text.rsplit('/').next().unwrap_or(text)
}

fn strings(values: &[Value]) -> Vec<String> {
    values
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

fn str_of<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// A number CloudTrail may also spell as a string.
fn number_of(value: &Value, key: &str) -> Option<i64> {
    let v = value.get(key)?;
    v.as_i64().or_else(|| v.as_str()?.trim().parse().ok())
}

/// `key.items[]`, the way EC2 records spell lists.
fn items<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    value
        .get(key)
        .and_then(|v| v.get("items"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// The rules the response says were made (current shape: one flat entry per rule,
/// with its id and direction).
fn rule_set(response: &Value, key: &str) -> Vec<Rule> {
    items(response, key)
        .filter_map(|r| {
            let direction = if r.get("isEgress").is_some_and(|e| e == true || e == "true") {
                Direction::Egress
            } else {
                Direction::Ingress
            };
            let peer = str_of(r, "cidrIpv4")
                .and_then(|c| Peer::ipv4(c).ok())
                .or_else(|| str_of(r, "cidrIpv6").and_then(|c| Peer::ipv6(c).ok()))
                .or_else(|| str_of(r, "prefixListId").map(|p| Peer::PrefixList(p.to_string())))
                .or_else(|| {
                    r.pointer("/referencedGroupInfo/groupId")
                        .and_then(Value::as_str)
                        .map(Peer::group)
                })?;
            let rule = build(
                str_of(r, "groupId")?,
                direction,
                r,
                ("ipProtocol", "fromPort", "toPort"),
                peer,
                str_of(r, "description"),
            )?;
            Some(rule.with_rule_id(str_of(r, "securityGroupRuleId")))
        })
        .collect()
}

/// The rules a request names (`ipPermissions.items[]`, one per peer, or one
/// permission's fields at the top level of a legacy request).
fn permissions(request: &Value, direction: Direction) -> Vec<Rule> {
    let Some(group_id) = str_of(request, "groupId") else {
        return Vec::new();
    };
    let fields = ("ipProtocol", "fromPort", "toPort");
    let mut rules = Vec::new();
    for p in items(request, "ipPermissions") {
        let mut peers: Vec<(Peer, Option<&str>)> = Vec::new();
        for range in items(p, "ipRanges") {
            if let Some(peer) = str_of(range, "cidrIp").and_then(|c| Peer::ipv4(c).ok()) {
                peers.push((peer, str_of(range, "description")));
            }
        }
        for range in items(p, "ipv6Ranges") {
            if let Some(peer) = str_of(range, "cidrIpv6").and_then(|c| Peer::ipv6(c).ok()) {
                peers.push((peer, str_of(range, "description")));
            }
        }
        for list in items(p, "prefixListIds") {
            if let Some(id) = str_of(list, "prefixListId") {
                peers.push((
                    Peer::PrefixList(id.to_string()),
                    str_of(list, "description"),
                ));
            }
        }
        for pair in items(p, "groups") {
            if let Some(id) = str_of(pair, "groupId") {
                peers.push((Peer::group(id), str_of(pair, "description")));
            }
        }
        rules.extend(peers.into_iter().filter_map(|(peer, description)| {
            build(group_id, direction, p, fields, peer, description)
        }));
    }
    if let Some(peer) = str_of(request, "cidrIp").and_then(|c| Peer::ipv4(c).ok()) {
        rules.extend(build(group_id, direction, request, fields, peer, None));
    }
    rules
}

fn build(
    group_id: &str,
    direction: Direction,
    fields: &Value,
    (protocol, from, to): (&str, &str, &str),
    peer: Peer,
    description: Option<&str>,
) -> Option<Rule> {
    let protocol = Protocol::parse(&protocol_text(fields, protocol)?).ok()?;
    Rule::new(
        group_id,
        direction,
        protocol,
        number_of(fields, from),
        number_of(fields, to),
        peer,
        description,
    )
    .ok()
}

/// `"tcp"`, `"-1"` or `6`: CloudTrail keeps what the caller sent.
fn protocol_text(fields: &Value, key: &str) -> Option<String> {
    match fields.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `ModifySecurityGroupRules`: one rule (an object) or several (a list).
fn modified(request: &Value) -> Vec<Effect> {
    let Some(body) = request.get("ModifySecurityGroupRulesRequest") else {
        return Vec::new();
    };
    let Some(group_id) = str_of(body, "GroupId") else {
        return Vec::new();
    };
    let entries: Vec<&Value> = match body.get("SecurityGroupRule") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    entries
        .into_iter()
        .filter_map(|entry| {
            let rule_id = str_of(entry, "SecurityGroupRuleId")?;
            let fields = entry.get("SecurityGroupRule")?;
            let peer = str_of(fields, "CidrIpv4")
                .and_then(|c| Peer::ipv4(c).ok())
                .or_else(|| str_of(fields, "CidrIpv6").and_then(|c| Peer::ipv6(c).ok()))
                .or_else(|| str_of(fields, "PrefixListId").map(|p| Peer::PrefixList(p.into())))
                .or_else(|| str_of(fields, "ReferencedGroupId").map(Peer::group));
            let protocol =
                protocol_text(fields, "IpProtocol").and_then(|p| Protocol::parse(&p).ok());
            let port = |key| number_of(fields, key).and_then(|p| i32::try_from(p).ok());
            Some(Effect::Modified(RulePatch {
                group_id: group_id.to_string(),
                rule_id: rule_id.to_string(),
                protocol,
                from_port: port("FromPort"),
                to_port: port("ToPort"),
                peer,
                description: str_of(fields, "Description").map(str::to_string),
            }))
        })
        .collect()
}
