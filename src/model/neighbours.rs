//! Groups of other scopes, as the latest stored scan of their scope saw them. A run
//! split by scope reads one account × region at a time, yet a rule may allow a group
//! of another account (`UserIdGroupPairs[].UserId`): whether that group still exists,
//! and whether anything carries it, is judged from what was last stored of its
//! scope, never guessed from its absence here.

use std::collections::BTreeMap;

use super::group::{Scope, SecurityGroup};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Neighbours {
    /// Each scope looked in, and what answered there.
    pub looked: Vec<LookedScope>,
    /// The referenced groups found there, by id.
    pub groups: BTreeMap<String, Neighbour>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LookedScope {
    pub scope: Scope,
    /// The latest stored scan that read the scope completely, else the latest that
    /// read it at all; `None` while none has.
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
    pub fn complete_at(&self, account: Option<&str>, region: Option<&str>) -> bool {
        self.looked
            .iter()
            .any(|l| l.complete && l.scope.covers(account, region))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(account: &str) -> Scope {
        Scope {
            account_id: Some(account.into()),
            region: Some("eu-west-1".into()),
        }
    }

    #[test]
    fn absence_is_judged_only_where_the_stored_scan_was_complete() {
        let neighbours = Neighbours {
            looked: vec![
                LookedScope {
                    scope: scope("222222222222"),
                    scan_id: Some("s1".into()),
                    complete: true,
                },
                LookedScope {
                    scope: scope("333333333333"),
                    scan_id: Some("s2".into()),
                    complete: false,
                },
            ],
            groups: BTreeMap::new(),
        };
        let region = Some("eu-west-1");
        assert!(neighbours.complete_at(Some("222222222222"), region));
        assert!(!neighbours.complete_at(Some("333333333333"), region));
        assert!(!neighbours.complete_at(Some("222222222222"), Some("us-east-1")));
    }
}
