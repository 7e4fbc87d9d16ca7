//! `cfn-drift`: CloudFormation's own drift results as field-level findings.
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

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use super::changes::rule_changes;
use super::context::{FindingSpec, Inventory, rule_spec};
use super::groups;
use super::matching::match_rules;
use super::rules;
use super::stack_rules::group_named;
use crate::diff_text::describe_changes;
use crate::model::{
    Change, DeclaredRule, Direction, Finding, FindingCode, FindingStatus, Owner, Peer,
    PropertyDifference, Protocol, ResourceDrift, ResourceDriftStatus, ResourceRef, Rule, RuleKey,
    SECURITY_GROUP, SECURITY_GROUP_EGRESS, SECURITY_GROUP_INGRESS, Severity,
};
use crate::sources::cloudformation::rules::{canonical_field, rule_from_properties};

pub fn check(inv: &Inventory) -> Vec<Finding> {
    let standalone = &inv.stack_rule_keys;
    let mut findings = Vec::new();
    for drift in &inv.intent.drifts {
        if drift.status == ResourceDriftStatus::InSync {
            continue;
        }
        let found = match drift.resource.resource_type.as_str() {
            SECURITY_GROUP if !drift.resource.physical_id.is_empty() => {
                group_drift(inv, drift, standalone)
            }
            SECURITY_GROUP_INGRESS => rule_resource_drift(inv, drift, Direction::Ingress),
            SECURITY_GROUP_EGRESS => rule_resource_drift(inv, drift, Direction::Egress),
            _ => vec![resource_drift(drift, Vec::new())],
        };
        findings.extend(found);
    }
    let undeclared = undeclared_live_rules(inv, &findings);
    findings.extend(undeclared);
    findings
}

/// `/SecurityGroupEgress/0/ToPort` → (egress, element 0, `ToPort`).
struct RulePath<'a> {
    direction: Direction,
    list: &'static str,
    index: Option<usize>,
    property: Option<&'a str>,
}

impl RulePath<'_> {
    fn parse(path: &str) -> Option<RulePath<'_>> {
        let mut parts = path.strip_prefix('/')?.split('/');
        let (direction, list) = match parts.next()? {
            "SecurityGroupIngress" => (Direction::Ingress, "SecurityGroupIngress"),
            "SecurityGroupEgress" => (Direction::Egress, "SecurityGroupEgress"),
            _ => return None,
        };
        let index = match parts.next() {
            None => None,
            Some(i) => Some(i.parse().ok()?),
        };
        let property = parts.next();
        if parts.next().is_some() {
            return None;
        }
        Some(RulePath {
            direction,
            list,
            index,
            property,
        })
    }
}

/// One element of a group's rule list: direction, list name, index.
type ElementAt = (Direction, &'static str, usize);
/// A difference in one property of an element or resource, by property name.
type PropertyEdit<'a> = (&'a str, &'a PropertyDifference);

/// A CloudFormation difference as it was reported: `field` is the property path.
fn raw_change(difference: &PropertyDifference, expected: Value, actual: Value) -> Change {
    Change {
        difference_type: Some(difference.kind),
        ..Change::new(&difference.path, expected, actual)
    }
}

/// `expected` with the differences applied, property by property.
fn apply<'d>(
    expected: &Value,
    differences: impl IntoIterator<Item = (&'d str, &'d PropertyDifference)>,
) -> Value {
    let mut actual = expected.clone();
    if let Some(object) = actual.as_object_mut() {
        for (property, difference) in differences {
            match &difference.actual {
                Value::Null => object.remove(property),
                value => object.insert(property.to_string(), value.clone()),
            };
        }
    }
    actual
}

/// The canonical changes between two rules, each with the property path it comes
/// from; a difference in a property no canonical field holds is kept by its path.
fn changes_with_paths(
    expected: &Rule,
    actual: &Rule,
    differences: &[(&str, &PropertyDifference)],
) -> Vec<Change> {
    let mut changes = rule_changes(expected, actual);
    for change in &mut changes {
        if let Some((_, difference)) = differences
            .iter()
            .find(|(property, _)| canonical_field(property) == Some(change.field.as_str()))
        {
            change.property_path = Some(difference.path.clone());
            change.difference_type = Some(difference.kind);
        }
    }
    for (property, difference) in differences {
        if canonical_field(property).is_none() {
            changes.push(raw_change(
                difference,
                difference.expected.clone(),
                difference.actual.clone(),
            ));
        }
    }
    changes
}

