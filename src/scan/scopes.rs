//! A run split by scope (account × region), for `serve` replicas sharing one
//! database: the states are fetched once per run and planned from (where their
//! declarations live), their text kept on disk (`terraform::StateText`); then each
//! scope streams its own part of them, is read,
//! diffed against what lives there, stored and resolved on its own
//! (`run_scope_and_store`), so that a process holds one scope's declarations and
//! live data at a time, a failed scope holds back no other, and replicas can share
//! a run's scopes. Stacks are read once per run, whole.
//!
//! A run is split only where that gives the findings a whole scan would give:
//! every declaration says where it lives (a group without an ARN could live in any
//! scope, and each would call it missing), and no `[[flow]]` is configured (its
//! two ends may live in two scopes), and every declaration lives in a scope read
//! (what lives elsewhere is a `scope-unscanned` finding of a whole scan, which no
//! scope would raise). Otherwise the run is scanned whole.
//!
//! A rule allowing a group of another scope is judged from the latest stored scan
//! of that scope (`model::Neighbours`), never from its absence in this one.

use std::collections::{BTreeMap, BTreeSet};

use aws_config::SdkConfig;
use tracing::{Instrument, info_span, warn};

use super::{
    HeldState, Read, Reading, Scan, ScanPlan, judge, live_source_for, read_intent, scan_id,
    sdk_for, store_scan,
};
use crate::aws::ApiCalls;
use crate::model::{Intent, LiveView, Neighbours, Scope};
use crate::sources::ec2::Ec2Plan;
use crate::sources::live::LiveSource;
use crate::sources::{SourceKind, SourceStatus};
use crate::store::{Store, StoreError};

/// A run's intent, read once, and the scopes to read it against.
pub struct ScopedRun {
    /// The plan, with the regions the intent lives in where it named none.
    plan: ScanPlan,
    sdk: SdkConfig,
    /// The states' text: each scope reads what lives there, so that a replica
    /// never holds every scope's declarations at once.
    states: Vec<HeldState>,
    /// Every stack's declarations (stacks are read per run, not per scope).
    stacks: Intent,
    /// How reading the states and stacks went: part of every scope's scan.
    intent_sources: Vec<SourceStatus>,
    /// Every account × region, in the order of the config.
    pub scopes: Vec<Scope>,
}

/// Why a run is scanned whole rather than by scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unsplit {
    #[error("the live side is captured files, not AWS")]
    NotAws,
    #[error("[[flow]]s are configured, and a flow's two ends may live in two scopes")]
    Flows,
    #[error(
        "some declarations do not say which account or region they live in (a state without ARNs)"
    )]
    Unplaced,
    #[error("no region to read: none given, and the intent names none")]
    NoRegion,
    #[error(
        "some declarations live where no scope reads (another account or region): they are said to be unscanned by a whole scan"
    )]
    Outside,
}

/// Loads the intent and splits the run into its scopes, where that gives the
/// findings of a whole scan.
pub async fn split(plan: &ScanPlan) -> Result<ScopedRun, Unsplit> {
    if !plan.live.needs_aws() {
        return Err(Unsplit::NotAws);
    }
    if !plan.options.flows.is_empty() {
        return Err(Unsplit::Flows);
    }
    let sdk = sdk_for(plan).await.ok_or(Unsplit::NotAws)?;
    // The calls that read the intent are not any scope's: logged by the sources.
    // Only where the states' declarations live is kept from this first reading.
    let read = read_intent(plan, Some(&sdk), &ApiCalls::default(), Reading::Planning).await;
    let places = read.places;
    let LiveSource::Aws(ec2) = live_source_for(plan, &places, Some(&sdk)) else {
        return Err(Unsplit::NotAws);
    };
    let accounts: Vec<Option<String>> = match ec2.accounts.is_empty() {
        true => vec![None],
        false => ec2.accounts.iter().map(|a| Some(a.id.clone())).collect(),
    };
    if !places.are_placed(accounts.len()) {
        return Err(Unsplit::Unplaced);
    }
    if ec2.regions.is_empty() {
        return Err(Unsplit::NoRegion);
    }
    let scopes = accounts
        .iter()
        .flat_map(|account| {
            ec2.regions.iter().map(|region| Scope {
                account_id: account.clone(),
                region: Some(region.clone()),
            })
        })
        .collect::<Vec<Scope>>();
    if !places.all_within(&scopes) {
        return Err(Unsplit::Outside);
    }
    let plan = ScanPlan {
        live: LiveSource::Aws(ec2),
        ..plan.clone()
    };
    Ok(ScopedRun {
        plan,
        sdk,
        states: read.held,
        stacks: read.intent,
        intent_sources: read.sources,
        scopes,
    })
}

