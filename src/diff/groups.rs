//! Group-level checks: `sg-missing`, `sg-unmanaged`, `sg-modified`, `owner-conflict`.
//! Groups a CloudFormation stack owns are managed like any other; what the stack
//! declares about them is checked by `cloudformation`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::changes::group_changes;
use super::context::{FindingSpec, Inventory};
use super::options::DiffOptions;
use crate::diff_text::describe_changes;
use crate::model::{Change, Direction, Finding, FindingCode, Owner, Rule, SecurityGroup, Severity};

pub fn check(inv: &Inventory, options: &DiffOptions) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (group_id, owners) in &inv.managed {
        let declared = owners[0];
        match inv.live_groups.get(group_id) {
            Some(live) => {
                let changes = group_changes(&declared.group, live);
                if !changes.is_empty() {
                    findings.push(modified(inv, group_id, &declared.owner, changes));
                }
            }
            None => {
                let (account, region) = (
                    declared.group.account_id.as_deref(),
                    declared.group.region.as_deref(),
                );
                if inv.coverage.may_report_missing(account, region) {
                    findings.push(missing(inv, group_id, &declared.owner));
                }
            }
        }
        if owners.len() > 1 {
            findings.extend(owner_conflict(inv, group_id, owners));
        }
    }
    if inv.coverage.intent_complete() {
        findings.extend(unmanaged(inv, options));
    }
    findings
}

fn spec(group_id: &str, code: FindingCode, owner: Owner, message: String) -> FindingSpec {
    FindingSpec {
        code,
        severity: code.default_severity(),
        group_id: group_id.to_string(),
        rule_id: None,
        resource_id: Some(group_id.to_string()),
        key: String::new(),
        owner,
        direction: None,
        expected: None,
        actual: None,
        changes: Vec::new(),
        message,
    }
}

pub(super) fn missing(inv: &Inventory, group_id: &str, owner: &Owner) -> Finding {
    let message = format!(
        "{} is managed by {} but does not exist",
        inv.group_label(group_id),
        owner.label()
    );
    inv.finding(spec(
        group_id,
        FindingCode::SgMissing,
        owner.clone(),
        message,
    ))
}

fn modified(inv: &Inventory, group_id: &str, owner: &Owner, changes: Vec<Change>) -> Finding {
    let only_tags = changes.iter().all(|c| c.field.starts_with("tags."));
    let severity = if only_tags {
        FindingCode::SgModified.default_severity()
    } else {
        Severity::Medium
    };
    let message = format!(
        "{}: {} (declared by {})",
        inv.group_label(group_id),
        describe_changes(&changes),
        owner.label()
    );
    inv.finding(FindingSpec {
        changes,
        severity,
        ..spec(group_id, FindingCode::SgModified, owner.clone(), message)
    })
}

/// Live groups nobody owns, reads, or declares rules on. Each VPC's `default`
/// group cannot be deleted and is left out unless configured.
fn unmanaged(inv: &Inventory, options: &DiffOptions) -> Vec<Finding> {
    let with_declared_rules: BTreeSet<&str> = inv.declared.keys().map(|(g, _)| *g).collect();
    let mut findings = Vec::new();
    for group in &inv.live.groups {
        let id = group.id.as_str();
        if inv.is_managed(id)
            || inv.reads.contains_key(id)
            || with_declared_rules.contains(id)
            || inv.stack_rule_groups.contains(id)
        {
            continue;
        }
        if group.name.as_deref() == Some("default") && !options.include_default_groups {
            continue;
        }
        findings.push(unmanaged_group(inv, group));
    }
    findings
}

/// A live group nobody owns, with every live rule it has (`changes`, one per
/// rule): critical when one of them exposes it to the world, which is then its
/// `actual` (the schema's `actual` is one rule).
fn unmanaged_group(inv: &Inventory, group: &SecurityGroup) -> Finding {
    let id = group.id.as_str();
    let rules: Vec<&Rule> = [Direction::Ingress, Direction::Egress]
        .into_iter()
        .flat_map(|direction| inv.live_rules_of(id, direction))
        .collect();
    let exposed: Vec<String> = rules
        .iter()
        .filter(|r| r.exposes_to_world())
        .map(|r| r.label())
        .collect();
    let place = group
        .vpc_id
        .as_deref()
        .map(|v| format!(" in {v}"))
        .unwrap_or_default();
    let mut message = format!(
        "{}{place} exists but no source owns or reads it",
        group.label()
    );
    if !exposed.is_empty() {
        message.push_str(&format!("; it allows {}", exposed.join(", ")));
    }
    let severity = match exposed.is_empty() {
        true => FindingCode::SgUnmanaged.default_severity(),
        false => Severity::Critical,
    };
    inv.finding(FindingSpec {
        severity,
        actual: rules
            .iter()
            .find(|r| r.exposes_to_world())
            .map(|r| (*r).clone()),
        changes: rules
            .iter()
            .map(|r| Change::new("rule", Value::Null, Value::String(r.label())))
            .collect(),
        ..spec(id, FindingCode::SgUnmanaged, Owner::none(), message)
    })
}

/// Several sources manage one group. Only a difference in what they declare (the
/// group's fields or its rule set) is a conflict; identical copies are not.
fn owner_conflict(
    inv: &Inventory,
    group_id: &str,
    owners: &[&crate::model::DeclaredGroup],
) -> Option<Finding> {
    // Everything one state declares on the group, inline or by rule resources,
    // before inline shadowing: a refreshed inline list repeating another state's
    // rule resource is the same declaration, not a conflict.
    // Compared by key, told in words (`ingress tcp 443 from 0.0.0.0/0`).
    let rules_of = |owner: &Owner| -> BTreeMap<String, String> {
        inv.intent
            .rules
            .iter()
            .filter(|r| r.rule.group_id == group_id && r.owner.location == owner.location)
            .map(|r| (r.rule.key().to_string(), r.rule.label()))
            .collect()
    };
    let only_in = |these: &BTreeMap<String, String>, those: &BTreeMap<String, String>| {
        let labels: Vec<&String> = these
            .iter()
            .filter(|(key, _)| !those.contains_key(*key))
            .map(|(_, label)| label)
            .collect();
        json!(labels)
    };
    let first = owners[0];
    let first_rules = rules_of(&first.owner);
    let mut changes = Vec::new();
    let mut others = Vec::new();
    for other in &owners[1..] {
        let mut differences = group_changes(&first.group, &other.group);
        // A stack and a state cannot both own a group: whoever applies next undoes
        // the other, whatever each declares.
        if other.owner.kind != first.owner.kind {
            differences.push(Change::new(
                "owner",
                json!(first.owner.label()),
                json!(other.owner.label()),
            ));
        }
        let other_rules = rules_of(&other.owner);
        if other_rules.keys().ne(first_rules.keys()) {
            differences.push(Change::new(
                "rules",
                only_in(&first_rules, &other_rules),
                only_in(&other_rules, &first_rules),
            ));
        }
        if !differences.is_empty() {
            others.push(other.owner.label());
            changes.extend(differences);
        }
    }
    if changes.is_empty() {
        return None;
    }
    let message = format!(
        "{} is managed by {} and, differently, by {}: {}",
        inv.group_label(group_id),
        first.owner.label(),
        others.join(", "),
        describe_changes(&changes)
    );
    Some(inv.finding(FindingSpec {
        changes,
        key: "owners".to_string(),
        ..spec(
            group_id,
            FindingCode::OwnerConflict,
            first.owner.clone(),
            message,
        )
    }))
}
