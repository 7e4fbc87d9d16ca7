//! One scan from end to end: read every source, diff, apply acknowledgements,
//! build the report. Sources that fail become `source-error` findings; the scan
//! goes on with what could be read.

use std::time::Duration;

use aws_config::SdkConfig;
use tracing::{Instrument, info, info_span, warn};

use crate::acknowledge::{self, Acknowledgement};
use crate::aws::{ApiCalls, Timeouts, load_sdk_config};
use crate::diff::{DiffInput, DiffOptions, diff};
use crate::model::{
    Event, Finding, FindingStatus, Intent, LiveView, Places, Scope, Timestamp, format_timestamp,
};
use crate::progress::Step;
use crate::report::{Compared, Report};
use crate::sources::cloudformation::{self, CloudFormationPlan};
use crate::sources::{SourceKind, SourceStatus, terraform};

pub use crate::sources::live::LiveSource;

mod scopes;

pub use scopes::{ScopedRun, Unsplit, referenced_elsewhere, run_scope_and_store, split};

#[derive(Debug, Clone)]
pub struct ScanPlan {
    /// Local paths or `s3://` URLs.
    pub states: Vec<String>,
    pub live: LiveSource,
    /// CloudFormation stacks: ownership and drift results.
    pub cloudformation: Option<CloudFormationPlan>,
    pub options: DiffOptions,
    pub acknowledgements: Vec<Acknowledgement>,
    pub limits: ScanLimits,
    /// Ask CloudTrail who made each change (`[cloudtrail] enabled`, default true);
    /// only where the live side is AWS itself.
    pub cloudtrail: bool,
}

/// How long a scan may take without `[scan] timeout`: above CloudFormation's default
/// drift timeout (10 minutes) and a slow read of many accounts, below any sensible
/// gap between scheduled runs.
pub const DEFAULT_SCAN_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// How long a scan, and each AWS call in it, may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanLimits {
    pub aws: Timeouts,
    /// The whole scan, storing included (`[scan] timeout`).
    pub deadline: Duration,
}

impl Default for ScanLimits {
    fn default() -> ScanLimits {
        ScanLimits {
            aws: Timeouts::default(),
            deadline: DEFAULT_SCAN_TIMEOUT,
        }
    }
}

/// A scan that passed its deadline: abandoned (stored whole, if its commit had
/// already begun, or not at all).
#[derive(Debug, thiserror::Error)]
#[error(
    "the scan did not finish within {}s ([scan] timeout) and was abandoned; a scan is stored whole or not at all",
    .0.as_secs()
)]
pub struct DeadlinePassed(pub Duration);

/// Runs `work` (a scan) within the plan's deadline; past it, `work` is dropped,
/// which rolls back a transaction it may hold.
pub async fn within_deadline<T>(
    plan: &ScanPlan,
    work: impl std::future::Future<Output = T>,
) -> Result<T, DeadlinePassed> {
    tokio::time::timeout(plan.limits.deadline, work)
        .await
        .map_err(|_| DeadlinePassed(plan.limits.deadline))
}

impl ScanPlan {
    fn needs_aws(&self) -> bool {
        self.live.needs_aws()
            || self.states.iter().any(|s| s.starts_with("s3://"))
            || self.stacks().is_some()
    }

    fn stacks(&self) -> Option<&CloudFormationPlan> {
        self.cloudformation
            .as_ref()
            .filter(|c| !c.stacks.is_empty())
    }
}

/// The SDK configuration, loaded once and only when a source needs AWS.
pub async fn sdk_for(plan: &ScanPlan) -> Option<SdkConfig> {
    if !plan.needs_aws() {
        return None;
    }
    let stack_regions = plan
        .stacks()
        .into_iter()
        .flat_map(|c| &c.stacks)
        .flat_map(|s| &s.regions);
    let first_region = plan
        .live
        .first_region()
        .or(stack_regions.clone().next().map(String::as_str));
    Some(load_sdk_config(first_region, plan.limits.aws).await)
}

/// How a run reads the states.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reading {
    /// Everything they declare, for one scan of everything.
    Whole,
    /// Only where their declarations live, their text kept for each scope to read
    /// its part (`ScopedRun`).
    Planning,
}

/// What the states and stacks say, as a run reads them.
#[derive(Default)]
struct IntentRead {
    /// The states' declarations (none when planning a run split by scope), and
    /// every stack's.
    intent: Intent,
    /// Where every declaration lives, kept or not.
    places: Places,
    sources: Vec<SourceStatus>,
    /// The text of the states that parsed, when planning.
    held: Vec<HeldState>,
}

