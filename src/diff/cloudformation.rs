//! `cfn-drift`: CloudFormation's own drift results as field-level findings, from
//! their canonical form (`model::StackDrift`, built in `sources::cloudformation`).
//!
//! A difference in a group's `SecurityGroupIngress`/`SecurityGroupEgress`, or in a
//! standalone `AWS::EC2::SecurityGroupIngress`/`Egress`, is told on the rule it
//! concerns with the canonical field names (`to_port 80 → 8080`, the property path
//! kept beside it); any other property is told by its path. A difference that the
//! stack itself explains is not drift: a rule that a standalone resource of the same
//! stack adds to a group (CloudFormation's coverage issue 1198), the default
//! allow-all egress of a group declaring none, and spellings that are canonically
//! the same rule (`6` for `tcp`, a group by name for that group by id, issue 1524).
//! A deleted group is `sg-missing`.

use std::collections::HashSet;

use super::attachments;
use super::changes::rule_changes;
use super::context::{FindingSpec, Inventory, rule_spec};
use super::groups;
use super::matching::match_rules;
use super::rules;
use crate::diff_text::describe_changes;
use crate::model::{
    Change, DeclaredRule, Direction, DriftFound, ElementChange, Finding, FindingCode,
    FindingStatus, GroupDrift, Owner, Peer, Protocol, ResourceDriftStatus, ResourceRef, Rule,
    RuleEdit, RuleKey, Severity, StackDrift,
};

pub fn check(inv: &Inventory) -> Vec<Finding> {
    let mut findings = Vec::new();
    for drift in inv.stack_drifts {
        if drift.status == ResourceDriftStatus::InSync {
            continue;
        }
        let owner = &drift.resource.owner;
        let found = match &drift.found {
            DriftFound::Group(group) => group_drift(inv, drift, group),
            DriftFound::RuleEdited(edit) => {
                let changes = changes_with_paths(edit);
                if changes.is_empty() {
                    continue;
                }
                vec![rule_finding(
                    inv,
                    owner,
                    Some(&edit.expected),
                    Some(&edit.actual),
                    changes,
                )]
            }
            DriftFound::RuleDeleted(expected) => {
                // EC2 is read in the same scan; where it still shows the rule, trust it.
                let still_live = inv
                    .live_rules_of(&expected.group_id, expected.direction)
                    .any(|r| r.key_ref() == expected.key_ref());
                if still_live {
                    continue;
                }
                vec![rule_finding(inv, owner, Some(expected), None, Vec::new())]
            }
            DriftFound::Attachment(attachment) => {
                let declared = attachment.declared.iter().map(String::as_str).collect();
                let live = attachment.live.iter().map(String::as_str).collect();
                let place = attachments::Place {
                    account: drift.resource.account_id.clone(),
                    region: drift.resource.region.clone(),
                };
                attachments::finding(
                    inv,
                    &attachment.carrier,
                    owner.clone(),
                    place,
                    &declared,
                    &live,
                    true,
                )
                .into_iter()
                .collect()
            }
            DriftFound::Properties(changes) => vec![resource_drift(drift, changes.clone())],
        };
        findings.extend(found);
    }
    let undeclared = undeclared_live_rules(inv, &findings);
    findings.extend(undeclared);
    findings
}

/// The canonical changes between a rule as declared and as it is, each with the
/// property path it comes from; differences no canonical field holds by their paths.
fn changes_with_paths(edit: &RuleEdit) -> Vec<Change> {
    let mut changes = rule_changes(&edit.expected, &edit.actual);
    for change in &mut changes {
        if let Some(path) = edit.paths.iter().find(|p| p.field == change.field) {
            change.property_path = Some(path.path.clone());
            change.difference_type = Some(path.kind);
        }
    }
    changes.extend(edit.other.iter().cloned());
    changes
}

