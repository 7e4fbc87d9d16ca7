//! References across scopes (`model::Neighbours`): a run split by scope diffs each
//! account × region on its own, and judges a rule allowing a group of another
//! account from what the latest stored scan of that account saw. Split so, the
//! diff gives exactly the findings (ids and messages) of one diff of everything.

use std::collections::BTreeSet;

use driftd::diff::DiffOutcome;
use driftd::model::{LookedScope, Neighbour, Neighbours, NetworkInterface, Scope};
use driftd::scan::referenced_elsewhere;

use super::*;

/// `ecs-front` in ACCOUNT allows 443 from `alb-public` in OTHER_ACCOUNT (a shared
/// VPC's or peered group, named with its owner as AWS does); each is carried, and
/// each account's interfaces were read.
fn two_accounts() -> World {
    let mut alb = managed(ALB, "alb-public", alb_owner());
    alb.group.account_id = Some(OTHER_ACCOUNT.to_string());
    let mut from_alb = tcp_in(FRONT, 443, 443, sg(ALB));
    from_alb.peer_account = Some(OTHER_ACCOUNT.to_string());
    let mut world = World::new()
        .managed_live(FRONT, "ecs-front", front_owner())
        .live_group(alb.group.clone())
        .group(alb)
        .both(from_alb, front_owner())
        .interface("eni-0f00", TASK_INTERFACE, &[FRONT]);
    world.live.scopes.push(scope(OTHER_ACCOUNT, REGION));
    carry(world, ALB)
}

/// The ALB's interface, in OTHER_ACCOUNT, using `group`.
fn carry(mut world: World, group: &str) -> World {
    world.live.interfaces.push(NetworkInterface {
        id: "eni-0a1b".to_string(),
        description: Some(ALB_INTERFACE.to_string()),
        groups: vec![group.to_string()],
        account_id: Some(OTHER_ACCOUNT.to_string()),
        region: Some(REGION.to_string()),
        ..NetworkInterface::default()
    });
    world
        .live
        .interface_scopes
        .push(scope(OTHER_ACCOUNT, REGION));
    world
}

/// What one scope's scan reads of `world`, and what it stores.
fn read_in(world: &World, here: &Scope) -> (World, DiffOutcome) {
    let there = |account: &Option<String>, region: &Option<String>| {
        here.covers(account.as_deref(), region.as_deref())
    };
    let mut part = world.clone();
    part.intent = world.intent.within(here);
    part.live.groups.retain(|g| there(&g.account_id, &g.region));
    let ids: BTreeSet<String> = part.live.groups.iter().map(|g| g.id.clone()).collect();
    part.live
        .rules
        .retain(|r| ids.contains(r.group_id.as_str()));
    part.live
        .interfaces
        .retain(|i| there(&i.account_id, &i.region));
    part.live.scopes.retain(|s| s == here);
    part.live.interface_scopes.retain(|s| s == here);
    let stored = part.diff();
    (part, stored)
}

/// Each scope of `world` diffed alone, references into the others judged from what
/// their scans stored (`complete`: whether those scans read their scope whole).
fn split(world: &World, complete: bool) -> Vec<Finding> {
    let scopes = world.live.scopes.clone();
    let reads: Vec<(World, DiffOutcome)> = scopes.iter().map(|s| read_in(world, s)).collect();
    let mut findings = Vec::new();
    for (here, (part, _)) in scopes.iter().zip(&reads) {
        let mut part = part.clone();
        let wanted = referenced_elsewhere(here, &part.live, &part.intent, &scopes);
        let mut neighbours = Neighbours::default();
        for (there, ids) in wanted {
            let (stored, outcome) = &reads[scopes.iter().position(|s| *s == there).unwrap()];
            for group in stored.live.groups.iter().filter(|g| ids.contains(&g.id)) {
                let carried_by = outcome.carriers.get(&group.id).cloned();
                let group = group.clone();
                neighbours
                    .groups
                    .insert(group.id.clone(), Neighbour { group, carried_by });
            }
            neighbours.looked.push(LookedScope {
                scope: there,
                scan_id: Some("scan-1".to_string()),
                complete,
            });
        }
        part.live.neighbours = neighbours;
        findings.extend(part.findings());
    }
    findings
}

/// (id, code, message) of each finding, once.
fn verdicts(findings: &[Finding]) -> BTreeSet<(String, FindingCode, String)> {
    findings
        .iter()
        .map(|f| (f.id.clone(), f.code, f.message.clone()))
        .collect()
}

#[test]
fn a_carried_group_of_another_account_is_no_finding_in_either_scope() {
    let world = two_accounts();
    let whole = world.diff();
    assert_eq!(whole.findings, vec![]);
    assert_eq!(whole.compared_groups, 2, "both accounts' groups compared");
    let scopes = world.live.scopes.clone();
    for here in &scopes {
        let (_, own) = read_in(&world, here);
        assert_eq!(own.compared_groups, 1, "{}: its own group", here.label());
    }
    assert_eq!(split(&world, true), vec![]);
}

#[test]
fn a_deleted_group_of_another_account_dangles_as_in_one_diff_of_both() {
    let mut world = two_accounts();
    world.live.groups.retain(|g| g.id != ALB);
    let whole = world.findings();
    let mut got = codes(&whole);
    got.sort();
    assert_eq!(
        got,
        [FindingCode::SgMissing, FindingCode::ReferenceDangling]
    );
    let dangling = only(&whole, FindingCode::ReferenceDangling);
    assert_eq!(dangling.resource.group_id.as_deref(), Some(FRONT));
    assert_eq!(
        dangling.message,
        format!(
            "ecs-front ({FRONT}): ingress tcp 443 from {ALB} references {ALB}, which does \
             not exist; traffic through this rule is blocked"
        )
    );
    assert_eq!(verdicts(&split(&world, true)), verdicts(&whole));
}

#[test]
fn a_detached_group_of_another_account_empties_the_rule_as_in_one_diff_of_both() {
    let mut world = two_accounts();
    world.live.interfaces.retain(|i| i.id != "eni-0a1b");
    let world = carry(world, SHARED);
    let whole = world.findings();
    let empty = only(&whole, FindingCode::ReferenceEmpty);
    assert_eq!(empty.resource.group_id.as_deref(), Some(FRONT));
    assert!(
        empty.message.contains(&format!(
            "allows alb-public ({ALB}), which no network interface carries"
        )),
        "{}",
        empty.message
    );
    assert_eq!(verdicts(&split(&world, true)), verdicts(&whole));
}

#[test]
fn where_the_other_scope_was_not_read_whole_its_absence_proves_nothing() {
    let mut world = two_accounts();
    world.live.groups.retain(|g| g.id != ALB);
    let findings = split(&world, false);
    // The deleted group's own scope still says it is missing; the reference into
    // it is not judged from a scan that did not read that scope whole.
    assert_codes(&findings, &[FindingCode::SgMissing]);
}

#[test]
fn a_removed_rule_allowing_a_group_of_another_account_does_not_dangle() {
    // Terraform keeps the group id only: the declared rule names no account, and
    // the rule is gone live. The group lives on in the other account.
    let mut world = two_accounts();
    world.live.rules.clear();
    for declared in &mut world.intent.rules {
        declared.rule.peer_account = None;
    }
    let whole = world.findings();
    assert_codes(&whole, &[FindingCode::RuleRemoved]);
    assert_eq!(verdicts(&split(&world, true)), verdicts(&whole));
}
