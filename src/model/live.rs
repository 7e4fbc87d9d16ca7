//! What live sources (AWS, captured files) say exists, and what they covered.

use std::collections::{BTreeMap, BTreeSet};

use super::group::{Scope, SecurityGroup};
use super::interface::NetworkInterface;
use super::neighbours::Neighbours;
use super::rule::Rule;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveView {
    pub groups: Vec<SecurityGroup>,
    pub rules: Vec<Rule>,
    /// The (account, region) pairs that were read completely. Nothing outside them
    /// may be reported missing.
    pub scopes: Vec<Scope>,
    /// Every network interface of `interface_scopes`.
    pub interfaces: Vec<NetworkInterface>,
    /// The (account, region) pairs whose network interfaces were read completely:
    /// only there may a group be said to be carried by nothing.
    pub interface_scopes: Vec<Scope>,
    /// The CIDRs of the managed prefix lists the live rules name, where they were
    /// read (only for `[[flow]]`s); a list absent here is unresolved.
    pub prefix_lists: BTreeMap<String, Vec<ipnet::IpNet>>,
    /// The security groups of the declared load balancers ELBv2 describes, by
    /// `app/<name>/<id>` (sorted).
    pub load_balancers: BTreeMap<String, Vec<String>>,
    /// Groups of other scopes that these rules reference, as the latest stored scan
    /// of their scope saw them: filled for a scope of a run split by scope
    /// (`scan::scopes`), empty otherwise.
    pub neighbours: Neighbours,
}

impl LiveView {
    pub fn extend(&mut self, other: LiveView) {
        self.groups.extend(other.groups);
        self.rules.extend(other.rules);
        self.interfaces.extend(other.interfaces);
        self.prefix_lists.extend(other.prefix_lists);
        self.load_balancers.extend(other.load_balancers);
        self.neighbours.looked.extend(other.neighbours.looked);
        self.neighbours.groups.extend(other.neighbours.groups);
        add_scopes(&mut self.scopes, other.scopes);
        add_scopes(&mut self.interface_scopes, other.interface_scopes);
    }

    /// What carries each group: the distinct carriers of the interfaces using it,
    /// sorted; an ECS service with its number of tasks (`ecs service prod/front
    /// (3 tasks)`). A group no read interface uses is absent.
    pub fn carriers(&self) -> BTreeMap<&str, BTreeSet<String>> {
        let mut counted: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
        for interface in &self.interfaces {
            for group in &interface.groups {
                *counted
                    .entry(group.as_str())
                    .or_default()
                    .entry(interface.carrier())
                    .or_default() += 1;
            }
        }
        counted
            .into_iter()
            .map(|(group, carriers)| {
                let labels = carriers.into_iter().map(|(label, interfaces)| {
                    match (label.starts_with("ecs service "), interfaces) {
                        (true, 1) => format!("{label} (1 task)"),
                        (true, n) => format!("{label} ({n} tasks)"),
                        (false, _) => label,
                    }
                });
                (group, labels.collect())
            })
            .collect()
    }
}

fn add_scopes(scopes: &mut Vec<Scope>, more: Vec<Scope>) {
    for scope in more {
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
}
