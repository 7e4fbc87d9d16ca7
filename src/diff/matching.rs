//! Pairs declared and live rules of one group and direction (DESIGN.md, "Matching
//! rules for a field-level diff"):
//!
//! 1. rules with the same identity (everything but description, id, tags) match;
//! 2. rules with the same `rule_id` match;
//! 3. the rest pair up when they share protocol and peer (ports changed) or protocol
//!    and ports (peer changed), one-to-one, fewest differing fields first;
//! 4. what is left is removed (declared only) or added (live only).

use std::cmp::Ordering;
use std::collections::HashMap;

use ipnet::{Ipv4Net, Ipv6Net};

use crate::model::{DeclaredRule, Direction, Peer, Protocol, Rule};

use super::changes::rule_changes;

#[derive(Debug, Default)]
pub struct Matching<'a> {
    pub pairs: Vec<(&'a DeclaredRule, &'a Rule)>,
    pub removed: Vec<&'a DeclaredRule>,
    pub added: Vec<&'a Rule>,
}

/// A rule's identity within its group (`RuleKey` without the group), copied out
/// of the rule. Sorting and matching 100,000s of rules then reads one contiguous
/// array, instead of one scattered rule (a cache miss) per comparison.
///
/// Direction, protocol, ports, the peer's kind and an IPv4 peer are packed into one
/// integer that orders as those fields do, so most comparisons are one integer
/// comparison; `peer` decides only between IPv6, prefix-list and group peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LocalKey<'a> {
    packed: u128,
    peer: PeerKey<'a>,
}

/// `Peer` with its ids borrowed: the same variants in the same order, so the same
/// ordering (`keys_order_as_rules_do` checks it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PeerKey<'a> {
    CidrIpv4(Ipv4Net),
    CidrIpv6(Ipv6Net),
    PrefixList(&'a str),
    SecurityGroup(&'a str),
}

/// Where each field sits in `LocalKey::packed`, least significant first: the IPv4
/// peer, the peer's kind, the ports, the protocol, the direction on top.
mod layout {
    pub const PREFIX_LEN_BITS: u32 = 6; // 0-32
    pub const IPV4_BITS: u32 = 32 + PREFIX_LEN_BITS;
    pub const PEER_KIND_BITS: u32 = 2;
    pub const PEER_BITS: u32 = IPV4_BITS + PEER_KIND_BITS;
    pub const PORT_BITS: u32 = 33; // None, then every i32
    pub const PORTS_BITS: u32 = 2 * PORT_BITS;
    pub const PROTOCOL_BITS: u32 = 9; // five names, then numbers 0-255
    pub const DIRECTION_BITS: u32 = 1;

    pub const PEER_SHIFT: u32 = 0;
    pub const PORTS_SHIFT: u32 = PEER_SHIFT + PEER_BITS;
    pub const PROTOCOL_SHIFT: u32 = PORTS_SHIFT + PORTS_BITS;
    pub const DIRECTION_SHIFT: u32 = PROTOCOL_SHIFT + PROTOCOL_BITS;
    const _: () = assert!(DIRECTION_SHIFT + DIRECTION_BITS <= u128::BITS);

    pub fn field(packed: u128, shift: u32, bits: u32) -> u128 {
        (packed >> shift) & ((1 << bits) - 1)
    }
}

impl<'a> LocalKey<'a> {
    pub fn of(rule: &'a Rule) -> LocalKey<'a> {
        use layout::*;
        let protocol = match rule.protocol {
            Protocol::All => 0,
            Protocol::Tcp => 1,
            Protocol::Udp => 2,
            Protocol::Icmp => 3,
            Protocol::Icmpv6 => 4,
            Protocol::Number(n) => 5 + u128::from(n),
        };
        // None before every number, numbers in order.
        let port =
            |p: Option<i32>| p.map_or(0, |p| 1 + (i64::from(p) - i64::from(i32::MIN)) as u128);
        let ports = (port(rule.from_port) << PORT_BITS) | port(rule.to_port);
        // The peer's kind in `Peer`'s variant order; an IPv4 network, which fits,
        // orders by address, then prefix length (as ipnet's `Ipv4Net` does).
        let (peer, kind, ipv4) = match &rule.peer {
            Peer::CidrIpv4(net) => (
                PeerKey::CidrIpv4(*net),
                0,
                (u128::from(u32::from(net.addr())) << PREFIX_LEN_BITS)
                    | u128::from(net.prefix_len()),
            ),
            Peer::CidrIpv6(net) => (PeerKey::CidrIpv6(*net), 1, 0),
            Peer::PrefixList(id) => (PeerKey::PrefixList(id), 2, 0),
            Peer::SecurityGroup(id) => (PeerKey::SecurityGroup(id), 3, 0),
        };
        let peer_bits = (kind << IPV4_BITS) | ipv4;
        let packed = (u128::from(rule.direction == Direction::Egress) << DIRECTION_SHIFT)
            | (protocol << PROTOCOL_SHIFT)
            | (ports << PORTS_SHIFT)
            | (peer_bits << PEER_SHIFT);
        LocalKey { packed, peer }
    }

    pub fn direction(&self) -> Direction {
        if layout::field(self.packed, layout::DIRECTION_SHIFT, layout::DIRECTION_BITS) == 0 {
            Direction::Ingress
        } else {
            Direction::Egress
        }
    }

    pub fn referenced_group(&self) -> Option<&'a str> {
        match self.peer {
            PeerKey::SecurityGroup(id) => Some(id),
            _ => None,
        }
    }

    /// Same protocol, and the same peer or the same ports: an edit of one rule.
    fn related(&self, other: &LocalKey) -> bool {
        use layout::*;
        let same =
            |shift, bits| field(self.packed, shift, bits) == field(other.packed, shift, bits);
        same(PROTOCOL_SHIFT, PROTOCOL_BITS)
            && (self.peer == other.peer || same(PORTS_SHIFT, PORTS_BITS))
    }
}

/// A rule beside its copied-out key.
#[derive(Debug)]
pub struct Keyed<'a, T> {
    pub key: LocalKey<'a>,
    /// A declared rule's `inline`, copied too: it decides between copies of one
    /// rule (always false for live rules).
    pub inline: bool,
    pub item: &'a T,
}

