//! Builders for the canonical model, shared by the pure-diff and acknowledgement
//! tests: short constructors for rules, owners, groups and a whole diff input.
#![allow(dead_code)]

use driftd::diff::{DiffInput, DiffOptions, DiffOutcome, diff};
use driftd::model::{
    CarrierRef, DeclaredAttachment, DeclaredGroup, DeclaredRule, Direction, Finding, FindingCode,
    Flow, GroupRead, Intent, LiveView, NetworkInterface, Owner, Peer, Protocol, Rule, Scope,
    SecurityGroup, Tags,
};
use driftd::sources::cloudformation::canonical::stack_drifts;
use driftd::sources::{SourceKind, SourceStatus};

pub const ACCOUNT: &str = "111111111111";
pub const OTHER_ACCOUNT: &str = "222222222222";
pub const REGION: &str = "us-east-1";
pub const OTHER_REGION: &str = "eu-west-1";

pub const STATE: &str = "prod.tfstate";
pub const OTHER_STATE: &str = "other.tfstate";

pub fn v4(cidr: &str) -> Peer {
    Peer::ipv4(cidr).expect("valid IPv4 CIDR")
}

pub fn v6(cidr: &str) -> Peer {
    Peer::ipv6(cidr).expect("valid IPv6 CIDR")
}

pub fn sg(id: &str) -> Peer {
    Peer::group(id)
}

/// A rule with ports (`None` for protocols without).
pub fn rule(
    group: &str,
    direction: Direction,
    protocol: Protocol,
    ports: Option<(i64, i64)>,
    peer: Peer,
) -> Rule {
    Rule::new(
        group,
        direction,
        protocol,
        ports.map(|p| p.0),
        ports.map(|p| p.1),
        peer,
        None,
    )
    .expect("valid rule")
}

pub fn tcp_in(group: &str, from: i64, to: i64, peer: Peer) -> Rule {
    rule(
        group,
        Direction::Ingress,
        Protocol::Tcp,
        Some((from, to)),
        peer,
    )
}

pub fn tcp_out(group: &str, from: i64, to: i64, peer: Peer) -> Rule {
    rule(
        group,
        Direction::Egress,
        Protocol::Tcp,
        Some((from, to)),
        peer,
    )
}

pub fn all_out(group: &str, peer: Peer) -> Rule {
    rule(group, Direction::Egress, Protocol::All, None, peer)
}

pub fn all_in(group: &str, peer: Peer) -> Rule {
    rule(group, Direction::Ingress, Protocol::All, None, peer)
}

pub fn with_description(rule: Rule, description: Option<&str>) -> Rule {
    Rule::new(
        rule.group_id.clone(),
        rule.direction,
        rule.protocol,
        rule.from_port.map(i64::from),
        rule.to_port.map(i64::from),
        rule.peer.clone(),
        description,
    )
    .expect("valid rule")
    .with_rule_id(rule.rule_id.as_deref())
    .with_tags(rule.tags.clone())
}

pub fn with_id(rule: Rule, id: &str) -> Rule {
    rule.with_rule_id(Some(id))
}

pub fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn tf(location: &str, address: &str) -> Owner {
    Owner::terraform(location, address.to_string())
}

/// A group as AWS reports it, in the default account and region.
pub fn live_group(id: &str, name: &str) -> SecurityGroup {
    SecurityGroup {
        name: Some(name.to_string()),
        description: Some(format!("{name} group")),
        vpc_id: Some("vpc-1".to_string()),
        tags: Some(tags(&[("Name", name)])),
        account_id: Some(ACCOUNT.to_string()),
        region: Some(REGION.to_string()),
        ..SecurityGroup::new(id)
    }
}

/// A group a Terraform state manages, with the same fields as `live_group`.
pub fn managed(id: &str, name: &str, owner: Owner) -> DeclaredGroup {
    DeclaredGroup {
        group: live_group(id, name),
        owner,
    }
}

/// A rule declared by a rule resource of its own.
pub fn declared(rule: Rule, owner: Owner) -> DeclaredRule {
    DeclaredRule {
        rule,
        owner,
        inline: false,
        account_id: Some(ACCOUNT.to_string()),
        region: Some(REGION.to_string()),
    }
}

/// A rule declared by a group's inline `ingress`/`egress` list.
pub fn inline(rule: Rule, owner: Owner) -> DeclaredRule {
    DeclaredRule {
        inline: true,
        ..declared(rule, owner)
    }
}

pub fn read(group_id: &str, name: &str, reader: Owner) -> GroupRead {
    GroupRead {
        group_id: group_id.to_string(),
        name: Some(name.to_string()),
        reader,
        account_id: Some(ACCOUNT.to_string()),
        region: Some(REGION.to_string()),
    }
}

pub fn scope(account: &str, region: &str) -> Scope {
    Scope {
        account_id: Some(account.to_string()),
        region: Some(region.to_string()),
    }
}

/// Everything one diff takes; the live view covers (ACCOUNT, REGION) by default.
#[derive(Debug, Clone)]
pub struct World {
    pub intent: Intent,
    pub live: LiveView,
    pub sources: Vec<SourceStatus>,
    pub options: DiffOptions,
}

