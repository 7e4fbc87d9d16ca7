//! Which CloudTrail event made a finding's drift: pure, no I/O.
//!
//! Only a successful write whose parameters produce this drift counts, and the
//! latest such event in the window wins:
//! - `rule-added`: an `Authorize*` of that rule (protocol, ports, peer, direction),
//!   or a `ModifySecurityGroupRules` that left a rule reading as it;
//! - `rule-removed`: a `Revoke*` of that rule (or of its id), or a modification of
//!   its id into something else;
//! - `rule-modified`: a `ModifySecurityGroupRules` leaving the rule as it now reads,
//!   the `Authorize*` of a revoke-and-authorize pair, or a description update;
//! - `sg-modified`: `CreateTags`/`DeleteTags` on the group; `sg-missing`:
//!   `DeleteSecurityGroup`; `sg-unmanaged`: `CreateSecurityGroup`;
//! - `attachment-modified`: the carrier's groups set to what they are now;
//! - `reference-empty`: the groups of what last carried the empty group set to a
//!   list without it (the detach);
//! - `flow-broken`: no event of its own; the latest change found at its ends (a
//!   detach from what carries them, a rule of their groups) is what broke it.

use std::collections::HashMap;

use chrono::Duration;

use crate::model::{
    CarrierRef, Effect, Finding, FindingCode, FlowEnds, Rule, Timestamp, TrailEvent,
};

/// The latest successful event in `[start, end]` that made `finding`'s drift.
pub fn latest<'e>(
    finding: &Finding,
    events: impl IntoIterator<Item = &'e TrailEvent>,
    (start, end): (Timestamp, Timestamp),
    last_carriers: &HashMap<String, Vec<String>>,
) -> Option<&'e TrailEvent> {
    // A second of slack each side: CloudTrail and the scan's clocks differ.
    let (start, end) = (start - Duration::seconds(1), end + Duration::seconds(1));
    events
        .into_iter()
        .filter(|e| e.error_code.is_none() && e.time >= start && e.time <= end)
        .filter(|e| e.effects.iter().any(|x| made(finding, x, last_carriers)))
        .max_by(|a, b| {
            a.time
                .cmp(&b.time)
                .then_with(|| a.event_id.cmp(&b.event_id))
        })
}

/// Whether `effect` makes `finding`'s drift.
fn made(finding: &Finding, effect: &Effect, last_carriers: &HashMap<String, Vec<String>>) -> bool {
    let group = finding.resource.group_id.as_deref();
    match (finding.code, effect) {
        (FindingCode::RuleAdded, Effect::Authorized(rule)) => same(finding.actual.as_ref(), rule),
        (FindingCode::RuleAdded, Effect::Modified(patch)) => {
            finding.actual.as_ref().is_some_and(|a| patch.produces(a))
        }
        (FindingCode::RuleRemoved, Effect::Revoked(rule)) => same(finding.expected.as_ref(), rule),
        (
            FindingCode::RuleRemoved,
            Effect::RevokedId {
                group_id,
                direction,
                rule_id,
            },
        ) => finding.expected.as_ref().is_some_and(|e| {
            e.group_id.as_str() == group_id
                && e.direction == *direction
                && e.rule_id.as_ref() == Some(rule_id)
        }),
        (FindingCode::RuleRemoved, Effect::Modified(patch)) => finding
            .expected
            .as_ref()
            .is_some_and(|e| e.rule_id.as_ref() == Some(&patch.rule_id) && !patch.produces(e)),
        (FindingCode::RuleModified, Effect::Modified(patch)) => {
            finding.actual.as_ref().is_some_and(|a| patch.produces(a))
        }
        // The authorize of a revoke-and-authorize pair: every field as it now reads
        // (the rule's first creation has the declared description, not the drift's).
        (FindingCode::RuleModified, Effect::Authorized(rule)) => finding
            .actual
            .as_ref()
            .is_some_and(|a| a.key_ref() == rule.key_ref() && a.description == rule.description),
        (FindingCode::RuleModified, Effect::Described(rule)) => finding
            .actual
            .as_ref()
            .is_some_and(|a| a.key_ref() == rule.key_ref() && a.description == rule.description),
        (FindingCode::SgModified, Effect::Tagged { resources }) => {
            group.is_some_and(|g| resources.iter().any(|r| r == g))
        }
        (FindingCode::SgMissing, Effect::Deleted { group_id }) => group == Some(group_id),
        (FindingCode::SgUnmanaged, Effect::Created { group_id }) => group == Some(group_id),
        (FindingCode::AttachmentModified, Effect::GroupsSet { carrier, groups }) => {
            let resource = &finding.resource;
            let here = resource
                .id
                .as_deref()
                .and_then(|id| CarrierRef::from_resource(&resource.kind, id));
            here.as_ref() == Some(carrier) && sets_as_found(finding, groups)
        }
        (FindingCode::ReferenceEmpty, Effect::GroupsSet { carrier, groups }) => {
            let Some(empty) = finding
                .actual
                .as_ref()
                .and_then(|r| r.peer.referenced_group())
            else {
                return false;
            };
            !groups.iter().any(|g| g == empty)
                && last_carriers
                    .get(empty)
                    .is_some_and(|labels| labels.iter().any(|l| names(l, carrier)))
        }
        _ => false,
    }
}