/// A state's text, through a run split by scope: each scope reads its own part of
/// it, so that no replica holds every scope's declarations at once.
pub struct HeldState {
    pub location: String,
    pub text: terraform::StateText,
}

/// Reads each state once, as `reading` says.
async fn read_states(
    states: &[String],
    sdk: Option<&SdkConfig>,
    calls: &ApiCalls,
    reading: Reading,
) -> IntentRead {
    let mut read = IntentRead::default();
    for location in states {
        let span = info_span!("source", source.kind = "terraform", source.location = %location);
        let step = Step::start(format!("reading Terraform state {location}"));
        let result = async {
            match reading {
                Reading::Whole => {
                    let bytes = match (location.starts_with("s3://"), sdk) {
                        (true, Some(sdk)) => terraform::s3::fetch(sdk, location, calls).await?,
                        _ => terraform::read_state_file(location.as_ref())?,
                    };
                    let state = terraform::parse_state(location, &bytes)?;
                    let places = Places::of(&state);
                    Ok((state, places, None))
                }
                Reading::Planning => {
                    let text = terraform::StateText::fetch(location, sdk, calls).await?;
                    let (text, places) = text.places(location)?;
                    Ok::<_, terraform::StateError>((Intent::default(), places, Some(text)))
                }
            }
        }
        .instrument(span)
        .await;
        match result {
            Ok((state, places, text)) => {
                step.done(format_args!(
                    "{} groups, {} rules",
                    places.groups(),
                    places.rules()
                ));
                read.intent.extend(state);
                read.places.extend(places);
                read.sources
                    .push(SourceStatus::ok(SourceKind::Terraform, location));
                if let Some(text) = text {
                    read.held.push(HeldState {
                        location: location.clone(),
                        text,
                    });
                }
            }
            Err(error) => {
                step.failed(&error);
                read.sources.push(SourceStatus::failed(
                    SourceKind::Terraform,
                    location,
                    error.to_string(),
                ));
            }
        }
    }
    read
}

/// Reads intent and reality, as a scan does before diffing.
pub async fn collect(plan: &ScanPlan, calls: &ApiCalls) -> (Intent, LiveView, Vec<SourceStatus>) {
    collect_with(plan, sdk_for(plan).await.as_ref(), calls).await
}

/// [`collect`] with the SDK configuration loaded already.
async fn collect_with(
    plan: &ScanPlan,
    sdk: Option<&SdkConfig>,
    calls: &ApiCalls,
) -> (Intent, LiveView, Vec<SourceStatus>) {
    let IntentRead {
        intent,
        places,
        mut sources,
        ..
    } = read_intent(plan, sdk, calls, Reading::Whole).await;
    // Rule ids and tags only where the intent compares them (fewer calls), and the
    // tasks of the services it declares.
    let flows = !plan.options.flows.is_empty();
    let live_source = live_source_for(plan, &places, sdk).for_intent(&intent, flows);
    let (live, live_sources) = live_source.read(sdk, calls).await;
    sources.extend(live_sources);
    (intent, live, sources)
}

/// Reads the states (as `reading` says) and every stack.
async fn read_intent(
    plan: &ScanPlan,
    sdk: Option<&SdkConfig>,
    calls: &ApiCalls,
    reading: Reading,
) -> IntentRead {
    let mut read = read_states(&plan.states, sdk, calls, reading).await;
    if let (Some(stacks), Some(sdk)) = (plan.stacks(), sdk) {
        // Stacks without regions are read where the states live, as EC2 is.
        let stacks = stacks.defaulting_regions(&default_regions(&read.places, Some(sdk)));
        let (stack_intent, stack_sources) = cloudformation::scan(sdk, &stacks, calls).await;
        read.places.extend(Places::of(&stack_intent));
        read.intent.extend(stack_intent);
        read.sources.extend(stack_sources);
    }
    read
}

/// The regions to read where none were given (`--region`, `[scan] regions`): those
/// the intent lives in, and the SDK's default region while some group names none.
fn default_regions(places: &Places, sdk: Option<&SdkConfig>) -> Vec<String> {
    let mut regions = places.regions();
    if places.has_unplaced_groups()
        && let Some(region) = sdk.and_then(SdkConfig::region)
        && !regions.iter().any(|r| r == region.as_ref())
    {
        regions.push(region.to_string());
    }
    regions
}

/// The live source as the plan gives it, or with the intent's regions where it
/// names none (what `collect` reads, and `refs` searches for interfaces).
pub fn live_source_for(plan: &ScanPlan, places: &Places, sdk: Option<&SdkConfig>) -> LiveSource {
    match plan.live.defaulting_regions(&default_regions(places, sdk)) {
        Some(defaulted) => {
            if let LiveSource::Aws(ec2) = &defaulted {
                info!(regions = ?ec2.regions, "no region given: reading the regions the intent lives in");
            }
            defaulted
        }
        None => plan.live.clone(),
    }
}

