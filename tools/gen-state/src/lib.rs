//! A synthetic Terraform state (format 4) shaped the way Terraform and the AWS
//! provider write it, and optionally the matching live capture (`aws ec2
//! describe-security-group-rules`), so that the pair has no drift. A tool for the
//! benchmarks, not part of driftd: the `gen-state` binary writes the pair to files
//! (`scripts/bench.sh`), and the benchmark (`tools/bench/benches/parse_and_diff.rs`)
//! calls [`generate`] into memory.
//!
//! ```text
//! cargo build --release --locked -p driftd-gen-state
//! target/release/gen-state --size-mb 100 --out /tmp/big.tfstate --live-out /tmp/live.json
//! ```
//!
//! The state mixes `aws_security_group` (inline `ingress`/`egress`),
//! `aws_security_group_rule` (`count` keys), `aws_vpc_security_group_ingress_rule` /
//! `_egress_rule` (`for_each` keys), `data "aws_security_group"`, and resources driftd
//! skips (`aws_instance`, `aws_iam_policy`, `aws_route53_record`), in root and nested
//! modules. A group whose rules are separate resources also lists them inline, as the
//! provider's refresh does. At most 60 rules per group and direction (the AWS quota).
//! Deterministic: the same options give byte-identical files.

use std::collections::HashSet;
use std::io::{self, Write};

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";
/// AWS quota: rules per security group and direction.
pub const MAX_RULES_PER_DIRECTION: usize = 60;
const PROVIDER: &str = "provider[\"registry.terraform.io/hashicorp/aws\"]";
/// What the provider writes in `private` for a group (its timeouts and schema version).
const SG_PRIVATE: &str = "eyJlMmJmYjczMC1lY2FhLTExZTYtOGY4OC0zNDM2M2JjN2M0YzAiOnsiY3JlYXRlIjo2MDAwMDAwMDAwMDAsImRlbGV0ZSI6OTAwMDAwMDAwMDAwfSwic2NoZW1hX3ZlcnNpb24iOiIxIn0=";
const RULE_PRIVATE: &str = "eyJzY2hlbWFfdmVyc2lvbiI6IjIifQ==";
const INSTANCE_PRIVATE: &str = "eyJlMmJmYjczMC1lY2FhLTExZTYtOGY4OC0zNDM2M2JjN2M0YzAiOnsiY3JlYXRlIjo2MDAwMDAwMDAwMDAsImRlbGV0ZSI6MTIwMDAwMDAwMDAwMCwicmVhZCI6OTAwMDAwMDAwMDAwLCJ1cGRhdGUiOjYwMDAwMDAwMDAwMH0sInNjaGVtYV92ZXJzaW9uIjoiMSJ9";

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// Approximate size of the state, in bytes; generation stops at the first
    /// module that reaches it.
    pub target_bytes: u64,
    pub seed: u64,
}

/// What was generated.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub state_bytes: u64,
    pub live_bytes: u64,
    pub resources: u64,
    pub groups: u64,
    pub group_rule_resources: u64,
    pub vpc_rule_resources: u64,
    pub data_sources: u64,
    pub other_instances: u64,
    /// Rules as AWS lists them (one per peer): what driftd declares and what the
    /// live capture holds.
    pub api_rules: u64,
    /// Bytes of the state taken by security-group resources (groups, rule
    /// resources, data sources) and by everything else.
    pub sg_bytes: u64,
    pub other_bytes: u64,
}

// ---------------------------------------------------------------------------
// A deterministic PRNG (splitmix64): no dependency, same stream everywhere.

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `percent`/100.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// splitmix64's finaliser: a bijection on u64, so distinct counters give distinct ids.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `sg-0f3a…`: 17 hex digits as AWS writes them, distinct for distinct `n`.
pub fn aws_id(prefix: &str, n: u64) -> String {
    format!("{prefix}-{:017x}", mix(n ^ 0x5EED))
}

// ---------------------------------------------------------------------------
// A small JSON tree with ordered keys and a printer in the layout of Go's
// `json.MarshalIndent` (Terraform, two spaces, HTML-escaped) and Python's
// `json.dumps(indent=4)` (AWS CLI).

