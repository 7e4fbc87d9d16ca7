//! The TOML configuration (contracts/CONFIG.md), in two phases: deserialize with
//! unknown keys refused (`raw.rs`), then validate each section into types that cannot
//! hold a bad value (one file per group of sections), collecting every problem with
//! its key path rather than stopping at the first. `${NAME}` in any string is replaced
//! by the environment variable NAME; no error shows a secret or a substituted value.

mod cron;
mod error;
mod findings;
mod flows;
mod hidden;
mod notifiers;
mod raw;
mod scan;
mod service;
mod substitute;
#[cfg(test)]
mod tests;
mod values;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

pub use self::cron::CronSchedule;
pub use self::error::{ConfigError, Problem};
use self::error::{Problems, toml_error};
use self::hidden::Hidden;
use self::raw::RawConfig;
pub use self::values::parse_duration;
use crate::acknowledge::Acknowledgement;
use crate::input::{MAX_CONFIG_BYTES, read_text};
use crate::model::{FindingCode, Flow, Severity};
use crate::notify::Channel;
pub use crate::scan::DEFAULT_SCAN_TIMEOUT;
pub use crate::secret::Secret;
pub use crate::sources::accounts::Account;

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
    /// `[server] scan_on_start` (default true).
    pub scan_on_start: Option<bool>,
    /// `[server] scan_lease`: how long a replica's claim on a run lasts unless it
    /// renews it (default 60 s).
    pub scan_lease: Option<Duration>,
    pub schedules: Vec<Schedule>,
    /// Every `[notify.NAME]`, by notifier.
    pub notifiers: BTreeMap<Channel, Notifier>,
    /// `notifiers[Slack]`, `notifiers[Webhook]` and the webhook's signing key again,
    /// under the names the config's API has always had (tests/config.rs reads them);
    /// a new notifier is only in `notifiers`.
    pub slack: Option<Notifier>,
    pub webhook: Option<Notifier>,
    pub webhook_secret: Option<Secret>,
    pub acknowledgements: Vec<Acknowledgement>,
    pub severity: BTreeMap<FindingCode, Severity>,
    /// `[cloudtrail] enabled` (default true): say who made each change.
    pub cloudtrail: Option<bool>,
    /// `[[flow]]`: paths that must stay open.
    pub flows: Vec<Flow>,
}

