//! The AWS boundary: SDK configuration (default credential and region chain,
//! `AWS_ENDPOINT_URL*` honoured by the SDK itself, adaptive retries, timeouts on
//! every call) and the interceptor that counts every API call, retries included, by
//! `service:Operation`, and says in the logs when a call is being retried.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime::client::retries::classifiers::run_classifiers_on_ctx;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::retries::classifiers::RetryAction;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tracing::{debug, warn};

use crate::errors::one_line;

/// Attempts per call (the first and four retries) unless `AWS_MAX_ATTEMPTS` says.
const MAX_ATTEMPTS: u32 = 5;

/// How long AWS may take: an endpoint that accepts a connection and never answers
/// must fail the call (and so its region), never hang the scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// To open a connection.
    pub connect: Duration,
    /// From sending a request to the start of its answer. Each attempt may also
    /// take as long again to read the answer's body.
    pub read: Duration,
    /// One call, every retry included.
    pub call: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(5),
            // A page of 1,000 groups is answered in seconds; slow endpoints (a local
            // one describing 10,000 groups at once) in about 20.
            read: Duration::from_secs(60),
            call: Duration::from_secs(300),
        }
    }
}

impl Timeouts {
    fn config(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect)
            .read_timeout(self.read)
            .operation_attempt_timeout(self.read.saturating_mul(2).min(self.call))
            .operation_timeout(self.call)
            .build()
    }
}

/// Loads the SDK configuration. Throttling and 5xx answers are retried with
/// backoff in adaptive mode (5 attempts) unless `AWS_RETRY_MODE` /
/// `AWS_MAX_ATTEMPTS` say otherwise; every call is bounded by `timeouts`.
pub async fn load_sdk_config(region: Option<&str>, timeouts: Timeouts) -> SdkConfig {
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts.config());
    if std::env::var_os("AWS_RETRY_MODE").is_none()
        && std::env::var_os("AWS_MAX_ATTEMPTS").is_none()
    {
        loader = loader.retry_config(
            RetryConfig::adaptive()
                .with_max_attempts(MAX_ATTEMPTS)
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
/// in `src/` is one of these methods (`tests/architecture/deploy.rs` checks both ways).
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
    ("cloudtrail:LookupEvents", "lookup_events"),
    (
        "ec2:DescribeNetworkInterfaces",
        "describe_network_interfaces",
    ),
    (
        "ec2:DescribeSecurityGroupRules",
        "describe_security_group_rules",
    ),
    ("ec2:DescribeSecurityGroups", "describe_security_groups"),
    (
        "ec2:GetManagedPrefixListEntries",
        "get_managed_prefix_list_entries",
    ),
    ("ecs:DescribeTasks", "describe_tasks"),
    (
        "elasticloadbalancing:DescribeLoadBalancers",
        "describe_load_balancers",
    ),
    ("ecs:ListTasks", "list_tasks"),
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

    /// Counts failed attempts, and says so in the logs when the SDK will try again
    /// (as its own retry classifiers decide: throttling, timeouts, 5xx): a
    /// throttled scan may retry for a minute before giving up, and should not look
    /// hung meanwhile. An answer it does not retry (a load balancer that is gone,
    /// access denied) is its caller's to tell or to expect, and only a debug line
    /// here.
    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(Err(error)) = context.output_or_error() {
            let key = self.key(cfg);
            let attempt = cfg.load::<RequestAttempts>().map_or(1, |a| a.attempts());
            let attempts = cfg
                .load::<RetryConfig>()
                .map_or(MAX_ATTEMPTS, RetryConfig::max_attempts);
            let region = cfg.load::<Region>().map(Region::to_string);
            let retried = matches!(
                run_classifiers_on_ctx(components.retry_classifiers(), context.inner()),
                RetryAction::RetryIndicated(_)
            );
            if retried {
                warn!(
                    operation = %key,
                    aws.region = region.as_deref().unwrap_or("-"),
                    attempt,
                    "AWS call attempt {attempt} of up to {attempts} failed: {}",
                    one_line(error)
                );
            } else {
                debug!(
                    operation = %key,
                    aws.region = region.as_deref().unwrap_or("-"),
                    "AWS call failed, not retried: {}",
                    one_line(error)
                );
            }
            self.calls.record_error(key);
        }
        Ok(())
    }
}

/// What went wrong with an AWS call, in one line: the service's error code and
/// message, or the timeout or connection failure with its causes (no `Debug` dump).
pub fn error_text<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match (err.code(), err.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_string(),
        _ => match err {
            // "service error" / "dispatch failure" say nothing their causes don't.
            SdkError::ServiceError(service) => one_line(service.err()),
            other => match std::error::Error::source(other) {
                Some(source) => one_line(source),
                None => other.to_string(),
            },
        },
    }
}