fn group_drift(inv: &Inventory, drift: &StackDrift, group: &GroupDrift) -> Vec<Finding> {
    let group_id = group.group_id.as_str();
    let owner = &drift.resource.owner;
    if drift.status == ResourceDriftStatus::Deleted {
        // EC2 is read in the same scan; where it still shows the group, trust it.
        if inv.live_groups.contains_key(group_id) {
            return Vec::new();
        }
        return vec![groups::missing(inv, group_id, owner)];
    }
    let mut findings = Vec::new();
    for edit in &group.edited {
        let changes = changes_with_paths(edit);
        if !changes.is_empty() {
            findings.push(rule_finding(
                inv,
                owner,
                Some(&edit.expected),
                Some(&edit.actual),
                changes,
            ));
        }
    }
    for direction in [Direction::Ingress, Direction::Egress] {
        // `match_rules` compares rules of one direction.
        let of = |elements: &[ElementChange]| -> Vec<ElementChange> {
            elements
                .iter()
                .filter(|e| e.rule.direction == direction)
                .cloned()
                .collect()
        };
        findings.extend(pair_elements(
            inv,
            drift,
            group,
            of(&group.removed),
            of(&group.added),
        ));
    }
    if !group.other.is_empty() {
        findings.push(group_finding(inv, group_id, owner, group.other.clone()));
    }
    findings
}

/// Removed and added elements of one direction pair up by the diff's own matching
/// rules (same protocol and peer, or same protocol and ports), so that
/// CloudFormation's "remove one, add one" for an edited rule reads as the fields
/// that changed.
fn pair_elements(
    inv: &Inventory,
    drift: &StackDrift,
    group: &GroupDrift,
    removed: Vec<ElementChange>,
    added: Vec<ElementChange>,
) -> Vec<Finding> {
    let owner = &drift.resource.owner;
    let declared: Vec<DeclaredRule> = removed
        .iter()
        .map(|e| DeclaredRule {
            rule: e.rule.clone(),
            owner: owner.clone(),
            inline: true,
            account_id: None,
            region: None,
        })
        .collect();
    let change_of = |elements: &[ElementChange], rule: &Rule| {
        elements
            .iter()
            .find(|e| &e.rule == rule)
            .map(|e| e.change.clone())
    };
    let matching = match_rules(
        declared.iter().collect(),
        added.iter().map(|e| &e.rule).collect(),
    );
    let mut findings = Vec::new();
    for (declared, actual) in &matching.pairs {
        let mut changes = rule_changes(&declared.rule, actual);
        let path = change_of(&removed, &declared.rule).map(|c| c.field);
        for change in &mut changes {
            change.property_path = path.clone();
        }
        if !changes.is_empty() {
            findings.push(rule_finding(
                inv,
                owner,
                Some(&declared.rule),
                Some(actual),
                changes,
            ));
        }
    }
    for declared in &matching.removed {
        let change = change_of(&removed, &declared.rule).into_iter().collect();
        findings.push(rule_finding(inv, owner, Some(&declared.rule), None, change));
    }
    for actual in &matching.added {
        let by_this_stack = inv
            .stack_rule_keys
            .get(&actual.key())
            .is_some_and(|stacks| stacks.contains(&drift.resource.stack()));
        let explained = by_this_stack || (!group.declares_egress && is_default_egress(actual));
        if !explained {
            let change = change_of(&added, actual).into_iter().collect();
            findings.push(rule_finding(inv, owner, None, Some(actual), change));
        }
    }
    findings
}

/// The allow-all IPv4 egress EC2 gives every new group; CloudFormation keeps it
/// unless the template declares egress. (It adds no IPv6 default: an allow-all IPv6
/// egress is somebody's.)
fn is_default_egress(rule: &Rule) -> bool {
    rule.direction == Direction::Egress
        && rule.protocol == Protocol::All
        && rule.peer == Peer::ipv4("0.0.0.0/0").expect("a valid CIDR")
}

/// Live rules on a stack's group that neither the group's own lists nor the stack's
/// standalone resources (nor any other source) declare, and that CloudFormation's
/// own results did not already report: its detection misses a rule added beside an
/// empty list (`SecurityGroupIngress: []`, its issue 2091). Judged only where the
/// group's expected properties were read, as `rule-added`.
fn undeclared_live_rules(inv: &Inventory, reported: &[Finding]) -> Vec<Finding> {
    let mut findings = Vec::new();
    // A stack whose drift results were not read may declare a standalone rule on
    // any group: nothing can be called undeclared meanwhile.
    if !inv.coverage.intent_complete() || !inv.coverage.stack_rules_known() {
        return findings;
    }
    for drift in inv.stack_drifts {
        let DriftFound::Group(group) = &drift.found else {
            continue;
        };
        let group_id = group.group_id.as_str();
        let Some(declared) = &group.declared else {
            continue;
        };
        if drift.status == ResourceDriftStatus::Deleted || !inv.live_groups.contains_key(group_id) {
            continue;
        }
        let declared: HashSet<RuleKey> = declared.iter().map(Rule::key).collect();
        let already: HashSet<RuleKey> = reported
            .iter()
            .filter(|f| f.resource.group_id.as_deref() == Some(group_id))
            .filter_map(|f| f.actual.as_ref().map(Rule::key))
            .collect();
        for direction in [Direction::Ingress, Direction::Egress] {
            let others: HashSet<RuleKey> = inv
                .declared
                .get(&(group_id, direction))
                .into_iter()
                .flatten()
                .map(|d| d.item.rule.key())
                .collect();
            for live in inv.live_rules_of(group_id, direction) {
                let key = live.key();
                let explained = declared.contains(&key)
                    || others.contains(&key)
                    || already.contains(&key)
                    || inv.declared_by_stack(live)
                    || (!group.declares_egress && is_default_egress(live));
                if !explained {
                    findings.push(rules::added(inv, live, rules::RuleSet::Managed));
                }
            }
        }
    }
    findings
}

