//! The finding lifecycle, without I/O: given what history knows and what this scan
//! found, decide each finding's status, `first_seen` and what happened to it.
//!
//! - seen now, unknown before → `new`;
//! - seen now, open before → `ongoing`, `first_seen` kept (`changed` if its values moved);
//! - seen now, resolved before → `new` again, new `first_seen`, `recurred`;
//! - open before, not seen now → `resolved`, but only where this scan read every
//!   source the finding depends on (`crate::coverage`): a partial scan, or one of
//!   fewer regions or states, resolves nothing it did not look at.

use std::collections::{HashMap, HashSet};

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::coverage::Coverage;
use crate::model::{Event, Finding, FindingStatus};

use super::snapshot::Hash;

/// A finding as history knows it.
#[derive(Debug, Clone)]
pub struct Known {
    pub finding: Finding,
    pub recurrences: i64,
    pub fingerprint: Hash,
}

/// What to write for one finding; `event` is `None` for a finding that simply
/// persists.
#[derive(Debug, Clone)]
pub struct Update {
    pub finding: Finding,
    pub recurrences: i64,
    pub fingerprint: Hash,
    pub resolved_at: Option<String>,
    pub event: Option<Event>,
}

/// `current` are this scan's findings; `known` every finding history holds.
/// Returns one update per finding of this scan (in its order), then one per
/// finding this scan resolved (by id). `now` is the scan's finish time.
pub fn advance(
    known: Vec<Known>,
    current: Vec<Finding>,
    coverage: &Coverage,
    now: &str,
) -> Vec<Update> {
    let mut known: HashMap<String, Known> = known
        .into_iter()
        .map(|k| (k.finding.id.clone(), k))
        .collect();
    let seen: HashSet<String> = current.iter().map(|f| f.id.clone()).collect();
    let mut updates = Vec::with_capacity(current.len());

    for mut finding in current {
        let fingerprint = fingerprint(&finding);
        let previous = known.remove(&finding.id);
        let (event, recurrences) = match &previous {
            None => {
                finding.status = FindingStatus::New;
                finding.first_seen = Some(now.to_string());
                (Some(Event::New), 0)
            }
            Some(k) if k.finding.status == FindingStatus::Resolved => {
                finding.status = FindingStatus::New;
                finding.first_seen = Some(now.to_string());
                finding.recurred = true;
                (Some(Event::Recurred), k.recurrences + 1)
            }
            Some(k) => {
                finding.status = FindingStatus::Ongoing;
                finding.first_seen = k.finding.first_seen.clone();
                finding.recurred = k.finding.recurred;
                let changed = k.fingerprint != fingerprint;
                (changed.then_some(Event::Changed), k.recurrences)
            }
        };
        finding.last_seen = Some(now.to_string());
        updates.push(Update {
            finding,
            recurrences,
            fingerprint,
            resolved_at: None,
            event,
        });
    }

    let mut gone: Vec<Known> = known
        .into_values()
        .filter(|k| k.finding.status != FindingStatus::Resolved)
        .filter(|k| !seen.contains(&k.finding.id) && coverage.may_resolve(&k.finding))
        .collect();
    gone.sort_by(|a, b| a.finding.id.cmp(&b.finding.id));
    for k in gone {
        let mut finding = k.finding;
        finding.status = FindingStatus::Resolved;
        updates.push(Update {
            finding,
            recurrences: k.recurrences,
            fingerprint: k.fingerprint,
            resolved_at: Some(now.to_string()),
            event: Some(Event::Resolved),
        });
    }
    updates
}

