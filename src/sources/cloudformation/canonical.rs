//! CloudFormation's drift results, as it reported them (`ResourceDrift`), turned
//! into canonical rules (`StackDrift`): each group's `SecurityGroupIngress`/`Egress`
//! elements and each standalone `AWS::EC2::SecurityGroupIngress`/`Egress` read as
//! `Rule`s, expected and actual, with the property path of every difference kept
//! beside the canonical field it sets. The diff reads only the result.
//!
//! It runs once both sides are read: a rule naming its peer by
//! `SourceSecurityGroupName` (default-VPC form) is resolved among the live groups.

use std::collections::BTreeMap;

use serde_json::Value;

use super::rules::{canonical_field, rule_from_properties};
use crate::model::{
    AttachmentDrift, CarrierRef, Change, Direction, DriftFound, ElementChange, GroupDrift,
    LiveView, PropertyDifference, PropertyPath, ResourceDrift, ResourceDriftStatus, Rule, RuleEdit,
    SECURITY_GROUP, StackDrift, StandaloneRule,
};

/// Every drift result in canonical terms, in the order given.
pub fn stack_drifts(drifts: &[ResourceDrift], live: &LiveView) -> Vec<StackDrift> {
    drifts
        .iter()
        .map(|drift| stack_drift(drift, live))
        .collect()
}

/// A load balancer, instance or network interface whose only differences are its
/// security groups: the groups declared and carried, from the whole properties.
fn attachment_drift(drift: &ResourceDrift) -> Option<AttachmentDrift> {
    let resource = &drift.resource;
    let id = resource.physical_id.as_str();
    let (carrier, pointer) = match resource.resource_type.as_str() {
        "AWS::ElasticLoadBalancingV2::LoadBalancer" => {
            (CarrierRef::load_balancer(id)?, "/SecurityGroups")
        }
        "AWS::EC2::Instance" => (CarrierRef::Instance(id.to_string()), "/SecurityGroupIds"),
        "AWS::EC2::NetworkInterface" => (CarrierRef::Interface(id.to_string()), "/GroupSet"),
        _ => return None,
    };
    let about_groups = |path: &str| {
        path.strip_prefix(pointer)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    if id.is_empty()
        || drift.differences.is_empty()
        || !drift.differences.iter().all(|d| about_groups(&d.path))
    {
        return None;
    }
    let groups = |properties: &serde_json::Value| -> Option<Vec<String>> {
        let mut groups: Vec<String> = properties
            .pointer(pointer)?
            .as_array()?
            .iter()
            .filter_map(|g| g.as_str().map(str::to_string))
            .collect();
        groups.sort();
        groups.dedup();
        Some(groups)
    };
    Some(AttachmentDrift {
        carrier,
        declared: groups(&drift.expected)?,
        live: groups(&drift.actual)?,
    })
}

fn stack_drift(drift: &ResourceDrift, live: &LiveView) -> StackDrift {
    let named = group_named(live, drift);
    let standalone = drift.resource.rule_direction().and_then(|direction| {
        let group_id = drift.expected.get("GroupId")?.as_str()?;
        Some(StandaloneRule {
            group_id: group_id.to_string(),
            rule: rule_from_properties(group_id, direction, &drift.expected, &named).ok(),
        })
    });
    let found = match (drift.resource.resource_type.as_str(), &standalone) {
        (SECURITY_GROUP, _) if !drift.resource.physical_id.is_empty() => {
            DriftFound::Group(group_drift(drift, &named))
        }
        (
            _,
            Some(StandaloneRule {
                rule: Some(expected),
                ..
            }),
        ) => standalone_drift(drift, expected, &named),
        _ => match attachment_drift(drift) {
            Some(found) => DriftFound::Attachment(found),
            None => DriftFound::Properties(raw_changes(&drift.differences)),
        },
    };
    StackDrift {
        resource: drift.resource.clone(),
        status: drift.status,
        standalone,
        found,
    }
}

/// Resolves `SourceSecurityGroupName` among the live groups of the stack's region:
/// a name two groups share resolves to nothing.
fn group_named<'a>(
    live: &'a LiveView,
    drift: &'a ResourceDrift,
) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        let region = drift.resource.region.as_deref();
        let mut named = live.groups.iter().filter(|g| {
            g.name.as_deref() == Some(name)
                && (region.is_none() || g.region.is_none() || g.region.as_deref() == region)
        });
        match (named.next(), named.next()) {
            (Some(group), None) => Some(group.id.clone()),
            _ => None,
        }
    }
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