impl<'a> Keyed<'a, DeclaredRule> {
    pub fn declared(item: &'a DeclaredRule) -> Self {
        Keyed {
            key: LocalKey::of(&item.rule),
            inline: item.inline,
            item,
        }
    }
}

impl<'a> Keyed<'a, Rule> {
    pub fn live(item: &'a Rule) -> Self {
        Keyed {
            key: LocalKey::of(item),
            inline: false,
            item,
        }
    }
}

/// Declared rules in the order `match_sorted` wants: by key; within one key rule
/// resources (inline = false) first, then by owner and description.
pub fn sort_declared(rules: &mut [Keyed<DeclaredRule>]) {
    rules.sort_by(declared_order);
}

/// Live rules in the order `match_sorted` wants: by key, then rule id and description.
pub fn sort_live(rules: &mut [Keyed<Rule>]) {
    rules.sort_by(live_order);
}

/// The rules themselves are read only between copies of one rule.
fn declared_order(a: &Keyed<DeclaredRule>, b: &Keyed<DeclaredRule>) -> Ordering {
    (a.key, a.inline).cmp(&(b.key, b.inline)).then_with(|| {
        (&a.item.owner, &a.item.rule.description).cmp(&(&b.item.owner, &b.item.rule.description))
    })
}

fn live_order(a: &Keyed<Rule>, b: &Keyed<Rule>) -> Ordering {
    a.key.cmp(&b.key).then_with(|| {
        (&a.item.rule_id, &a.item.description).cmp(&(&b.item.rule_id, &b.item.description))
    })
}

/// `declared` and `live` must belong to one group and direction. Among declared
/// copies of one rule the first in (inline, owner, description) order is paired
/// first; among live copies, the first by rule id and description.
pub fn match_rules<'a>(declared: Vec<&'a DeclaredRule>, live: Vec<&'a Rule>) -> Matching<'a> {
    // Input order must not matter: sort by everything that distinguishes rules.
    let mut declared: Vec<_> = declared.into_iter().map(Keyed::declared).collect();
    let mut live: Vec<_> = live.into_iter().map(Keyed::live).collect();
    sort_declared(&mut declared);
    sort_live(&mut live);
    match_sorted(&declared, &live)
}