/// What the finding says, without when it was seen: a change here is worth telling.
pub fn fingerprint(finding: &Finding) -> Hash {
    let values = json!({
        "severity": finding.severity,
        "expected": finding.expected,
        "actual": finding.actual,
        "changes": finding.changes,
        "owner": finding.owner,
        "acknowledged": finding.acknowledged,
    });
    Sha256::digest(values.to_string().as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::model::{FindingCode, Owner, ResourceRef, Scope, Severity};
    use crate::sources::cloudformation::ALL_STACKS;
    use crate::sources::{SourceKind, SourceStatus};

    fn finding(id: &str, region: &str, owner: Owner) -> Finding {
        Finding {
            id: id.to_string(),
            code: FindingCode::RuleModified,
            severity: Severity::High,
            status: FindingStatus::New,
            account_id: Some("111111111111".into()),
            region: Some(region.into()),
            resource: ResourceRef {
                kind: "security_group_rule".into(),
                id: None,
                group_id: Some("sg-1".into()),
                group_name: None,
                vpc_id: None,
            },
            owner,
            direction: None,
            expected: None,
            actual: None,
            changes: vec![],
            message: "m".into(),
            first_seen: None,
            last_seen: None,
            acknowledged: None,
            recurred: false,
            group_owner: None,
            changed_by: None,
        }
    }

    fn tf(id: &str, region: &str) -> Finding {
        finding(
            id,
            region,
            Owner::terraform("prod.tfstate", "aws_security_group.a".into()),
        )
    }

    fn known(f: &Finding, status: FindingStatus, first_seen: &str) -> Known {
        let mut finding = f.clone();
        finding.status = status;
        finding.first_seen = Some(first_seen.into());
        Known {
            fingerprint: fingerprint(&finding),
            finding,
            recurrences: 0,
        }
    }

    /// A live source that read every account and region.
    static EVERYWHERE: [Scope; 1] = [Scope {
        account_id: None,
        region: None,
    }];

    fn cov(sources: &[SourceStatus]) -> Coverage<'_> {
        Coverage::from_parts(sources, &EVERYWHERE, &EVERYWHERE, BTreeSet::new())
    }

    fn ok() -> Vec<SourceStatus> {
        vec![SourceStatus::ok(SourceKind::Terraform, "prod.tfstate")]
    }

    fn by_id<'a>(updates: &'a [Update], id: &str) -> &'a Update {
        updates.iter().find(|u| u.finding.id == id).unwrap()
    }

    #[test]
    fn a_stack_finding_is_resolved_only_where_that_stack_was_read_in_full() {
        let owner = Owner {
            kind: crate::model::OwnerKind::Cloudformation,
            location: Some("prod-network".into()),
            address: Some("AlbSecurityGroup".into()),
        };
        let drift = Finding {
            code: FindingCode::CfnDrift,
            ..finding("c", "us-east-1", owner)
        };
        let stack = |region: &str, ok: bool| SourceStatus {
            region: Some(region.to_string()),
            ownership_read: true,
            drift_read: ok,
            ..if ok {
                SourceStatus::ok(SourceKind::Cloudformation, "prod-network")
            } else {
                SourceStatus::failed(
                    SourceKind::Cloudformation,
                    "prod-network",
                    "timed out".into(),
                )
            }
        };
        assert!(cov(&[stack("us-east-1", true)]).may_resolve(&drift));
        // Its detection failed: the drift may still be there.
        assert!(!cov(&[stack("us-east-1", false)]).may_resolve(&drift));
        // A stack of the same name elsewhere says nothing about this one.
        assert!(!cov(&[stack("eu-west-1", true), stack("us-east-1", false)]).may_resolve(&drift));
        // A failed detection hides no ownership: unowned findings still resolve.
        let unowned = finding("u", "us-east-1", Owner::none());
        assert!(cov(&[stack("us-east-1", false)]).may_resolve(&unowned));
        // Ownership read without drift detection (`detect_drift = false`).
        let ownership_only = SourceStatus {
            drift_read: false,
            ..stack("us-east-1", true)
        };
        assert!(!cov(&[ownership_only]).may_resolve(&drift));
        // The stack is gone: a `*` listing of its account and region that no
        // longer holds it resolves its findings; one of another region does not.
        let listing = |region: &str| SourceStatus {
            region: Some(region.to_string()),
            ..SourceStatus::ok(SourceKind::Cloudformation, ALL_STACKS)
        };
        assert!(cov(&[listing("us-east-1")]).may_resolve(&drift));
        assert!(!cov(&[listing("eu-west-1")]).may_resolve(&drift));
        // A rule nobody declares on a group whose stack was not judged stays open.
        let added = Finding {
            code: FindingCode::RuleAdded,
            resource: ResourceRef {
                group_id: Some("sg-alb".into()),
                ..finding("a", "us-east-1", Owner::none()).resource
            },
            ..finding("a", "us-east-1", Owner::none())
        };
        let unjudged: BTreeSet<String> = ["sg-alb".to_string()].into();
        let sources = [stack("us-east-1", false)];
        let coverage = Coverage::from_parts(&sources, &EVERYWHERE, &EVERYWHERE, unjudged);
        assert!(!coverage.may_resolve(&added));
        assert!(cov(&sources).may_resolve(&added));
    }

    #[test]
    fn new_then_ongoing_keeps_first_seen() {
        let a = tf("a", "eu-west-1");
        let first = advance(vec![], vec![a.clone()], &cov(&ok()), "T1");
        assert_eq!(first[0].finding.status, FindingStatus::New);
        assert_eq!(first[0].event, Some(Event::New));
        assert_eq!(first[0].finding.first_seen.as_deref(), Some("T1"));

        let history = vec![known(&a, FindingStatus::New, "T1")];
        let second = advance(history, vec![a], &cov(&ok()), "T2");
        let u = &second[0];
        assert_eq!(u.finding.status, FindingStatus::Ongoing);
        assert_eq!(u.event, None);
        assert_eq!(u.finding.first_seen.as_deref(), Some("T1"));
        assert_eq!(u.finding.last_seen.as_deref(), Some("T2"));
    }

    #[test]
    fn changed_values_are_an_event() {
        let a = tf("a", "eu-west-1");
        let mut moved = a.clone();
        moved.severity = Severity::Critical;
        let updates = advance(
            vec![known(&a, FindingStatus::Ongoing, "T1")],
            vec![moved],
            &cov(&ok()),
            "T2",
        );
        assert_eq!(updates[0].event, Some(Event::Changed));
        assert_eq!(updates[0].finding.status, FindingStatus::Ongoing);
    }

    #[test]
    fn gone_in_a_complete_scan_is_resolved_once() {
        let a = tf("a", "eu-west-1");
        let updates = advance(
            vec![known(&a, FindingStatus::Ongoing, "T1")],
            vec![],
            &cov(&ok()),
            "T2",
        );
        assert_eq!(updates.len(), 1);
        assert_eq!(updates[0].finding.status, FindingStatus::Resolved);
        assert_eq!(updates[0].resolved_at.as_deref(), Some("T2"));
        assert_eq!(updates[0].finding.first_seen.as_deref(), Some("T1"));

        // Already resolved: nothing more to say.
        let again = advance(
            vec![known(&a, FindingStatus::Resolved, "T1")],
            vec![],
            &cov(&ok()),
            "T3",
        );
        assert!(again.is_empty());
    }

    #[test]
    fn resolved_then_back_is_new_and_recurred() {
        let a = tf("a", "eu-west-1");
        let updates = advance(
            vec![known(&a, FindingStatus::Resolved, "T1")],
            vec![a],
            &cov(&ok()),
            "T5",
        );
        let u = &updates[0];
        assert_eq!(u.finding.status, FindingStatus::New);
        assert!(u.finding.recurred);
        assert_eq!(u.event, Some(Event::Recurred));
        assert_eq!(u.recurrences, 1);
        assert_eq!(u.finding.first_seen.as_deref(), Some("T5"));
    }

    #[test]
    fn a_partial_scan_resolves_only_what_it_read() {
        let west = tf("west", "eu-west-1");
        let east = tf("east", "us-east-1");
        let other_state = finding(
            "other",
            "eu-west-1",
            Owner::terraform("other.tfstate", "aws_security_group.b".into()),
        );
        let unowned = finding("unowned", "eu-west-1", Owner::none());
        let mut region_down = SourceStatus::failed(SourceKind::Ec2, "east", "503".into());
        region_down.region = Some("us-east-1".into());
        let state_down = SourceStatus::failed(SourceKind::Terraform, "other.tfstate", "x".into());
        let sources = vec![
            SourceStatus::ok(SourceKind::Terraform, "prod.tfstate"),
            region_down,
            state_down,
        ];
        let history = [&west, &east, &other_state, &unowned]
            .into_iter()
            .map(|f| known(f, FindingStatus::Ongoing, "T1"))
            .collect();
        let updates = advance(history, vec![], &cov(&sources), "T2");
        let resolved: Vec<&str> = updates.iter().map(|u| u.finding.id.as_str()).collect();
        assert_eq!(resolved, vec!["west"]);
        assert_eq!(by_id(&updates, "west").event, Some(Event::Resolved));
    }

    #[test]
    fn source_errors_resolve_when_the_source_reads_again() {
        let mut error = tf("source-error-x", "eu-west-1");
        error.code = FindingCode::SourceError;
        let mut down = SourceStatus::failed(SourceKind::Ec2, "other", "x".into());
        down.region = Some("eu-west-1".into());
        let updates = advance(
            vec![known(&error, FindingStatus::Ongoing, "T1")],
            vec![],
            &cov(&[down]),
            "T2",
        );
        assert_eq!(updates[0].finding.status, FindingStatus::Resolved);
    }

    #[test]
    fn a_narrower_scan_resolves_nothing_outside_what_it_read() {
        let west = tf("west", "eu-west-1");
        let east = tf("east", "us-east-1");
        let elsewhere = finding(
            "elsewhere",
            "us-east-1",
            Owner::terraform("not-in-this-scan.tfstate", "aws_security_group.c".into()),
        );
        let history = [&west, &east, &elsewhere]
            .into_iter()
            .map(|f| known(f, FindingStatus::Ongoing, "T1"))
            .collect();
        let east_only = [Scope {
            account_id: Some("111111111111".into()),
            region: Some("us-east-1".into()),
        }];
        let sources = ok();
        let coverage = Coverage::from_parts(&sources, &east_only, &east_only, BTreeSet::new());
        let updates = advance(history, vec![], &coverage, "T2");
        let resolved: Vec<&str> = updates.iter().map(|u| u.finding.id.as_str()).collect();
        assert_eq!(resolved, vec!["east"]);
    }

    #[test]
    fn an_owner_conflict_waits_for_every_state() {
        let mut conflict = tf("conflict", "eu-west-1");
        conflict.code = FindingCode::OwnerConflict;
        let sources = vec![
            SourceStatus::ok(SourceKind::Terraform, "prod.tfstate"),
            SourceStatus::failed(SourceKind::Terraform, "other.tfstate", "x".into()),
        ];
        let history = vec![known(&conflict, FindingStatus::Ongoing, "T1")];
        assert!(advance(history, vec![], &cov(&sources), "T2").is_empty());
    }

    #[test]
    fn a_new_acknowledgement_is_a_change() {
        let a = tf("a", "eu-west-1");
        let mut acknowledged = a.clone();
        acknowledged.acknowledged = Some(crate::model::Acknowledged {
            reason: "OPS-1".into(),
            expires: None,
        });
        let updates = advance(
            vec![known(&a, FindingStatus::Ongoing, "T1")],
            vec![acknowledged],
            &cov(&ok()),
            "T2",
        );
        assert_eq!(updates[0].event, Some(Event::Changed));
    }
}
