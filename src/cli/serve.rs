//! `driftd serve --config FILE`: the long-running service (see `crate::daemon`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use clap::Args;

use super::report::DEFAULT_RETAIN_DAYS;
use crate::config::Config;
use crate::daemon::{self, HttpLimits, Settings, Timing};
use crate::notify::deliver::Deliverer;
use crate::scan::LiveSource;
use crate::sources::ec2::Ec2Plan;
use crate::store::{OpenMode, Store};

/// Inside ECS's default 30 s stop timeout.
const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(25);
/// Without `[server] ready_max_age`: three times the longest gap between runs of
/// the busiest schedule would be ideal; an hour is simple and safe for the
/// documented 10-minute schedule.
const DEFAULT_READY_MAX_AGE: Duration = Duration::from_secs(3600);
/// How long a replica's claim on a run lasts unless it renews it.
const DEFAULT_SCAN_LEASE: Duration = Duration::from_secs(60);
pub const DEFAULT_LISTEN: &str = "0.0.0.0:9090";

pub const LONG_ABOUT: &str = "Run as a service: scan at start ([server] scan_on_start, \
    default true) and on every [[schedule]] of the config (crontab(5), in UTC: \
    `*/10 * * * *`, 6 fields with seconds first, @hourly; `check-config` prints the next \
    runs), store each scan, and answer on [server] listen (default 0.0.0.0:9090): \
    GET /healthz, /readyz, /metrics (Prometheus), /report (the latest report as JSON; \
    the latest stored one until this process has scanned).\n\n\
    Scans never overlap and missed runs are not stacked up. On SIGTERM or SIGINT no new \
    scan starts; a running one gets [server] shutdown_grace (default 25s) to finish and \
    store, else it is abandoned without storing anything; the exit code is 0.\n\n\
    The database is --database-url (DRIFTD_DATABASE_URL) or [store] url (required).";

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The config file (TOML; see config/driftd.example.toml).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    #[command(flatten)]
    pub database: super::DatabaseArg,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = super::load_config(Some(&args.config))?;
    if config.schedules.is_empty() {
        bail!(
            "{}: `serve` needs at least one [[schedule]] (e.g. cron = \"*/10 * * * *\")",
            args.config.display()
        );
    }
    let Some(url) = args.database.configured(config.store_url.as_deref()) else {
        bail!(
            "{}: `serve` needs a database: set [store] url, or --database-url / DRIFTD_DATABASE_URL",
            args.config.display()
        );
    };
    let schedule_regions = |schedule: &crate::config::Schedule| {
        schedule
            .regions
            .clone()
            .unwrap_or_else(|| config.regions.clone())
    };
    // Regions some schedule reads: another schedule leaves them to it.
    let deployment_regions: std::collections::BTreeSet<String> =
        config.schedules.iter().flat_map(schedule_regions).collect();
    let schedules = config
        .schedules
        .iter()
        .map(|schedule| {
            let states = schedule
                .states
                .clone()
                .unwrap_or_else(|| config.terraform_states.clone());
            let regions = schedule_regions(schedule);
            let live = LiveSource::Aws(Ec2Plan {
                regions: regions.clone(),
                accounts: config.accounts.clone(),
                ..Ec2Plan::default()
            });
            let timing = Timing {
                cron: schedule.cron.clone(),
                jitter: schedule.jitter,
            };
            let mut plan = super::plan_from_config(&config, states, live);
            plan.options.regions_read_elsewhere = deployment_regions
                .iter()
                .filter(|r| !regions.contains(r))
                .cloned()
                .collect();
            (timing, plan)
        })
        .collect();
    let listen = match config.listen {
        Some(listen) => listen,
        None => DEFAULT_LISTEN.parse()?,
    };
    let settings = Settings {
        listen,
        ready_max_age: config.ready_max_age.unwrap_or(DEFAULT_READY_MAX_AGE),
        shutdown_grace: config.shutdown_grace.unwrap_or(DEFAULT_SHUTDOWN_GRACE),
        retain_days: config.retain_days.unwrap_or(DEFAULT_RETAIN_DAYS),
        scan_on_start: config.scan_on_start.unwrap_or(true),
        scan_lease: config.scan_lease.unwrap_or(DEFAULT_SCAN_LEASE),
        schedules,
        http: http_limits(&config),
    };
    let store = Store::open(&url, OpenMode::Create).await?;
    let deliverer = Deliverer::new(super::endpoints(&config));
    daemon::serve(settings, store, super::routing(&config), deliverer).await?;
    Ok(ExitCode::SUCCESS)
}

/// `[server] header_timeout` and `max_connections` over the defaults.
fn http_limits(config: &Config) -> HttpLimits {
    let default = HttpLimits::default();
    HttpLimits {
        header_timeout: config.header_timeout.unwrap_or(default.header_timeout),
        max_connections: config.max_connections.unwrap_or(default.max_connections),
    }
}
