//! CloudFormation stacks as a source of intent: which groups and rules each stack
//! owns (`ListStackResources`), and what CloudFormation's own drift detection
//! found (`detect`). Stacks are read a few at a time, per account and region.
//!
//! A stack whose resources cannot be listed is a failed source that hides
//! ownership (nothing is reported unmanaged while it is unread). A stack whose
//! drift detection fails, times out or cannot run in the stack's state is a failed
//! source too, never "in sync"; what it owns is still known.

pub mod canonical;
pub mod detect;
pub mod rules;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use aws_config::{Region, SdkConfig};
use aws_sdk_cloudformation::types::{ResourceStatus, Stack, StackStatus};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::{Instrument, info, info_span, warn};

use crate::aws::{ApiCalls, error_text};
use crate::model::{
    DeclaredGroup, Intent, Owner, OwnerKind, SECURITY_GROUP, SecurityGroup, StackResource,
};
use crate::progress::Step;
use crate::sources::accounts::Account;
use crate::sources::accounts::account_configs;
use crate::sources::{SourceKind, SourceStatus};

pub use detect::DriftOptions;

/// Stacks read at once (CloudFormation's drift calls are rate-limited).
const CONCURRENCY: usize = 4;
/// `stacks = ["*"]`: every stack that exists.
pub const ALL_STACKS: &str = "*";

/// One `[[cloudformation]]` entry: these stacks in these regions.
#[derive(Debug, Clone)]
pub struct StackPlan {
    pub stacks: Vec<String>,
    pub regions: Vec<String>,
    pub drift: DriftOptions,
}

/// Every `[[cloudformation]]` entry, read in each configured account.
#[derive(Debug, Clone, Default)]
pub struct CloudFormationPlan {
    pub stacks: Vec<StackPlan>,
    pub accounts: Vec<Account>,
}

impl CloudFormationPlan {
    /// This plan with `regions` for the entries that name none (else the SDK's
    /// default region is read).
    pub fn defaulting_regions(&self, regions: &[String]) -> CloudFormationPlan {
        let mut plan = self.clone();
        for entry in &mut plan.stacks {
            if entry.regions.is_empty() {
                entry.regions = regions.to_vec();
            }
        }
        plan
    }
}

/// A stack to read, as `DescribeStacks` gave it.
#[derive(Debug, Clone)]
pub struct StackInfo {
    pub name: String,
    pub stack_status: Option<StackStatus>,
    /// When drift detection was last started on the stack.
    pub last_check: Option<std::time::SystemTime>,
    /// Its last detection left results (`DRIFTED` or `IN_SYNC`, not `UNKNOWN`).
    pub has_drift_result: bool,
    pub account_id: Option<String>,
    pub region: String,
}

impl StackInfo {
    fn from_sdk(stack: &Stack, account_id: Option<String>, region: &str) -> StackInfo {
        let drift = stack.drift_information();
        StackInfo {
            name: stack.stack_name().unwrap_or_default().to_string(),
            stack_status: stack.stack_status().cloned(),
            last_check: drift
                .and_then(|d| d.last_check_timestamp())
                .and_then(|t| std::time::SystemTime::try_from(*t).ok()),
            has_drift_result: drift.and_then(|d| d.stack_drift_status()).is_some_and(|s| {
                matches!(
                    s,
                    aws_sdk_cloudformation::types::StackDriftStatus::Drifted
                        | aws_sdk_cloudformation::types::StackDriftStatus::InSync
                )
            }),
            // The stack's ARN names its account (`arn:aws:cloudformation:REGION:ACCOUNT:stack/…`)
            // where no `[[account]]` entry did: its groups' scope is then known.
            account_id: account_id.or_else(|| {
                let arn = stack.stack_id()?;
                let account = arn.split(':').nth(4)?;
                (!account.is_empty()).then(|| account.to_string())
            }),
            region: region.to_string(),
        }
    }

    /// How reading this stack went: `Read::Nothing` hides what it owns.
    fn source_status(&self, error: Option<String>, read: Read) -> SourceStatus {
        let mut status = match error {
            None => SourceStatus::ok(SourceKind::Cloudformation, &self.name),
            Some(error) => SourceStatus::failed(SourceKind::Cloudformation, &self.name, error),
        };
        status.account_id = self.account_id.clone();
        status.region = Some(self.region.clone()).filter(|r| !r.is_empty());
        status.ownership_read = read != Read::Nothing;
        status.drift_read = read == Read::OwnershipAndDrift;
        status
    }
}

/// How much of a stack was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    Nothing,
    Ownership,
    OwnershipAndDrift,
}

