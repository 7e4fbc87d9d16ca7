//! Rules in the canonical shape: one rule per peer, protocols and CIDRs spelled one
//! way, so that Terraform, CloudFormation and AWS spellings of one rule compare equal.

use std::fmt;

use ipnet::{Ipv4Net, Ipv6Net};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de, ser::SerializeStruct};

use super::group::Tags;
use super::group_id::GroupId;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ModelError {
    #[error("unknown protocol {0:?} (expected -1/all, tcp, udp, icmp, icmpv6 or a number 0-255)")]
    Protocol(String),
    #[error("invalid IPv4 CIDR {0:?}")]
    Ipv4Cidr(String),
    #[error("invalid IPv6 CIDR {0:?}")]
    Ipv6Cidr(String),
    #[error("invalid port {0} (expected -1 to 65535)")]
    Port(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// IP protocol. Names and numbers of the five common protocols are folded together;
/// any other protocol keeps its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    All,
    Tcp,
    Udp,
    Icmp,
    Icmpv6,
    Number(u8),
}

impl Protocol {
    /// Accepts every spelling AWS, Terraform and CloudFormation use: `-1`, `all`,
    /// `tcp`/`6`, `udp`/`17`, `icmp`/`1`, `icmpv6`/`58`, any other number 0–255.
    pub fn parse(raw: &str) -> Result<Protocol, ModelError> {
        // Names compared without case, and without a lowercased copy: a large state
        // spells a protocol for every rule.
        let text = raw.trim();
        let is = |name: &str| text.eq_ignore_ascii_case(name);
        if text == "-1" || is("all") {
            return Ok(Protocol::All);
        }
        if let Ok(number) = text.parse::<u8>() {
            return Ok(Protocol::from_number(number));
        }
        Ok(match text {
            _ if is("tcp") => Protocol::Tcp,
            _ if is("udp") => Protocol::Udp,
            _ if is("icmp") => Protocol::Icmp,
            _ if is("icmpv6") => Protocol::Icmpv6,
            _ => return Err(ModelError::Protocol(raw.to_string())),
        })
    }

    /// An IP protocol number, named where it has a name (`6` is `tcp`).
    pub fn from_number(number: u8) -> Protocol {
        match number {
            1 => Protocol::Icmp,
            6 => Protocol::Tcp,
            17 => Protocol::Udp,
            58 => Protocol::Icmpv6,
            n => Protocol::Number(n),
        }
    }

    /// Ports mean something only for these; for every other protocol AWS ignores them.
    pub fn has_ports(self) -> bool {
        matches!(
            self,
            Protocol::Tcp | Protocol::Udp | Protocol::Icmp | Protocol::Icmpv6
        )
    }

    pub fn as_string(self) -> String {
        match self {
            Protocol::All => "all".into(),
            Protocol::Tcp => "tcp".into(),
            Protocol::Udp => "udp".into(),
            Protocol::Icmp => "icmp".into(),
            Protocol::Icmpv6 => "icmpv6".into(),
            Protocol::Number(n) => n.to_string(),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_string())
    }
}

impl Serialize for Protocol {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_string())
    }
}

impl<'de> Deserialize<'de> for Protocol {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Protocol::parse(&raw).map_err(de::Error::custom)
    }
}

/// The other end of a rule. CIDRs are stored as networks (host bits cleared) so that
/// `10.0.0.1/8` and `10.0.0.0/8` compare equal, as they do in effect. The diff's
/// `PeerKey` copies these variants in this order: change both together.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Peer {
    CidrIpv4(Ipv4Net),
    CidrIpv6(Ipv6Net),
    PrefixList(String),
    SecurityGroup(String),
}

impl Peer {
    pub fn ipv4(raw: &str) -> Result<Peer, ModelError> {
        let net: Ipv4Net = raw
            .trim()
            .parse()
            .map_err(|_| ModelError::Ipv4Cidr(raw.to_string()))?;
        Ok(Peer::CidrIpv4(net.trunc()))
    }

    pub fn ipv6(raw: &str) -> Result<Peer, ModelError> {
        let net: Ipv6Net = raw
            .trim()
            .parse()
            .map_err(|_| ModelError::Ipv6Cidr(raw.to_string()))?;
        Ok(Peer::CidrIpv6(net.trunc()))
    }

