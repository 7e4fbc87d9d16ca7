//! What a scan read, and therefore what it may call missing, removed, unowned or
//! resolved: driftd's central correctness rule, decided here and nowhere else.
//!
//! The diff asks before it reports an absence (`may_report_missing`) or calls a rule
//! nobody declares (`intent_complete`, `stack_rules_known`); the finding lifecycle
//! asks before it resolves a finding this scan did not raise again (`may_resolve`).
//! Both answer from the same facts: each source's outcome (`SourceStatus`) and the
//! live scopes read completely.

use std::collections::BTreeSet;

use crate::model::{Finding, FindingCode, Intent, LiveView, OwnerKind, Scope, overlaps};
use crate::sources::cloudformation::ALL_STACKS;
use crate::sources::{SourceKind, SourceStatus};

/// What one scan looked at.
#[derive(Debug, Clone)]
pub struct Coverage<'a> {
    sources: &'a [SourceStatus],
    scopes: &'a [Scope],
    /// Where every network interface was read: what carries each group is known.
    interface_scopes: &'a [Scope],
    /// Groups of stacks whose drift results were not read: the rules nobody
    /// declares on them were not judged (see `unjudged_stack_groups`).
    unjudged_groups: BTreeSet<String>,
    intent_incomplete: bool,
    live_gaps_unknown: bool,
    stack_without_drift: bool,
}