impl Default for World {
    fn default() -> Self {
        World {
            intent: Intent::default(),
            live: LiveView {
                scopes: vec![scope(ACCOUNT, REGION)],
                ..LiveView::default()
            },
            sources: vec![
                SourceStatus::ok(SourceKind::Terraform, STATE),
                SourceStatus::ok(SourceKind::LiveFile, "live.json"),
            ],
            options: DiffOptions::default(),
        }
    }
}

impl World {
    pub fn new() -> World {
        World::default()
    }

    /// A group managed by `owner` and live with identical fields.
    pub fn managed_live(mut self, id: &str, name: &str, owner: Owner) -> World {
        self.intent.groups.push(managed(id, name, owner));
        self.live.groups.push(live_group(id, name));
        self
    }

    pub fn group(mut self, group: DeclaredGroup) -> World {
        self.intent.groups.push(group);
        self
    }

    pub fn live_group(mut self, group: SecurityGroup) -> World {
        self.live.groups.push(group);
        self
    }

    pub fn declare(mut self, rule: DeclaredRule) -> World {
        self.intent.rules.push(rule);
        self
    }

    pub fn reads(mut self, read: GroupRead) -> World {
        self.intent.reads.push(read);
        self
    }

    pub fn live_rule(mut self, rule: Rule) -> World {
        self.live.rules.push(rule);
        self
    }

    /// The same rule declared by `owner` and live.
    pub fn both(self, rule: Rule, owner: Owner) -> World {
        self.declare(declared(rule.clone(), owner)).live_rule(rule)
    }

    /// A network interface in the default account and region, described as AWS
    /// describes what it stands for, using `groups`; that place's interfaces read.
    pub fn interface(mut self, id: &str, description: &str, groups: &[&str]) -> World {
        self.live.interfaces.push(NetworkInterface {
            id: id.to_string(),
            interface_type: Some("interface".to_string()),
            description: Some(description.to_string()),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            private_ips: vec![format!("10.0.0.{}", self.live.interfaces.len() + 10)],
            vpc_id: Some("vpc-1".to_string()),
            account_id: Some(ACCOUNT.to_string()),
            region: Some(REGION.to_string()),
            ..NetworkInterface::default()
        });
        let here = scope(ACCOUNT, REGION);
        if !self.live.interface_scopes.contains(&here) {
            self.live.interface_scopes.push(here);
        }
        self
    }

    /// An instance's interface (`device` 0 is its primary) using `groups`.
    pub fn interface_of_instance(
        mut self,
        id: &str,
        instance: &str,
        device: i32,
        groups: &[&str],
    ) -> World {
        self = self.interface(id, "", groups);
        let added = self.live.interfaces.last_mut().expect("just added");
        added.instance_id = Some(instance.to_string());
        added.device_index = Some(device);
        self
    }

    /// A `[[flow]]` that must hold.
    pub fn flow(mut self, from: &str, to: &str, protocol: Protocol, port: Option<i32>) -> World {
        self.options.flows.push(Flow {
            name: format!("flow-{}", self.options.flows.len() + 1),
            from: from.to_string(),
            to: to.to_string(),
            protocol,
            port,
        });
        self
    }

    /// `groups` declared by `owner` for `carrier`, in the default account and region.
    pub fn attach(mut self, carrier: CarrierRef, groups: &[&str], owner: Owner) -> World {
        self.intent.attachments.push(DeclaredAttachment {
            carrier,
            groups: groups.iter().map(|g| g.to_string()).collect(),
            adds_only: false,
            owner,
            account_id: Some(ACCOUNT.to_string()),
            region: Some(REGION.to_string()),
        });
        self
    }

    pub fn source(mut self, status: SourceStatus) -> World {
        self.sources.push(status);
        self
    }

    pub fn diff(&self) -> DiffOutcome {
        // As a scan does: CloudFormation's results read as canonical rules first.
        let stack_drifts = stack_drifts(&self.intent.drifts, &self.live);
        diff(&DiffInput {
            intent: &self.intent,
            live: &self.live,
            stack_drifts: &stack_drifts,
            sources: &self.sources,
            options: &self.options,
        })
    }

    pub fn findings(&self) -> Vec<Finding> {
        self.diff().findings
    }
}

/// `(code, group_id)` of every finding, in report order.
pub fn summary(findings: &[Finding]) -> Vec<(FindingCode, Option<String>)> {
    findings
        .iter()
        .map(|f| (f.code, f.resource.group_id.clone()))
        .collect()
}

pub fn codes(findings: &[Finding]) -> Vec<FindingCode> {
    findings.iter().map(|f| f.code).collect()
}

pub fn of_code(findings: &[Finding], code: FindingCode) -> Vec<&Finding> {
    findings.iter().filter(|f| f.code == code).collect()
}

/// The one finding of `code`; panics with the whole list otherwise.
pub fn only(findings: &[Finding], code: FindingCode) -> Finding {
    let found = of_code(findings, code);
    assert_eq!(
        found.len(),
        1,
        "expected exactly one {code}, got {:#?}",
        summary(findings)
    );
    found[0].clone()
}

/// `changes` as `(field, expected, actual)` JSON triples.
pub fn changes(finding: &Finding) -> Vec<(String, serde_json::Value, serde_json::Value)> {
    finding
        .changes
        .iter()
        .map(|c| (c.field.clone(), c.expected.clone(), c.actual.clone()))
        .collect()
}
