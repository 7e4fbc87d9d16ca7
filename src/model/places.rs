//! Where declarations live, without the declarations. A run is planned from it
//! (the regions to read where none are given, whether it can be split by scope),
//! so that a replica of a run split by scope can read only the declarations of
//! the scope it scans and still know where the others live.

use std::collections::BTreeSet;

use super::group::Scope;
use super::intent::Intent;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Places {
    /// Every (account, region) some declaration names, each `None` where unsaid.
    all: BTreeSet<(Option<String>, Option<String>)>,
    /// The regions of the declared and read groups and of the declared rules.
    regions: BTreeSet<String>,
    /// Some declared or read group names no region (a state without ARNs).
    unplaced_groups: bool,
    /// How many groups and rules are declared, kept or not.
    groups: usize,
    rules: usize,
}

impl Places {
    pub fn of(intent: &Intent) -> Places {
        let owned = |(account, region): (Option<&str>, Option<&str>)| {
            (account.map(str::to_string), region.map(str::to_string))
        };
        let groups = intent.groups.iter().map(|g| g.group.region.as_deref());
        let reads = intent.reads.iter().map(|r| r.region.as_deref());
        let rules = intent.rules.iter().map(|r| r.region.as_deref());
        // Few distinct places among many declarations: deduplicated borrowed first.
        let all: BTreeSet<(Option<&str>, Option<&str>)> = intent.places().collect();
        let regions: BTreeSet<&str> = groups
            .clone()
            .chain(reads.clone())
            .chain(rules)
            .flatten()
            .collect();
        Places {
            all: all.into_iter().map(owned).collect(),
            regions: regions.into_iter().map(str::to_string).collect(),
            unplaced_groups: groups.chain(reads).any(|region| region.is_none()),
            groups: intent.groups.len(),
            rules: intent.rules.len(),
        }
    }

    pub fn extend(&mut self, other: Places) {
        self.all.extend(other.all);
        self.regions.extend(other.regions);
        self.unplaced_groups |= other.unplaced_groups;
        self.groups += other.groups;
        self.rules += other.rules;
    }

    pub fn groups(&self) -> usize {
        self.groups
    }

    pub fn rules(&self) -> usize {
        self.rules
    }

    /// The regions the declared and read groups and the declared rules live in
    /// (from their ARNs), sorted.
    pub fn regions(&self) -> Vec<String> {
        self.regions.iter().cloned().collect()
    }

    /// Whether some declared or read group names no region (a state without ARNs).
    pub fn has_unplaced_groups(&self) -> bool {
        self.unplaced_groups
    }

    /// Whether every declaration says where it lives: its region, and its account
    /// where `accounts` (more than one) are read. Only then can a run be split by
    /// scope, each scope comparing what lives there and nothing else.
    pub fn are_placed(&self, accounts: usize) -> bool {
        self.iter()
            .all(|(account, region)| region.is_some() && (accounts <= 1 || account.is_some()))
    }

    /// Whether every declaration lives where one of `scopes` reads.
    pub fn all_within(&self, scopes: &[Scope]) -> bool {
        self.iter()
            .all(|(account, region)| scopes.iter().any(|s| s.covers(account, region)))
    }

    fn iter(&self) -> impl Iterator<Item = (Option<&str>, Option<&str>)> {
        self.all
            .iter()
            .map(|(account, region)| (account.as_deref(), region.as_deref()))
    }
}