/// Whether a carrier label kept in history (`ELB app/web`, `ecs service
/// prod/front (3 tasks)`, `NAT gateway eni-…`) names `carrier`.
pub fn names(label: &str, carrier: &CarrierRef) -> bool {
    let own = carrier.label();
    label == own
        || label
            .strip_prefix(own.as_str())
            .is_some_and(|rest| rest.starts_with(" ("))
        || (matches!(carrier, CarrierRef::Interface(_) | CarrierRef::Instance(_))
            && label.split_whitespace().any(|word| word == carrier.id()))
}

/// The same rule as declared or live: group, direction, protocol, ports, peer.
fn same(finding_rule: Option<&Rule>, event_rule: &Rule) -> bool {
    finding_rule.is_some_and(|r| r.key_ref() == event_rule.key_ref())
}

/// Whether setting a carrier's groups to `set` leaves them as the finding found
/// them: every group it found live is in `set`, and no declared group it found
/// missing is.
fn sets_as_found(finding: &Finding, set: &[String]) -> bool {
    let Some((declared, live)) = group_lists(finding) else {
        return false;
    };
    live.iter().all(|g| set.contains(g))
        && declared
            .iter()
            .filter(|g| !live.contains(g))
            .all(|g| !set.contains(g))
}

/// For an `attachment-modified`: the carrier, and the declared groups it no longer
/// carries (what it carried before the change, as far as this scan can tell).
pub fn no_longer_carried(finding: &Finding) -> Option<(CarrierRef, Vec<String>)> {
    let resource = &finding.resource;
    let carrier = CarrierRef::from_resource(&resource.kind, resource.id.as_deref()?)?;
    let (declared, live) = group_lists(finding)?;
    let dropped = declared.into_iter().filter(|g| !live.contains(g)).collect();
    Some((carrier, dropped))
}

/// An `attachment-modified`'s group lists: (declared, live).
fn group_lists(finding: &Finding) -> Option<(Vec<String>, Vec<String>)> {
    let change = finding
        .changes
        .iter()
        .find(|c| c.field == "security_groups")?;
    let list = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|g| g.as_str().map(str::to_string))
            .collect()
    };
    Some((list(&change.expected), list(&change.actual)))
}

/// Whether `finding` is a change at a broken flow's ends: what carries them had its
/// groups changed, or a rule of one of their groups changed or now reaches nothing.
pub fn at_ends(finding: &Finding, ends: &FlowEnds) -> bool {
    let group = finding.resource.group_id.as_deref();
    let of_ends = |g: Option<&str>| g.is_some_and(|g| ends.groups.contains(g));
    match finding.code {
        // What carries an end now, or what no longer carries a group an end names.
        FindingCode::AttachmentModified => {
            no_longer_carried(finding).is_some_and(|(carrier, dropped)| {
                ends.carriers.contains(&carrier) || dropped.iter().any(|g| ends.groups.contains(g))
            })
        }
        FindingCode::ReferenceEmpty => {
            of_ends(group)
                || of_ends(
                    finding
                        .actual
                        .as_ref()
                        .and_then(|r| r.peer.referenced_group()),
                )
        }
        FindingCode::RuleAdded | FindingCode::RuleRemoved | FindingCode::RuleModified => {
            of_ends(group)
        }
        _ => false,
    }
}