impl ScopedRun {
    /// How long the whole run may take (`[scan] timeout`).
    pub fn deadline(&self) -> std::time::Duration {
        self.plan.limits.deadline
    }

    /// The plan of one scope: its account and region only.
    fn plan_of(&self, scope: &Scope) -> ScanPlan {
        let LiveSource::Aws(ec2) = &self.plan.live else {
            unreachable!("a run is split only when it reads AWS")
        };
        let ec2 = Ec2Plan {
            accounts: ec2
                .accounts
                .iter()
                .filter(|a| scope.account_id.as_deref() == Some(a.id.as_str()))
                .cloned()
                .collect(),
            regions: scope.region.iter().cloned().collect(),
            ..ec2.clone()
        };
        ScanPlan {
            live: LiveSource::Aws(ec2),
            ..self.plan.clone()
        }
    }

    /// What lives in `scope`: its part of each state, read again, and of the
    /// stacks.
    fn intent_of(&self, scope: &Scope) -> (Intent, Vec<SourceStatus>) {
        let mut intent = self.stacks.within(scope);
        let mut sources = self.intent_sources.clone();
        for state in &self.states {
            match state.text.within(&state.location, scope) {
                Ok(part) => intent.extend(part),
                // The same text read when the run began: never expected.
                Err(error) => {
                    let status = sources
                        .iter_mut()
                        .find(|s| s.kind == SourceKind::Terraform && s.location == state.location);
                    if let Some(status) = status {
                        *status = SourceStatus::failed(
                            SourceKind::Terraform,
                            &state.location,
                            error.to_string(),
                        );
                    }
                }
            }
        }
        (intent, sources)
    }
}

/// Reads one scope, compares it with the intent that lives there, and stores it
/// as that scope's scan (see `scan::run_and_store`).
pub async fn run_scope_and_store(
    run: &ScopedRun,
    scope: &Scope,
    store: &Store,
    retain_days: u32,
    routing: &crate::notify::Routing,
) -> (Scan, Result<(), StoreError>) {
    let started_at = chrono::Utc::now();
    let id = scan_id(&started_at);
    let label = scope.label();
    let calls = ApiCalls::default();
    let plan = run.plan_of(scope);
    let (intent, mut sources) = run.intent_of(scope);
    let live_source = plan.live.clone().for_intent(&intent, false);
    let (mut live, live_sources) = live_source
        .read(Some(&run.sdk), &calls)
        .instrument(info_span!("scan", scan.id = %id, scan.scope = %label))
        .await;
    // A reference into another scope is judged from that scope's latest stored
    // scan. Unread, it would be judged from nothing: the scope is not stored, and
    // is tried again, rather than resolve a finding that still holds.
    let wanted = referenced_elsewhere(scope, &live, &intent, &run.scopes);
    let unread = match store.neighbours(&wanted).await {
        Ok(neighbours) => {
            tell_unjudged(&label, &neighbours);
            live.neighbours = neighbours;
            None
        }
        Err(e) => Some(e),
    };
    sources.extend(live_sources);
    let read = Read {
        id,
        started_at,
        sdk: Some(run.sdk.clone()),
        intent,
        live,
        sources,
        calls,
    };
    let scan = judge(&plan, read, chrono::Utc::now, Some(store)).await;
    match unread {
        Some(e) => (scan, Err(e)),
        None => store_scan(scan, Some(scope), store, retain_days, routing).await,
    }
}