pub enum J {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

fn s(v: impl Into<String>) -> J {
    J::Str(v.into())
}

fn obj(fields: Vec<(&str, J)>) -> J {
    J::Obj(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

fn strs(items: &[String]) -> J {
    J::Arr(items.iter().map(|i| s(i.as_str())).collect())
}

fn opt(v: Option<&str>) -> J {
    v.map_or(J::Null, s)
}

fn tag_map(tags: &[(&str, String)]) -> J {
    J::Obj(tags.iter().map(|(k, v)| (k.to_string(), s(v))).collect())
}

pub struct Printer {
    indent: &'static [u8],
    /// Go escapes `<`, `>` and `&` as `\u003c`…; Python does not.
    html_escape: bool,
}

const TERRAFORM: Printer = Printer {
    indent: b"  ",
    html_escape: true,
};
const AWS_CLI: Printer = Printer {
    indent: b"    ",
    html_escape: false,
};

impl Printer {
    fn newline(&self, out: &mut Vec<u8>, depth: usize) {
        out.push(b'\n');
        for _ in 0..depth {
            out.extend_from_slice(self.indent);
        }
    }

    fn string(&self, out: &mut Vec<u8>, text: &str) {
        out.push(b'"');
        for c in text.chars() {
            match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\r' => out.extend_from_slice(b"\\r"),
                '\t' => out.extend_from_slice(b"\\t"),
                '<' | '>' | '&' if self.html_escape => {
                    write!(out, "\\u{:04x}", c as u32).expect("write to Vec");
                }
                c if (c as u32) < 0x20 => {
                    write!(out, "\\u{:04x}", c as u32).expect("write to Vec");
                }
                c => {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        out.push(b'"');
    }

    pub fn value(&self, out: &mut Vec<u8>, v: &J, depth: usize) {
        match v {
            J::Null => out.extend_from_slice(b"null"),
            J::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            J::Int(n) => write!(out, "{n}").expect("write to Vec"),
            J::Str(text) => self.string(out, text),
            J::Arr(items) if items.is_empty() => out.extend_from_slice(b"[]"),
            J::Obj(fields) if fields.is_empty() => out.extend_from_slice(b"{}"),
            J::Arr(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.newline(out, depth + 1);
                    self.value(out, item, depth + 1);
                }
                self.newline(out, depth);
                out.push(b']');
            }
            J::Obj(fields) => {
                out.push(b'{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.newline(out, depth + 1);
                    self.string(out, key);
                    out.extend_from_slice(b": ");
                    self.value(out, value, depth + 1);
                }
                self.newline(out, depth);
                out.push(b'}');
            }
        }
    }
}

/// Elements of a top-level list written one at a time:
/// `{ "<key>": [ e, e, … ] … }`.
struct ListWriter<W: Write> {
    out: W,
    printer: Printer,
    buf: Vec<u8>,
    count: u64,
    bytes: u64,
}

impl<W: Write> ListWriter<W> {
    fn new(out: W, printer: Printer, head: &str) -> io::Result<ListWriter<W>> {
        let mut writer = ListWriter {
            out,
            printer,
            buf: Vec::with_capacity(1 << 16),
            count: 0,
            bytes: 0,
        };
        writer.raw(head.as_bytes())?;
        Ok(writer)
    }

    fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    /// Writes one element (at depth 2); returns its size in bytes.
    fn push(&mut self, element: &J) -> io::Result<u64> {
        self.buf.clear();
        if self.count > 0 {
            self.buf.push(b',');
        }
        self.printer.newline(&mut self.buf, 2);
        self.printer.value(&mut self.buf, element, 2);
        self.count += 1;
        let buf = std::mem::take(&mut self.buf);
        self.raw(&buf)?;
        let n = buf.len() as u64;
        self.buf = buf;
        Ok(n)
    }

    /// Closes the list (`]`, or `[]` when empty), then writes `tail`.
    fn finish(mut self, tail: &str) -> io::Result<(W, u64)> {
        if self.count == 0 {
            self.raw(b"]")?;
        } else {
            let mut close = Vec::new();
            self.printer.newline(&mut close, 1);
            close.push(b']');
            self.raw(&close)?;
        }
        self.raw(tail.as_bytes())?;
        self.out.flush()?;
        Ok((self.out, self.bytes))
    }
}

// ---------------------------------------------------------------------------
// Rules, as one block of a group's inline list or one rule resource declares them.

#[derive(Clone)]
enum PeerSpec {
    V4(String),
    V6(String),
    PrefixList(String),
    Group(String),
    /// `self = true`: the rule's own group.
    OwnGroup,
}

#[derive(Clone)]
struct RuleSpec {
    egress: bool,
    /// `tcp`, `udp`, `icmp` or `-1`.
    protocol: &'static str,
    /// The ports as AWS lists them (`-1` for all-protocol rules).
    from: i64,
    to: i64,
    /// Several peers only for blocks and `aws_security_group_rule`.
    peers: Vec<PeerSpec>,
    description: String,
    /// `sgr-…` of each peer's API rule.
    rule_ids: Vec<String>,
}

impl RuleSpec {
    /// The ports as Terraform writes them: 0/0 for all-protocol rules.
    fn tf_ports(&self) -> (i64, i64) {
        if self.protocol == "-1" {
            (0, 0)
        } else {
            (self.from, self.to)
        }
    }

    fn cidrs(&self, v6: bool) -> Vec<String> {
        self.peers
            .iter()
            .filter_map(|p| match p {
                PeerSpec::V4(c) if !v6 => Some(c.clone()),
                PeerSpec::V6(c) if v6 => Some(c.clone()),
                _ => None,
            })
            .collect()
    }

    fn prefix_lists(&self) -> Vec<String> {
        self.peers
            .iter()
            .filter_map(|p| match p {
                PeerSpec::PrefixList(id) => Some(id.clone()),
                _ => None,
            })
            .collect()
    }

    fn groups(&self) -> Vec<String> {
        self.peers
            .iter()
            .filter_map(|p| match p {
                PeerSpec::Group(id) => Some(id.clone()),
                _ => None,
            })
            .collect()
    }

    fn self_peer(&self) -> bool {
        self.peers.iter().any(|p| matches!(p, PeerSpec::OwnGroup))
    }

    /// One block of `ingress`/`egress` on `aws_security_group`.
    fn inline_block(&self) -> J {
        let (from, to) = self.tf_ports();
        obj(vec![
            ("cidr_blocks", strs(&self.cidrs(false))),
            ("description", s(self.description.as_str())),
            ("from_port", J::Int(from)),
            ("ipv6_cidr_blocks", strs(&self.cidrs(true))),
            ("prefix_list_ids", strs(&self.prefix_lists())),
            ("protocol", s(self.protocol)),
            ("security_groups", strs(&self.groups())),
            ("self", J::Bool(self.self_peer())),
            ("to_port", J::Int(to)),
        ])
    }
}

/// How a group's rules are declared.
#[derive(Clone, Copy, PartialEq)]
enum Style {
    /// `ingress`/`egress` blocks on the group itself.
    Inline,
    /// `aws_security_group_rule` resources (`count`).
    GroupRule,
    /// `aws_vpc_security_group_ingress_rule` / `_egress_rule` (`for_each`).
    VpcRule,
}

const SERVICE_PORTS: [i64; 14] = [
    443, 80, 8080, 8443, 5432, 3306, 6379, 9092, 2181, 9200, 27017, 11211, 9090, 3000,
];
const TEAMS: [&str; 6] = ["payments", "search", "platform", "identity", "data", "edge"];
const ENVS: [&str; 3] = ["prod", "staging", "dev"];
const TIERS: [&str; 8] = [
    "lb", "app", "db", "cache", "worker", "api", "queue", "bastion",
];
const INSTANCE_TYPES: [&str; 5] = [
    "t3.medium",
    "m6i.large",
    "m6i.xlarge",
    "c6i.2xlarge",
    "r6g.large",
];
const PREFIX_LISTS: [&str; 4] = [
    "pl-63a5400a",
    "pl-02cd2c6b",
    "pl-0a1b2c3d4e5f60a1b",
    "pl-0f1e2d3c4b5a69788",
];
const DESCRIPTIONS: [&str; 8] = [
    "",
    "HTTPS from the load balancer",
    "from the office VPN",
    "health checks",
    "Managed by Terraform",
    "monitoring & scraping <prometheus>",
    "peering to shared services",
    "replication",
];

struct Group {
    id: String,
    name: String,
    key: String,
    style: Style,
    rules: Vec<RuleSpec>,
}

/// Where a module's resources go: its path, `"<path>."`, and a name suffix.
struct Place<'a> {
    module: Option<&'a str>,
    prefix: &'a str,
    suffix: &'a str,
}

/// The state generator; also writes the live capture when given one.
struct Gen<S: Write, L: Write> {
    rng: Rng,
    serial: u64,
    state: ListWriter<S>,
    live: Option<ListWriter<L>>,
    /// Managed groups of earlier modules, to reference and to read.
    known_groups: Vec<String>,
    stats: Stats,
    module_no: u64,
}

impl<S: Write, L: Write> Gen<S, L> {
    fn next_id(&mut self, prefix: &str) -> String {
        self.serial += 1;
        aws_id(prefix, self.serial)
    }

    fn resource(
        &mut self,
        module: Option<&str>,
        mode: &str,
        kind: &str,
        name: &str,
        instances: Vec<J>,
    ) -> io::Result<u64> {
        let mut fields = Vec::with_capacity(6);
        if let Some(m) = module {
            fields.push(("module", s(m)));
        }
        fields.push(("mode", s(mode)));
        fields.push(("type", s(kind)));
        fields.push(("name", s(name)));
        fields.push(("provider", s(PROVIDER)));
        fields.push(("instances", J::Arr(instances)));
        self.stats.resources += 1;
        self.state.push(&obj(fields))
    }

    /// The rules of one group and direction: distinct identities, within quota.
    fn rules(
        &mut self,
        group_id: &str,
        egress: bool,
        count: usize,
        seen: &mut HashSet<String>,
    ) -> Vec<RuleSpec> {
        let mut rules = Vec::new();
        let mut peers_used = 0;
        if egress {
            // The default allow-all egress most groups keep.
            rules.push(RuleSpec {
                egress,
                protocol: "-1",
                from: -1,
                to: -1,
                peers: vec![PeerSpec::V4("0.0.0.0/0".into())],
                description: String::new(),
                rule_ids: vec![self.next_id("sgr")],
            });
            peers_used += 1;
        }
        let mut attempts = 0;
        while peers_used < count && attempts < count * 4 {
            attempts += 1;
            let roll = self.rng.below(100);
            let (protocol, from, to) = match self.rng.below(20) {
                0 => ("udp", 53, 53),
                1 => ("icmp", -1, -1),
                2 => ("tcp", 1024, 65535),
                3 => ("tcp", 22, 22),
                _ => ("tcp", *self.rng.pick(&SERVICE_PORTS), 0),
            };
            let to = if to == 0 { from } else { to };
            let max_peers = (count - peers_used).min(3) as u64;
            let peers: Vec<PeerSpec> = match roll {
                0..=59 => (0..self.rng.range(1, max_peers))
                    .map(|_| {
                        let third = self.rng.below(256);
                        let second = self.rng.below(64);
                        match self.rng.below(10) {
                            0 => PeerSpec::V4(format!(
                                "172.{}.{}.{}/32",
                                16 + second % 16,
                                third,
                                self.rng.range(1, 254)
                            )),
                            1 => PeerSpec::V4(format!("10.{second}.0.0/16")),
                            _ => PeerSpec::V4(format!("10.{second}.{third}.0/24")),
                        }
                    })
                    .collect(),
                60..=67 => vec![PeerSpec::V6(format!(
                    "2600:1f18:{:x}:{:x}00::/56",
                    self.rng.below(0x10000),
                    self.rng.below(0x100)
                ))],
                68..=72 => vec![PeerSpec::PrefixList(
                    self.rng.pick(&PREFIX_LISTS).to_string(),
                )],
                73..=76 if !egress => vec![PeerSpec::OwnGroup],
                77..=79 if !egress && from == 443 => vec![PeerSpec::V4("0.0.0.0/0".into())],
                _ if !self.known_groups.is_empty() => {
                    let id = self.rng.pick(&self.known_groups).clone();
                    vec![PeerSpec::Group(id)]
                }
                _ => vec![PeerSpec::V4(format!(
                    "10.{}.{}.0/24",
                    self.rng.below(256),
                    self.rng.below(256)
                ))],
            };
            let identity = |p: &PeerSpec| {
                let peer = match p {
                    PeerSpec::V4(c)
                    | PeerSpec::V6(c)
                    | PeerSpec::PrefixList(c)
                    | PeerSpec::Group(c) => c.as_str(),
                    PeerSpec::OwnGroup => group_id,
                };
                format!("{egress}/{protocol}/{from}/{to}/{peer}")
            };
            let keys: Vec<String> = peers.iter().map(identity).collect();
            let distinct: HashSet<&String> = keys.iter().collect();
            if distinct.len() != keys.len() || keys.iter().any(|k| seen.contains(k)) {
                continue;
            }
            seen.extend(keys);
            peers_used += peers.len();
            let description = self.rng.pick(&DESCRIPTIONS).to_string();
            let rule_ids = (0..peers.len()).map(|_| self.next_id("sgr")).collect();
            rules.push(RuleSpec {
                egress,
                protocol,
                from,
                to,
                peers,
                description,
                rule_ids,
            });
        }
        rules
    }

    /// The API rules of `rule` in the live capture; `tags` those of a VPC rule resource.
    fn live_rules(
        &mut self,
        group_id: &str,
        rule: &RuleSpec,
        tags: &[(&str, String)],
    ) -> io::Result<()> {
        self.stats.api_rules += rule.peers.len() as u64;
        let Some(live) = self.live.as_mut() else {
            return Ok(());
        };
        for (peer, rule_id) in rule.peers.iter().zip(&rule.rule_ids) {
            let (from, to) = if rule.protocol == "-1" {
                (-1, -1)
            } else {
                (rule.from, rule.to)
            };
            let mut fields = vec![
                ("SecurityGroupRuleId", s(rule_id.as_str())),
                ("GroupId", s(group_id)),
                ("GroupOwnerId", s(ACCOUNT)),
                ("IsEgress", J::Bool(rule.egress)),
                ("IpProtocol", s(rule.protocol)),
                ("FromPort", J::Int(from)),
                ("ToPort", J::Int(to)),
            ];
            match peer {
                PeerSpec::V4(c) => fields.push(("CidrIpv4", s(c.as_str()))),
                PeerSpec::V6(c) => fields.push(("CidrIpv6", s(c.as_str()))),
                PeerSpec::PrefixList(id) => fields.push(("PrefixListId", s(id.as_str()))),
                PeerSpec::Group(id) => fields.push((
                    "ReferencedGroupInfo",
                    obj(vec![("GroupId", s(id.as_str())), ("UserId", s(ACCOUNT))]),
                )),
                PeerSpec::OwnGroup => fields.push((
                    "ReferencedGroupInfo",
                    obj(vec![("GroupId", s(group_id)), ("UserId", s(ACCOUNT))]),
                )),
            }
            if !rule.description.is_empty() {
                fields.push(("Description", s(rule.description.as_str())));
            }
            fields.push((
                "Tags",
                J::Arr(
                    tags.iter()
                        .map(|(k, v)| obj(vec![("Key", s(*k)), ("Value", s(v.as_str()))]))
                        .collect(),
                ),
            ));
            fields.push((
                "SecurityGroupRuleArn",
                s(format!(
                    "arn:aws:ec2:{REGION}:{ACCOUNT}:security-group-rule/{rule_id}"
                )),
            ));
            live.push(&obj(fields))?;
        }
        Ok(())
    }

    /// One module: a `for_each` of groups, their rule resources, a data source, and
    /// resources driftd skips.
    fn module(&mut self) -> io::Result<()> {
        self.module_no += 1;
        let n = self.module_no;
        let team = *self.rng.pick(&TEAMS);
        let env = *self.rng.pick(&ENVS);
        let module = match self.rng.below(10) {
            0 => None,
            1..=5 => Some(format!("module.{team}_svc_{n}")),
            6..=8 => Some(format!("module.platform[\"{env}\"].module.svc_{n}")),
            _ => Some(format!("module.legacy.module.net[{n}]")),
        };
        let prefix = module
            .as_deref()
            .map(|m| format!("{m}."))
            .unwrap_or_default();
        // Root-module resources get distinct names; module ones are told apart by path.
        let suffix = if module.is_none() {
            format!("_{n}")
        } else {
            String::new()
        };
        let at = Place {
            module: module.as_deref(),
            prefix: &prefix,
            suffix: &suffix,
        };
        let vpc_id = aws_id("vpc", n % 97);
        let default_tags = vec![
            ("ManagedBy", "terraform".to_string()),
            ("env", env.to_string()),
        ];

        // Groups of this module (aws_security_group.this["<tier>"]).
        let tiers = self.rng.range(2, 4) as usize;
        let start = self.rng.below(TIERS.len() as u64) as usize;
        let mut groups = Vec::new();
        for t in 0..tiers {
            let tier = TIERS[(start + t) % TIERS.len()];
            let style = match self.rng.below(10) {
                0..=3 => Style::Inline,
                4..=6 => Style::GroupRule,
                _ => Style::VpcRule,
            };
            groups.push(Group {
                id: self.next_id("sg"),
                name: format!("{team}-{env}-{tier}-{n}"),
                key: tier.to_string(),
                style,
                rules: Vec::new(),
            });
        }
        // Groups reference their siblings (and earlier modules' groups).
        let earlier = self.known_groups.len();
        self.known_groups
            .extend(groups.iter().map(|g| g.id.clone()));
        for group in &mut groups {
            let mut seen = HashSet::new();
            let big = self.rng.percent(10);
            let ingress = if big {
                self.rng.range(40, MAX_RULES_PER_DIRECTION as u64)
            } else {
                self.rng.range(3, 30)
            } as usize;
            let egress = self.rng.range(1, 8) as usize;
            let mut rules = self.rules(&group.id, false, ingress, &mut seen);
            rules.extend(self.rules(&group.id, true, egress, &mut seen));
            group.rules = rules;
        }
        // Keep the reference pool bounded and local-ish, as real states are.
        if earlier > 400 {
            self.known_groups.drain(..earlier - 400);
        }

        // aws_security_group.this: every rule listed inline (refresh mirrors rule resources).
        let mut instances = Vec::new();
        for group in &groups {
            let block = |egress: bool| {
                J::Arr(
                    group
                        .rules
                        .iter()
                        .filter(|r| r.egress == egress)
                        .map(RuleSpec::inline_block)
                        .collect(),
                )
            };
            let mut tags = vec![("Name", group.name.clone()), ("team", team.to_string())];
            let tags_all: Vec<(&str, String)> = default_tags
                .iter()
                .cloned()
                .chain(tags.iter().cloned())
                .collect();
            tags.sort();
            let mut tags_all = tags_all;
            tags_all.sort();
            instances.push(obj(vec![
                ("index_key", s(group.key.as_str())),
                ("schema_version", J::Int(1)),
                (
                    "attributes",
                    obj(vec![
                        (
                            "arn",
                            s(format!(
                                "arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{}",
                                group.id
                            )),
                        ),
                        (
                            "description",
                            s(format!("{} tier of {team} ({env})", group.key)),
                        ),
                        ("egress", block(true)),
                        ("id", s(group.id.as_str())),
                        ("ingress", block(false)),
                        ("name", s(group.name.as_str())),
                        ("name_prefix", s("")),
                        ("owner_id", s(ACCOUNT)),
                        ("revoke_rules_on_delete", J::Bool(false)),
                        ("tags", tag_map(&tags)),
                        ("tags_all", tag_map(&tags_all)),
                        ("timeouts", J::Null),
                        ("vpc_id", s(vpc_id.as_str())),
                    ]),
                ),
                ("sensitive_attributes", J::Arr(vec![])),
                ("private", s(SG_PRIVATE)),
                (
                    "dependencies",
                    J::Arr(vec![s(format!("{prefix}aws_vpc.main{suffix}"))]),
                ),
                ("create_before_destroy", J::Bool(true)),
            ]));
            self.stats.groups += 1;
        }
        let bytes = self.resource(
            module.as_deref(),
            "managed",
            "aws_security_group",
            &format!("this{suffix}"),
            instances,
        )?;
        self.stats.sg_bytes += bytes;

        for group in &groups {
            let no_tags: &[(&str, String)] = &[];
            let tags = if group.style == Style::VpcRule {
                default_tags.as_slice()
            } else {
                no_tags
            };
            for rule in &group.rules {
                self.live_rules(&group.id, rule, tags)?;
            }
            match group.style {
                Style::Inline => {}
                Style::GroupRule => self.group_rule_resources(&at, group)?,
                Style::VpcRule => self.vpc_rule_resources(&at, group, &default_tags)?,
            }
        }

        // A data source reading a group of another module.
        if self.rng.percent(30) && earlier > 0 {
            let id = self.known_groups
                [self.rng.below(self.known_groups.len().min(earlier) as u64) as usize]
                .clone();
            let instance = obj(vec![
                ("schema_version", J::Int(0)),
                (
                    "attributes",
                    obj(vec![
                        (
                            "arn",
                            s(format!(
                                "arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{id}"
                            )),
                        ),
                        ("description", s("Shared services")),
                        ("filter", J::Null),
                        ("id", s(id.as_str())),
                        ("name", s(format!("shared-{n}"))),
                        ("tags", tag_map(&[("team", "platform".to_string())])),
                        ("timeouts", J::Null),
                        ("vpc_id", s(vpc_id.as_str())),
                    ]),
                ),
                ("sensitive_attributes", J::Arr(vec![])),
            ]);
            self.stats.data_sources += 1;
            let bytes = self.resource(
                module.as_deref(),
                "data",
                "aws_security_group",
                &format!("shared{suffix}"),
                vec![instance],
            )?;
            self.stats.sg_bytes += bytes;
        }

        self.other_resources(&at, &groups, team, env)
    }

    fn group_rule_resources(&mut self, at: &Place, group: &Group) -> io::Result<()> {
        let (prefix, suffix) = (at.prefix, at.suffix);
        for (egress, name) in [(false, "ingress"), (true, "egress")] {
            let mut instances = Vec::new();
            for (i, rule) in group
                .rules
                .iter()
                .filter(|r| r.egress == egress)
                .enumerate()
            {
                self.serial += 1;
                let (from, to) = rule.tf_ports();
                let own = rule.self_peer();
                let source = rule
                    .groups()
                    .first()
                    .cloned()
                    .or_else(|| own.then(|| group.id.clone()));
                let single = rule.peers.len() == 1;
                let cidrs = rule.cidrs(false);
                let cidrs_v6 = rule.cidrs(true);
                instances.push(obj(vec![
                    ("index_key", J::Int(i as i64)),
                    ("schema_version", J::Int(2)),
                    (
                        "attributes",
                        obj(vec![
                            (
                                "cidr_blocks",
                                if cidrs.is_empty() {
                                    J::Null
                                } else {
                                    strs(&cidrs)
                                },
                            ),
                            ("description", s(rule.description.as_str())),
                            ("from_port", J::Int(from)),
                            (
                                "id",
                                s(format!("sgrule-{}", mix(self.serial) % 10_000_000_000)),
                            ),
                            (
                                "ipv6_cidr_blocks",
                                if cidrs_v6.is_empty() {
                                    J::Null
                                } else {
                                    strs(&cidrs_v6)
                                },
                            ),
                            ("prefix_list_ids", strs(&rule.prefix_lists())),
                            ("protocol", s(rule.protocol)),
                            ("security_group_id", s(group.id.as_str())),
                            (
                                "security_group_rule_id",
                                s(if single {
                                    rule.rule_ids[0].as_str()
                                } else {
                                    ""
                                }),
                            ),
                            ("self", J::Bool(own)),
                            ("source_security_group_id", opt(source.as_deref())),
                            ("timeouts", J::Null),
                            ("to_port", J::Int(to)),
                            ("type", s(name)),
                        ]),
                    ),
                    ("sensitive_attributes", J::Arr(vec![])),
                    ("private", s(RULE_PRIVATE)),
                    (
                        "dependencies",
                        J::Arr(vec![s(format!("{prefix}aws_security_group.this{suffix}"))]),
                    ),
                ]));
            }
            if instances.is_empty() {
                continue;
            }
            self.stats.group_rule_resources += instances.len() as u64;
            let bytes = self.resource(
                at.module,
                "managed",
                "aws_security_group_rule",
                &format!("{}_{name}{suffix}", group.key),
                instances,
            )?;
            self.stats.sg_bytes += bytes;
        }
        Ok(())
    }

    fn vpc_rule_resources(
        &mut self,
        at: &Place,
        group: &Group,
        default_tags: &[(&str, String)],
    ) -> io::Result<()> {
        let (prefix, suffix) = (at.prefix, at.suffix);
        for (egress, kind) in [
            (false, "aws_vpc_security_group_ingress_rule"),
            (true, "aws_vpc_security_group_egress_rule"),
        ] {
            let mut instances = Vec::new();
            for rule in group.rules.iter().filter(|r| r.egress == egress) {
                // A VPC rule resource names exactly one peer.
                for (peer, rule_id) in rule.peers.iter().zip(&rule.rule_ids) {
                    let (peer_key, v4, v6, pl, referenced) = match peer {
                        PeerSpec::V4(c) => (c.clone(), Some(c.as_str()), None, None, None),
                        PeerSpec::V6(c) => (c.clone(), None, Some(c.as_str()), None, None),
                        PeerSpec::PrefixList(id) => {
                            (id.clone(), None, None, Some(id.as_str()), None)
                        }
                        PeerSpec::Group(id) => (id.clone(), None, None, None, Some(id.as_str())),
                        PeerSpec::OwnGroup => (
                            "self".to_string(),
                            None,
                            None,
                            None,
                            Some(group.id.as_str()),
                        ),
                    };
                    let ports = |p: i64| {
                        if rule.protocol == "-1" {
                            J::Null
                        } else {
                            J::Int(p)
                        }
                    };
                    instances.push(obj(vec![
                        ("index_key", s(format!("{}-{}-{}", rule.protocol, rule.from, peer_key))),
                        ("schema_version", J::Int(1)),
                        (
                            "attributes",
                            obj(vec![
                                ("arn", s(format!("arn:aws:ec2:{REGION}:{ACCOUNT}:security-group-rule/{rule_id}"))),
                                ("cidr_ipv4", opt(v4)),
                                ("cidr_ipv6", opt(v6)),
                                ("description", if rule.description.is_empty() { J::Null } else { s(rule.description.as_str()) }),
                                ("from_port", ports(rule.from)),
                                ("id", s(rule_id.as_str())),
                                ("ip_protocol", s(rule.protocol)),
                                ("prefix_list_id", opt(pl)),
                                ("referenced_security_group_id", opt(referenced)),
                                ("security_group_id", s(group.id.as_str())),
                                ("security_group_rule_id", s(rule_id.as_str())),
                                ("tags", J::Null),
                                ("tags_all", tag_map(default_tags)),
                                ("to_port", ports(rule.to)),
                            ]),
                        ),
                        ("sensitive_attributes", J::Arr(vec![])),
                        ("dependencies", J::Arr(vec![s(format!("{prefix}aws_security_group.this{suffix}"))])),
                    ]));
                }
            }
            if instances.is_empty() {
                continue;
            }
            self.stats.vpc_rule_resources += instances.len() as u64;
            let bytes = self.resource(
                at.module,
                "managed",
                kind,
                &format!("{}{suffix}", group.key),
                instances,
            )?;
            self.stats.sg_bytes += bytes;
        }
        Ok(())
    }

    /// `aws_instance`, `aws_iam_policy`, `aws_route53_record`: what driftd skips.
    fn other_resources(
        &mut self,
        at: &Place,
        groups: &[Group],
        team: &str,
        env: &str,
    ) -> io::Result<()> {
        let (module, prefix, suffix) = (at.module, at.prefix, at.suffix);
        let group_ids: Vec<String> = groups.iter().map(|g| g.id.clone()).collect();
        let count = self.rng.range(1, 3);
        let mut instances = Vec::new();
        let mut private_ips = Vec::new();
        for i in 0..count {
            let id = self.next_id("i");
            let subnet = aws_id("subnet", self.module_no % 31 + i);
            let volume = self.next_id("vol");
            let eni = self.next_id("eni");
            let ip = format!(
                "10.{}.{}.{}",
                self.rng.below(64),
                self.rng.below(256),
                self.rng.range(4, 250)
            );
            private_ips.push(ip.clone());
            let dns = format!("ip-{}.ec2.internal", ip.replace('.', "-"));
            let tags = vec![
                ("Name", format!("{team}-{env}-{}", self.module_no)),
                ("team", team.to_string()),
            ];
            let mut tags_all = tags.clone();
            tags_all.push(("ManagedBy", "terraform".to_string()));
            tags_all.push(("env", env.to_string()));
            tags_all.sort();
            instances.push(obj(vec![
                ("index_key", J::Int(i as i64)),
                ("schema_version", J::Int(1)),
                (
                    "attributes",
                    obj(vec![
                        ("ami", s(aws_id("ami", self.module_no % 5))),
                        (
                            "arn",
                            s(format!("arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{id}")),
                        ),
                        ("associate_public_ip_address", J::Bool(false)),
                        (
                            "availability_zone",
                            s(format!("{REGION}{}", ["a", "b", "c"][i as usize % 3])),
                        ),
                        (
                            "capacity_reservation_specification",
                            J::Arr(vec![obj(vec![
                                ("capacity_reservation_preference", s("open")),
                                ("capacity_reservation_target", J::Arr(vec![])),
                            ])]),
                        ),
                        ("cpu_core_count", J::Int(2)),
                        (
                            "cpu_options",
                            J::Arr(vec![obj(vec![
                                ("amd_sev_snp", s("")),
                                ("core_count", J::Int(2)),
                                ("threads_per_core", J::Int(2)),
                            ])]),
                        ),
                        ("cpu_threads_per_core", J::Int(2)),
                        ("credit_specification", J::Arr(vec![])),
                        ("disable_api_stop", J::Bool(false)),
                        ("disable_api_termination", J::Bool(false)),
                        ("ebs_block_device", J::Arr(vec![])),
                        ("ebs_optimized", J::Bool(true)),
                        (
                            "enclave_options",
                            J::Arr(vec![obj(vec![("enabled", J::Bool(false))])]),
                        ),
                        ("ephemeral_block_device", J::Arr(vec![])),
                        ("get_password_data", J::Bool(false)),
                        ("hibernation", J::Bool(false)),
                        ("host_id", s("")),
                        ("host_resource_group_arn", J::Null),
                        ("iam_instance_profile", s(format!("{team}-{env}-app"))),
                        ("id", s(id.as_str())),
                        ("instance_initiated_shutdown_behavior", s("stop")),
                        ("instance_lifecycle", s("")),
                        ("instance_market_options", J::Arr(vec![])),
                        ("instance_state", s("running")),
                        ("instance_type", s(*self.rng.pick(&INSTANCE_TYPES))),
                        ("ipv6_address_count", J::Int(0)),
                        ("ipv6_addresses", J::Arr(vec![])),
                        ("key_name", s(format!("{team}-deploy"))),
                        ("launch_template", J::Arr(vec![])),
                        (
                            "maintenance_options",
                            J::Arr(vec![obj(vec![("auto_recovery", s("default"))])]),
                        ),
                        (
                            "metadata_options",
                            J::Arr(vec![obj(vec![
                                ("http_endpoint", s("enabled")),
                                ("http_protocol_ipv6", s("disabled")),
                                ("http_put_response_hop_limit", J::Int(2)),
                                ("http_tokens", s("required")),
                                ("instance_metadata_tags", s("disabled")),
                            ])]),
                        ),
                        ("monitoring", J::Bool(true)),
                        ("network_interface", J::Arr(vec![])),
                        ("outpost_arn", s("")),
                        ("password_data", s("")),
                        ("placement_group", s("")),
                        ("placement_partition_number", J::Int(0)),
                        ("primary_network_interface_id", s(eni.as_str())),
                        ("private_dns", s(dns.as_str())),
                        (
                            "private_dns_name_options",
                            J::Arr(vec![obj(vec![
                                ("enable_resource_name_dns_a_record", J::Bool(false)),
                                ("enable_resource_name_dns_aaaa_record", J::Bool(false)),
                                ("hostname_type", s("ip-name")),
                            ])]),
                        ),
                        ("private_ip", s(ip.as_str())),
                        ("public_dns", s("")),
                        ("public_ip", s("")),
                        (
                            "root_block_device",
                            J::Arr(vec![obj(vec![
                                ("delete_on_termination", J::Bool(true)),
                                ("device_name", s("/dev/xvda")),
                                ("encrypted", J::Bool(true)),
                                ("iops", J::Int(3000)),
                                (
                                    "kms_key_id",
                                    s(format!(
                                        "arn:aws:kms:{REGION}:{ACCOUNT}:key/{}",
                                        uuid(self.rng.next_u64(), self.rng.next_u64())
                                    )),
                                ),
                                ("tags", J::Obj(vec![])),
                                ("tags_all", J::Obj(vec![])),
                                ("throughput", J::Int(125)),
                                ("volume_id", s(volume.as_str())),
                                ("volume_size", J::Int(50)),
                                ("volume_type", s("gp3")),
                            ])]),
                        ),
                        ("secondary_private_ips", J::Arr(vec![])),
                        ("security_groups", J::Arr(vec![])),
                        ("source_dest_check", J::Bool(true)),
                        ("spot_instance_request_id", s("")),
                        ("subnet_id", s(subnet.as_str())),
                        ("tags", tag_map(&tags)),
                        ("tags_all", tag_map(&tags_all)),
                        ("tenancy", s("default")),
                        ("timeouts", J::Null),
                        (
                            "user_data",
                            s(format!(
                                "{:016x}{:016x}{:08x}",
                                self.rng.next_u64(),
                                self.rng.next_u64(),
                                self.rng.next_u64() as u32
                            )),
                        ),
                        ("user_data_base64", J::Null),
                        ("user_data_replace_on_change", J::Bool(false)),
                        ("volume_tags", J::Null),
                        ("vpc_security_group_ids", strs(&group_ids)),
                    ]),
                ),
                ("sensitive_attributes", J::Arr(vec![])),
                ("private", s(INSTANCE_PRIVATE)),
                (
                    "dependencies",
                    J::Arr(vec![
                        s(format!("{prefix}aws_iam_instance_profile.app{suffix}")),
                        s(format!("{prefix}aws_security_group.this{suffix}")),
                        s(format!("{prefix}aws_subnet.private{suffix}")),
                        s(format!("{prefix}aws_vpc.main{suffix}")),
                    ]),
                ),
            ]));
        }
        self.stats.other_instances += count;
        let mut bytes = self.resource(
            module,
            "managed",
            "aws_instance",
            &format!("app{suffix}"),
            instances,
        )?;

        // An IAM policy: a JSON document inside a string, as the provider stores it.
        let statements: Vec<String> = (0..self.rng.range(3, 12))
            .map(|i| {
                format!(
                    "{{\"Action\":[\"s3:GetObject\",\"s3:PutObject\",\"s3:ListBucket\"],\"Effect\":\"Allow\",\"Resource\":[\"arn:aws:s3:::{team}-{env}-{i}\",\"arn:aws:s3:::{team}-{env}-{i}/*\"],\"Sid\":\"Bucket{i}\"}}"
                )
            })
            .collect();
        let policy = format!(
            "{{\"Statement\":[{}],\"Version\":\"2012-10-17\"}}",
            statements.join(",")
        );
        let policy_id = format!("ANPA{:016X}", self.rng.next_u64());
        let name = format!("{team}-{env}-app-{}", self.module_no);
        let policy_instance = obj(vec![
            ("schema_version", J::Int(0)),
            (
                "attributes",
                obj(vec![
                    ("arn", s(format!("arn:aws:iam::{ACCOUNT}:policy/{name}"))),
                    ("attachment_count", J::Int(1)),
                    ("description", s("")),
                    ("id", s(format!("arn:aws:iam::{ACCOUNT}:policy/{name}"))),
                    ("name", s(name.as_str())),
                    ("name_prefix", s("")),
                    ("path", s("/")),
                    ("policy", s(policy)),
                    ("policy_id", s(policy_id)),
                    ("tags", J::Null),
                    (
                        "tags_all",
                        tag_map(&[
                            ("ManagedBy", "terraform".to_string()),
                            ("env", env.to_string()),
                        ]),
                    ),
                ]),
            ),
            ("sensitive_attributes", J::Arr(vec![])),
            ("private", s("bnVsbA==")),
        ]);
        self.stats.other_instances += 1;
        bytes += self.resource(
            module,
            "managed",
            "aws_iam_policy",
            &format!("app{suffix}"),
            vec![policy_instance],
        )?;

        let zone = format!("Z{:013X}", self.rng.next_u64() >> 12);
        let fqdn = format!("app-{}.{env}.{team}.internal", self.module_no);
        let record = obj(vec![
            ("schema_version", J::Int(2)),
            (
                "attributes",
                obj(vec![
                    ("alias", J::Arr(vec![])),
                    ("allow_overwrite", J::Null),
                    ("cidr_routing_policy", J::Arr(vec![])),
                    ("failover_routing_policy", J::Arr(vec![])),
                    ("fqdn", s(fqdn.as_str())),
                    ("geolocation_routing_policy", J::Arr(vec![])),
                    ("geoproximity_routing_policy", J::Arr(vec![])),
                    ("health_check_id", s("")),
                    ("id", s(format!("{zone}_{fqdn}_A"))),
                    ("latency_routing_policy", J::Arr(vec![])),
                    ("multivalue_answer_routing_policy", J::Bool(false)),
                    ("name", s(fqdn.as_str())),
                    ("records", strs(&private_ips)),
                    ("set_identifier", s("")),
                    ("timeouts", J::Null),
                    ("ttl", J::Int(300)),
                    ("type", s("A")),
                    ("weighted_routing_policy", J::Arr(vec![])),
                    ("zone_id", s(zone.as_str())),
                ]),
            ),
            ("sensitive_attributes", J::Arr(vec![])),
            ("private", s("eyJzY2hlbWFfdmVyc2lvbiI6IjIifQ==")),
            (
                "dependencies",
                J::Arr(vec![s(format!("{prefix}aws_instance.app{suffix}"))]),
            ),
        ]);
        self.stats.other_instances += 1;
        bytes += self.resource(
            module,
            "managed",
            "aws_route53_record",
            &format!("app{suffix}"),
            vec![record],
        )?;
        self.stats.other_bytes += bytes;
        Ok(())
    }
}

fn uuid(a: u64, b: u64) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

/// Writes a state of about `options.target_bytes` to `state`, and the matching
/// `describe-security-group-rules` capture to `live` when given.
pub fn generate<S: Write, L: Write>(
    options: &Options,
    state: S,
    live: Option<L>,
) -> io::Result<Stats> {
    let mut rng = Rng::new(options.seed);
    let lineage = uuid(rng.next_u64(), rng.next_u64());
    let head = format!(
        "{{\n  \"version\": 4,\n  \"terraform_version\": \"1.9.8\",\n  \"serial\": {},\n  \"lineage\": \"{lineage}\",\n  \"outputs\": {{}},\n  \"resources\": [",
        rng.range(100, 5000)
    );
    let mut generator = Gen {
        rng,
        serial: 0,
        state: ListWriter::new(state, TERRAFORM, &head)?,
        live: match live {
            Some(out) => Some(ListWriter::new(
                out,
                AWS_CLI,
                "{\n    \"SecurityGroupRules\": [",
            )?),
            None => None,
        },
        known_groups: Vec::new(),
        stats: Stats::default(),
        module_no: 0,
    };
    while generator.state.bytes < options.target_bytes {
        generator.module()?;
    }
    let mut stats = generator.stats;
    let (_, state_bytes) = generator
        .state
        .finish(",\n  \"check_results\": null\n}\n")?;
    stats.state_bytes = state_bytes;
    if let Some(live) = generator.live {
        let (_, live_bytes) = live.finish("\n}\n")?;
        stats.live_bytes = live_bytes;
    }
    Ok(stats)
}