/// A finished scan: its report, and the normalised views it was computed from
/// (what the store snapshots).
#[derive(Debug, Clone)]
pub struct Scan {
    pub report: Report,
    pub intent: Intent,
    pub live: LiveView,
    /// AWS call attempts that failed, by `service:Operation` (for metrics).
    pub api_errors: std::collections::BTreeMap<String, u64>,
}

/// Runs one scan; `now` is asked for the start and end times. Statuses are those
/// of a scan without history (every finding new); `store::Store::record` replaces
/// them with what history says.
pub async fn run(plan: &ScanPlan, now: impl Fn() -> Timestamp) -> Scan {
    run_with_history(plan, now, None).await
}

/// A scan whose attribution asks `store` what is known already (each change is
/// looked up in CloudTrail once).
async fn run_with_history(
    plan: &ScanPlan,
    now: impl Fn() -> Timestamp,
    store: Option<&crate::store::Store>,
) -> Scan {
    let started_at = now();
    let id = scan_id(&started_at);
    let calls = ApiCalls::default();
    // Loaded once: the live sources and CloudTrail use the same.
    let sdk = sdk_for(plan).await;
    let (intent, live, sources) = collect_with(plan, sdk.as_ref(), &calls)
        .instrument(info_span!("scan", scan.id = %id))
        .await;
    let read = Read {
        id,
        started_at,
        sdk,
        intent,
        live,
        sources,
        calls,
    };
    judge(plan, read, now, store).await
}

/// What a scan read, before it is judged.
struct Read {
    id: String,
    started_at: Timestamp,
    /// `None` where nothing read AWS.
    sdk: Option<SdkConfig>,
    intent: Intent,
    live: LiveView,
    sources: Vec<SourceStatus>,
    calls: ApiCalls,
}

/// Diffs what was read, asks who made each change, applies acknowledgements and
/// builds the report.
async fn judge(
    plan: &ScanPlan,
    read: Read,
    now: impl Fn() -> Timestamp,
    store: Option<&crate::store::Store>,
) -> Scan {
    let Read {
        id,
        started_at,
        sdk,
        intent,
        live,
        mut sources,
        calls,
    } = read;
    let step = Step::start("comparing");
    let stack_drifts = cloudformation::canonical::stack_drifts(&intent.drifts, &live);
    let outcome = diff(&DiffInput {
        intent: &intent,
        live: &live,
        stack_drifts: &stack_drifts,
        sources: &sources,
        options: &plan.options,
    });
    step.done(format_args!(
        "{} of {} managed groups, {} findings",
        outcome.compared_groups,
        outcome.managed_groups,
        outcome.findings.len()
    ));
    let mut findings = outcome.findings;
    let compared_at = now();
    let asked = attribute(
        plan,
        sdk.as_ref(),
        store,
        &mut findings,
        compared_at,
        &calls,
    );
    sources.extend(asked.await);
    crate::attribution::attribute_flows(&mut findings, &outcome.flow_ends);
    let finished_at = now();
    acknowledge::apply(&mut findings, &plan.acknowledgements, finished_at);
    // Without history every finding is new, first and last seen now.
    let seen = format_timestamp(&finished_at);
    for finding in &mut findings {
        finding.status = FindingStatus::New;
        finding.first_seen = Some(seen.clone());
        finding.last_seen = Some(seen.clone());
    }
    let inventory = Compared {
        live_security_groups: live.groups.len(),
        live_rules: live.rules.len(),
        managed_security_groups: outcome.managed_groups,
        declared_rules: outcome.declared_rules,
        compared_security_groups: outcome.compared_groups,
        compared_rules: outcome.compared_rules,
        scopes: live.scopes.iter().map(Scope::label).collect(),
        carriers: outcome.carriers,
    };
    info!(scan.id = %id, findings = findings.len(), "scan finished");
    let report = Report::new(
        id,
        started_at,
        finished_at,
        sources,
        calls.calls(),
        inventory,
        findings,
    );
    Scan {
        report,
        intent,
        live,
        api_errors: calls.errors(),
    }
}