fn rule_finding(
    inv: &Inventory,
    owner: &Owner,
    expected: Option<&Rule>,
    actual: Option<&Rule>,
    changes: Vec<Change>,
) -> Finding {
    let subject = expected.or(actual).expect("a rule finding has a rule");
    let group = inv.group_label(&subject.group_id);
    let message = match (expected, actual) {
        (Some(e), Some(_)) => format!(
            "{group}: {} rule {}: {}; declared by {}, changed outside CloudFormation",
            e.direction,
            e.label(),
            describe_changes(&changes),
            owner.label()
        ),
        (Some(e), None) => format!(
            "{group}: {} is declared by {} but was removed outside CloudFormation",
            e.label(),
            owner.label()
        ),
        (None, _) => format!(
            "{group}: {} was added outside CloudFormation; {} does not declare it",
            subject.label(),
            owner.label()
        ),
    };
    inv.finding(FindingSpec {
        changes,
        ..rule_spec(
            FindingCode::CfnDrift,
            owner.clone(),
            expected,
            actual,
            message,
        )
    })
}

fn group_finding(inv: &Inventory, group_id: &str, owner: &Owner, changes: Vec<Change>) -> Finding {
    let message = format!(
        "{}: {}; declared by {}, changed outside CloudFormation",
        inv.group_label(group_id),
        describe_changes(&changes),
        owner.label()
    );
    inv.finding(FindingSpec {
        code: FindingCode::CfnDrift,
        severity: FindingCode::CfnDrift.default_severity(),
        group_id: group_id.to_string(),
        rule_id: None,
        resource_id: Some(group_id.to_string()),
        key: "properties".to_string(),
        owner: owner.clone(),
        direction: None,
        expected: None,
        actual: None,
        changes,
        message,
    })
}

/// Drift of a resource that is not a security group (or whose rule could not be
/// read): every property difference by its path.
fn resource_drift(drift: &StackDrift, changes: Vec<Change>) -> Finding {
    let resource = &drift.resource;
    let is_security_group = resource
        .resource_type
        .starts_with("AWS::EC2::SecurityGroup");
    let what = format!("{} {}", resource.resource_type, resource.owner.label());
    let message = if drift.status == ResourceDriftStatus::Deleted {
        format!("{what} was deleted outside CloudFormation")
    } else {
        format!(
            "{what}: {}, changed outside CloudFormation",
            describe_changes(&changes)
        )
    };
    let id = (!resource.physical_id.is_empty()).then(|| resource.physical_id.clone());
    Finding {
        id: Finding::stable_id(
            FindingCode::CfnDrift,
            resource.account_id.as_deref(),
            resource.region.as_deref(),
            &format!("{}/{}", resource.stack(), resource.logical_id()),
            "resource",
        ),
        code: FindingCode::CfnDrift,
        severity: if is_security_group {
            FindingCode::CfnDrift.default_severity()
        } else {
            Severity::Medium
        },
        status: FindingStatus::New,
        account_id: resource.account_id.clone(),
        region: resource.region.clone(),
        resource: ResourceRef {
            kind: resource.resource_type.clone(),
            id,
            group_id: None,
            group_name: None,
            vpc_id: None,
        },
        owner: resource.owner.clone(),
        direction: None,
        expected: None,
        actual: None,
        changes,
        message,
        first_seen: None,
        last_seen: None,
        acknowledged: None,
        recurred: false,
        group_owner: None,
        changed_by: None,
    }
}
