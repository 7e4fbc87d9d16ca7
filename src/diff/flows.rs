//! `flow-broken`: a `[[flow]]` the live rules no longer allow, judged as AWS does.
//!
//! Security groups only allow, and all groups of an interface are combined. Traffic
//! from one interface to another passes when some egress rule of the source's groups
//! and some ingress rule of the destination's groups allow it: a group peer matches
//! an interface that carries the group, a CIDR peer matches its private addresses,
//! protocol `-1` matches everything, port ranges are inclusive. A prefix-list peer is
//! not resolved here: a flow that only it could allow cannot be judged, and says so.
//! A flow holds when every (source, destination) pair of interfaces passes.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use super::context::Inventory;
use crate::model::{
    CarrierRef, DeclaredEndpoint, Direction, Finding, FindingCode, Flow, FlowEnds,
    NetworkInterface, Peer, Protocol, Rule, Subject,
};

/// The broken flows, and each one's ends (by finding id), for attribution.
pub fn check(inv: &Inventory, flows: &[Flow]) -> (Vec<Finding>, BTreeMap<String, FlowEnds>) {
    let mut findings = Vec::new();
    let mut ends = BTreeMap::new();
    if flows.is_empty() {
        return (findings, ends);
    }
    // Each endpoint asks which interfaces carry a group: index them once.
    let mut carrying: HashMap<&str, Vec<&NetworkInterface>> = HashMap::new();
    for interface in &inv.live.interfaces {
        for group in &interface.groups {
            carrying.entry(group.as_str()).or_default().push(interface);
        }
    }
    for (finding, at) in flows.iter().filter_map(|flow| judge(inv, &carrying, flow)) {
        ends.insert(finding.id.clone(), at);
        findings.push(finding);
    }
    (findings, ends)
}

/// The interfaces that carry each group.
type Carrying<'a> = HashMap<&'a str, Vec<&'a NetworkInterface>>;

/// One end of a flow: what it is called and the interfaces that stand for it.
struct Endpoint<'a> {
    label: String,
    /// An ECS service: its tasks are known only where ECS was read.
    ecs: bool,
    interfaces: Vec<&'a NetworkInterface>,
    account: Option<&'a str>,
    region: Option<&'a str>,
    /// The group it names, when named by a group.
    group: Option<String>,
}

/// The groups and carriers of a flow's ends.
fn ends_of(ends: &[&Endpoint]) -> FlowEnds {
    let mut at = FlowEnds::default();
    for end in ends {
        at.groups.extend(end.group.clone());
        for interface in &end.interfaces {
            at.groups.extend(interface.groups.iter().cloned());
            for carrier in interface.carrier_refs() {
                if !at.carriers.contains(&carrier) {
                    at.carriers.push(carrier);
                }
            }
        }
    }
    at
}

