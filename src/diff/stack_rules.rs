//! The rules a stack's standalone `AWS::EC2::SecurityGroupIngress`/`Egress`
//! resources declare, read from their drift results: the index (`context`) needs them
//! to know who declares a rule, and the `cfn-drift` check to explain differences.

use std::collections::HashMap;

use serde_json::Value;

use crate::model::{Intent, LiveView, ResourceDrift, RuleKey};
use crate::sources::cloudformation::rules::rule_from_properties;

/// Resolves `SourceSecurityGroupName` among the live groups of the stack's region.
pub(super) fn group_named<'a>(
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

/// The rules the stacks' standalone ingress/egress resources declare, with the
/// stacks that declare them: such a rule is the stack's, wherever its group lives,
/// and a group of the same stack reporting it as added is not drifted.
pub(super) fn standalone_rules<'a>(
    intent: &'a Intent,
    live: &'a LiveView,
) -> HashMap<RuleKey, Vec<&'a str>> {
    let mut rules: HashMap<RuleKey, Vec<&str>> = HashMap::new();
    // Deleted ones too: re-created by hand, the rule is still the stack's.
    for drift in &intent.drifts {
        let Some(direction) = drift.resource.rule_direction() else {
            continue;
        };
        let Some(group_id) = drift.expected.get("GroupId").and_then(Value::as_str) else {
            continue;
        };
        if let Ok(rule) = rule_from_properties(
            group_id,
            direction,
            &drift.expected,
            &group_named(live, drift),
        ) {
            rules
                .entry(rule.key())
                .or_default()
                .push(drift.resource.stack());
        }
    }
    rules
}