fn group_drift(
    inv: &Inventory,
    drift: &ResourceDrift,
    standalone: &HashMap<RuleKey, Vec<&str>>,
) -> Vec<Finding> {
    let group_id = drift.resource.physical_id.as_str();
    let owner = &drift.resource.owner;
    if drift.status == ResourceDriftStatus::Deleted {
        // EC2 is read in the same scan; where it still shows the group, trust it.
        if inv.live_groups.contains_key(group_id) {
            return Vec::new();
        }
        return vec![groups::missing(inv, group_id, owner)];
    }
    let named = group_named(inv.live, drift);
    let rule = |direction, properties: &Value| {
        rule_from_properties(group_id, direction, properties, &named)
    };
    let mut findings = Vec::new();
    let mut other_changes = Vec::new();
    let mut edits: BTreeMap<ElementAt, Vec<PropertyEdit>> = BTreeMap::new();
    let mut removed: Vec<(Rule, Change)> = Vec::new();
    let mut added: Vec<(Rule, Change)> = Vec::new();
    for difference in &drift.differences {
        let Some(path) = RulePath::parse(&difference.path) else {
            other_changes.push(raw_change(
                difference,
                difference.expected.clone(),
                difference.actual.clone(),
            ));
            continue;
        };
        if let (Some(index), Some(property)) = (path.index, path.property) {
            edits
                .entry((path.direction, path.list, index))
                .or_default()
                .push((property, difference));
            continue;
        }
        // Whole elements (or a whole list) removed, added or replaced.
        let elements = |value: &Value| -> Vec<Value> {
            match (path.index, value) {
                (_, Value::Null) => Vec::new(),
                (None, Value::Array(items)) => items.clone(),
                (_, value) => vec![value.clone()],
            }
        };
        let removals = elements(&difference.expected)
            .into_iter()
            .map(|v| (v, true));
        let additions = elements(&difference.actual).into_iter().map(|v| (v, false));
        for (value, is_removal) in removals.chain(additions) {
            let change = if is_removal {
                raw_change(difference, value.clone(), Value::Null)
            } else {
                raw_change(difference, Value::Null, value.clone())
            };
            match (rule(path.direction, &value), is_removal) {
                (Ok(r), true) => removed.push((r, change)),
                (Ok(r), false) => added.push((r, change)),
                (Err(_), _) => other_changes.push(change),
            }
        }
    }
    for ((direction, list, index), differences) in &edits {
        let element = &drift.expected[*list][*index];
        let actual = apply(element, differences.iter().copied());
        match (rule(*direction, element), rule(*direction, &actual)) {
            (Ok(expected), Ok(actual)) => {
                let changes = changes_with_paths(&expected, &actual, differences);
                if !changes.is_empty() {
                    findings.push(rule_finding(
                        inv,
                        owner,
                        Some(&expected),
                        Some(&actual),
                        changes,
                    ));
                }
            }
            _ => other_changes.extend(
                differences
                    .iter()
                    .map(|(_, d)| raw_change(d, d.expected.clone(), d.actual.clone())),
            ),
        }
    }
    findings.extend(pair_elements(inv, drift, removed, added, standalone));
    if !other_changes.is_empty() {
        findings.push(group_finding(inv, group_id, owner, other_changes));
    }
    findings
}

/// Removed and added elements pair up by the diff's own matching rules (same
/// protocol and peer, or same protocol and ports), so that CloudFormation's
/// "remove one, add one" for an edited rule reads as the fields that changed.
fn pair_elements(
    inv: &Inventory,
    drift: &ResourceDrift,
    removed: Vec<(Rule, Change)>,
    added: Vec<(Rule, Change)>,
    standalone: &HashMap<RuleKey, Vec<&str>>,
) -> Vec<Finding> {
    // `match_rules` compares rules of one direction.
    let mut findings = Vec::new();
    for direction in [Direction::Ingress, Direction::Egress] {
        let of = |elements: &[(Rule, Change)]| -> Vec<(Rule, Change)> {
            elements
                .iter()
                .filter(|(r, _)| r.direction == direction)
                .cloned()
                .collect()
        };
        findings.extend(pair_direction(
            inv,
            drift,
            of(&removed),
            of(&added),
            standalone,
        ));
    }
    findings
}

