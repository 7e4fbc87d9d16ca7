//! Field-by-field comparison: the `changes` entries of a finding, with values
//! exactly as compared (numbers stay numbers, a missing value is null).

use serde_json::{Value, json};

use crate::model::{Change, Rule, SecurityGroup, Tags, comparable_tag_entries, comparable_tags};

fn change(field: &str, expected: Value, actual: Value) -> Change {
    Change::new(field, expected, actual)
}

/// The fields in which two rules differ. Tags count only where both sides can
/// carry them.
pub fn rule_changes(expected: &Rule, actual: &Rule) -> Vec<Change> {
    let mut changes = Vec::new();
    if expected.protocol != actual.protocol {
        changes.push(change(
            "protocol",
            json!(expected.protocol),
            json!(actual.protocol),
        ));
    }
    if expected.from_port != actual.from_port {
        changes.push(change(
            "from_port",
            json!(expected.from_port),
            json!(actual.from_port),
        ));
    }
    if expected.to_port != actual.to_port {
        changes.push(change(
            "to_port",
            json!(expected.to_port),
            json!(actual.to_port),
        ));
    }
    if expected.peer != actual.peer {
        changes.push(change("peer", json!(expected.peer), json!(actual.peer)));
    }
    if expected.description != actual.description {
        changes.push(change(
            "description",
            json!(expected.description),
            json!(actual.description),
        ));
    }
    if let (Some(e), Some(a)) = (&expected.tags, &actual.tags)
        && !same_tags(e, a)
    {
        let (e, a) = (comparable_tags(e), comparable_tags(a));
        changes.push(change("tags", json!(e), json!(a)));
    }
    changes
}

/// Tags equal but for AWS's own `aws:` ones, compared without copying either map.
fn same_tags(expected: &Tags, actual: &Tags) -> bool {
    expected == actual || comparable_tag_entries(expected).eq(comparable_tag_entries(actual))
}

/// The fields in which a group's own definition differs: `name`, `description`,
/// `vpc_id`, and one `tags.<key>` entry per differing tag. A field either side does
/// not know is not compared.
pub fn group_changes(expected: &SecurityGroup, actual: &SecurityGroup) -> Vec<Change> {
    let mut changes = Vec::new();
    for (field, e, a) in [
        ("name", &expected.name, &actual.name),
        ("description", &expected.description, &actual.description),
        ("vpc_id", &expected.vpc_id, &actual.vpc_id),
    ] {
        if let (Some(e), Some(a)) = (e, a)
            && e != a
        {
            changes.push(change(field, json!(e), json!(a)));
        }
    }
    if let (Some(e), Some(a)) = (&expected.tags, &actual.tags) {
        changes.extend(tag_changes(e, a));
    }
    changes
}

fn tag_changes(expected: &Tags, actual: &Tags) -> Vec<Change> {
    if same_tags(expected, actual) {
        return Vec::new();
    }
    let (expected, actual) = (comparable_tags(expected), comparable_tags(actual));
    let mut keys: Vec<&String> = expected.keys().chain(actual.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| expected.get(*k) != actual.get(*k))
        .map(|k| {
            change(
                &format!("tags.{k}"),
                json!(expected.get(k)),
                json!(actual.get(k)),
            )
        })
        .collect()
}
