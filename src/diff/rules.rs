//! Rule-level checks: `rule-modified`, `rule-added`, `rule-removed`, with
//! `reference-dangling` judged on the same pairs.

use super::changes::rule_changes;
use super::context::{FindingSpec, Inventory, rule_spec};
use super::matching::{Keyed, match_sorted};
use super::references;
use crate::diff_text::describe_changes;
use crate::model::{
    Change, DeclaredRule, Direction, Finding, FindingCode, Owner, Protocol, Rule, Severity,
};

/// One group and direction with what is declared and what is live there.
type Slot<'i, 'a> = (
    (&'a str, Direction),
    &'i [Keyed<'a, DeclaredRule>],
    &'i [Keyed<'a, Rule>],
);

pub fn check(inv: &Inventory) -> Vec<Finding> {
    let slots = slots(inv);
    // Groups are independent: check them on every core, keeping the sequential order.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || slots.len() < 256 {
        return check_slots(inv, &slots);
    }
    let chunk = slots.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = slots
            .chunks(chunk)
            .map(|part| s.spawn(move || check_slots(inv, part)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a rule-check thread panicked"))
            .collect()
    })
}

/// Both sides' groups and directions in key order: one merge of the two sorted
/// maps, instead of a lookup (string comparisons) in each for every key.
fn slots<'i, 'a>(inv: &'i Inventory<'a>) -> Vec<Slot<'i, 'a>> {
    let mut slots = Vec::with_capacity(inv.declared.len().max(inv.live_rules.len()));
    let mut declared = inv.declared.iter().peekable();
    let mut live = inv.live_rules.iter().peekable();
    loop {
        let slot = match (declared.peek(), live.peek()) {
            (None, None) => break,
            (Some((dk, _)), Some((lk, _))) if dk == lk => {
                let (key, d) = declared.next().expect("peeked");
                let (_, l) = live.next().expect("peeked");
                (*key, d.as_slice(), l.as_slice())
            }
            (Some((dk, _)), l) if l.is_none_or(|(lk, _)| dk < lk) => {
                let (key, d) = declared.next().expect("peeked");
                (*key, d.as_slice(), &[][..])
            }
            _ => {
                let (key, l) = live.next().expect("peeked");
                (*key, &[][..], l.as_slice())
            }
        };
        slots.push(slot);
    }
    slots
}

fn check_slots(inv: &Inventory, slots: &[Slot]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for &((group_id, direction), declared, live) in slots {
        if !inv.live_groups.contains_key(group_id) {
            // A managed group that is gone is one sg-missing, not a rule-removed per rule.
            if !inv.is_managed(group_id) {
                findings.extend(removed_with_group(inv, declared));
            }
            continue;
        }
        let matching = match_sorted(declared, live);
        for (declared, live) in &matching.pairs {
            let changes = rule_changes(&declared.rule, live);
            if !changes.is_empty() {
                findings.push(modified(inv, declared, live, changes));
            }
            findings.extend(references::dangling(inv, Some(declared), Some(live)));
            findings.extend(references::empty(inv, Some(declared), live));
        }
        for declared in &matching.removed {
            // The group was read, but a live source that failed may have held its rules.
            if inv.coverage.live_gaps_unknown() {
                continue;
            }
            findings.push(removed(inv, declared));
            findings.extend(references::dangling(inv, Some(declared), None));
        }
        let rule_set = (!matching.added.is_empty())
            .then(|| rule_set(inv, group_id, direction))
            .flatten();
        for live in &matching.added {
            let judged_by =
                rule_set.filter(|set| *set != RuleSet::DefaultGroup || !is_aws_default_rule(live));
            if let Some(set) = judged_by
                && !inv.declared_by_stack(live)
            {
                findings.push(added(inv, live, set));
            }
            findings.extend(references::dangling(inv, None, Some(live)));
            findings.extend(references::empty(inv, None, live));
        }
    }
    findings
}

/// Declared rules on an unmanaged group that no longer exists.
fn removed_with_group<'a>(
    inv: &Inventory<'a>,
    declared: &[Keyed<'a, DeclaredRule>],
) -> Vec<Finding> {
    declared
        .iter()
        .map(|d| d.item)
        .filter(|d| {
            let (account, region) = inv.rule_scope(d);
            inv.coverage.may_report_missing(account, region)
        })
        .map(|d| removed(inv, d))
        .collect()
}