    /// `sg-…`; a cross-account reference written `123456789012/sg-…` keeps only the id.
    pub fn group(raw: &str) -> Peer {
        let id = raw.rsplit('/').next().unwrap_or(raw);
        Peer::SecurityGroup(id.to_string())
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Peer::CidrIpv4(_) => "cidr_ipv4",
            Peer::CidrIpv6(_) => "cidr_ipv6",
            Peer::PrefixList(_) => "prefix_list",
            Peer::SecurityGroup(_) => "security_group",
        }
    }

    pub fn value(&self) -> String {
        match self {
            Peer::CidrIpv4(net) => net.to_string(),
            Peer::CidrIpv6(net) => net.to_string(),
            Peer::PrefixList(id) | Peer::SecurityGroup(id) => id.clone(),
        }
    }

    /// `0.0.0.0/0` or `::/0`: the whole internet.
    pub fn is_world(&self) -> bool {
        match self {
            Peer::CidrIpv4(net) => net.prefix_len() == 0,
            Peer::CidrIpv6(net) => net.prefix_len() == 0,
            _ => false,
        }
    }

    pub fn referenced_group(&self) -> Option<&str> {
        match self {
            Peer::SecurityGroup(id) => Some(id),
            _ => None,
        }
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value())
    }
}

impl Serialize for Peer {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Peer", 2)?;
        st.serialize_field("kind", self.kind())?;
        st.serialize_field("value", &self.value())?;
        st.end()
    }
}

/// Reads back what `Serialize` wrote (stored snapshots and findings).
impl<'de> Deserialize<'de> for Peer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            kind: String,
            value: String,
        }
        let Raw { kind, value } = Raw::deserialize(d)?;
        match kind.as_str() {
            "cidr_ipv4" => Peer::ipv4(&value).map_err(de::Error::custom),
            "cidr_ipv6" => Peer::ipv6(&value).map_err(de::Error::custom),
            "prefix_list" => Ok(Peer::PrefixList(value)),
            "security_group" => Ok(Peer::SecurityGroup(value)),
            other => Err(de::Error::unknown_variant(
                other,
                &["cidr_ipv4", "cidr_ipv6", "prefix_list", "security_group"],
            )),
        }
    }
}

/// One security-group rule with one peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub group_id: GroupId,
    pub direction: Direction,
    pub protocol: Protocol,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    pub peer: Peer,
    /// `None` for no description (an empty string means none).
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    /// `None` where the source cannot declare rule tags (inline lists,
    /// `aws_security_group_rule`, `describe-security-groups` captures).
    pub tags: Option<Tags>,
    /// The account that owns a referenced group, where the source says so
    /// (`UserIdGroupPairs[].UserId`); a reference into an account that was not read
    /// cannot be judged dangling.
    #[serde(skip)]
    pub peer_account: Option<String>,
    /// The reference crosses a VPC peering connection: the referenced group may live
    /// in another region, so its absence here proves nothing.
    #[serde(skip)]
    pub peer_via_peering: bool,
}

/// What makes a rule the same rule to AWS: everything but description, id and tags.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleKey {
    pub group_id: String,
    pub direction: Direction,
    pub protocol: Protocol,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    pub peer: Peer,
}

/// [`RuleKey`] borrowed from a rule; same field order, so the same ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleKeyRef<'a> {
    pub group_id: &'a str,
    pub direction: Direction,
    pub protocol: Protocol,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    pub peer: &'a Peer,
}

impl fmt::Display for RuleKey {
    /// `sg-1/ingress/tcp/443-443/cidr_ipv4:0.0.0.0/0`: stable text for finding ids.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let port = |p: Option<i32>| p.map_or_else(|| "*".to_string(), |p| p.to_string());
        write!(
            f,
            "{}/{}/{}/{}-{}/{}:{}",
            self.group_id,
            self.direction,
            self.protocol,
            port(self.from_port),
            port(self.to_port),
            self.peer.kind(),
            self.peer.value()
        )
    }
}