fn judge(inv: &Inventory, carrying: &Carrying, flow: &Flow) -> Option<(Finding, FlowEnds)> {
    // A flow is one finding whatever breaks it: no place in its id, and resolved
    // only by a scan that read everything.
    let broken = |message: String, at: FlowEnds| {
        let finding = Finding::about(
            Subject {
                code: FindingCode::FlowBroken,
                account_id: None,
                region: None,
                kind: "flow".to_string(),
                id: flow.name.clone(),
                key: "flow".to_string(),
            },
            format!(
                "flow {} ({} from {} to {}): {message}",
                flow.name,
                flow.traffic(),
                flow.from,
                flow.to
            ),
        );
        Some((finding, at))
    };
    let ends = (
        resolve(inv, carrying, &flow.from),
        resolve(inv, carrying, &flow.to),
    );
    let (from, to) = match ends {
        (Ok(from), Ok(to)) => (from, to),
        (from, to) => {
            let ends = [&from, &to];
            let why = ends
                .iter()
                .find_map(|end| end.as_ref().err())
                .expect("one end was not found");
            // Not found where everything was read: the endpoint is gone, or misnamed.
            if inv.coverage.nothing_failed() {
                let found: Vec<&Endpoint> =
                    ends.iter().filter_map(|end| end.as_ref().ok()).collect();
                return broken(
                    format!("{why}; the flow cannot be checked"),
                    ends_of(&found),
                );
            }
            tracing::warn!(flow = %flow.name, "cannot judge the flow while a source is unread: {why}");
            return None;
        }
    };
    // What carries each end is known only where its interfaces (and, for a
    // service, its tasks) were read.
    let read = |end: &Endpoint| {
        inv.coverage.interfaces_read(end.account, end.region)
            && (!end.ecs || inv.coverage.ecs_read(end.account, end.region))
    };
    if !read(&from) || !read(&to) {
        return None;
    }
    for end in [&from, &to] {
        if end.interfaces.is_empty() {
            return broken(
                format!(
                    "{} has no network interface: nothing carries the traffic",
                    end.label
                ),
                ends_of(&[&from, &to]),
            );
        }
    }
    let mut blocked = Vec::new();
    let mut unjudged = None;
    for source in &from.interfaces {
        for destination in &to.interfaces {
            // A packet is IPv4 or IPv6 end to end: both sides must allow it in one
            // family both interfaces have.
            let mut verdicts = families(source, destination).into_iter().map(|family| {
                (
                    allows(inv, source, Direction::Egress, destination, flow, family),
                    allows(inv, destination, Direction::Ingress, source, flow, family),
                )
            });
            let first = verdicts.next().expect("at least one family");
            if matches!(first, (Verdict::Allowed, Verdict::Allowed))
                || verdicts.any(|v| matches!(v, (Verdict::Allowed, Verdict::Allowed)))
            {
                continue;
            }
            match first {
                (Verdict::Blocked, _) => blocked.push((source, destination, Direction::Egress)),
                (_, Verdict::Blocked) => blocked.push((source, destination, Direction::Ingress)),
                (Verdict::Unknown(why), _) | (_, Verdict::Unknown(why)) => {
                    unjudged.get_or_insert(why);
                }
                (Verdict::Allowed, Verdict::Allowed) => {}
            }
        }
    }
    let pairs = from.interfaces.len() * to.interfaces.len();
    if let Some(&(source, destination, side)) = blocked.first() {
        let why = match side {
            Direction::Egress => blocked_by(inv, side, (&from, source), (&to, destination), flow),
            Direction::Ingress => blocked_by(inv, side, (&to, destination), (&from, source), flow),
        };
        let share = match (blocked.len(), pairs) {
            (1, 1) => String::new(),
            (n, all) => format!(" ({n} of {all} interface pairs blocked)"),
        };
        return broken(format!("{why}{share}"), ends_of(&[&from, &to]));
    }
    if let Some(why) = unjudged {
        tracing::warn!(flow = %flow.name, "cannot judge the flow: {why}");
    }
    None
}

/// An endpoint named by a group id, a Terraform address (of a group, or of what
/// carries groups), or a live group's name; or why it cannot be found.
fn resolve<'a>(
    inv: &Inventory<'a>,
    carrying: &Carrying<'a>,
    text: &str,
) -> Result<Endpoint<'a>, String> {
    let declared = inv.intent.endpoint(text);
    if let Some(DeclaredEndpoint::Carrier(attachment)) = declared {
        let interfaces: Vec<&NetworkInterface> = match &attachment.carrier {
            // Lambda shares one interface among the functions of a subnet and group
            // set, named after the first: a function's are those of its set.
            CarrierRef::Lambda(_) => inv
                .live
                .interfaces
                .iter()
                .filter(|i| {
                    i.interface_type.as_deref() == Some("lambda") && i.groups == attachment.groups
                })
                .collect(),
            carrier => inv
                .live
                .interfaces
                .iter()
                .filter(|i| i.stands_for(carrier))
                .collect(),
        };
        let (account, region) = match interfaces.first() {
            Some(i) => (i.account_id.as_deref(), i.region.as_deref()),
            None => (
                attachment.account_id.as_deref(),
                attachment.region.as_deref(),
            ),
        };
        return Ok(Endpoint {
            ecs: matches!(attachment.carrier, CarrierRef::EcsService(_)),
            label: carrier_label(&attachment.carrier, text),
            interfaces,
            account,
            region,
            group: None,
        });
    }
    let group_id = if text.starts_with("sg-") {
        text
    } else if let Some(DeclaredEndpoint::Group(group)) = declared {
        group.group.id.as_str()
    } else {
        let named: Vec<&str> = inv
            .live
            .groups
            .iter()
            .filter(|g| g.name.as_deref() == Some(text))
            .map(|g| g.id.as_str())
            .collect();
        match named.as_slice() {
            [id] => *id,
            [] => {
                return Err(format!(
                    "{text} is no group id, no Terraform address of a group or of what carries groups in the loaded states, and no live group's name"
                ));
            }
            several => {
                return Err(format!(
                    "{} live groups are named {text} ({}): name the group by id",
                    several.len(),
                    several.join(", ")
                ));
            }
        }
    };
    let (account, region) = inv.group_scope(group_id);
    Ok(Endpoint {
        ecs: false,
        label: inv.group_label(group_id),
        interfaces: carrying.get(group_id).cloned().unwrap_or_default(),
        account,
        region,
        group: Some(group_id.to_string()),
    })
}

