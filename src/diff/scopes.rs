//! `scope-unscanned`: declared groups and rules in an account/region that no live
//! source of this scan read. Not drift, and never silent: they were not compared.

use std::collections::BTreeMap;

use super::context::Inventory;
use super::options::DiffOptions;
use crate::model::{Finding, FindingCode, Scope, Subject};

/// An account and region, each unknown where the source does not say.
type Place<'a> = (Option<&'a str>, Option<&'a str>);

/// What one unread account/region holds.
#[derive(Debug, Default)]
struct Unread {
    groups: usize,
    rules: usize,
}

/// The findings, and how many declared rules were not compared.
pub struct Unscanned {
    pub findings: Vec<Finding>,
    pub rules: usize,
}

pub fn check(inv: &Inventory, options: &DiffOptions) -> Unscanned {
    let mut unread: BTreeMap<Scope, Unread> = BTreeMap::new();
    for owners in inv.managed.values() {
        let group = &owners[0].group;
        // A group seen in a capture naming no account was seen, but nothing proves
        // where: it counts as not compared too.
        let place = (group.account_id.as_deref(), group.region.as_deref());
        if inv.coverage.unscanned(place.0, place.1) {
            unread.entry(scope_of(place)).or_default().groups += 1;
        }
    }
    // Rules come group by group, most of a group's in one place: asking coverage
    // once per run of one place keeps this off the 100k-rule diff's profile.
    let mut last: Option<(Place, bool)> = None;
    for ((group_id, _), rules) in &inv.declared {
        let group_place = inv.group_scope(group_id);
        for declared in rules.iter().map(|d| d.item) {
            let place = match (declared.account_id.as_deref(), declared.region.as_deref()) {
                (None, None) => group_place,
                own => own,
            };
            let unread_here = match last {
                Some((seen, answer)) if seen == place => answer,
                _ => inv.coverage.unscanned(place.0, place.1),
            };
            last = Some((place, unread_here));
            if unread_here {
                unread.entry(scope_of(place)).or_default().rules += 1;
            }
        }
    }
    let rules = unread.values().map(|u| u.rules).sum();
    let findings = unread
        .into_iter()
        .filter(|(scope, _)| {
            scope
                .region
                .as_ref()
                .is_none_or(|r| !options.regions_read_elsewhere.contains(r))
        })
        .map(|(scope, counts)| finding(&scope, &counts))
        .collect();
    Unscanned { findings, rules }
}

fn scope_of((account, region): Place) -> Scope {
    Scope {
        account_id: account.map(str::to_string),
        region: region.map(str::to_string),
    }
}

fn finding(scope: &Scope, counts: &Unread) -> Finding {
    let place = scope.label();
    let fix = match &scope.region {
        Some(region) => format!("add --region {region} (or it to [scan] regions)"),
        None => "add its region".to_string(),
    };
    let message = format!(
        "{} declared group{} and {} declared rule{} in {place} were not compared: no live source read that account and region; {fix}",
        counts.groups,
        plural(counts.groups),
        counts.rules,
        plural(counts.rules),
    );
    Finding::about(
        Subject {
            code: FindingCode::ScopeUnscanned,
            account_id: scope.account_id.clone(),
            region: scope.region.clone(),
            kind: "scope".to_string(),
            id: place,
            key: "scope".to_string(),
        },
        message,
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