/// The groups that rules of `here` reference in another of `scopes`, by the scope
/// they may live in. A live reference names its owner's account
/// (`UserIdGroupPairs[].UserId`), and (outside a peering, which is never judged) the
/// region is its own. A declared reference to a group not live here names no
/// account (Terraform keeps the group id only): every other scope of the region is
/// asked, as a whole scan would have found it in any of them.
pub fn referenced_elsewhere(
    here: &Scope,
    live: &LiveView,
    intent: &Intent,
    scopes: &[Scope],
) -> BTreeMap<Scope, BTreeSet<String>> {
    let mut wanted: BTreeMap<Scope, BTreeSet<String>> = BTreeMap::new();
    let elsewhere = scopes
        .iter()
        .filter(|s| *s != here && s.region == here.region);
    for rule in live.rules.iter().filter(|r| !r.peer_via_peering) {
        let (Some(target), Some(account)) = (rule.peer.referenced_group(), &rule.peer_account)
        else {
            continue;
        };
        if let Some(there) = elsewhere
            .clone()
            .find(|s| s.account_id.as_ref() == Some(account))
        {
            wanted
                .entry(there.clone())
                .or_default()
                .insert(target.to_string());
        }
    }
    let live_here: BTreeSet<&str> = live.groups.iter().map(|g| g.id.as_str()).collect();
    let declared = intent.rules.iter().map(|d| &d.rule);
    for rule in declared.filter(|r| !r.peer_via_peering) {
        let Some(target) = rule.peer.referenced_group() else {
            continue;
        };
        if live_here.contains(target) {
            continue;
        }
        for there in elsewhere.clone() {
            wanted
                .entry(there.clone())
                .or_default()
                .insert(target.to_string());
        }
    }
    wanted
}

/// Logs the scopes referenced from `label` that no stored scan has read yet (the
/// first run split by scope, before they are stored): references into them are
/// judged by the next run.
fn tell_unjudged(label: &str, neighbours: &Neighbours) {
    for looked in neighbours.looked.iter().filter(|l| l.scan_id.is_none()) {
        warn!(
            scope = %label,
            referenced = %looked.scope.label(),
            "rules here reference groups of a scope no stored scan has read yet: not judged until one has"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DeclaredRule, Direction, Owner, Peer, Protocol, Rule, SecurityGroup};

    fn scope(account: &str, region: &str) -> Scope {
        Scope {
            account_id: Some(account.into()),
            region: Some(region.into()),
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
    fn references_are_looked_up_where_they_may_live() {
        let scopes = [
            scope("111111111111", "eu-west-1"),
            scope("222222222222", "eu-west-1"),
            scope("333333333333", "eu-west-1"),
            scope("222222222222", "us-east-1"),
        ];
        let live = LiveView {
            groups: vec![SecurityGroup::new("sg-live-here")],
            rules: vec![
                allowing("sg-there", Some("222222222222"), false),
                allowing("sg-same", Some("111111111111"), false),
                allowing("sg-unsaid", None, false),
                allowing("sg-peered", Some("222222222222"), true),
                allowing("sg-unread", Some("444444444444"), false),
            ],
            ..LiveView::default()
        };
        let declared = |target: &str| DeclaredRule {
            rule: allowing(target, None, false),
            owner: Owner::terraform("s.tfstate", "aws_security_group.here".to_string()),
            inline: true,
            account_id: Some("111111111111".into()),
            region: Some("eu-west-1".into()),
        };
        let intent = Intent {
            rules: vec![declared("sg-live-here"), declared("sg-declared")],
            ..Intent::default()
        };
        let wanted = referenced_elsewhere(&scopes[0], &live, &intent, &scopes);
        let ids = |ids: &[&str]| ids.iter().map(|id| id.to_string()).collect();
        let expected: BTreeMap<Scope, BTreeSet<String>> = BTreeMap::from([
            (scopes[1].clone(), ids(&["sg-declared", "sg-there"])),
            (scopes[2].clone(), ids(&["sg-declared"])),
        ]);
        assert_eq!(wanted, expected);
    }
}
