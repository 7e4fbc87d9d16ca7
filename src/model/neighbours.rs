//! Groups of other scopes, as the latest stored scan of their scope saw them. A run
//! split by scope reads one account × region at a time, yet a rule may allow a group
//! of another account (`UserIdGroupPairs[].UserId`): whether that group still exists,
//! and whether anything carries it, is judged from what was last stored of its
//! scope, never guessed from its absence here.

use std::collections::{BTreeMap, BTreeSet};

use super::group::{Scope, SecurityGroup};
use super::rule::Rule;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Neighbours {
    /// Each scope looked in, and what answered there.
    pub looked: Vec<Looked>,
    /// The referenced groups found there, by id.
    pub groups: BTreeMap<String, Neighbour>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Looked {
    pub scope: Scope,
    /// The latest stored scan that read there; `None` while none has.
    pub scan_id: Option<String>,
    /// That scan read the scope completely: a group absent from it is gone.
    pub complete: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Neighbour {
    pub group: SecurityGroup,
    /// What carries the group (empty: nothing), where that scan read its scope's
    /// network interfaces; `None` where it did not.
    pub carried_by: Option<Vec<String>>,
}

impl Neighbours {
    pub fn group(&self, group_id: &str) -> Option<&Neighbour> {
        self.groups.get(group_id)
    }

    /// Whether a group of `account`/`region` absent from the stored snapshot is gone.
    pub fn read_completely(&self, account: Option<&str>, region: Option<&str>) -> bool {
        self.looked
            .iter()
            .any(|l| l.complete && l.scope.covers(account, region))
    }
}

/// The groups that `rules` (read in `here`) reference in another of
/// `scopes`, by the scope they live in: a reference names the owning account, and
/// (outside a peering, which is never judged) the region is the rule's own.
pub fn referenced_elsewhere(
    here: &Scope,
    rules: &[Rule],
    scopes: &[Scope],
) -> BTreeMap<Scope, BTreeSet<String>> {
    let mut wanted: BTreeMap<Scope, BTreeSet<String>> = BTreeMap::new();
    for rule in rules.iter().filter(|r| !r.peer_via_peering) {
        let (Some(target), Some(account)) = (rule.peer.referenced_group(), &rule.peer_account)
        else {
            continue;
        };
        if here.account_id.as_ref() == Some(account) {
            continue;
        }
        let there = Scope {
            account_id: Some(account.clone()),
            region: here.region.clone(),
        };
        if scopes.contains(&there) {
            wanted.entry(there).or_default().insert(target.to_string());
        }
    }
    wanted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Direction, Peer, Protocol};

    fn scope(account: &str) -> Scope {
        Scope {
            account_id: Some(account.into()),
            region: Some("eu-west-1".into()),
        }
    }

    fn allowing(target: &str, account: Option<&str>, via_peering: bool) -> Rule {
        Rule {
            peer_account: account.map(str::to_string),
            peer_via_peering: via_peering,
            ..Rule::new(
                "sg-here",
                Direction::Ingress,
                Protocol::Tcp,
                Some(443),
                Some(443),
                Peer::SecurityGroup(target.into()),
                None,
            )
            .expect("a valid rule")
        }
    }

    #[test]
    fn only_references_into_another_scope_of_the_run_are_wanted() {
        let rules = [
            allowing("sg-there", Some("222222222222"), false),
            allowing("sg-same", Some("111111111111"), false),
            allowing("sg-unsaid", None, false),
            allowing("sg-peered", Some("222222222222"), true),
            allowing("sg-unread", Some("333333333333"), false),
        ];
        let scopes = [scope("111111111111"), scope("222222222222")];
        let wanted = referenced_elsewhere(&scopes[0], &rules, &scopes);
        let expected = BTreeMap::from([(
            scope("222222222222"),
            BTreeSet::from(["sg-there".to_string()]),
        )]);
        assert_eq!(wanted, expected);
    }

    #[test]
    fn absence_is_judged_only_where_the_stored_scan_was_complete() {
        let neighbours = Neighbours {
            looked: vec![
                Looked {
                    scope: scope("222222222222"),
                    scan_id: Some("s1".into()),
                    complete: true,
                },
                Looked {
                    scope: scope("333333333333"),
                    scan_id: Some("s2".into()),
                    complete: false,
                },
            ],
            groups: BTreeMap::new(),
        };
        let region = Some("eu-west-1");
        assert!(neighbours.read_completely(Some("222222222222"), region));
        assert!(!neighbours.read_completely(Some("333333333333"), region));
        assert!(!neighbours.read_completely(Some("222222222222"), Some("us-east-1")));
    }
}
