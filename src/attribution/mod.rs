//! Who changed it: each finding that is new, changed or recurred (or whose event
//! CloudTrail had not delivered yet) is tied to the CloudTrail event that made it.
//!
//! Per account and region, in parallel: one `LookupEvents` per group the findings
//! concern (`ResourceName`), in the window since the last scan without the drift;
//! then, for findings still unmatched, one per event name whose records may not
//! list the group (`EventName`). Each scope's calls are paced under CloudTrail's
//! 2 a second. The answer is kept with the finding, and never asked for again.
//!
//! Attribution is enrichment: a CloudTrail that cannot be read leaves `changed_by`
//! absent and says so in a `cloudtrail` source status, which does not make the
//! scan partial.

mod history;
pub mod matching;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use aws_config::{Region, SdkConfig};
use chrono::Duration;
use tokio::task::JoinSet;
use tracing::{info, warn};

use crate::aws::ApiCalls;
use crate::model::{
    Attribution, CarrierRef, Direction, Finding, FindingCode, FlowEnds, Timestamp, TrailEvent,
};
use crate::progress::Step;
use crate::sources::accounts::{Account, account_configs};
use crate::sources::cloudtrail::{Attribute, Trail};
use crate::sources::{SourceKind, SourceStatus};
pub use history::{AttributionHistory, Prior};

/// How late CloudTrail may deliver an event: until then, no event is "pending".
pub const DELIVERY_ALLOWANCE: Duration = Duration::minutes(15);
/// How far back `LookupEvents` reaches.
pub const RETENTION: Duration = Duration::days(90);
/// The most one scope's lookups may take (at CloudTrail's 2 a second, about 570
/// calls); a scan's deadline is 30 minutes by default.
pub const SCOPE_BUDGET: std::time::Duration = std::time::Duration::from_secs(300);

/// One finding to look up, and where in time.
#[derive(Debug, Clone)]
struct Need {
    finding: Finding,
    start: Timestamp,
    /// When a scan first saw this drift, if before this one.
    first_seen: Option<Timestamp>,
}

/// Sets `changed_by` on `findings`: kept answers from history, and lookups for
/// the rest. Returns one `cloudtrail` status per account and region looked in.
pub async fn attribute(
    sdk: &SdkConfig,
    accounts: &[Account],
    findings: &mut [Finding],
    history: &AttributionHistory,
    now: Timestamp,
    calls: &ApiCalls,
) -> Vec<SourceStatus> {
    let mut scopes: BTreeMap<(Option<String>, String), Vec<Need>> = BTreeMap::new();
    for finding in findings.iter_mut().filter(|f| f.code.is_attributed()) {
        let prior = history
            .priors
            .get(&finding.id)
            .cloned()
            .unwrap_or(Prior::LookUp {
                since: None,
                first_seen: None,
            });
        match prior {
            Prior::Keep(answer) => finding.changed_by = Some(answer),
            Prior::LookUp { since, first_seen } => {
                let Some(region) = finding.region.clone() else {
                    continue;
                };
                let start = parse(since.as_deref())
                    .unwrap_or(now - RETENTION)
                    .max(now - RETENTION);
                scopes
                    .entry((finding.account_id.clone(), region))
                    .or_default()
                    .push(Need {
                        finding: finding.clone(),
                        start,
                        first_seen: parse(first_seen.as_deref()),
                    });
            }
        }
    }
    if scopes.is_empty() {
        return Vec::new();
    }
    let step = Step::start(format!(
        "asking CloudTrail who made {} changes",
        scopes.values().map(Vec::len).sum::<usize>()
    ));
    let configs = account_configs(sdk, accounts, calls).await;
    let carriers = Arc::new(previous_carriers(findings, history));
    let mut tasks = JoinSet::new();
    for ((account, region), needs) in scopes {
        let config = if accounts.is_empty() {
            Some(Ok(sdk.clone()))
        } else {
            configs
                .iter()
                .find(|(id, _)| *id == account)
                .map(|(_, c)| c.clone())
        };
        let config = match config {
            Some(Ok(config)) => config
                .to_builder()
                .region(Region::new(region.clone()))
                .build(),
            Some(Err(error)) => {
                let status = scope_status(account, region, Some(error));
                tasks.spawn(async move { (Vec::new(), status) });
                continue;
            }
            // An account the config no longer names: nobody to ask as.
            None => continue,
        };
        let trail = Trail::new(&config, calls);
        let carriers = Arc::clone(&carriers);
        tasks.spawn(async move {
            // A CloudTrail that answers slowly, or not at all, must not hold the
            // scan back: past the budget the scope's changes wait for the next scan.
            let looked_up = attribute_scope(&trail, needs, now, &carriers);
            let (answers, error) = tokio::time::timeout(SCOPE_BUDGET, looked_up)
                .await
                .unwrap_or_else(|_| {
                    let budget = SCOPE_BUDGET.as_secs();
                    let error = format!(
                        "CloudTrail lookups took longer than {budget} s: the changes here are looked up on the next scan"
                    );
                    (Vec::new(), Some(error))
                });
            let status = scope_status(account, region, error);
            if let Some(error) = &status.error {
                warn!(location = %status.location, %error, "CloudTrail could not be read: changes there are not attributed");
            }
            (answers, status)
        });
    }
    let mut answers = HashMap::new();
    let mut statuses = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((found, status)) => {
                answers.extend(found);
                statuses.push(status);
            }
            // Enrichment only: a failed task leaves its scope's changes unattributed.
            Err(error) => warn!(%error, "an attribution task failed"),
        }
    }
    statuses.sort_by(|a, b| a.location.cmp(&b.location));
    let mut attributed = 0;
    for finding in findings.iter_mut() {
        if let Some(answer) = answers.remove(&finding.id) {
            attributed += usize::from(matches!(answer, Attribution::Found(_)));
            finding.changed_by = Some(answer);
        }
    }
    let failed = statuses.iter().filter(|s| !s.ok).count();
    match failed {
        0 => step.done(format_args!("{attributed} attributed")),
        n => step.done(format_args!(
            "{attributed} attributed; CloudTrail unreadable in {n} scopes"
        )),
    }
    info!(attributed, "attribution finished");
    statuses
}

