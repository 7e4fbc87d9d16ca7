//! The TOML configuration (contracts/CONFIG.md), in two phases: deserialize with
//! unknown keys refused, then validate into types that cannot hold a bad value.
//! `${NAME}` in any string is replaced by the environment variable NAME.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

use crate::acknowledge::{Acknowledgement, Expiry};
use crate::input::{MAX_CONFIG_BYTES, read_text};
use crate::model::{FindingCode, Severity};
pub use crate::scan::DEFAULT_SCAN_TIMEOUT;
pub use crate::secret::Secret;
pub use crate::sources::accounts::Account;

#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    scan: Option<RawScan>,
    aws: Option<RawAws>,
    #[serde(default)]
    account: Vec<RawAccount>,
    #[serde(default)]
    terraform: Vec<RawTerraform>,
    #[serde(default)]
    cloudformation: Vec<RawCloudFormation>,
    store: Option<RawStore>,
    server: Option<RawServer>,
    #[serde(default)]
    schedule: Vec<RawSchedule>,
    notify: Option<RawNotify>,
    #[serde(default)]
    acknowledge: Vec<RawAcknowledge>,
    #[serde(default)]
    severity: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScan {
    regions: Option<Vec<String>>,
    include_default_groups: Option<bool>,
    timeout: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAws {
    connect_timeout: Option<String>,
    read_timeout: Option<String>,
    call_timeout: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccount {
    id: String,
    role_arn: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTerraform {
    state: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCloudFormation {
    stacks: Vec<String>,
    regions: Option<Vec<String>>,
    detect_drift: Option<bool>,
    reuse_drift_younger_than: Option<String>,
    drift_timeout: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    url: Option<String>,
    retain_days: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<String>,
    ready_max_age: Option<String>,
    shutdown_grace: Option<String>,
    header_timeout: Option<String>,
    max_connections: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    cron: String,
    regions: Option<Vec<String>>,
    states: Option<Vec<String>>,
    jitter: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotify {
    slack: Option<RawSlack>,
    webhook: Option<RawWebhook>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlack {
    webhook_url: Option<String>,
    webhook_url_file: Option<String>,
    min_severity: Option<String>,
    resolutions: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    url: Option<String>,
    url_file: Option<String>,
    secret: Option<String>,
    secret_file: Option<String>,
    min_severity: Option<String>,
    resolutions: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAcknowledge {
    code: Option<String>,
    group_id: Option<String>,
    address: Option<String>,
    field: Option<String>,
    reason: Option<String>,
    expires: Option<String>,
}

/// A validated configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub regions: Vec<String>,
    pub include_default_groups: bool,
    /// The longest a whole scan may take (`[scan] timeout`); see [`Config::scan_timeout`].
    pub scan_timeout: Option<Duration>,
    /// `[aws]`: connect, read (time to the answer) and whole-call timeouts.
    pub aws_connect_timeout: Option<Duration>,
    pub aws_read_timeout: Option<Duration>,
    pub aws_call_timeout: Option<Duration>,
    pub accounts: Vec<Account>,
    /// Local paths (relative to the config file) or `s3://` URLs.
    pub terraform_states: Vec<String>,
    pub cloudformation: Vec<CloudFormationSource>,
    pub store_url: Option<String>,
    pub retain_days: Option<u32>,
    pub listen: Option<SocketAddr>,
    /// `/readyz` fails when the last complete scan is older than this.
    pub ready_max_age: Option<std::time::Duration>,
    /// How long a running scan may go on after SIGTERM (default 25 s).
    pub shutdown_grace: Option<std::time::Duration>,
    /// How long a client may take to send a request's headers, and stay idle.
    pub header_timeout: Option<Duration>,
    /// The most HTTP connections `serve` holds open.
    pub max_connections: Option<usize>,
    pub schedules: Vec<Schedule>,
    pub slack: Option<Notifier>,
    pub webhook: Option<Notifier>,
    pub webhook_secret: Option<Secret>,
    pub acknowledgements: Vec<Acknowledgement>,
    pub severity: BTreeMap<FindingCode, Severity>,
}

/// One `[[schedule]]`: when `serve` scans, and optionally what.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub cron: cron::Schedule,
    /// Replace `[scan] regions` for this schedule's scans.
    pub regions: Option<Vec<String>>,
    /// Replace the `[[terraform]]` states for this schedule's scans (resolved like them).
    pub states: Option<Vec<String>>,
    /// A random delay of up to this much before each run.
    pub jitter: std::time::Duration,
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Schedule) -> bool {
        self.cron.to_string() == other.cron.to_string()
            && self.regions == other.regions
            && self.states == other.states
            && self.jitter == other.jitter
    }
}

/// The longest duration any key or flag takes. Schedules, deadlines and clocks add
/// durations to times; bounding them here means no such sum can overflow.
pub const MAX_DURATION_DAYS: u64 = 3650;

impl Schedule {
    /// Whether two schedules scan the same states and regions at the same times
    /// (however the expression is spaced or the lists ordered; jitter aside).
    fn same_runs(&self, other: &Schedule) -> bool {
        let words = |s: &Schedule| {
            s.cron
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        };
        let set = |list: &Option<Vec<String>>| {
            list.clone().map(|mut list| {
                list.sort();
                list.dedup();
                list
            })
        };
        words(self) == words(other)
            && set(&self.regions) == set(&other.regions)
            && set(&self.states) == set(&other.states)
    }
}

/// `30s`, `10m`, `2h`, `1d` (or a bare number of seconds), at most
/// [`MAX_DURATION_DAYS`].
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let not_a_duration = || format!("{raw:?} is not a duration like 30s, 10m, 2h or 1d");
    let n: u64 = number.parse().map_err(|_| not_a_duration())?;
    let unit_secs = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(not_a_duration()),
    };
    match n.checked_mul(unit_secs) {
        Some(secs) if secs <= MAX_DURATION_DAYS * 86_400 => Ok(Duration::from_secs(secs)),
        _ => Err(format!(
            "{raw:?} is longer than {MAX_DURATION_DAYS}d, the longest duration driftd accepts"
        )),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CloudFormationSource {
    pub stacks: Vec<String>,
    pub regions: Vec<String>,
    pub drift: crate::sources::cloudformation::DriftOptions,
}

#[derive(Debug, Clone)]
pub struct Notifier {
    pub url: Secret,
    pub min_severity: Severity,
    /// Also tell when a finding is resolved.
    pub resolutions: bool,
}

/// A secret given inline or as a file (trimmed); exactly one of the two.
fn read_secret(
    inline: Option<String>,
    file: Option<String>,
    base_dir: Option<&Path>,
    key: &str,
) -> Result<Secret, String> {
    match (inline, file) {
        (Some(value), None) => Ok(Secret::new(value)),
        (None, Some(file)) => {
            let path = base_dir
                .map(|d| d.join(&file))
                .unwrap_or_else(|| PathBuf::from(&file));
            let text = read_text(&path, MAX_CONFIG_BYTES)
                .map_err(|e| format!("at {key}_file: cannot read {}: {e}", path.display()))?;
            Ok(Secret::new(text.trim().to_string()))
        }
        (Some(_), Some(_)) => Err(format!("give {key} or {key}_file, not both")),
        (None, None) => Err(format!("{key} (or {key}_file) is required")),
    }
}

/// A URL to POST to; the value itself is never shown in the error.
fn http_url(value: String, key: &str) -> Result<Secret, String> {
    if value.starts_with("https://") || value.starts_with("http://") {
        Ok(Secret::new(value))
    } else {
        Err(format!(
            "at {key}: expected an http(s):// URL (the value is not shown: it is a secret)"
        ))
    }
}

/// A secret given inline (usually `${ENV}`) or as a file to read (a mounted secret).
fn secret_from(
    inline: Option<String>,
    file: Option<String>,
    base_dir: Option<&Path>,
    key: &str,
) -> Result<Secret, String> {
    let from_file = file.is_some();
    let url = read_secret(inline, file, base_dir, key)?;
    let key = if from_file {
        format!("{key}_file")
    } else {
        key.to_string()
    };
    http_url(url.expose().to_string(), &key)
}

impl Config {
    /// `[scan] timeout`, or [`DEFAULT_SCAN_TIMEOUT`].
    pub fn scan_timeout(&self) -> Duration {
        self.scan_timeout.unwrap_or(DEFAULT_SCAN_TIMEOUT)
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = read_text(path, MAX_CONFIG_BYTES).map_err(|e| ConfigError {
            file: file.clone(),
            message: format!("cannot read the config: {e}"),
        })?;
        Config::parse(&text, &file, path.parent(), |name| std::env::var(name).ok())
    }

    /// Parses and validates `text`; `env` resolves `${NAME}`; relative state paths
    /// are taken from `base_dir`. No error shows a secret or a substituted value.
    pub fn parse(
        text: &str,
        file: &str,
        base_dir: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let fail = |message: String| ConfigError {
            file: file.to_string(),
            message,
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| fail(toml_error(text, &e)))?;
        let mut hidden = Hidden::default();
        for (key, value) in table.iter_mut() {
            substitute(value, key, &env, &mut hidden).map_err(|m| fail(hidden.scrub(m)))?;
        }
        hidden.add_secrets(&table);
        let raw: RawConfig =
            serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
                let path = e.path().to_string();
                let at = if path == "." {
                    String::new()
                } else {
                    format!("at {path}: ")
                };
                // The message alone: toml's Display repeats the path on a line of its own.
                let inner = e.into_inner();
                fail(hidden.scrub(format!("{at}{}", inner.message().trim_end())))
            })?;
        validate(raw, base_dir).map_err(|m| fail(hidden.scrub(m)))
    }
}

/// A TOML syntax error by line and column, without toml's excerpt of the line: the
/// line may hold a secret (a URL whose closing quote is missing).
fn toml_error(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim_end();
    match error.span() {
        Some(span) => {
            let before = &text.as_bytes()[..span.start.min(text.len())];
            let line = before.iter().filter(|b| **b == b'\n').count() + 1;
            let column = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
            format!("invalid TOML at line {line}, column {column}: {message}")
        }
        None => format!("invalid TOML: {message}"),
    }
}

/// Keys whose values are secrets wherever they come from.
const SECRET_KEYS: &[&[&str]] = &[
    &["notify", "slack", "webhook_url"],
    &["notify", "webhook", "url"],
    &["notify", "webhook", "secret"],
    // A PostgreSQL URL may carry a password.
    &["store", "url"],
];

/// Values an error message must not show: the secret keys' and every value that
/// `${NAME}` substitution produced.
#[derive(Default)]
struct Hidden {
    values: Vec<String>,
}

impl Hidden {
    fn add_secrets(&mut self, table: &toml::Table) {
        for path in SECRET_KEYS {
            let mut value = path.first().and_then(|first| table.get(*first));
            for key in &path[1..] {
                value = value.and_then(|v| v.get(*key));
            }
            match value {
                Some(toml::Value::String(s)) => self.values.push(s.clone()),
                Some(other) => self.values.push(other.to_string()),
                None => {}
            }
        }
    }

    /// Replaces each hidden value where a message quotes it (`"v"`, `` `v` ``, as
    /// serde and driftd quote values) and, when long enough not to be a common word,
    /// wherever it appears.
    fn scrub(&self, mut message: String) -> String {
        for value in self.values.iter().filter(|v| !v.is_empty()) {
            for quoted in [format!("{value:?}"), format!("`{value}`")] {
                message = message.replace(&quoted, "\"***\"");
            }
            if value.len() >= 6 {
                message = message.replace(value.as_str(), "***");
            }
        }
        message
    }
}

/// Replaces `${NAME}` in every string; an unset variable is an error naming the key.
fn substitute(
    value: &mut toml::Value,
    path: &str,
    env: &impl Fn(&str) -> Option<String>,
    hidden: &mut Hidden,
) -> Result<(), String> {
    match value {
        toml::Value::String(s) => {
            if !s.contains("${") {
                return Ok(());
            }
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(start) = rest.find("${") {
                out.push_str(&rest[..start]);
                let after = &rest[start + 2..];
                let end = after
                    .find('}')
                    .ok_or_else(|| format!("at {path}: unterminated ${{ in a string"))?;
                let name = &after[..end];
                let resolved = env(name).ok_or_else(|| {
                    format!("at {path}: environment variable {name} is not set (referenced as ${{{name}}})")
                })?;
                out.push_str(&resolved);
                hidden.values.push(resolved);
                rest = &after[end + 1..];
            }
            out.push_str(rest);
            hidden.values.push(out.clone());
            *s = out;
        }
        toml::Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                substitute(item, &format!("{path}[{i}]"), env, hidden)?;
            }
        }
        toml::Value::Table(table) => {
            for (key, item) in table.iter_mut() {
                substitute(item, &format!("{path}.{key}"), env, hidden)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn severity(raw: Option<&str>, path: &str, default: Severity) -> Result<Severity, String> {
    match raw {
        None => Ok(default),
        Some(s) => Severity::parse(s).ok_or_else(|| {
            format!(
                "at {path}: unknown severity {s:?} (expected critical, high, medium, low or info)"
            )
        }),
    }
}

fn check_region(region: &str, path: &str) -> Result<(), String> {
    let parts: Vec<&str> = region.split('-').collect();
    let ok = parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "at {path}: {region:?} is not an AWS region name (e.g. us-east-1)"
        ))
    }
}

/// A local state path is relative to the config file; an `s3://` URL is as given.
fn resolve_state(base_dir: Option<&Path>, state: &str) -> String {
    if state.starts_with("s3://") || Path::new(state).is_absolute() {
        return state.to_string();
    }
    base_dir
        .map(|d| d.join(state))
        .unwrap_or_else(|| PathBuf::from(state))
        .display()
        .to_string()
}

/// An optional duration at `path`, which must be longer than zero.
fn positive_duration(raw: Option<&str>, path: &str) -> Result<Option<Duration>, String> {
    let Some(raw) = raw else { return Ok(None) };
    match parse_duration(raw).map_err(|m| format!("at {path}: {m}"))? {
        zero if zero.is_zero() => Err(format!("at {path}: must be longer than 0s")),
        duration => Ok(Some(duration)),
    }
}

fn validate(raw: RawConfig, base_dir: Option<&Path>) -> Result<Config, String> {
    let mut config = Config::default();
    if let Some(scan) = raw.scan {
        for (i, region) in scan.regions.iter().flatten().enumerate() {
            check_region(region, &format!("scan.regions[{i}]"))?;
        }
        config.regions = scan.regions.unwrap_or_default();
        config.include_default_groups = scan.include_default_groups.unwrap_or(false);
        config.scan_timeout = positive_duration(scan.timeout.as_deref(), "scan.timeout")?;
    }
    if let Some(aws) = raw.aws {
        config.aws_connect_timeout =
            positive_duration(aws.connect_timeout.as_deref(), "aws.connect_timeout")?;
        config.aws_read_timeout =
            positive_duration(aws.read_timeout.as_deref(), "aws.read_timeout")?;
        config.aws_call_timeout =
            positive_duration(aws.call_timeout.as_deref(), "aws.call_timeout")?;
    }
    for (i, account) in raw.account.into_iter().enumerate() {
        if account.id.len() != 12 || !account.id.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!(
                "at account[{i}].id: {:?} is not a 12-digit AWS account id",
                account.id
            ));
        }
        if let Some(arn) = &account.role_arn
            && !(arn.starts_with("arn:") && arn.contains(":role/"))
        {
            return Err(format!(
                "at account[{i}].role_arn: {arn:?} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"
            ));
        }
        config.accounts.push(Account {
            id: account.id,
            role_arn: account.role_arn,
        });
    }
    for (i, tf) in raw.terraform.into_iter().enumerate() {
        if tf.state.trim().is_empty() {
            return Err(format!("at terraform[{i}].state: empty path"));
        }
        config
            .terraform_states
            .push(resolve_state(base_dir, &tf.state));
    }
    for (i, cfn) in raw.cloudformation.into_iter().enumerate() {
        if cfn.stacks.is_empty() {
            return Err(format!(
                "at cloudformation[{i}].stacks: name at least one stack, or \"*\""
            ));
        }
        if let Some(j) = cfn.stacks.iter().position(|s| s.trim().is_empty()) {
            return Err(format!(
                "at cloudformation[{i}].stacks[{j}]: a stack name cannot be empty"
            ));
        }
        if cfn.regions.as_ref().is_some_and(Vec::is_empty) {
            return Err(format!(
                "at cloudformation[{i}].regions: name at least one region, or leave the key out for [scan] regions"
            ));
        }
        for (j, region) in cfn.regions.iter().flatten().enumerate() {
            check_region(region, &format!("cloudformation[{i}].regions[{j}]"))?;
        }
        let duration = |raw: Option<&String>, key: &str| {
            raw.map(|raw| {
                parse_duration(raw).map_err(|e| format!("at cloudformation[{i}].{key}: {e}"))
            })
            .transpose()
        };
        let mut drift = crate::sources::cloudformation::DriftOptions {
            detect: cfn.detect_drift.unwrap_or(true),
            reuse_younger_than: duration(
                cfn.reuse_drift_younger_than.as_ref(),
                "reuse_drift_younger_than",
            )?,
            ..Default::default()
        };
        if let Some(timeout) = positive_duration(
            cfn.drift_timeout.as_deref(),
            &format!("cloudformation[{i}].drift_timeout"),
        )? {
            drift.timeout = timeout;
        }
        if drift.detect && drift.timeout >= config.scan_timeout() {
            return Err(format!(
                "at cloudformation[{i}].drift_timeout: {}s{} is not shorter than scan.timeout ({}s{}): \
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
            ));
        }
        config.cloudformation.push(CloudFormationSource {
            stacks: cfn.stacks,
            regions: cfn.regions.unwrap_or_else(|| config.regions.clone()),
            drift,
        });
    }
    if let Some(store) = raw.store {
        if let Some(days) = store
            .retain_days
            .filter(|days| u64::from(*days) > MAX_DURATION_DAYS)
        {
            return Err(format!(
                "at store.retain_days: {days} is more than {MAX_DURATION_DAYS}, the most driftd keeps"
            ));
        }
        config.store_url = store.url;
        config.retain_days = store.retain_days;
    }
    if let Some(server) = raw.server {
        if let Some(listen) = server.listen {
            config.listen = Some(listen.parse().map_err(|_| {
                format!("at server.listen: {listen:?} is not an address like 0.0.0.0:9090")
            })?);
        }
        let duration = |value: Option<String>, key: &str| {
            value
                .map(|v| parse_duration(&v).map_err(|m| format!("at server.{key}: {m}")))
                .transpose()
        };
        config.ready_max_age = duration(server.ready_max_age, "ready_max_age")?;
        config.shutdown_grace = duration(server.shutdown_grace, "shutdown_grace")?;
        config.header_timeout =
            positive_duration(server.header_timeout.as_deref(), "server.header_timeout")?;
        if server.max_connections == Some(0) {
            return Err("at server.max_connections: must be at least 1".to_string());
        }
        config.max_connections = server.max_connections;
    }
    for (i, schedule) in raw.schedule.into_iter().enumerate() {
        let expression = schedule.cron.trim();
        if expression.split_whitespace().count() < 6 {
            return Err(format!(
                "at schedule[{i}].cron: {expression:?} needs 6 or 7 fields, seconds first: sec min hour day-of-month month day-of-week [year] (e.g. \"0 */10 * * * *\")"
            ));
        }
        let cron = cron::Schedule::from_str(expression).map_err(|e| {
            format!(
                "at schedule[{i}].cron: {expression:?} is not a valid cron expression ({e}); expected sec min hour day-of-month month day-of-week [year], e.g. \"0 */10 * * * *\""
            )
        })?;
        for (j, region) in schedule.regions.iter().flatten().enumerate() {
            check_region(region, &format!("schedule[{i}].regions[{j}]"))?;
        }
        if cron.upcoming(chrono::Utc).next().is_none() {
            return Err(format!(
                "at schedule[{i}].cron: {expression:?} has no future run"
            ));
        }
        let states = schedule.states.map(|states| {
            states
                .into_iter()
                .map(|s| resolve_state(base_dir, &s))
                .collect()
        });
        let jitter = schedule
            .jitter
            .map(|j| parse_duration(&j).map_err(|m| format!("at schedule[{i}].jitter: {m}")))
            .transpose()?
            .unwrap_or_default();
        let schedule = Schedule {
            cron,
            regions: schedule.regions,
            states,
            jitter,
        };
        if let Some(j) = config.schedules.iter().position(|s| s.same_runs(&schedule)) {
            return Err(format!(
                "at schedule[{i}]: the same scans at the same times as schedule[{j}]; each would run twice"
            ));
        }
        config.schedules.push(schedule);
    }
    if let Some(notify) = raw.notify {
        if let Some(slack) = notify.slack {
            config.slack = Some(Notifier {
                url: secret_from(
                    slack.webhook_url,
                    slack.webhook_url_file,
                    base_dir,
                    "notify.slack.webhook_url",
                )?,
                min_severity: severity(
                    slack.min_severity.as_deref(),
                    "notify.slack.min_severity",
                    Severity::Medium,
                )?,
                resolutions: slack.resolutions.unwrap_or(false),
            });
        }
        if let Some(hook) = notify.webhook {
            config.webhook = Some(Notifier {
                url: secret_from(hook.url, hook.url_file, base_dir, "notify.webhook.url")?,
                min_severity: severity(
                    hook.min_severity.as_deref(),
                    "notify.webhook.min_severity",
                    Severity::Low,
                )?,
                resolutions: hook.resolutions.unwrap_or(false),
            });
            config.webhook_secret = match (hook.secret, hook.secret_file) {
                (None, None) => None,
                (Some(secret), None) => Some(Secret::new(secret)),
                (secret, file) => Some(read_secret(
                    secret,
                    file,
                    base_dir,
                    "notify.webhook.secret",
                )?),
            };
        }
    }
    for (i, ack) in raw.acknowledge.into_iter().enumerate() {
        config
            .acknowledgements
            .push(acknowledgement(ack, &format!("acknowledge[{i}]"))?);
    }
    for (code, level) in raw.severity {
        let parsed = FindingCode::parse(&code)
            .ok_or_else(|| format!("at severity.{code}: unknown finding code"))?;
        config.severity.insert(
            parsed,
            severity(Some(&level), &format!("severity.{code}"), Severity::Info)?,
        );
    }
    Ok(config)
}

fn acknowledgement(raw: RawAcknowledge, path: &str) -> Result<Acknowledgement, String> {
    let reason = raw.reason.filter(|r| !r.trim().is_empty()).ok_or_else(|| {
        format!("at {path}: `reason` is required: say why this drift is intended")
    })?;
    if raw.code.is_none() && raw.group_id.is_none() && raw.address.is_none() {
        return Err(format!(
            "at {path}: give at least one of `code`, `group_id` or `address`; an acknowledgement of everything would hide all drift"
        ));
    }
    let code = raw
        .code
        .map(|c| {
            FindingCode::parse(&c)
                .ok_or_else(|| format!("at {path}.code: unknown finding code {c:?}"))
        })
        .transpose()?;
    let expires = raw
        .expires
        .map(|e| Expiry::parse(&e).map_err(|m| format!("at {path}.expires: {m}")))
        .transpose()?;
    Ok(Acknowledgement {
        code,
        group_id: raw.group_id,
        address: raw.address,
        field: raw.field,
        reason,
        expires,
    })
}
