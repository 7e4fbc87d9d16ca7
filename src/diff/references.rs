//! Reference checks: `reference-dangling` (a rule points at a group that does not
//! exist), `reference-empty` (a rule points at a group that exists but that nothing
//! carries: detached from the load balancer or task it stood for) and
//! `dependency-hidden` (a managed rule points at a group its state only reads through
//! a data source, so deleting that group elsewhere breaks it silently).

use super::context::{Inventory, rule_spec};
use crate::model::{DeclaredRule, Finding, FindingCode, Owner, Rule};

/// A finding when either side of a (declared, live) pair references a group that
/// does not exist live, where its absence can be judged.
pub fn dangling(
    inv: &Inventory,
    declared: Option<&DeclaredRule>,
    live: Option<&Rule>,
) -> Option<Finding> {
    let group_id = &declared.map(|d| &d.rule).or(live).expect("a rule").group_id;
    let dangles = |rule: &Rule| -> Option<String> {
        let target = rule.peer.referenced_group()?;
        let neighbours = &inv.live.neighbours;
        if inv.live_groups.contains_key(target)
            || neighbours.group(target).is_some()
            || rule.peer_via_peering
        {
            return None;
        }
        // Only a reference that is gone needs its group's scope.
        let (group_account, group_region) = inv.group_scope(group_id);
        let account = rule.peer_account.as_deref().or(group_account);
        let gone = inv.coverage.may_report_missing(account, group_region)
            || neighbours.complete_at(account, group_region);
        gone.then(|| target.to_string())
    };
    // Where a live rule exists it is the truth: a declared twin cannot say more
    // (Terraform never records across which peering or account a reference goes).
    let target = match live {
        Some(live) => dangles(live)?,
        None => dangles(&declared?.rule)?,
    };
    let subject = declared.map(|d| &d.rule).or(live)?;
    let owner = declared.map_or_else(Owner::none, |d| d.owner.clone());
    let readers: Vec<String> = inv
        .reads
        .get(target.as_str())
        .into_iter()
        .flatten()
        .map(|r| r.reader.label())
        .collect();
    let read_note = if readers.is_empty() {
        String::new()
    } else {
        format!(" (read by {})", readers.join(", "))
    };
    let message = format!(
        "{}: {} references {target}{read_note}, which does not exist; traffic through this rule is blocked",
        inv.group_label(&subject.group_id),
        subject.label(),
    );
    Some(inv.finding(rule_spec(
        FindingCode::ReferenceDangling,
        owner,
        declared.map(|d| &d.rule),
        live,
        message,
    )))
}

/// A finding when a live rule of a group that something carries allows a group that
/// exists but that no read network interface carries: the rule lets nothing through.
/// Judged only where the interfaces of both groups' places were read; a group's
/// reference to itself, or across a peering, is not judged.
pub fn empty(inv: &Inventory, declared: Option<&DeclaredRule>, live: &Rule) -> Option<Finding> {
    let target = live.peer.referenced_group()?;
    let group_id = live.group_id.as_str();
    if target == group_id || live.peer_via_peering {
        return None;
    }
    let carried_by = inv.carriers.get(group_id)?;
    // A group that does not exist is `reference-dangling`.
    let (target_carried, read_there) = carriage(inv, target)?;
    if target_carried {
        return None;
    }
    let (account, region) = inv.group_scope(group_id);
    let read_here = inv.coverage.interfaces_read(account, region);
    if !(read_here && read_there) {
        return None;
    }
    let carriers: Vec<&str> = carried_by.iter().map(String::as_str).collect();
    let message = format!(
        "{} (carried by {}): {} allows {}, which no network interface carries; \
         traffic through this rule reaches nothing",
        inv.group_label(group_id),
        carriers.join(", "),
        live.label(),
        inv.group_label(target),
    );
    let owner = declared.map_or_else(Owner::none, |d| d.owner.clone());
    Some(inv.finding(rule_spec(
        FindingCode::ReferenceEmpty,
        owner,
        declared.map(|d| &d.rule),
        Some(live),
        message,
    )))
}

/// Whether something carries a live group, and whether the interfaces of its place
/// were read (else not carrying proves nothing): from this scan where it read the
/// group, else from the stored snapshot of the group's scope. `None`: not live.
fn carriage(inv: &Inventory, group_id: &str) -> Option<(bool, bool)> {
    if let Some(group) = inv.live_groups.get(group_id) {
        let read = inv
            .coverage
            .interfaces_read(group.account_id.as_deref(), group.region.as_deref());
        return Some((inv.carriers.contains_key(group_id), read));
    }
    let carried_by = inv.live.neighbours.group(group_id)?.carried_by.as_ref();
    Some((
        carried_by.is_some_and(|c| !c.is_empty()),
        carried_by.is_some(),
    ))
}

pub fn dependency_hidden(inv: &Inventory) -> Vec<Finding> {
    let mut findings = Vec::new();
    // Few states read groups through data sources: ask the (small) reads first.
    if inv.reads.is_empty() {
        return findings;
    }
    // The keys beside the rules say which reference a group without reading
    // the (scattered) rules themselves.
    for keyed in inv.declared.values().flatten() {
        let Some(target) = keyed.key.referenced_group() else {
            continue;
        };
        let rule = keyed.item;
        let Some(read) = inv
            .reads
            .get(target)
            .into_iter()
            .flatten()
            .find(|r| r.reader.location == rule.owner.location)
        else {
            continue;
        };
        if inv.is_managed(target) {
            continue;
        }
        let message = format!(
            "{}: {} ({}) depends on {}, which this state only reads through {}; \
             deleting that group elsewhere breaks the rule and no plan of this state shows it",
            inv.group_label(&rule.rule.group_id),
            rule.rule.label(),
            rule.owner.address.as_deref().unwrap_or("?"),
            inv.group_label(target),
            read.reader.address.as_deref().unwrap_or("a data source"),
        );
        findings.push(inv.finding(rule_spec(
            FindingCode::DependencyHidden,
            rule.owner.clone(),
            Some(&rule.rule),
            None,
            message,
        )));
    }
    findings
}