/// What carried each group before this scan: history's labels, and the carriers an
/// `attachment-modified` says no longer carry a group IaC declares for them (all a
/// first scan knows of a detach).
fn previous_carriers(
    findings: &[Finding],
    history: &AttributionHistory,
) -> HashMap<String, Vec<String>> {
    let mut carriers = history.last_carriers.clone();
    let attachments = findings
        .iter()
        .filter(|f| f.code == FindingCode::AttachmentModified);
    for (carrier, dropped) in attachments.filter_map(matching::no_longer_carried) {
        for group in dropped {
            let labels = carriers.entry(group).or_default();
            let label = carrier.label();
            if !labels.contains(&label) {
                labels.push(label);
            }
        }
    }
    carriers
}

/// A broken flow has no event of its own: it takes the answer of the latest change
/// found at its ends (`matching::at_ends`); pending while one of those changes is
/// (the newest change may be the one CloudTrail has not delivered). A flow with no
/// change at its ends is left unattributed.
pub fn attribute_flows(findings: &mut [Finding], flow_ends: &BTreeMap<String, FlowEnds>) {
    let answers: Vec<(usize, Attribution)> = findings
        .iter()
        .enumerate()
        .filter(|(_, f)| f.code == FindingCode::FlowBroken)
        .filter_map(|(i, flow)| {
            let ends = flow_ends.get(&flow.id)?;
            let causes: Vec<&Attribution> = findings
                .iter()
                .filter(|f| matching::at_ends(f, ends))
                .filter_map(|f| f.changed_by.as_ref())
                .collect();
            let latest = causes
                .iter()
                .filter_map(|a| a.changed_by())
                .max_by(|a, b| a.time.cmp(&b.time));
            let answer = match latest {
                _ if causes.contains(&&Attribution::Pending) => Attribution::Pending,
                Some(by) => Attribution::Found(by.clone()),
                None if !causes.is_empty() => Attribution::NotFound,
                None => return None,
            };
            Some((i, answer))
        })
        .collect();
    for (i, answer) in answers {
        findings[i].changed_by = Some(answer);
    }
}

/// The `cloudtrail` entry of `scan.sources` for one account and region.
fn scope_status(account: Option<String>, region: String, error: Option<String>) -> SourceStatus {
    let location = format!("{}/{region}", account.as_deref().unwrap_or("default"));
    let status = match error {
        None => SourceStatus::ok(SourceKind::Cloudtrail, &location),
        Some(e) => SourceStatus::failed(SourceKind::Cloudtrail, &location, e),
    };
    SourceStatus {
        account_id: account,
        region: Some(region),
        ..status
    }
}

/// Looks up one scope's needs; stops at the first error (CloudTrail denied or
/// down here), leaving what it could not look up unanswered.
async fn attribute_scope(
    trail: &Trail,
    needs: Vec<Need>,
    now: Timestamp,
    carriers: &HashMap<String, Vec<String>>,
) -> (Vec<(String, Attribution)>, Option<String>) {
    let mut fetched: HashMap<Attribute, Vec<TrailEvent>> = HashMap::new();
    let mut answers: HashMap<String, Attribution> = HashMap::new();
    // Lookups that left older events unread: "no event" is not known there.
    let mut truncated: BTreeSet<Attribute> = BTreeSet::new();
    // First what lists the groups, then, for what is still unmatched, event names.
    for round in [Round::Primary, Round::Fallback] {
        let open: Vec<&Need> = needs
            .iter()
            .filter(|n| !answers.contains_key(&n.finding.id))
            .collect();
        let mut wanted: BTreeMap<Attribute, Timestamp> = BTreeMap::new();
        for need in &open {
            for attribute in lookups(&need.finding, carriers, round) {
                let start = wanted.entry(attribute).or_insert(need.start);
                *start = (*start).min(need.start);
            }
        }
        for (attribute, start) in wanted {
            if fetched.contains_key(&attribute) {
                continue;
            }
            match trail.lookup(&attribute, start, now).await {
                Ok(lookup) => {
                    if !lookup.complete {
                        truncated.insert(attribute.clone());
                    }
                    fetched.insert(attribute, lookup.events);
                }
                Err(error) => return (answers.into_iter().collect(), Some(error)),
            }
        }
        for need in open {
            let events = fetched.values().flatten();
            if let Some(event) =
                matching::latest(&need.finding, events, (need.start, now), carriers)
            {
                answers.insert(
                    need.finding.id.clone(),
                    Attribution::Found(event.changed_by()),
                );
            }
        }
    }
    for need in &needs {
        let unread = [Round::Primary, Round::Fallback]
            .into_iter()
            .flat_map(|round| lookups(&need.finding, carriers, round))
            .any(|attribute| truncated.contains(&attribute));
        // Left unanswered (absent), it is looked up again on the next scan.
        if !unread {
            answers
                .entry(need.finding.id.clone())
                .or_insert_with(|| unanswered(need, now));
        }
    }
    (answers.into_iter().collect(), None)
}

