//! CloudFormation's security-group rule properties (`IpProtocol`, `FromPort`,
//! `CidrIp`, `SourceSecurityGroupId`, …) in the canonical model: one rule per peer,
//! the same shape the other sources produce, so that CloudFormation drift can be
//! told field by field with the canonical names.

use serde_json::{Map, Value};

use crate::model::{Direction, Peer, Protocol, Rule};

/// The canonical field a rule property sets, for expressing a property path such as
/// `/SecurityGroupEgress/0/ToPort` as `to_port`. A property no canonical field holds
/// (`SourceSecurityGroupOwnerId`) is told by its path.
pub fn canonical_field(property: &str) -> Option<&'static str> {
    Some(match property {
        "IpProtocol" => "protocol",
        "FromPort" => "from_port",
        "ToPort" => "to_port",
        "Description" => "description",
        "CidrIp"
        | "CidrIpv6"
        | "SourcePrefixListId"
        | "DestinationPrefixListId"
        | "SourceSecurityGroupId"
        | "DestinationSecurityGroupId"
        | "SourceSecurityGroupName" => "peer",
        _ => return None,
    })
}

/// One rule object (an element of `SecurityGroupIngress`/`SecurityGroupEgress`, or
/// the properties of a standalone `AWS::EC2::SecurityGroupIngress`/`Egress`).
/// `group_named` resolves `SourceSecurityGroupName` (default-VPC form) to a group id.
pub fn rule_from_properties(
    group_id: &str,
    direction: Direction,
    properties: &Value,
    group_named: &dyn Fn(&str) -> Option<String>,
) -> Result<Rule, String> {
    let props = properties
        .as_object()
        .ok_or_else(|| format!("a rule is an object, not {properties}"))?;
    let protocol = match props.get("IpProtocol") {
        Some(Value::String(p)) => p.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err("IpProtocol is missing".to_string()),
    };
    let protocol = Protocol::parse(&protocol).map_err(|e| e.to_string())?;
    let port = |name: &str| -> Result<Option<i64>, String> {
        match props.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| format!("{name} {n} is not a port")),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| format!("{name} {s:?} is not a port")),
            Some(other) => Err(format!("{name} {other} is not a port")),
        }
    };
    let peer = peer(props, direction, group_named)?;
    let description = props.get("Description").and_then(Value::as_str);
    Rule::new(
        group_id,
        direction,
        protocol,
        port("FromPort")?,
        port("ToPort")?,
        peer,
        description,
    )
    .map_err(|e| e.to_string())
}

fn peer(
    props: &Map<String, Value>,
    direction: Direction,
    group_named: &dyn Fn(&str) -> Option<String>,
) -> Result<Peer, String> {
    let text = |name: &str| {
        props
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let (prefix_list, group) = match direction {
        Direction::Ingress => ("SourcePrefixListId", "SourceSecurityGroupId"),
        Direction::Egress => ("DestinationPrefixListId", "DestinationSecurityGroupId"),
    };
    if let Some(cidr) = text("CidrIp") {
        return Peer::ipv4(cidr).map_err(|e| e.to_string());
    }
    if let Some(cidr) = text("CidrIpv6") {
        return Peer::ipv6(cidr).map_err(|e| e.to_string());
    }
    if let Some(id) = text(prefix_list) {
        return Ok(Peer::PrefixList(id.to_string()));
    }
    if let Some(id) = text(group) {
        return Ok(Peer::group(id));
    }
    if let Some(name) = text("SourceSecurityGroupName") {
        // The name form is what CloudFormation's own drift detection misreads
        // (its issue 1524); by id it compares like any other reference.
        return Ok(Peer::group(
            &group_named(name).unwrap_or_else(|| name.to_string()),
        ));
    }
    Err("the rule names no peer (CidrIp, CidrIpv6, a prefix list or a group)".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn no_names(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn every_peer_form_and_protocol_spelling_is_canonical() {
        let cases = [
            (
                json!({"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}),
                "tcp",
                Some(443),
                "cidr_ipv4:0.0.0.0/0",
            ),
            (
                json!({"IpProtocol": "6", "FromPort": "80", "ToPort": "80", "CidrIpv6": "::/0"}),
                "tcp",
                Some(80),
                "cidr_ipv6:::/0",
            ),
            (
                json!({"IpProtocol": -1, "FromPort": -1, "ToPort": -1, "DestinationPrefixListId": "pl-1"}),
                "all",
                None,
                "prefix_list:pl-1",
            ),
            (
                json!({"IpProtocol": "-1", "DestinationSecurityGroupId": "sg-2"}),
                "all",
                None,
                "security_group:sg-2",
            ),
        ];
        for (props, protocol, port, peer) in cases {
            let rule = rule_from_properties("sg-1", Direction::Egress, &props, &no_names).unwrap();
            assert_eq!(rule.protocol.as_string(), protocol, "{props}");
            assert_eq!(rule.from_port, port, "{props}");
            assert_eq!(
                format!("{}:{}", rule.peer.kind(), rule.peer.value()),
                peer,
                "{props}"
            );
        }
    }

    #[test]
    fn a_group_name_resolves_to_its_id() {
        let props = json!({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "SourceSecurityGroupName": "bastion"});
        let named = |name: &str| (name == "bastion").then(|| "sg-9".to_string());
        let rule = rule_from_properties("sg-1", Direction::Ingress, &props, &named).unwrap();
        assert_eq!(rule.peer, Peer::group("sg-9"));
    }

    #[test]
    fn malformed_rules_say_what_is_wrong() {
        let no_peer = json!({"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1});
        let bad_port =
            json!({"IpProtocol": "tcp", "FromPort": "http", "ToPort": 1, "CidrIp": "10.0.0.0/8"});
        for (props, wanted) in [
            (no_peer, "names no peer"),
            (bad_port, "FromPort \"http\""),
            (json!("text"), "is an object"),
            (json!({"CidrIp": "10.0.0.0/8"}), "IpProtocol is missing"),
        ] {
            let err =
                rule_from_properties("sg-1", Direction::Ingress, &props, &no_names).unwrap_err();
            assert!(err.contains(wanted), "{err}");
        }
    }
}