/// One `[[schedule]]`: when `serve` scans, and optionally what.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub cron: CronSchedule,
    /// Replace `[scan] regions` for this schedule's scans.
    pub regions: Option<Vec<String>>,
    /// Replace the `[[terraform]]` states for this schedule's scans (resolved like them).
    pub states: Option<Vec<String>>,
    /// A random delay of up to this much before each run.
    pub jitter: std::time::Duration,
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Schedule) -> bool {
        self.cron == other.cron
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
        let set = |list: &Option<Vec<String>>| {
            list.clone().map(|mut list| {
                list.sort();
                list.dedup();
                list
            })
        };
        self.cron.same_times(&other.cron)
            && set(&self.regions) == set(&other.regions)
            && set(&self.states) == set(&other.states)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CloudFormationSource {
    pub stacks: Vec<String>,
    pub regions: Vec<String>,
    pub drift: crate::sources::cloudformation::DriftOptions,
}

/// One `[notify.NAME]`, validated.
#[derive(Debug, Clone)]
pub struct Notifier {
    pub url: Secret,
    /// The key its messages are signed with, for a notifier that signs.
    pub secret: Option<Secret>,
    pub min_severity: Severity,
    /// Also tell when a finding is resolved.
    pub resolutions: bool,
}

impl Config {
    /// `[scan] timeout`, or [`DEFAULT_SCAN_TIMEOUT`].
    pub fn scan_timeout(&self) -> Duration {
        self.scan_timeout.unwrap_or(DEFAULT_SCAN_TIMEOUT)
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Config::load_and_check(path, |_| Vec::new())
    }

    /// [`Config::load`], with the problems `check` finds in the values read (given
    /// even when other keys are wrong, so that they are all told at once).
    pub fn load_and_check(
        path: &Path,
        check: impl Fn(&Config) -> Vec<Problem>,
    ) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = read_text(path, MAX_CONFIG_BYTES).map_err(|e| ConfigError {
            file: file.clone(),
            problems: vec![Problem::file(format!("cannot read the config: {e}"))],
        })?;
        let env = |name: &str| std::env::var(name).ok();
        Config::parse_and_check(&text, &file, path.parent(), env, check)
    }

    /// One string key (`("store", "url")`), for commands that need nothing else
    /// (`history` reads the database, `healthcheck` calls `[server] listen`): the
    /// rest of the file, and the variables its other keys name (a webhook secret,
    /// say), are not needed for them and not asked for.
    pub fn load_one(path: &Path, section: &str, key: &str) -> Result<Option<String>, ConfigError> {
        let file = path.display().to_string();
        let fail = |problem| ConfigError {
            file: file.clone(),
            problems: vec![problem],
        };
        let text = read_text(path, MAX_CONFIG_BYTES)
            .map_err(|e| fail(Problem::file(format!("cannot read the config: {e}"))))?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let mut table: toml::Table = text.parse().map_err(|e| fail(toml_error(text, &e)))?;
        let Some(mut value) = table
            .get_mut(section)
            .and_then(|section| section.as_table_mut())
            .and_then(|section| section.remove(key))
        else {
            return Ok(None);
        };
        let at = format!("{section}.{key}");
        let env = |name: &str| std::env::var(name).ok();
        let (mut hidden, mut problems) = (Hidden::default(), Problems::default());
        substitute::substitute(&mut value, &at, &env, &mut hidden, &mut problems);
        if let Some(problem) = problems.into_vec().into_iter().next() {
            return Err(fail(hidden.scrub_problem(problem)));
        }
        match value {
            toml::Value::String(value) => Ok(Some(value)),
            _ => Err(fail(Problem::at(at, "expected a string"))),
        }
    }

    /// Parses and validates `text`; `env` resolves `${NAME}`; relative state paths
    /// are taken from `base_dir`. No error shows a secret or a substituted value.
    pub fn parse(
        text: &str,
        file: &str,
        base_dir: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        Config::parse_and_check(text, file, base_dir, env, |_| Vec::new())
    }

    fn parse_and_check(
        text: &str,
        file: &str,
        base_dir: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
        check: impl Fn(&Config) -> Vec<Problem>,
    ) -> Result<Config, ConfigError> {
        let fail = |problems: Problems, hidden: &Hidden| ConfigError {
            file: file.to_string(),
            problems: problems
                .into_vec()
                .into_iter()
                .map(|p| hidden.scrub_problem(p))
                .collect(),
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut hidden = Hidden::default();
        let mut problems = Problems::default();
        let mut table: toml::Table = match text.parse() {
            Ok(table) => table,
            Err(e) => {
                problems.push(toml_error(text, &e));
                return Err(fail(problems, &hidden));
            }
        };
        for (key, value) in table.iter_mut() {
            substitute::substitute(value, key, &env, &mut hidden, &mut problems);
        }
        if !problems.is_empty() {
            return Err(fail(problems, &hidden));
        }
        hidden.add_secrets(&table);
        let raw: RawConfig = match serde_path_to_error::deserialize(toml::Value::Table(table)) {
            Ok(raw) => raw,
            Err(e) => {
                let path = e.path().to_string();
                let key = if path == "." { String::new() } else { path };
                // The message alone: toml's Display repeats the path on a line of its own.
                let inner = e.into_inner();
                problems.add(key, inner.message().trim_end());
                return Err(fail(problems, &hidden));
            }
        };
        let config = validate(raw, base_dir, &mut problems);
        problems.extend(check(&config));
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(fail(problems, &hidden))
        }
    }
}

/// Every section in turn, each adding its problems; `[scan]` first, which
/// `[[cloudformation]]` reads.
fn validate(raw: RawConfig, base_dir: Option<&Path>, problems: &mut Problems) -> Config {
    let mut config = Config::default();
    scan::scan(raw.scan, &mut config, problems);
    scan::aws(raw.aws, &mut config, problems);
    scan::accounts(raw.account, &mut config, problems);
    scan::terraform(raw.terraform, base_dir, &mut config, problems);
    scan::cloudformation(raw.cloudformation, &mut config, problems);
    config.cloudtrail = raw.cloudtrail.and_then(|c| c.enabled);
    service::store(raw.store, &mut config, problems);
    service::server(raw.server, &mut config, problems);
    service::schedules(raw.schedule, base_dir, &mut config, problems);
    notifiers::notifiers(raw.notify, base_dir, &mut config, problems);
    flows::flows(raw.flow, &mut config, problems);
    findings::acknowledgements(raw.acknowledge, &mut config, problems);
    findings::severities(raw.severity, &mut config, problems);
    config
}