/// No event yet: pending while CloudTrail may still deliver it (the drift was
/// first seen less than 15 minutes ago), else nothing was found.
fn unanswered(need: &Need, now: Timestamp) -> Attribution {
    match need.first_seen {
        Some(first_seen) if now - first_seen >= DELIVERY_ALLOWANCE => Attribution::NotFound,
        _ => Attribution::Pending,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Round {
    Primary,
    Fallback,
}

/// The lookups that can find the event behind `finding`: first by the group it
/// concerns, then by the names of calls whose records may not list that group.
fn lookups(
    finding: &Finding,
    carriers: &HashMap<String, Vec<String>>,
    round: Round,
) -> Vec<Attribute> {
    let names = |names: &[&str]| {
        names
            .iter()
            .map(|n| Attribute::EventName(n.to_string()))
            .collect()
    };
    let by_group = || {
        finding
            .resource
            .group_id
            .iter()
            .map(|g| Attribute::ResourceName(g.clone()))
            .collect()
    };
    match (finding.code, round) {
        (FindingCode::AttachmentModified, Round::Primary) => {
            let resource = &finding.resource;
            match resource
                .id
                .as_deref()
                .and_then(|id| CarrierRef::from_resource(&resource.kind, id))
            {
                Some(carrier) => carrier_calls(&carrier)
                    .into_iter()
                    .map(|n| Attribute::EventName(n.into()))
                    .collect(),
                None => Vec::new(),
            }
        }
        (FindingCode::ReferenceEmpty, Round::Primary) => {
            let empty = finding
                .actual
                .as_ref()
                .and_then(|r| r.peer.referenced_group());
            let labels = empty.and_then(|g| carriers.get(g)).into_iter().flatten();
            let calls: BTreeSet<&str> = labels.map(|l| label_call(l)).collect();
            calls
                .into_iter()
                .map(|n| Attribute::EventName(n.into()))
                .collect()
        }
        (FindingCode::AttachmentModified | FindingCode::ReferenceEmpty, Round::Fallback) => {
            Vec::new()
        }
        (_, Round::Primary) => by_group(),
        (FindingCode::RuleAdded | FindingCode::RuleRemoved, Round::Fallback) => {
            names(&["ModifySecurityGroupRules"])
        }
        (FindingCode::RuleModified, Round::Fallback) => match finding.direction {
            Some(Direction::Egress) => names(&[
                "ModifySecurityGroupRules",
                "UpdateSecurityGroupRuleDescriptionsEgress",
            ]),
            _ => names(&[
                "ModifySecurityGroupRules",
                "UpdateSecurityGroupRuleDescriptionsIngress",
            ]),
        },
        (FindingCode::SgModified, Round::Fallback) => names(&["CreateTags", "DeleteTags"]),
        (FindingCode::SgMissing, Round::Fallback) => names(&["DeleteSecurityGroup"]),
        (FindingCode::SgUnmanaged, Round::Fallback) => names(&["CreateSecurityGroup"]),
        (_, Round::Fallback) => Vec::new(),
    }
}

/// The calls that set a carrier's groups.
fn carrier_calls(carrier: &CarrierRef) -> Vec<&'static str> {
    match carrier {
        CarrierRef::LoadBalancer(_) => vec!["SetSecurityGroups"],
        CarrierRef::Interface(_) => vec!["ModifyNetworkInterfaceAttribute"],
        CarrierRef::Instance(_) => vec!["ModifyInstanceAttribute"],
        CarrierRef::EcsService(_) => vec!["UpdateService"],
        // Lambda's interfaces follow its function configuration, which is not read.
        CarrierRef::Lambda(_) => Vec::new(),
    }
}

/// The call that detaches a group from the carrier a history label names.
fn label_call(label: &str) -> &'static str {
    if label.starts_with("ELB ") {
        "SetSecurityGroups"
    } else if label.starts_with("ecs service ") {
        "UpdateService"
    } else if label.starts_with("instance ") {
        "ModifyInstanceAttribute"
    } else {
        "ModifyNetworkInterfaceAttribute"
    }
}

fn parse(time: Option<&str>) -> Option<Timestamp> {
    chrono::DateTime::parse_from_rfc3339(time?)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}