fn carrier_label(carrier: &CarrierRef, address: &str) -> String {
    format!("{} ({address})", carrier.label())
}

enum Verdict {
    Allowed,
    Blocked,
    /// Only a rule driftd cannot evaluate could allow it.
    Unknown(String),
}

/// Whether the groups of `interface` allow the flow in `direction` with `other`
/// (the destination of egress, the source of ingress).
fn allows(
    inv: &Inventory,
    interface: &NetworkInterface,
    direction: Direction,
    other: &NetworkInterface,
    flow: &Flow,
    family: Family,
) -> Verdict {
    let mut unknown = None;
    // A group of the interface that was not read (another account's, say) may
    // allow it.
    if let Some(group) = interface
        .groups
        .iter()
        .find(|g| !inv.live_groups.contains_key(g.as_str()))
    {
        unknown = Some(format!("{group} on {} was not read", interface.id));
    }
    for rule in rules_of(inv, interface, direction) {
        if !carries_traffic(rule, flow) {
            continue;
        }
        match &rule.peer {
            Peer::PrefixList(list) if inv.live.prefix_lists.contains_key(list) => {
                let cidrs = &inv.live.prefix_lists[list];
                let family_of = |net: &ipnet::IpNet| match net {
                    ipnet::IpNet::V4(_) => Family::V4,
                    ipnet::IpNet::V6(_) => Family::V6,
                };
                if cidrs.iter().any(|net| {
                    family_of(net) == family && addresses(other).any(|a| net.contains(&a))
                }) {
                    return Verdict::Allowed;
                }
            }
            Peer::PrefixList(list) => {
                unknown.get_or_insert_with(|| {
                    format!(
                        "{} allows it through prefix list {list}, which is not resolved",
                        rule.label()
                    )
                });
            }
            peer if peer_matches(peer, other, family) => return Verdict::Allowed,
            _ => {}
        }
    }
    unknown.map_or(Verdict::Blocked, Verdict::Unknown)
}

fn rules_of<'a>(
    inv: &'a Inventory,
    interface: &'a NetworkInterface,
    direction: Direction,
) -> impl Iterator<Item = &'a Rule> + 'a {
    interface
        .groups
        .iter()
        .flat_map(move |group| inv.live_rules_of(group, direction))
}