/// Who made each change, from CloudTrail, where the plan asks and reads AWS:
/// the `cloudtrail` statuses to add to the scan's sources.
async fn attribute(
    plan: &ScanPlan,
    sdk: Option<&SdkConfig>,
    store: Option<&crate::store::Store>,
    findings: &mut [Finding],
    now: Timestamp,
    calls: &ApiCalls,
) -> Vec<SourceStatus> {
    let LiveSource::Aws(ec2) = &plan.live else {
        return Vec::new();
    };
    if !plan.cloudtrail || !findings.iter().any(|f| f.code.is_attributed()) {
        return Vec::new();
    }
    let Some(sdk) = sdk else {
        return Vec::new();
    };
    let history = match store {
        None => Default::default(),
        Some(store) => store.attribution_history(findings).await.unwrap_or_else(|e| {
            warn!(error = %e, "could not read what history knows of who changed what: looking every change up");
            Default::default()
        }),
    };
    crate::attribution::attribute(sdk, &ec2.accounts, findings, &history, now, calls).await
}

/// Runs one scan and stores it, so that statuses and `first_seen` come from history;
/// then prunes history older than `retain_days`. When storing fails the report
/// keeps the statuses of a scan without history, and the error is returned beside it.
pub async fn run_and_store(
    plan: &ScanPlan,
    store: &crate::store::Store,
    retain_days: u32,
    routing: &crate::notify::Routing,
) -> (Scan, Result<(), crate::store::StoreError>) {
    let scan = run_with_history(plan, chrono::Utc::now, Some(store)).await;
    store_scan(scan, None, store, retain_days, routing).await
}

/// Stores a scan of `scope` (`None`: a whole scan) and keeps its result; see
/// [`run_and_store`].
async fn store_scan(
    mut scan: Scan,
    scope: Option<&Scope>,
    store: &crate::store::Store,
    retain_days: u32,
    routing: &crate::notify::Routing,
) -> (Scan, Result<(), crate::store::StoreError>) {
    let carriers = scan.report.carriers.clone();
    let compose = |scan_id: &str, events: &[(&Finding, Event)]| {
        crate::notify::compose(routing, scan_id, events, &carriers)
    };
    let record = crate::store::ScanRecord {
        report: &scan.report,
        intent: &scan.intent,
        live: &scan.live,
        scope,
        compose: &compose,
    };
    let step = Step::start("storing the scan");
    let stored = match store.record(record).await {
        Ok(recorded) => {
            scan.report.set_findings(recorded.findings);
            // For a restarted `serve`'s /report and `report --from-store`; the scan
            // itself is stored already.
            let label = scope.map(Scope::label).unwrap_or_default();
            let result = crate::report::ScopeResult::of(&label, &scan.report);
            if let Err(e) = store.keep_result(&result).await {
                warn!(error = %e, "could not keep the latest result");
            }
            if scope.is_none()
                && let Err(e) = store.keep_latest_report(&scan.report).await
            {
                warn!(error = %e, "could not keep the latest report");
            }
            Ok(())
        }
        Err(e) => Err(e),
    };
    if let Err(e) = store.prune(retain_days, chrono::Utc::now()).await {
        warn!(error = %e, "could not prune old history");
    }
    match &stored {
        Ok(()) => step.done(store.path().display()),
        Err(e) => step.failed(e),
    }
    (scan, stored)
}

/// `scan-20261125T063500123Z-4f2a`: sortable by time, distinct across processes.
pub fn scan_id(started_at: &Timestamp) -> String {
    format!(
        "scan-{}-{:04x}",
        started_at.format("%Y%m%dT%H%M%S%3fZ"),
        std::process::id() & 0xffff
    )
}

#[cfg(test)]
mod tests {
    use aws_config::Region;

    use super::*;
    use crate::model::{DeclaredGroup, Owner, SecurityGroup};

    fn group(id: &str, region: Option<&str>) -> DeclaredGroup {
        DeclaredGroup {
            group: SecurityGroup {
                region: region.map(str::to_string),
                ..SecurityGroup::new(id)
            },
            owner: Owner::terraform("s.tfstate", format!("aws_security_group.{id}")),
        }
    }

    #[test]
    fn regions_default_to_the_intent_and_the_sdk_region_while_a_group_names_none() {
        let sdk = SdkConfig::builder()
            .region(Region::new("eu-west-1"))
            .build();
        let mut intent = Intent {
            groups: vec![
                group("sg-1", Some("us-east-1")),
                group("sg-2", Some("us-east-1")),
            ],
            ..Intent::default()
        };
        let regions = |intent: &Intent| default_regions(&Places::of(intent), Some(&sdk));
        assert_eq!(regions(&intent), ["us-east-1"]);
        // A state without ARNs: where its groups live is unknown, so the SDK's
        // region is read too.
        intent.groups.push(group("sg-3", None));
        assert_eq!(regions(&intent), ["us-east-1", "eu-west-1"]);
        assert_eq!(regions(&Intent::default()), Vec::<String>::new());
    }
}
