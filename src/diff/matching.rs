//! Pairs declared and live rules of one group and direction (DESIGN.md, "Matching
//! rules for a field-level diff"):
//!
//! 1. rules with the same identity (everything but description, id, tags) match;
//! 2. rules with the same `rule_id` match;
//! 3. the rest pair up when they share protocol and peer (ports changed) or protocol
//!    and ports (peer changed), one-to-one, fewest differing fields first;
//! 4. what is left is removed (declared only) or added (live only).

use std::collections::HashMap;

use crate::model::{DeclaredRule, Peer, Protocol, Rule};

use super::changes::rule_changes;

#[derive(Debug, Default)]
pub struct Matching<'a> {
    pub pairs: Vec<(&'a DeclaredRule, &'a Rule)>,
    pub removed: Vec<&'a DeclaredRule>,
    pub added: Vec<&'a Rule>,
}

/// `declared` and `live` must belong to one group and direction.
pub fn match_rules<'a>(
    mut declared: Vec<&'a DeclaredRule>,
    mut live: Vec<&'a Rule>,
) -> Matching<'a> {
    // Input order must not matter: sort by everything that distinguishes rules.
    declared.sort_by(|a, b| {
        (local_key(&a.rule), &a.rule.description, &a.owner).cmp(&(
            local_key(&b.rule),
            &b.rule.description,
            &b.owner,
        ))
    });
    live.sort_by(|a, b| {
        (local_key(a), &a.rule_id, &a.description).cmp(&(local_key(b), &b.rule_id, &b.description))
    });

    let mut live_taken = vec![false; live.len()];
    let mut declared_pair: Vec<Option<usize>> = vec![None; declared.len()];

    // 1. identical identity
    // Both sides are sorted by key: a merge pairs each declared rule with the first
    // live rule of its key not yet taken.
    let mut next = 0;
    for (d, rule) in declared.iter().enumerate() {
        let key = local_key(&rule.rule);
        while next < live.len() && local_key(live[next]) < key {
            next += 1;
        }
        if next < live.len() && local_key(live[next]) == key {
            live_taken[next] = true;
            declared_pair[d] = Some(next);
            next += 1;
        }
    }

    // 2. same rule id
    let by_id: HashMap<&str, usize> = live
        .iter()
        .enumerate()
        .filter(|(i, _)| !live_taken[*i])
        .filter_map(|(i, r)| r.rule_id.as_deref().map(|id| (id, i)))
        .collect();
    for (d, rule) in declared.iter().enumerate() {
        if declared_pair[d].is_some() {
            continue;
        }
        if let Some(&i) = rule.rule.rule_id.as_deref().and_then(|id| by_id.get(id))
            && !live_taken[i]
        {
            live_taken[i] = true;
            declared_pair[d] = Some(i);
        }
    }

    // 3. shared protocol and peer, or protocol and ports; fewest changes first
    let mut candidates = Vec::new();
    for (d, decl) in declared.iter().enumerate() {
        if declared_pair[d].is_some() {
            continue;
        }
        for (i, rule) in live.iter().enumerate() {
            if live_taken[i] || !related(&decl.rule, rule) {
                continue;
            }
            candidates.push((rule_changes(&decl.rule, rule).len(), d, i));
        }
    }
    candidates.sort_unstable();
    for (_, d, i) in candidates {
        if declared_pair[d].is_none() && !live_taken[i] {
            live_taken[i] = true;
            declared_pair[d] = Some(i);
        }
    }

    // 4. leftovers
    let mut matching = Matching::default();
    for (d, pair) in declared_pair.iter().enumerate() {
        match pair {
            Some(i) => matching.pairs.push((declared[d], live[*i])),
            None => matching.removed.push(declared[d]),
        }
    }
    matching.added = live
        .iter()
        .zip(&live_taken)
        .filter(|(_, taken)| !**taken)
        .map(|(rule, _)| *rule)
        .collect();
    matching
}

/// A rule's identity within its group and direction (`RuleKey` without them): all
/// that the rules given to `match_rules` can differ in, and no string to compare
/// but a referenced group's id.
fn local_key(rule: &Rule) -> (Protocol, Option<i32>, Option<i32>, &Peer) {
    (rule.protocol, rule.from_port, rule.to_port, &rule.peer)
}

fn related(a: &Rule, b: &Rule) -> bool {
    a.protocol == b.protocol
        && (a.peer == b.peer || (a.from_port == b.from_port && a.to_port == b.to_port))
}