impl Rule {
    /// Builds a canonical rule: ports dropped where the protocol has none (AWS says
    /// -1, Terraform 0 or null, the old EKS module 0/65535), empty description → none.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        group_id: impl Into<GroupId>,
        direction: Direction,
        protocol: Protocol,
        from_port: Option<i64>,
        to_port: Option<i64>,
        peer: Peer,
        description: Option<&str>,
    ) -> Result<Rule, ModelError> {
        let (from_port, to_port) = if protocol.has_ports() {
            (check_port(from_port)?, check_port(to_port)?)
        } else {
            (None, None)
        };
        Ok(Rule {
            group_id: group_id.into(),
            direction,
            protocol,
            from_port,
            to_port,
            peer,
            description: description
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(str::to_string),
            rule_id: None,
            tags: None,
            peer_account: None,
            peer_via_peering: false,
        })
    }

    pub fn with_rule_id(mut self, rule_id: Option<&str>) -> Rule {
        self.rule_id = rule_id.filter(|id| !id.is_empty()).map(str::to_string);
        self
    }

    pub fn with_tags(mut self, tags: Option<Tags>) -> Rule {
        self.tags = tags;
        self
    }

    /// The rule's identity, borrowed: orders and hashes as `key()` does, without
    /// allocating.
    pub fn key_ref(&self) -> RuleKeyRef<'_> {
        RuleKeyRef {
            group_id: self.group_id.as_str(),
            direction: self.direction,
            protocol: self.protocol,
            from_port: self.from_port,
            to_port: self.to_port,
            peer: &self.peer,
        }
    }

    pub fn key(&self) -> RuleKey {
        RuleKey {
            group_id: self.group_id.to_string(),
            direction: self.direction,
            protocol: self.protocol,
            from_port: self.from_port,
            to_port: self.to_port,
            peer: self.peer.clone(),
        }
    }

    /// `tcp 80`, `tcp 1024-65535`, `all`, `icmp 8/0`.
    pub fn ports_label(&self) -> String {
        match (self.protocol, self.from_port, self.to_port) {
            (Protocol::Icmp | Protocol::Icmpv6, Some(t), Some(c)) => {
                format!("{} {t}/{c}", self.protocol)
            }
            (p, Some(a), Some(b)) if a == b => format!("{p} {a}"),
            (p, Some(a), Some(b)) => format!("{p} {a}-{b}"),
            (p, _, _) => p.to_string(),
        }
    }

    /// `egress tcp 80 to sg-0abc`, `ingress tcp 22 from 0.0.0.0/0`.
    pub fn label(&self) -> String {
        let preposition = match self.direction {
            Direction::Ingress => "from",
            Direction::Egress => "to",
        };
        format!(
            "{} {} {preposition} {}",
            self.direction,
            self.ports_label(),
            self.peer
        )
    }

    /// Whether this rule lets the whole internet in on `ports`-bearing traffic.
    pub fn is_world_ingress(&self) -> bool {
        self.direction == Direction::Ingress && self.peer.is_world()
    }

    /// Ingress from `0.0.0.0/0` or `::/0` on anything but a web port (tcp 80 or 443
    /// alone): what makes a finding about the rule critical.
    pub fn exposes_to_world(&self) -> bool {
        let web_port = self.protocol == Protocol::Tcp
            && self.from_port == self.to_port
            && matches!(self.from_port, Some(80 | 443));
        self.is_world_ingress() && !web_port
    }
}

