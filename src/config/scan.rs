//! `[scan]`, `[aws]`, `[[account]]`, `[[terraform]]`, `[[cloudformation]]`: what a
//! scan reads and how long it may take.

use std::path::Path;

use super::raw::{RawAccount, RawAws, RawCloudFormation, RawScan, RawTerraform};
use super::values::{check_region, duration, positive_duration, resolve_state};
use super::{Account, CloudFormationSource, Config, Problems};
use crate::sources::cloudformation::DriftOptions;

pub fn scan(raw: Option<RawScan>, config: &mut Config, problems: &mut Problems) {
    let Some(scan) = raw else { return };
    for (i, region) in scan.regions.iter().flatten().enumerate() {
        problems.keep(check_region(region, &format!("scan.regions[{i}]")));
    }
    config.regions = scan.regions.unwrap_or_default();
    config.include_default_groups = scan.include_default_groups.unwrap_or(false);
    config.scan_timeout = problems
        .keep(positive_duration(scan.timeout.as_deref(), "scan.timeout"))
        .flatten();
}

pub fn aws(raw: Option<RawAws>, config: &mut Config, problems: &mut Problems) {
    let Some(aws) = raw else { return };
    let mut timeout = |raw: Option<String>, path: &str| {
        problems
            .keep(positive_duration(raw.as_deref(), path))
            .flatten()
    };
    config.aws_connect_timeout = timeout(aws.connect_timeout, "aws.connect_timeout");
    config.aws_read_timeout = timeout(aws.read_timeout, "aws.read_timeout");
    config.aws_call_timeout = timeout(aws.call_timeout, "aws.call_timeout");
}

pub fn accounts(raw: Vec<RawAccount>, config: &mut Config, problems: &mut Problems) {
    for (i, account) in raw.into_iter().enumerate() {
        if account.id.len() != 12 || !account.id.chars().all(|c| c.is_ascii_digit()) {
            problems.add(
                format!("account[{i}].id"),
                format!("{:?} is not a 12-digit AWS account id", account.id),
            );
        }
        if let Some(arn) = &account.role_arn
            && !(arn.starts_with("arn:") && arn.contains(":role/"))
        {
            problems.add(
                format!("account[{i}].role_arn"),
                format!("{arn:?} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"),
            );
        }
        config.accounts.push(Account {
            id: account.id,
            role_arn: account.role_arn,
        });
    }
}

pub fn terraform(
    raw: Vec<RawTerraform>,
    base_dir: Option<&Path>,
    config: &mut Config,
    problems: &mut Problems,
) {
    for (i, tf) in raw.into_iter().enumerate() {
        if tf.state.trim().is_empty() {
            problems.add(format!("terraform[{i}].state"), "empty path");
        }
        config
            .terraform_states
            .push(resolve_state(base_dir, &tf.state));
    }
}

/// After [`scan`]: a drift detection must end within the scan's timeout.
pub fn cloudformation(raw: Vec<RawCloudFormation>, config: &mut Config, problems: &mut Problems) {
    for (i, cfn) in raw.into_iter().enumerate() {
        let at = |key: &str| format!("cloudformation[{i}].{key}");
        if cfn.stacks.is_empty() {
            problems.add(at("stacks"), "name at least one stack, or \"*\"");
        }
        if let Some(j) = cfn.stacks.iter().position(|s| s.trim().is_empty()) {
            problems.add(
                format!("cloudformation[{i}].stacks[{j}]"),
                "a stack name cannot be empty",
            );
        }
        if cfn.regions.as_ref().is_some_and(Vec::is_empty) {
            problems.add(
                at("regions"),
                "name at least one region, or leave the key out for [scan] regions",
            );
        }
        for (j, region) in cfn.regions.iter().flatten().enumerate() {
            problems.keep(check_region(
                region,
                &format!("cloudformation[{i}].regions[{j}]"),
            ));
        }
        let mut drift = DriftOptions {
            detect: cfn.detect_drift.unwrap_or(true),
            reuse_younger_than: problems
                .keep(duration(
                    cfn.reuse_drift_younger_than.as_deref(),
                    &at("reuse_drift_younger_than"),
                ))
                .flatten(),
            ..Default::default()
        };
        let timeout = problems.keep(positive_duration(
            cfn.drift_timeout.as_deref(),
            &at("drift_timeout"),
        ));
        if let Some(Some(timeout)) = timeout {
            drift.timeout = timeout;
        }
        // Compared only with timeouts that are themselves valid.
        if timeout.is_some()
            && !problems.at("scan.timeout")
            && drift.detect
            && drift.timeout >= config.scan_timeout()
        {
            problems.add(
                at("drift_timeout"),
                format!(
                    "{}s{} is not shorter than scan.timeout ({}s{}): \
                     the scan would be abandoned before the drift detection could end",
                    drift.timeout.as_secs(),
                    if cfn.drift_timeout.is_none() {
                        ", the default,"
                    } else {
                        ""
                    },
                    config.scan_timeout().as_secs(),
                    if config.scan_timeout.is_none() {
                        ", the default"
                    } else {
                        ""
                    },
                ),
            );
        }
        config.cloudformation.push(CloudFormationSource {
            stacks: cfn.stacks,
            regions: cfn.regions.unwrap_or_else(|| config.regions.clone()),
            drift,
        });
    }
}
