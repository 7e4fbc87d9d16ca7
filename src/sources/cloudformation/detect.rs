//! CloudFormation's drift detection for one stack: start it (`DetectStackDrift`),
//! wait for it (`DescribeStackDriftDetectionStatus`, polled with backoff up to a
//! timeout), read its results (`DescribeStackResourceDrifts`). A detection that
//! is already running (started by someone else) is waited for, never cancelled;
//! one younger than `reuse_younger_than` is read instead of starting another.

use std::time::{Duration, Instant, SystemTime};

use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::types::{
    self as cfn, StackDriftDetectionStatus, StackResourceDriftStatus, StackStatus,
};
use tracing::info;

use super::StackInfo;
use crate::aws::error_text;
use crate::model::{
    DifferenceType, PropertyDifference, ResourceDrift, ResourceDriftStatus, parse_value,
};

/// How drift detection runs; `[[cloudformation]]` sets these.
#[derive(Debug, Clone, PartialEq)]
pub struct DriftOptions {
    /// Run drift detection at all (otherwise ownership only).
    pub detect: bool,
    /// Read the last detection instead of starting one when it is younger.
    pub reuse_younger_than: Option<Duration>,
    /// Give up waiting (the stack becomes a `source-error`) after this long.
    pub timeout: Duration,
    /// The first wait between status polls; it doubles up to `MAX_POLL`.
    pub first_poll: Duration,
}

impl Default for DriftOptions {
    fn default() -> Self {
        DriftOptions {
            detect: true,
            reuse_younger_than: None,
            timeout: super::default_timeout(),
            first_poll: Duration::from_secs(1),
        }
    }
}

const MAX_POLL: Duration = Duration::from_secs(30);

/// Stack states in which CloudFormation can detect drift.
fn can_detect(status: &StackStatus) -> bool {
    matches!(
        status,
        StackStatus::CreateComplete
            | StackStatus::UpdateComplete
            | StackStatus::UpdateRollbackComplete
            | StackStatus::UpdateRollbackFailed
            | StackStatus::ImportComplete
            | StackStatus::ImportRollbackComplete
    )
}

/// The drift results of the stack's latest detection, or why there are none.
pub async fn drift_results(
    client: &aws_sdk_cloudformation::Client,
    stack: &StackInfo,
    options: &DriftOptions,
) -> Result<Vec<ResourceDrift>, String> {
    let fresh = options.reuse_younger_than.is_some_and(|age| {
        stack.has_drift_result
            && stack
                .last_check
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .is_some_and(|elapsed| elapsed < age)
    });
    if fresh {
        info!(stack = %stack.name, "reusing a recent drift detection");
    } else {
        if let Some(status) = stack.stack_status.as_ref().filter(|s| !can_detect(s)) {
            return Err(format!(
                "the stack is {status}, a state in which CloudFormation cannot detect drift"
            ));
        }
        let deadline = Instant::now() + options.timeout;
        let detection = start(client, stack, options, deadline).await?;
        wait(client, &detection, options, deadline).await?;
    }
    read(client, stack).await
}

/// Starts a detection. While another one runs on the stack CloudFormation refuses
/// a second; that one is waited out with backoff, not treated as a failure.
async fn start(
    client: &aws_sdk_cloudformation::Client,
    stack: &StackInfo,
    options: &DriftOptions,
    deadline: Instant,
) -> Result<String, String> {
    let mut delay = options.first_poll;
    loop {
        match client
            .detect_stack_drift()
            .stack_name(&stack.name)
            .send()
            .await
        {
            Ok(out) => {
                return out
                    .stack_drift_detection_id()
                    .map(str::to_string)
                    .ok_or_else(|| "DetectStackDrift returned no detection id".to_string());
            }
            Err(e) => {
                let running = e.code() == Some("ValidationError")
                    && e.message()
                        .is_some_and(|m| m.contains("already in progress"));
                if !running {
                    return Err(format!("DetectStackDrift: {}", error_text(&e)));
                }
                if Instant::now() + delay > deadline {
                    return Err(format!(
                        "a drift detection already in progress did not finish within {:?}",
                        options.timeout
                    ));
                }
                info!(stack = %stack.name, "a drift detection is already in progress; waiting for it");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_POLL);
            }
        }
    }
}

/// Polls the detection until it completes, fails, or the deadline passes.
async fn wait(
    client: &aws_sdk_cloudformation::Client,
    detection: &str,
    options: &DriftOptions,
    deadline: Instant,
) -> Result<(), String> {
    let mut delay = options.first_poll;
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Err(format!(
                "drift detection {detection} did not finish within {:?}",
                options.timeout
            ));
        }
        tokio::time::sleep(delay.min(deadline - now)).await;
        delay = (delay * 2).min(MAX_POLL);
        let out = client
            .describe_stack_drift_detection_status()
            .stack_drift_detection_id(detection)
            .send()
            .await
            .map_err(|e| format!("DescribeStackDriftDetectionStatus: {}", error_text(&e)))?;
        match out.detection_status() {
            Some(StackDriftDetectionStatus::DetectionComplete) => return Ok(()),
            Some(StackDriftDetectionStatus::DetectionInProgress) => continue,
            Some(StackDriftDetectionStatus::DetectionFailed) => {
                return Err(format!(
                    "drift detection failed: {}",
                    out.detection_status_reason().unwrap_or("no reason given")
                ));
            }
            other => {
                return Err(format!("drift detection is in an unknown state: {other:?}"));
            }
        }
    }
}

/// Every checked resource's drift, in sync ones included: their expected
/// properties explain differences CloudFormation reports on other resources.
async fn read(
    client: &aws_sdk_cloudformation::Client,
    stack: &StackInfo,
) -> Result<Vec<ResourceDrift>, String> {
    let mut drifts = Vec::new();
    let mut pages = client
        .describe_stack_resource_drifts()
        .stack_name(&stack.name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("DescribeStackResourceDrifts: {}", error_text(&e)))?;
        drifts.extend(
            page.stack_resource_drifts()
                .iter()
                .filter_map(|d| from_sdk(stack, d)),
        );
    }
    Ok(drifts)
}

fn from_sdk(stack: &StackInfo, drift: &cfn::StackResourceDrift) -> Option<ResourceDrift> {
    let status = match drift.stack_resource_drift_status()? {
        StackResourceDriftStatus::InSync => ResourceDriftStatus::InSync,
        StackResourceDriftStatus::Modified => ResourceDriftStatus::Modified,
        StackResourceDriftStatus::Deleted => ResourceDriftStatus::Deleted,
        // Not checked, unsupported, unknown: nothing is known either way.
        _ => return None,
    };
    let differences = drift
        .property_differences()
        .iter()
        .map(|d| PropertyDifference {
            path: d.property_path().unwrap_or_default().to_string(),
            expected: parse_value(d.expected_value()),
            actual: parse_value(d.actual_value()),
            kind: match d.difference_type() {
                Some(cfn::DifferenceType::Add) => DifferenceType::Add,
                Some(cfn::DifferenceType::Remove) => DifferenceType::Remove,
                _ => DifferenceType::NotEqual,
            },
        })
        .collect();
    Some(ResourceDrift {
        resource: stack.resource(
            drift.logical_resource_id(),
            drift.resource_type(),
            drift.physical_resource_id(),
        ),
        status,
        expected: parse_value(drift.expected_properties()),
        actual: parse_value(drift.actual_properties()),
        differences,
    })
}