fn modified(
    inv: &Inventory,
    declared: &DeclaredRule,
    live: &Rule,
    changes: Vec<Change>,
) -> Finding {
    let opens_world = live.is_world_ingress()
        && changes.iter().any(|c| {
            matches!(
                c.field.as_str(),
                "protocol" | "from_port" | "to_port" | "peer"
            )
        });
    let severity = if opens_world {
        Severity::Critical
    } else {
        FindingCode::RuleModified.default_severity()
    };
    let message = format!(
        "{}: {} rule {}: {}; declared by {}",
        inv.group_label(&declared.rule.group_id),
        declared.rule.direction,
        declared.rule.label(),
        describe_changes(&changes),
        declared.owner.label()
    );
    inv.finding(FindingSpec {
        changes,
        severity,
        ..rule_spec(
            FindingCode::RuleModified,
            declared.owner.clone(),
            Some(&declared.rule),
            Some(live),
            message,
        )
    })
}

/// Whose rule set a group's live rules are judged against: a live rule nobody
/// declares is drift only on a group with one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RuleSet {
    /// A group IaC manages (a stack's are judged by its drift detection instead).
    Managed,
    /// A VPC's `default` group nobody manages: AWS creates it with its own rules only.
    DefaultGroup,
    /// A group whose rules a loaded source declares but that no loaded source
    /// manages: its owner may simply not be loaded.
    PartlyDeclared,
}

fn rule_set(inv: &Inventory, group_id: &str, direction: Direction) -> Option<RuleSet> {
    // With a source of intent unread, what nobody declares may be declared there.
    if !inv.coverage.intent_complete() || inv.owned_by_stack(group_id) {
        return None;
    }
    if inv.is_managed(group_id) {
        return Some(RuleSet::Managed);
    }
    // A stack whose drift results were not read may declare a standalone rule on
    // any group it does not own.
    if !inv.coverage.stack_rules_known() {
        return None;
    }
    if inv.group_name(group_id) == Some("default") {
        return Some(RuleSet::DefaultGroup);
    }
    // Partly declared: judged only in a direction some source declares rules in
    // (a console-made group keeps AWS's default egress, which nobody declares).
    inv.declared
        .contains_key(&(group_id, direction))
        .then_some(RuleSet::PartlyDeclared)
}

/// The rules AWS creates with a VPC's default group: all traffic from the group
/// itself, and all traffic out (IPv6 too where the VPC has it).
fn is_aws_default_rule(rule: &Rule) -> bool {
    if rule.protocol != Protocol::All {
        return false;
    }
    match rule.direction {
        Direction::Ingress => rule.peer.referenced_group() == Some(rule.group_id.as_str()),
        Direction::Egress => rule.peer.is_world(),
    }
}

pub(super) fn added(inv: &Inventory, live: &Rule, rule_set: RuleSet) -> Finding {
    let severity = match rule_set {
        _ if live.exposes_to_world() => Severity::Critical,
        RuleSet::PartlyDeclared => Severity::Low,
        RuleSet::Managed | RuleSet::DefaultGroup => FindingCode::RuleAdded.default_severity(),
    };
    let group = inv.group_label(&live.group_id);
    let rule = live.label();
    let message = match rule_set {
        RuleSet::Managed => {
            let group_owner = inv
                .group_owner(&live.group_id)
                .map(Owner::label)
                .unwrap_or_else(|| "no owner".to_string());
            format!(
                "{group}: {rule} was added outside IaC; no source declares it (the group is managed by {group_owner})"
            )
        }
        RuleSet::DefaultGroup => format!(
            "{group}: {rule} was added to the VPC's default group, which no source manages; AWS creates it with only its own rules"
        ),
        RuleSet::PartlyDeclared => {
            let readers: Vec<String> = inv
                .reads
                .get(live.group_id.as_str())
                .into_iter()
                .flatten()
                .map(|r| r.reader.label())
                .collect();
            let read_by = match readers.is_empty() {
                true => String::new(),
                false => format!("; it is read by {}", readers.join(", ")),
            };
            format!(
                "{group}: {rule} was added outside IaC; no loaded source declares it (the group's owner is not loaded{read_by})"
            )
        }
    };
    inv.finding(FindingSpec {
        severity,
        ..rule_spec(
            FindingCode::RuleAdded,
            Owner::none(),
            None,
            Some(live),
            message,
        )
    })
}

fn removed(inv: &Inventory, declared: &DeclaredRule) -> Finding {
    let message = format!(
        "{}: {} is declared by {} but is not live",
        inv.group_label(&declared.rule.group_id),
        declared.rule.label(),
        declared.owner.label()
    );
    inv.finding(rule_spec(
        FindingCode::RuleRemoved,
        declared.owner.clone(),
        Some(&declared.rule),
        None,
        message,
    ))
}