pub fn cloudformation_client(
    config: &SdkConfig,
    region: &str,
    calls: &ApiCalls,
) -> aws_sdk_cloudformation::Client {
    let conf = aws_sdk_cloudformation::config::Builder::from(config)
        .region(Region::new(region.to_string()))
        .interceptor(calls.interceptor("cloudformation"))
        .build();
    aws_sdk_cloudformation::Client::from_conf(conf)
}

/// Reads every planned stack: ownership and drift results as intent, one status
/// per stack (or per plan entry whose stacks could not be listed).
pub async fn scan(
    sdk: &SdkConfig,
    plan: &CloudFormationPlan,
    calls: &ApiCalls,
) -> (Intent, Vec<SourceStatus>) {
    let mut statuses = Vec::new();
    let limit = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = JoinSet::new();
    // A stack named by several entries (or by a name and `*`) is read once.
    let mut seen = HashSet::new();
    for (account_id, config) in account_configs(sdk, &plan.accounts, calls).await {
        for entry in &plan.stacks {
            let regions: Vec<String> = if entry.regions.is_empty() {
                sdk.region().map(|r| r.to_string()).into_iter().collect()
            } else {
                entry.regions.clone()
            };
            let failure = match (&config, regions.is_empty()) {
                (Err(error), _) => Some(error.clone()),
                (Ok(_), true) => Some(
                    "no region: set regions in [[cloudformation]] or [scan], or AWS_REGION"
                        .to_string(),
                ),
                (Ok(_), false) => None,
            };
            if let Some(error) = failure {
                for name in &entry.stacks {
                    let stack =
                        unread_stack(name, account_id.clone(), regions.first().map_or("", |r| r));
                    statuses.push(stack.source_status(Some(error.clone()), Read::Nothing));
                }
                continue;
            }
            let Ok(config) = &config else { continue };
            for region in &regions {
                let client = cloudformation_client(config, region, calls);
                let (stacks, listed) =
                    resolve_stacks(&client, &entry.stacks, account_id.clone(), region).await;
                statuses.extend(listed);
                for stack in stacks {
                    if !seen.insert((
                        stack.account_id.clone(),
                        stack.region.clone(),
                        stack.name.clone(),
                    )) {
                        continue;
                    }
                    let (client, limit, drift) =
                        (client.clone(), limit.clone(), entry.drift.clone());
                    let span = info_span!("source", source.kind = "cloudformation", source.location = %stack.name, aws.region = %region);
                    tasks.spawn(
                        async move {
                            let _permit = limit.acquire_owned().await.expect("semaphore open");
                            read_stack(&client, stack, &drift).await
                        }
                        .instrument(span),
                    );
                }
            }
        }
    }
    let mut intent = Intent::default();
    while let Some(joined) = tasks.join_next().await {
        let (stack_intent, status) = joined.expect("stack task does not panic");
        intent.extend(stack_intent);
        statuses.push(status);
    }
    // Completion order varies; reports must not.
    statuses.sort_by(|a, b| {
        (&a.location, &a.region, &a.account_id).cmp(&(&b.location, &b.region, &b.account_id))
    });
    intent
        .groups
        .sort_by(|a, b| (&a.group.id, &a.owner).cmp(&(&b.group.id, &b.owner)));
    // One stack name and logical id may live in several accounts and regions.
    let place = |r: &StackResource| (r.owner.clone(), r.account_id.clone(), r.region.clone());
    intent.stack_resources.sort_by_key(place);
    intent.drifts.sort_by_key(|d| place(&d.resource));
    (intent, statuses)
}

fn unread_stack(name: &str, account_id: Option<String>, region: &str) -> StackInfo {
    StackInfo {
        name: name.to_string(),
        stack_status: None,
        last_check: None,
        has_drift_result: false,
        account_id,
        region: region.to_string(),
    }
}

