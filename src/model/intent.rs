//! What the sources of intent (Terraform states, CloudFormation stacks) say should
//! exist, each item with its owner.

use serde::Serialize;

use super::group::{Scope, SecurityGroup};
use super::interface::CarrierRef;
use super::owner::Owner;
use super::rule::Rule;
use super::stack::{ResourceDrift, StackResource};

/// A group some source manages (`aws_security_group`, `aws_default_security_group`,
/// `AWS::EC2::SecurityGroup`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeclaredGroup {
    pub group: SecurityGroup,
    pub owner: Owner,
}

/// A rule some source declares.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeclaredRule {
    pub rule: Rule,
    pub owner: Owner,
    /// Declared by a group's inline `ingress`/`egress` list rather than by a rule
    /// resource of its own; such a rule yields to a rule resource declaring it too.
    pub inline: bool,
    pub account_id: Option<String>,
    pub region: Option<String>,
}

/// A group a source only reads (`data "aws_security_group"`): depended upon, not owned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupRead {
    pub group_id: String,
    pub name: Option<String>,
    /// The data source's address and the state that holds it.
    pub reader: Owner,
    pub account_id: Option<String>,
    pub region: Option<String>,
}

/// The groups a source declares for something that carries them (`aws_lb`
/// `security_groups`, `aws_instance` `vpc_security_group_ids`, …).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeclaredAttachment {
    pub carrier: CarrierRef,
    /// Sorted, without repeats.
    pub groups: Vec<String>,
    /// The declaration adds these groups and says nothing of others
    /// (`aws_network_interface_sg_attachment`).
    pub adds_only: bool,
    pub owner: Owner,
    pub account_id: Option<String>,
    pub region: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Intent {
    pub groups: Vec<DeclaredGroup>,
    pub rules: Vec<DeclaredRule>,
    pub reads: Vec<GroupRead>,
    /// What carries which groups, as declared.
    pub attachments: Vec<DeclaredAttachment>,
    /// Every resource of the stacks read; their groups are also in `groups`.
    pub stack_resources: Vec<StackResource>,
    /// CloudFormation's own drift results, for stacks whose detection completed.
    pub drifts: Vec<ResourceDrift>,
}

/// What a Terraform address names among the declarations: something that carries
/// groups, or a group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DeclaredEndpoint<'a> {
    Carrier(&'a DeclaredAttachment),
    Group(&'a DeclaredGroup),
}

impl Intent {
    /// The declaration whose owner has this Terraform address (a `[[flow]]`
    /// endpoint), what carries groups first.
    pub fn endpoint(&self, address: &str) -> Option<DeclaredEndpoint<'_>> {
        let named = |owner: &Owner| owner.address.as_deref() == Some(address);
        self.attachments
            .iter()
            .find(|a| !a.adds_only && named(&a.owner))
            .map(DeclaredEndpoint::Carrier)
            .or_else(|| {
                self.groups
                    .iter()
                    .find(|g| named(&g.owner))
                    .map(DeclaredEndpoint::Group)
            })
    }

    /// The groups whose live rules must be read with their ids and tags
    /// (`DescribeSecurityGroupRules`): those holding a declared rule that is matched
    /// by rule id or has tags (`aws_vpc_security_group_*_rule`,
    /// `aws_security_group_rule` with its id). `None` means every group: the
    /// standalone rules of CloudFormation stacks are matched by rule id wherever
    /// they attach. Every other group's rules come from `DescribeSecurityGroups`,
    /// which carries every rule but no rule id or tags.
    pub fn rule_detail_groups(&self) -> Option<std::collections::BTreeSet<String>> {
        if !self.stack_resources.is_empty() {
            return None;
        }
        Some(
            self.rules
                .iter()
                .filter(|r| r.rule.rule_id.is_some() || r.rule.tags.is_some())
                .map(|r| r.rule.group_id.to_string())
                .collect(),
        )
    }

    /// What lives in `scope` (or where nothing says it does not).
    pub fn within(&self, scope: &Scope) -> Intent {
        let mut copy = self.clone();
        copy.retain_within(scope);
        copy
    }

    /// Drops what does not live in `scope`.
    pub fn retain_within(&mut self, scope: &Scope) {
        let here = |account: &Option<String>, region: &Option<String>| {
            scope.covers(account.as_deref(), region.as_deref())
        };
        self.groups
            .retain(|g| here(&g.group.account_id, &g.group.region));
        self.rules.retain(|r| here(&r.account_id, &r.region));
        self.reads.retain(|r| here(&r.account_id, &r.region));
        self.attachments.retain(|a| here(&a.account_id, &a.region));
        self.stack_resources
            .retain(|r| here(&r.account_id, &r.region));
        self.drifts
            .retain(|d| here(&d.resource.account_id, &d.resource.region));
    }

    /// Where each declaration lives (account, region), as far as it says.
    pub fn places(&self) -> impl Iterator<Item = (Option<&str>, Option<&str>)> {
        let groups = self
            .groups
            .iter()
            .map(|g| place(&g.group.account_id, &g.group.region));
        let rules = self.rules.iter().map(|r| place(&r.account_id, &r.region));
        let reads = self.reads.iter().map(|r| place(&r.account_id, &r.region));
        let attachments = self
            .attachments
            .iter()
            .map(|a| place(&a.account_id, &a.region));
        let stacks = self
            .stack_resources
            .iter()
            .map(|r| place(&r.account_id, &r.region));
        groups
            .chain(rules)
            .chain(reads)
            .chain(attachments)
            .chain(stacks)
    }

    pub fn extend(&mut self, other: Intent) {
        self.groups.extend(other.groups);
        self.rules.extend(other.rules);
        self.reads.extend(other.reads);
        self.attachments.extend(other.attachments);
        self.stack_resources.extend(other.stack_resources);
        self.drifts.extend(other.drifts);
    }
}

fn place<'a>(
    account: &'a Option<String>,
    region: &'a Option<String>,
) -> (Option<&'a str>, Option<&'a str>) {
    (account.as_deref(), region.as_deref())
}