impl<'a> Coverage<'a> {
    /// From the live view's scopes: what the live sources read completely.
    pub fn new(intent: &Intent, live: &'a LiveView, sources: &'a [SourceStatus]) -> Coverage<'a> {
        Coverage::from_parts(
            sources,
            &live.scopes,
            &live.interface_scopes,
            unjudged_stack_groups(intent, sources),
        )
    }

    pub fn from_parts(
        sources: &'a [SourceStatus],
        scopes: &'a [Scope],
        interface_scopes: &'a [Scope],
        unjudged_groups: BTreeSet<String>,
    ) -> Coverage<'a> {
        Coverage {
            sources,
            scopes,
            interface_scopes,
            unjudged_groups,
            intent_incomplete: sources.iter().any(SourceStatus::leaves_intent_unknown),
            live_gaps_unknown: sources
                .iter()
                .any(|s| s.kind == SourceKind::LiveFile && !s.ok),
            stack_without_drift: sources.iter().any(|s| {
                s.kind == SourceKind::Cloudformation
                    && s.location != ALL_STACKS
                    && s.ownership_read
                    && !s.drift_read
            }),
        }
    }

    /// Every source of intent was read (or at least what it owns): something nobody
    /// declares may be called unowned, and an extra rule on a managed group added.
    pub fn intent_complete(&self) -> bool {
        !self.intent_incomplete
    }

    /// Some live source failed without saying what it would have covered: a
    /// declared rule missing from a group that was read may be in it.
    pub fn live_gaps_unknown(&self) -> bool {
        self.live_gaps_unknown
    }

    /// Every stack whose resources were read also had its drift results read: what
    /// its standalone ingress/egress resources declare is known.
    pub fn stack_rules_known(&self) -> bool {
        !self.stack_without_drift
    }

    /// Whether absence in `account`/`region` proves deletion: that scope was read,
    /// and no live source failed without saying what it covered.
    pub fn may_report_missing(&self, account: Option<&str>, region: Option<&str>) -> bool {
        !self.live_gaps_unknown && scopes_cover(self.scopes, account, region)
    }

    /// Whether every network interface of `account`/`region` was read, so that a
    /// group there that none of them uses is carried by nothing.
    pub fn interfaces_read(&self, account: Option<&str>, region: Option<&str>) -> bool {
        scopes_cover(self.interface_scopes, account, region)
            && !self.live_failed_at(account, region)
            && !self.sources.iter().any(|s| {
                !s.ok && s.kind == SourceKind::NetworkInterfaces && source_at(s, account, region)
            })
    }

    /// Whether the tasks of the ECS services of `account`/`region` were read, so
    /// that a service with none has none.
    pub fn ecs_read(&self, account: Option<&str>, region: Option<&str>) -> bool {
        !self
            .sources
            .iter()
            .any(|s| !s.ok && s.kind == SourceKind::Ecs && source_at(s, account, region))
    }

    /// Whether every source was read: only then is something that cannot be found
    /// (a flow's endpoint) known not to exist.
    pub fn nothing_failed(&self) -> bool {
        !self.sources.iter().any(SourceStatus::holds_back)
    }

    /// Whether a live source read `account`/`region` completely.
    pub fn live_read(&self, account: Option<&str>, region: Option<&str>) -> bool {
        scopes_cover(self.scopes, account, region)
    }

    /// Whether something declared in `account`/`region` was not compared because no
    /// live source read that place (a live source that failed there is a
    /// `source-error` instead).
    pub fn unscanned(&self, account: Option<&str>, region: Option<&str>) -> bool {
        !scopes_cover(self.scopes, account, region) && !self.live_failed_at(account, region)
    }

    /// Whether a live source that failed may have held `account`/`region`.
    fn live_failed_at(&self, account: Option<&str>, region: Option<&str>) -> bool {
        self.sources
            .iter()
            .any(|s| !s.ok && s.kind.reads_groups() && source_at(s, account, region))
    }

    /// Whether a group in `account`/`region` that nobody saw is gone for certain:
    /// every source read, and that place among the scopes read (`driftd refs`).
    pub fn read_in_full(&self, account: Option<&str>, region: Option<&str>) -> bool {
        !self.sources.iter().any(SourceStatus::holds_back)
            && scopes_cover(self.scopes, account, region)
    }

    /// Whether this scan read everything `finding` depends on, so that its absence
    /// means the drift is gone.
    pub fn may_resolve(&self, finding: &Finding) -> bool {
        if finding.code == FindingCode::SourceError {
            // A source that still fails raises the same finding again.
            return true;
        }
        let on_unjudged_group = finding
            .resource
            .group_id
            .as_ref()
            .is_some_and(|g| self.unjudged_groups.contains(g));
        if finding.code == FindingCode::RuleAdded && on_unjudged_group {
            return false;
        }
        let (account, region) = (finding.account_id.as_deref(), finding.region.as_deref());
        // Its account and region were read, and no live source of them failed.
        let place_read =
            scopes_cover(self.scopes, account, region) && !self.live_failed_at(account, region);
        // A finding about what carries the groups needs the carriers read too.
        let carriers_read =
            !finding.code.judges_carriers() || self.interfaces_read(account, region);
        let owner_read = match finding.owner.kind {
            // Unowned findings are not computed at all while a source of intent is
            // unread; nor is an owner conflict, whose other owner may be that source.
            OwnerKind::None => !self.intent_incomplete,
            _ if finding.code == FindingCode::OwnerConflict => !self.intent_incomplete,
            _ => self.owner_read(finding, account, region),
        };
        place_read && carriers_read && owner_read
    }

    /// Whether the finding's owner was read in full: its own source (a state, or the
    /// stack of that name in that account and region, with drift results for a
    /// `cfn-drift`), or, for a stack that no longer exists, a `*` listing of the
    /// stacks of that account and region.
    fn owner_read(&self, finding: &Finding, account: Option<&str>, region: Option<&str>) -> bool {
        let in_place = |s: &&SourceStatus| s.kind.is_intent() && source_at(s, account, region);
        let location = finding.owner.location.as_deref();
        let own: Vec<&SourceStatus> = self
            .sources
            .iter()
            .filter(in_place)
            .filter(|s| Some(s.location.as_str()) == location)
            .collect();
        if !own.is_empty() {
            // What a stack's drift results told is gone only where they were read.
            let from_drift_results = finding.code == FindingCode::CfnDrift
                || (finding.code == FindingCode::AttachmentModified
                    && finding.owner.kind == OwnerKind::Cloudformation);
            return own
                .iter()
                .any(|s| s.ok && (!from_drift_results || s.drift_read));
        }
        finding.owner.kind == OwnerKind::Cloudformation
            && self
                .sources
                .iter()
                .filter(in_place)
                .any(|s| s.ok && s.kind == SourceKind::Cloudformation && s.location == ALL_STACKS)
    }
}

/// Whether a live source with these complete scopes read `account`/`region`, so
/// that a thing of that place it did not see is gone (also what history may call
/// removed between two scans).
pub fn scopes_cover(scopes: &[Scope], account: Option<&str>, region: Option<&str>) -> bool {
    scopes.iter().any(|s| s.covers(account, region))
}

/// The groups a stack owns whose drift results this scan did not read (detection
/// off, failed or timed out): a `rule-added` on them cannot be told gone.
fn unjudged_stack_groups(intent: &Intent, sources: &[SourceStatus]) -> BTreeSet<String> {
    intent
        .groups
        .iter()
        .filter(|g| g.owner.kind == OwnerKind::Cloudformation)
        .filter(|g| {
            !sources.iter().any(|s| {
                s.kind == SourceKind::Cloudformation
                    && s.drift_read
                    && g.owner.location.as_deref() == Some(s.location.as_str())
                    && source_at(s, g.group.account_id.as_deref(), g.group.region.as_deref())
            })
        })
        .map(|g| g.group.id.clone())
        .collect()
}

/// Whether `source` may have read `account`/`region`.
fn source_at(source: &SourceStatus, account: Option<&str>, region: Option<&str>) -> bool {
    overlaps(source.account_id.as_deref(), account) && overlaps(source.region.as_deref(), region)
}