/// The stacks a plan names, each described; `*` lists every stack that is not
/// deleted, and its listing is a source of its own (what it no longer lists is
/// gone). A stack that cannot be described is a failed source.
async fn resolve_stacks(
    client: &aws_sdk_cloudformation::Client,
    names: &[String],
    account_id: Option<String>,
    region: &str,
) -> (Vec<StackInfo>, Vec<SourceStatus>) {
    let mut stacks = Vec::new();
    let mut statuses = Vec::new();
    for name in names {
        let mut pages = if name == ALL_STACKS {
            client.describe_stacks().into_paginator().send()
        } else {
            client
                .describe_stacks()
                .stack_name(name)
                .into_paginator()
                .send()
        };
        let mut found = Vec::new();
        let mut error = None;
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => found.extend(
                    page.stacks()
                        .iter()
                        .filter(|s| s.stack_status() != Some(&StackStatus::DeleteComplete))
                        .map(|s| StackInfo::from_sdk(s, account_id.clone(), region)),
                ),
                Err(e) => {
                    error = Some(format!("DescribeStacks: {}", error_text(&e)));
                    break;
                }
            }
        }
        let listing = unread_stack(name, account_id.clone(), region);
        match error {
            Some(error) => {
                warn!(stack = %name, aws.region = %region, %error, "could not describe stacks");
                statuses.push(listing.source_status(Some(error), Read::Nothing));
            }
            None => {
                if name == ALL_STACKS {
                    info!(aws.region = %region, stacks = found.len(), "listed stacks");
                    statuses.push(listing.source_status(None, Read::Ownership));
                }
                stacks.extend(found);
            }
        }
    }
    stacks.sort_by(|a, b| a.name.cmp(&b.name));
    stacks.dedup_by(|a, b| a.name == b.name);
    (stacks, statuses)
}

/// One stack: its resources, then (if configured) its drift results.
async fn read_stack(
    client: &aws_sdk_cloudformation::Client,
    stack: StackInfo,
    drift: &DriftOptions,
) -> (Intent, SourceStatus) {
    let step = Step::start(format!("reading CloudFormation stack {}", stack.name));
    let resources = match list_resources(client, &stack).await {
        Ok(resources) => resources,
        Err(error) => {
            step.failed(format_args!("could not list its resources: {error}"));
            return (
                Intent::default(),
                stack.source_status(Some(error), Read::Nothing),
            );
        }
    };
    let mut intent = Intent {
        groups: resources
            .iter()
            .filter(|r| r.resource_type == SECURITY_GROUP && !r.physical_id.is_empty())
            .map(|r| DeclaredGroup {
                group: SecurityGroup {
                    account_id: r.account_id.clone(),
                    region: r.region.clone(),
                    ..SecurityGroup::new(&r.physical_id)
                },
                owner: r.owner.clone(),
            })
            .collect(),
        stack_resources: resources,
        ..Intent::default()
    };
    let found = format!(
        "{} resources, {} groups",
        intent.stack_resources.len(),
        intent.groups.len()
    );
    if !drift.detect {
        step.done(found);
        return (intent, stack.source_status(None, Read::Ownership));
    }
    match detect::drift_results(client, &stack, drift).await {
        Ok(drifts) => {
            let drifted = drifts
                .iter()
                .filter(|d| d.status != crate::model::ResourceDriftStatus::InSync)
                .count();
            step.done(format_args!("{found}, {drifted} drifted"));
            intent.drifts = drifts;
            (intent, stack.source_status(None, Read::OwnershipAndDrift))
        }
        Err(error) => {
            step.failed(format_args!("{found}, but no drift results: {error}"));
            (intent, stack.source_status(Some(error), Read::Ownership))
        }
    }
}

impl StackInfo {
    /// One of this stack's resources, as `ListStackResources` and
    /// `DescribeStackResourceDrifts` name it (missing parts empty).
    fn resource(
        &self,
        logical_id: Option<&str>,
        resource_type: Option<&str>,
        physical_id: Option<&str>,
    ) -> StackResource {
        StackResource {
            owner: Owner {
                kind: OwnerKind::Cloudformation,
                location: Some(self.name.clone()),
                address: Some(logical_id.unwrap_or_default().to_string()),
            },
            resource_type: resource_type.unwrap_or_default().to_string(),
            physical_id: physical_id.unwrap_or_default().to_string(),
            account_id: self.account_id.clone(),
            region: Some(self.region.clone()),
        }
    }
}

async fn list_resources(
    client: &aws_sdk_cloudformation::Client,
    stack: &StackInfo,
) -> Result<Vec<StackResource>, String> {
    let mut resources = Vec::new();
    let mut pages = client
        .list_stack_resources()
        .stack_name(&stack.name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("ListStackResources: {}", error_text(&e)))?;
        // A resource CloudFormation deleted (a rolled-back create, a replaced group)
        // is no longer the stack's, whatever its old physical id.
        let current = page
            .stack_resource_summaries()
            .iter()
            .filter(|s| s.resource_status() != Some(&ResourceStatus::DeleteComplete));
        for summary in current {
            resources.push(stack.resource(
                summary.logical_resource_id(),
                summary.resource_type(),
                summary.physical_resource_id(),
            ));
        }
    }
    Ok(resources)
}

/// The default drift options: detect, wait up to ten minutes, start new detections.
pub fn default_timeout() -> Duration {
    Duration::from_secs(600)
}