/// Whether the rule's protocol and ports cover the flow's.
fn carries_traffic(rule: &Rule, flow: &Flow) -> bool {
    if rule.protocol == Protocol::All {
        return true;
    }
    if rule.protocol != flow.protocol {
        return false;
    }
    match (flow.port, rule.from_port, rule.to_port) {
        (Some(port), Some(from), Some(to)) => (from..=to).contains(&port),
        // A rule without ports covers every port of its protocol.
        _ => true,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    V4,
    V6,
}

/// The address families both interfaces have (IPv4 when neither names one).
fn families(a: &NetworkInterface, b: &NetworkInterface) -> Vec<Family> {
    let has = |i: &NetworkInterface, family: Family| {
        addresses(i).any(|ip| match family {
            Family::V4 => ip.is_ipv4(),
            Family::V6 => ip.is_ipv6(),
        })
    };
    let both: Vec<Family> = [Family::V4, Family::V6]
        .into_iter()
        .filter(|&f| has(a, f) && has(b, f))
        .collect();
    match both.is_empty() {
        true => vec![Family::V4],
        false => both,
    }
}

/// Whether the peer names `interface` for traffic of `family`: a group peer by the
/// groups it carries, a CIDR peer by its addresses of that family.
fn peer_matches(peer: &Peer, interface: &NetworkInterface, family: Family) -> bool {
    match (peer, family) {
        (Peer::SecurityGroup(group), _) => interface.groups.iter().any(|g| g == group),
        (Peer::CidrIpv4(net), Family::V4) => {
            addresses(interface).any(|a| matches!(a, IpAddr::V4(v4) if net.contains(&v4)))
        }
        (Peer::CidrIpv6(net), Family::V6) => {
            addresses(interface).any(|a| matches!(a, IpAddr::V6(v6) if net.contains(&v6)))
        }
        _ => false,
    }
}

fn addresses(interface: &NetworkInterface) -> impl Iterator<Item = IpAddr> + '_ {
    interface
        .private_ips
        .iter()
        .filter_map(|ip| ip.parse().ok())
}

/// `ecs-front (sg-2)'s ingress blocks it: its groups (…) allow tcp 80 only from
/// alb-public (sg-1); ELB app/web (eni-1, 10.0.0.10) carries alb-by-hand (sg-3)`:
/// the side that blocks (`blocking` of `interface`, in `direction`), and what the
/// other side (`other` of `its_interface`) carries.
fn blocked_by(
    inv: &Inventory,
    direction: Direction,
    (blocking, interface): (&Endpoint, &NetworkInterface),
    (other, its_interface): (&Endpoint, &NetworkInterface),
    flow: &Flow,
) -> String {
    format!(
        "{}'s {direction} blocks it: {}{}",
        blocking.label,
        what_it_allows(inv, interface, direction, flow),
        where_it_stands(inv, &other.label, its_interface),
    )
}

/// `its groups allow tcp 80 only from sg-1 (alb-public)`, or allow none of it.
fn what_it_allows(
    inv: &Inventory,
    interface: &NetworkInterface,
    direction: Direction,
    flow: &Flow,
) -> String {
    let groups: Vec<String> = interface
        .groups
        .iter()
        .map(|g| inv.group_label(g))
        .collect();
    let peers: Vec<String> = rules_of(inv, interface, direction)
        .filter(|r| carries_traffic(r, flow))
        .map(|r| match r.peer.referenced_group() {
            Some(group) => inv.group_label(group),
            None => r.peer.value(),
        })
        .collect();
    let (preposition, groups) = match direction {
        Direction::Egress => ("to", groups.join(", ")),
        Direction::Ingress => ("from", groups.join(", ")),
    };
    match peers.is_empty() {
        true => format!(
            "its groups ({groups}) allow no {} {preposition} anywhere",
            flow.traffic()
        ),
        false => format!(
            "its groups ({groups}) allow {} only {preposition} {}",
            flow.traffic(),
            peers.join(", ")
        ),
    }
}

/// `, which the interfaces of ELB app/web (eni-1) do not carry: they carry sg-2 (x)`.
fn where_it_stands(inv: &Inventory, label: &str, interface: &NetworkInterface) -> String {
    let carried: Vec<String> = interface
        .groups
        .iter()
        .map(|g| inv.group_label(g))
        .collect();
    let ips = interface.private_ips.join(", ");
    format!(
        "; {label} ({}, {ips}) carries {}",
        interface.id,
        match carried.is_empty() {
            true => "no group".to_string(),
            false => carried.join(", "),
        }
    )
}