fn check_port(port: Option<i64>) -> Result<Option<i32>, ModelError> {
    match port {
        None => Ok(None),
        Some(p) if (-1..=65535).contains(&p) => Ok(Some(p as i32)),
        Some(p) => Err(ModelError::Port(p)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_protocol_spelling() {
        let cases = [
            ("-1", Protocol::All),
            ("all", Protocol::All),
            ("ALL", Protocol::All),
            ("6", Protocol::Tcp),
            ("tcp", Protocol::Tcp),
            ("TCP", Protocol::Tcp),
            ("17", Protocol::Udp),
            ("udp", Protocol::Udp),
            ("1", Protocol::Icmp),
            ("icmp", Protocol::Icmp),
            ("58", Protocol::Icmpv6),
            ("icmpv6", Protocol::Icmpv6),
            ("50", Protocol::Number(50)),
            (" 47 ", Protocol::Number(47)),
            // Names in any case and padding; numbers by value, however written.
            (" TCP ", Protocol::Tcp),
            ("ICMPv6", Protocol::Icmpv6),
            ("Udp", Protocol::Udp),
            ("+6", Protocol::Tcp),
            ("06", Protocol::Tcp),
            ("017", Protocol::Udp),
            ("0", Protocol::Number(0)),
            ("255", Protocol::Number(255)),
        ];
        for (raw, want) in cases {
            assert_eq!(Protocol::parse(raw), Ok(want), "{raw}");
        }
        for bad in ["", "gre", "256", "-2", "tcp6", "-1 -1", "all!"] {
            assert!(Protocol::parse(bad).is_err(), "{bad} should be refused");
        }
        assert_eq!(Protocol::Number(50).as_string(), "50");
        assert_eq!(Protocol::All.as_string(), "all");
    }

    #[test]
    fn port_forms() {
        let peer = || Peer::ipv4("0.0.0.0/0").unwrap();
        // (protocol, from, to) as sources spell them → canonical (from, to)
        type Case = (
            &'static str,
            Option<i64>,
            Option<i64>,
            Option<i32>,
            Option<i32>,
        );
        let cases: [Case; 8] = [
            ("-1", Some(-1), Some(-1), None, None),   // AWS
            ("-1", Some(0), Some(0), None, None),     // Terraform
            ("-1", None, None, None, None),           // newer provider
            ("-1", Some(0), Some(65535), None, None), // old EKS module
            ("50", Some(0), Some(0), None, None),     // ESP: ports ignored
            ("tcp", Some(80), Some(80), Some(80), Some(80)),
            ("tcp", Some(0), Some(65535), Some(0), Some(65535)),
            ("icmp", Some(-1), Some(-1), Some(-1), Some(-1)),
        ];
        for (proto, from, to, want_from, want_to) in cases {
            let p = Protocol::parse(proto).unwrap();
            let rule = Rule::new("sg-1", Direction::Ingress, p, from, to, peer(), None).unwrap();
            assert_eq!(
                (rule.from_port, rule.to_port),
                (want_from, want_to),
                "{proto} {from:?}-{to:?}"
            );
        }
        let too_big = Rule::new(
            "sg-1",
            Direction::Ingress,
            Protocol::Tcp,
            Some(1),
            Some(70000),
            peer(),
            None,
        );
        assert_eq!(too_big, Err(ModelError::Port(70000)));
    }

    #[test]
    fn cidr_forms_compare_canonically() {
        let cases = [
            ("10.0.0.0/8", "10.0.0.0/8"),
            ("10.1.2.3/8", "10.0.0.0/8"),
            ("192.168.0.1/31", "192.168.0.0/31"),
            (" 0.0.0.0/0", "0.0.0.0/0"),
        ];
        for (raw, want) in cases {
            assert_eq!(Peer::ipv4(raw).unwrap().value(), want, "{raw}");
        }
        let v6 = [
            ("2001:DB8::/32", "2001:db8::/32"),
            ("2001:db8:0:0::1/64", "2001:db8::/64"),
            ("::/0", "::/0"),
        ];
        for (raw, want) in v6 {
            assert_eq!(Peer::ipv6(raw).unwrap().value(), want, "{raw}");
        }
        for bad in ["10.0.0.0", "10.0.0.0/33", "sg-1", ""] {
            assert!(Peer::ipv4(bad).is_err(), "{bad}");
        }
        assert!(Peer::ipv6("10.0.0.0/8").is_err());
        assert!(Peer::ipv4("0.0.0.0/0").unwrap().is_world());
        assert!(Peer::ipv6("::/0").unwrap().is_world());
        assert!(!Peer::ipv4("10.0.0.0/8").unwrap().is_world());
    }

    #[test]
    fn group_peers_drop_the_account_prefix() {
        assert_eq!(
            Peer::group("123456789012/sg-0abc"),
            Peer::SecurityGroup("sg-0abc".into())
        );
        assert_eq!(Peer::group("sg-0abc").value(), "sg-0abc");
    }

    #[test]
    fn empty_descriptions_are_none() {
        let peer = Peer::ipv4("10.0.0.0/8").unwrap();
        for (raw, want) in [
            (None, None),
            (Some(""), None),
            (Some("  "), None),
            (Some("web"), Some("web".to_string())),
        ] {
            let rule = Rule::new(
                "sg-1",
                Direction::Egress,
                Protocol::All,
                None,
                None,
                peer.clone(),
                raw,
            )
            .unwrap();
            assert_eq!(rule.description, want, "{raw:?}");
        }
    }

    #[test]
    fn description_is_not_identity() {
        let peer = Peer::ipv4("10.0.0.0/8").unwrap();
        let a = Rule::new(
            "sg-1",
            Direction::Ingress,
            Protocol::Tcp,
            Some(80),
            Some(80),
            peer.clone(),
            Some("a"),
        )
        .unwrap();
        let b = Rule::new(
            "sg-1",
            Direction::Ingress,
            Protocol::Tcp,
            Some(80),
            Some(80),
            peer,
            Some("b"),
        )
        .unwrap();
        assert_eq!(a.key(), b.key());
        assert_eq!(
            a.key().to_string(),
            "sg-1/ingress/tcp/80-80/cidr_ipv4:10.0.0.0/8"
        );
    }

    #[test]
    fn labels() {
        let r = Rule::new(
            "sg-1",
            Direction::Egress,
            Protocol::Tcp,
            Some(80),
            Some(80),
            Peer::group("sg-2"),
            None,
        )
        .unwrap();
        assert_eq!(r.label(), "egress tcp 80 to sg-2");
        let r = Rule::new(
            "sg-1",
            Direction::Ingress,
            Protocol::All,
            None,
            None,
            Peer::ipv4("0.0.0.0/0").unwrap(),
            None,
        )
        .unwrap();
        assert_eq!(r.label(), "ingress all from 0.0.0.0/0");
    }
}