fn pair_direction(
    inv: &Inventory,
    drift: &ResourceDrift,
    removed: Vec<(Rule, Change)>,
    added: Vec<(Rule, Change)>,
    standalone: &HashMap<RuleKey, Vec<&str>>,
) -> Vec<Finding> {
    let owner = &drift.resource.owner;
    let declared: Vec<DeclaredRule> = removed
        .iter()
        .map(|(rule, _)| DeclaredRule {
            rule: rule.clone(),
            owner: owner.clone(),
            inline: true,
            account_id: None,
            region: None,
        })
        .collect();
    let path_of = |rules: &[(Rule, Change)], rule: &Rule| {
        rules
            .iter()
            .find(|(r, _)| r == rule)
            .map(|(_, change)| change.clone())
    };
    let matching = match_rules(
        declared.iter().collect(),
        added.iter().map(|(r, _)| r).collect(),
    );
    let mut findings = Vec::new();
    for (declared, actual) in &matching.pairs {
        let mut changes = rule_changes(&declared.rule, actual);
        let path = path_of(&removed, &declared.rule).map(|c| c.field);
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
        let change = path_of(&removed, &declared.rule).into_iter().collect();
        findings.push(rule_finding(inv, owner, Some(&declared.rule), None, change));
    }
    let declares_egress = drift
        .expected
        .get("SecurityGroupEgress")
        .is_some_and(|e| !e.is_null());
    for actual in &matching.added {
        let by_this_stack = standalone
            .get(&actual.key())
            .is_some_and(|stacks| stacks.contains(&drift.resource.stack()));
        let explained = by_this_stack || (!declares_egress && is_default_egress(actual));
        if !explained {
            let change = path_of(&added, actual).into_iter().collect();
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
    if inv.intent_incomplete || inv.stack_without_drift {
        return findings;
    }
    'groups: for drift in &inv.intent.drifts {
        let group_id = drift.resource.physical_id.as_str();
        if drift.resource.resource_type != SECURITY_GROUP
            || drift.status == ResourceDriftStatus::Deleted
            || !drift.expected.is_object()
            || !inv.live_groups.contains_key(group_id)
        {
            continue;
        }
        let named = group_named(inv.live, drift);
        let mut declared: HashSet<RuleKey> = HashSet::new();
        for (direction, list) in [
            (Direction::Ingress, "SecurityGroupIngress"),
            (Direction::Egress, "SecurityGroupEgress"),
        ] {
            let items = match &drift.expected[list] {
                Value::Null => continue,
                Value::Array(items) => items,
                // A shape we cannot read: the group cannot be judged.
                _ => continue 'groups,
            };
            for item in items {
                match rule_from_properties(group_id, direction, item, &named) {
                    Ok(rule) => declared.insert(rule.key()),
                    Err(_) => continue 'groups,
                };
            }
        }
        let declares_egress = !drift.expected["SecurityGroupEgress"].is_null();
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
            for live in inv
                .live_rules
                .get(&(group_id, direction))
                .into_iter()
                .flatten()
                .map(|k| k.item)
            {
                let key = live.key();
                let explained = declared.contains(&key)
                    || others.contains(&key)
                    || already.contains(&key)
                    || inv.declared_by_stack(live)
                    || (!declares_egress && is_default_egress(live));
                if !explained {
                    findings.push(rules::added(inv, live));
                }
            }
        }
    }
    findings
}

/// A standalone `AWS::EC2::SecurityGroupIngress`/`Egress` that drifted.
fn rule_resource_drift(
    inv: &Inventory,
    drift: &ResourceDrift,
    direction: Direction,
) -> Vec<Finding> {
    let group_id = drift.expected.get("GroupId").and_then(Value::as_str);
    let named = group_named(inv.live, drift);
    let Some(Ok(expected)) =
        group_id.map(|g| rule_from_properties(g, direction, &drift.expected, &named))
    else {
        return vec![resource_drift(drift, Vec::new())];
    };
    let owner = &drift.resource.owner;
    if drift.status == ResourceDriftStatus::Deleted {
        // EC2 is read in the same scan; where it still shows the rule, trust it.
        let still_live = inv
            .live_rules
            .get(&(expected.group_id.as_str(), direction))
            .is_some_and(|rules| rules.iter().any(|r| r.item.key_ref() == expected.key_ref()));
        if still_live {
            return Vec::new();
        }
        return vec![rule_finding(inv, owner, Some(&expected), None, Vec::new())];
    }
    let differences: Vec<(&str, &PropertyDifference)> = drift
        .differences
        .iter()
        .map(|d| (d.path.trim_start_matches('/'), d))
        .collect();
    let actual = apply(&drift.expected, differences.iter().copied());
    let Ok(actual) = rule_from_properties(&expected.group_id, direction, &actual, &named) else {
        return vec![resource_drift(drift, Vec::new())];
    };
    let changes = changes_with_paths(&expected, &actual, &differences);
    if changes.is_empty() {
        return Vec::new();
    }
    vec![rule_finding(
        inv,
        owner,
        Some(&expected),
        Some(&actual),
        changes,
    )]
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
            Severity::High,
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
        severity: Severity::High,
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
fn resource_drift(drift: &ResourceDrift, mut changes: Vec<Change>) -> Finding {
    let resource = &drift.resource;
    changes.extend(
        drift
            .differences
            .iter()
            .map(|d| raw_change(d, d.expected.clone(), d.actual.clone())),
    );
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
            Severity::High
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
    }
}
