//! The AWS boundary: SDK configuration (default credential and region chain,
//! `AWS_ENDPOINT_URL*` honoured by the SDK itself, adaptive retries) and the
//! interceptor that counts every API call, retries included, by `service:Operation`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// Loads the SDK configuration. Throttling and 5xx answers are retried with
/// backoff in adaptive mode (5 attempts) unless `AWS_RETRY_MODE` /
/// `AWS_MAX_ATTEMPTS` say otherwise.
pub async fn load_sdk_config(region: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if std::env::var_os("AWS_RETRY_MODE").is_none()
        && std::env::var_os("AWS_MAX_ATTEMPTS").is_none()
    {
        loader = loader.retry_config(
            RetryConfig::adaptive()
                .with_max_attempts(5)
                .with_initial_backoff(Duration::from_millis(200)),
        );
    }
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_string()));
    }
    loader.load().await
}

/// Every AWS operation driftd calls, as (IAM action, SDK method). The task-role
/// policy `deploy/iam-policy.json` grants exactly these actions, and every SDK call
/// in `src/` is one of these methods (`tests/deploy.rs` checks both ways).
pub const OPERATIONS: &[(&str, &str)] = &[
    (
        "cloudformation:DescribeStackDriftDetectionStatus",
        "describe_stack_drift_detection_status",
    ),
    (
        "cloudformation:DescribeStackResourceDrifts",
        "describe_stack_resource_drifts",
    ),
    ("cloudformation:DescribeStacks", "describe_stacks"),
    ("cloudformation:DetectStackDrift", "detect_stack_drift"),
    ("cloudformation:ListStackResources", "list_stack_resources"),
    (
        "ec2:DescribeNetworkInterfaces",
        "describe_network_interfaces",
    ),
    (
        "ec2:DescribeSecurityGroupRules",
        "describe_security_group_rules",
    ),
    ("ec2:DescribeSecurityGroups", "describe_security_groups"),
    ("s3:GetObject", "get_object"),
    ("sts:AssumeRole", "assume_role"),
];

/// Whether an endpoint override is configured for `service` (`AWS_ENDPOINT_URL` or
/// `AWS_ENDPOINT_URL_<SERVICE>`): S3 then needs path-style addressing.
pub fn endpoint_overridden(service: &str) -> bool {
    std::env::var_os("AWS_ENDPOINT_URL").is_some()
        || std::env::var_os(format!("AWS_ENDPOINT_URL_{}", service.to_ascii_uppercase())).is_some()
}

/// API calls and failed attempts of one scan, keyed `ec2:DescribeSecurityGroups`.
#[derive(Debug, Clone, Default)]
pub struct ApiCalls {
    inner: Arc<Mutex<Counts>>,
}

#[derive(Debug, Default)]
struct Counts {
    calls: BTreeMap<String, u64>,
    errors: BTreeMap<String, u64>,
}

impl ApiCalls {
    /// An interceptor to attach to one service's client; `service` is the IAM
    /// prefix (`ec2`, `s3`, `sts`, `cloudformation`).
    pub fn interceptor(&self, service: &'static str) -> CallCounter {
        CallCounter {
            service,
            calls: self.clone(),
        }
    }

    pub fn record(&self, key: String) {
        *self
            .inner
            .lock()
            .expect("counter lock")
            .calls
            .entry(key)
            .or_insert(0) += 1;
    }

    fn record_error(&self, key: String) {
        *self
            .inner
            .lock()
            .expect("counter lock")
            .errors
            .entry(key)
            .or_insert(0) += 1;
    }

    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.inner.lock().expect("counter lock").calls.clone()
    }

    pub fn errors(&self) -> BTreeMap<String, u64> {
        self.inner.lock().expect("counter lock").errors.clone()
    }
}

#[derive(Debug, Clone)]
pub struct CallCounter {
    service: &'static str,
    calls: ApiCalls,
}

impl CallCounter {
    fn key(&self, cfg: &ConfigBag) -> String {
        let operation = cfg.load::<Metadata>().map_or("Unknown", |m| m.name());
        format!("{}:{operation}", self.service)
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "driftd-call-counter"
    }

    /// Runs once per attempt, so retries are counted.
    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.calls.record(self.key(cfg));
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if matches!(context.output_or_error(), Some(Err(_))) {
            self.calls.record_error(self.key(cfg));
        }
        Ok(())
    }
}

/// An SDK error with its causes, as one line for a finding or a log.
pub fn error_text(err: &(dyn std::error::Error + 'static)) -> String {
    aws_smithy_types::error::display::DisplayErrorContext(err).to_string()
}