fn raw_changes<'d>(differences: impl IntoIterator<Item = &'d PropertyDifference>) -> Vec<Change> {
    differences
        .into_iter()
        .map(|d| raw_change(d, d.expected.clone(), d.actual.clone()))
        .collect()
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

/// A rule as declared and as it is, with the path of each canonical field's
/// difference; a difference in a property no canonical field holds is kept by its
/// path.
fn rule_edit(expected: Rule, actual: Rule, differences: &[PropertyEdit]) -> RuleEdit {
    let (canonical, other): (Vec<_>, Vec<_>) = differences
        .iter()
        .partition(|(property, _)| canonical_field(property).is_some());
    RuleEdit {
        expected,
        actual,
        paths: canonical
            .into_iter()
            .map(|(property, difference)| PropertyPath {
                field: canonical_field(property).expect("partitioned on it"),
                path: difference.path.clone(),
                kind: difference.kind,
            })
            .collect(),
        other: raw_changes(other.into_iter().map(|(_, d)| d)),
    }
}

fn group_drift(drift: &ResourceDrift, named: &dyn Fn(&str) -> Option<String>) -> GroupDrift {
    let group_id = drift.resource.physical_id.as_str();
    let rule = |direction, properties: &Value| {
        rule_from_properties(group_id, direction, properties, named)
    };
    let mut other = Vec::new();
    let mut edits: BTreeMap<ElementAt, Vec<PropertyEdit>> = BTreeMap::new();
    let mut removed = Vec::new();
    let mut added = Vec::new();
    for difference in &drift.differences {
        let Some(path) = RulePath::parse(&difference.path) else {
            other.extend(raw_changes([difference]));
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
                (Ok(rule), true) => removed.push(ElementChange { rule, change }),
                (Ok(rule), false) => added.push(ElementChange { rule, change }),
                (Err(_), _) => other.push(change),
            }
        }
    }
    let mut edited = Vec::new();
    for ((direction, list, index), differences) in &edits {
        let element = &drift.expected[*list][*index];
        let actual = apply(element, differences.iter().copied());
        match (rule(*direction, element), rule(*direction, &actual)) {
            (Ok(expected), Ok(actual)) => edited.push(rule_edit(expected, actual, differences)),
            _ => other.extend(raw_changes(differences.iter().map(|(_, d)| *d))),
        }
    }
    GroupDrift {
        group_id: group_id.to_string(),
        declared: declared_rules(drift, named),
        declares_egress: !drift.expected["SecurityGroupEgress"].is_null(),
        edited,
        removed,
        added,
        other,
    }
}

/// The rules a group's expected lists declare; `None` where a list is not a list
/// of rules.
fn declared_rules(
    drift: &ResourceDrift,
    named: &dyn Fn(&str) -> Option<String>,
) -> Option<Vec<Rule>> {
    if !drift.expected.is_object() {
        return None;
    }
    let group_id = drift.resource.physical_id.as_str();
    let mut declared = Vec::new();
    for (direction, list) in [
        (Direction::Ingress, "SecurityGroupIngress"),
        (Direction::Egress, "SecurityGroupEgress"),
    ] {
        let items = match &drift.expected[list] {
            Value::Null => continue,
            Value::Array(items) => items,
            _ => return None,
        };
        for item in items {
            declared.push(rule_from_properties(group_id, direction, item, named).ok()?);
        }
    }
    Some(declared)
}

/// A standalone ingress/egress resource whose declared rule reads as one.
fn standalone_drift(
    drift: &ResourceDrift,
    expected: &Rule,
    named: &dyn Fn(&str) -> Option<String>,
) -> DriftFound {
    if drift.status == ResourceDriftStatus::Deleted {
        return DriftFound::RuleDeleted(expected.clone());
    }
    let direction = expected.direction;
    let differences: Vec<PropertyEdit> = drift
        .differences
        .iter()
        .map(|d| (d.path.trim_start_matches('/'), d))
        .collect();
    let actual = apply(&drift.expected, differences.iter().copied());
    match rule_from_properties(&expected.group_id, direction, &actual, named) {
        Ok(actual) => {
            DriftFound::RuleEdited(Box::new(rule_edit(expected.clone(), actual, &differences)))
        }
        Err(_) => DriftFound::Properties(raw_changes(&drift.differences)),
    }
}