/// `match_rules` on rules of one group and direction already in the order of
/// `sort_declared` and `sort_live`.
pub fn match_sorted<'a>(
    declared: &[Keyed<'a, DeclaredRule>],
    live: &[Keyed<'a, Rule>],
) -> Matching<'a> {
    debug_assert!(declared.is_sorted_by(|a, b| declared_order(a, b).is_le()));
    debug_assert!(live.is_sorted_by(|a, b| live_order(a, b).is_le()));
    let mut live_taken = vec![false; live.len()];
    let mut declared_pair: Vec<Option<usize>> = vec![None; declared.len()];

    // 1. identical identity
    // Both sides are sorted by key: a merge pairs each declared rule with the first
    // live rule of its key not yet taken.
    let mut next = 0;
    for (d, rule) in declared.iter().enumerate() {
        while next < live.len() && live[next].key < rule.key {
            next += 1;
        }
        if next < live.len() && live[next].key == rule.key {
            live_taken[next] = true;
            declared_pair[d] = Some(next);
            next += 1;
        }
    }

    // 2. same rule id
    let by_id: HashMap<&str, usize> = live
        .iter()
        .enumerate()
        .filter(|(i, _)| !live_taken[*i])
        .filter_map(|(i, r)| r.item.rule_id.as_deref().map(|id| (id, i)))
        .collect();
    for (d, rule) in declared.iter().enumerate() {
        if declared_pair[d].is_some() {
            continue;
        }
        if let Some(&i) = rule
            .item
            .rule
            .rule_id
            .as_deref()
            .and_then(|id| by_id.get(id))
            && !live_taken[i]
        {
            live_taken[i] = true;
            declared_pair[d] = Some(i);
        }
    }

    // 3. shared protocol and peer, or protocol and ports; fewest changes first
    let mut candidates = Vec::new();
    for (d, decl) in declared.iter().enumerate() {
        if declared_pair[d].is_some() {
            continue;
        }
        for (i, rule) in live.iter().enumerate() {
            if live_taken[i] || !decl.key.related(&rule.key) {
                continue;
            }
            candidates.push((rule_changes(&decl.item.rule, rule.item).len(), d, i));
        }
    }
    candidates.sort_unstable();
    for (_, d, i) in candidates {
        if declared_pair[d].is_none() && !live_taken[i] {
            live_taken[i] = true;
            declared_pair[d] = Some(i);
        }
    }

    // 4. leftovers
    let mut matching = Matching::default();
    for (d, pair) in declared_pair.iter().enumerate() {
        match pair {
            Some(i) => matching.pairs.push((declared[d].item, live[*i].item)),
            None => matching.removed.push(declared[d].item),
        }
    }
    matching.added = live
        .iter()
        .zip(&live_taken)
        .filter(|(_, taken)| !**taken)
        .map(|(rule, _)| rule.item)
        .collect();
    matching
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(r: &Rule) -> (Direction, Protocol, Option<i32>, Option<i32>, &Peer) {
        (r.direction, r.protocol, r.from_port, r.to_port, &r.peer)
    }

    /// `LocalKey` must order rules exactly as their fields do, `Peer` included, and
    /// relate them as their fields do, and give back their direction.
    #[test]
    fn keys_order_as_rules_do() {
        let peers = [
            Peer::ipv4("10.0.0.0/8").unwrap(),
            Peer::ipv4("10.0.0.0/16").unwrap(),
            Peer::ipv4("192.168.0.0/16").unwrap(),
            Peer::ipv4("0.0.0.0/0").unwrap(),
            // A lower address with a longer prefix: address must order before prefix.
            Peer::ipv4("10.0.0.0/24").unwrap(),
            Peer::ipv4("255.255.255.255/32").unwrap(),
            Peer::ipv6("::/0").unwrap(),
            Peer::ipv6("2001:db8::/32").unwrap(),
            Peer::PrefixList("pl-1".into()),
            Peer::PrefixList("pl-2".into()),
            Peer::group("sg-1"),
            Peer::group("sg-2"),
        ];
        let mut rules = Vec::new();
        for direction in [Direction::Ingress, Direction::Egress] {
            for protocol in [
                Protocol::All,
                Protocol::Tcp,
                Protocol::Udp,
                Protocol::Icmp,
                Protocol::Icmpv6,
                Protocol::Number(0),
                Protocol::Number(50),
                Protocol::Number(255),
            ] {
                for (from, to) in [
                    (Some(80), Some(80)),
                    (Some(80), Some(8080)),
                    (None, None),
                    (Some(-1), Some(-1)),
                    (Some(0), Some(65535)),
                    (Some(i32::MIN), None),
                    (None, Some(i32::MAX)),
                ] {
                    for peer in &peers {
                        // Ports set directly: every value the key can hold, even
                        // those `Rule::new` would refuse or fold away.
                        let mut rule =
                            Rule::new("sg-0", direction, protocol, None, None, peer.clone(), None)
                                .unwrap();
                        (rule.from_port, rule.to_port) = (from, to);
                        rules.push(rule);
                    }
                }
            }
        }
        let keyed: Vec<_> = rules.iter().map(|r| (r, LocalKey::of(r))).collect();
        for (a, a_key) in &keyed {
            assert_eq!(a_key.direction(), a.direction, "{a:?}");
            for (b, b_key) in &keyed {
                assert_eq!(
                    a_key.cmp(b_key),
                    fields(a).cmp(&fields(b)),
                    "{a:?} vs {b:?}"
                );
                let related = a.protocol == b.protocol
                    && (a.peer == b.peer || (a.from_port, a.to_port) == (b.from_port, b.to_port));
                assert_eq!(a_key.related(b_key), related, "{a:?} vs {b:?}");
            }
        }
    }
}
