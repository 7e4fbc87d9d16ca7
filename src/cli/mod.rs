//! Command-line interface (contracts/CLI.md): one file per subcommand, each a thin
//! layer that builds its inputs and calls the library.

mod check_config;
mod completions;
mod healthcheck;
mod history;
pub mod progress;
mod refs;
mod report;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::aws::Timeouts;
use crate::config::Config;
use crate::diff::DiffOptions;
use crate::notify::deliver::Endpoints;
use crate::notify::{Endpoint, Filter, Routing};
use crate::scan::{LiveSource, ScanLimits, ScanPlan};
use crate::sources::cloudformation::{CloudFormationPlan, StackPlan};
use crate::sources::ec2::Ec2Plan;

#[derive(Debug, Parser)]
#[command(
    name = "driftd",
    version,
    about = "Security-group drift between Terraform state or CloudFormation and live AWS, field by field",
    long_about = "driftd compares what Terraform state and CloudFormation stacks declare about \
                  security groups and their rules with what AWS really has, and reports exactly \
                  which field changed, from what, to what, and who owns it. CloudFormation \
                  stacks ([[cloudformation]] in the config) give ownership and their own drift \
                  detection results, told on the rule they concern.\n\n\
                  AWS is reached through the SDK's default credential and region chain; \
                  AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_EC2, _S3, _STS, _CLOUDFORMATION) points \
                  it at any AWS-compatible endpoint.\n\n\
                  Exit codes: 0 no unacknowledged drift, 2 drift found, 1 error or partial scan.\n\
                  Logs go to stderr (RUST_LOG filters them; DRIFTD_LOG_FORMAT=json for JSON lines)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Colour the report table and the logs: auto colours a terminal unless NO_COLOR
    /// is set (CLICOLOR_FORCE=1 forces it); never for files and pipes.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    pub color: ColorWhen,
}

/// `--color`: when output is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

impl ColorWhen {
    /// Whether text written to `stream` is coloured. Auto follows the conventions
    /// anstream implements: a terminal, NO_COLOR unset, TERM not dumb, or
    /// CLICOLOR_FORCE set.
    pub fn colours(self, stream: &impl anstream::stream::RawStream) -> bool {
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => anstream::AutoStream::choice(stream) != anstream::ColorChoice::Never,
        }
    }
}

// Each subcommand's long help is given here, beside its one-line doc comment: a
// doc comment on a variant replaces the long help its struct declares.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan once and print the report.
    #[command(long_about = report::LONG_ABOUT, after_long_help = report::EXIT_CODES)]
    Report(report::ReportArgs),
    /// Show everything that references a security group, before deleting it.
    #[command(after_help = refs::EXIT_CODES)]
    Refs(refs::RefsArgs),
    /// Run as a service: scan on the config's schedules, store, serve HTTP.
    #[command(long_about = serve::LONG_ABOUT)]
    Serve(serve::ServeArgs),
    /// What changed in live security groups between stored scans, field by field.
    #[command(long_about = history::LONG_ABOUT)]
    History(history::HistoryArgs),
    /// Validate a config file without scanning; print each schedule's next runs.
    CheckConfig(check_config::CheckConfigArgs),
    /// Exit 0 when the local `serve` answers /healthz (a container health check).
    #[command(long_about = healthcheck::LONG_ABOUT)]
    Healthcheck(healthcheck::HealthcheckArgs),
    /// Print a shell completion script: bash, zsh or fish.
    #[command(long_about = completions::LONG_ABOUT)]
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff), e.g. `driftd man > /usr/local/share/man/man1/driftd.1`.
    Man,
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Report(args) => report::run(args, cli.color).await,
            Command::Refs(args) => refs::run(args).await,
            Command::History(args) => history::run(args).await,
            Command::Serve(args) => serve::run(args).await,
            Command::CheckConfig(args) => check_config::run(args),
            Command::Healthcheck(args) => healthcheck::run(args).await,
            Command::Completions(args) => completions::run(args),
            Command::Man => completions::man_page(),
        }
    })
}

/// Where history is stored, for every subcommand that opens the database.
#[derive(Debug, Args)]
pub struct DatabaseArg {
    /// The database: sqlite://PATH or postgres://USER@HOST/DB. Overrides `[store] url`.
    // The value is hidden from --help: a PostgreSQL URL may carry a password.
    #[arg(
        long = "database-url",
        env = "DRIFTD_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub url: Option<String>,
}

impl DatabaseArg {
    /// `--database-url` / `DRIFTD_DATABASE_URL`, else `url` from the config, if either is set.
    fn configured(&self, config_url: Option<&str>) -> Option<String> {
        let given = self.url.clone().filter(|url| !url.is_empty());
        given.or_else(|| config_url.map(str::to_string))
    }

    /// The configured database, else `sqlite://driftd.db`.
    fn or_default(&self, config_url: Option<&str>) -> String {
        self.configured(config_url)
            .unwrap_or_else(|| crate::store::DEFAULT_URL.to_string())
    }
}

pub(crate) fn load_config(path: Option<&PathBuf>) -> anyhow::Result<Config> {
    match path {
        Some(path) => Ok(Config::load(path)?),
        None => Ok(Config::default()),
    }
}

/// What to scan: shared by `report` and `refs`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Config file (TOML): states, CloudFormation stacks, regions, accounts,
    /// acknowledgements.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Terraform state (format 4): a local path or s3://bucket/key; repeatable.
    /// Adds to the config's states.
    #[arg(long = "state", value_name = "PATH_OR_S3_URL")]
    pub states: Vec<std::ffi::OsString>,
    /// Region to scan; repeatable. Overrides the config's regions (default: the
    /// regions the loaded states and stacks live in, from their ARNs; the SDK's
    /// default region when they name none).
    #[arg(long = "region", value_name = "R")]
    pub regions: Vec<String>,
    /// Read captured `aws ec2 describe-security-groups` / `describe-security-group-rules`
    /// JSON instead of calling AWS; repeatable.
    #[arg(long = "live", value_name = "FILE")]
    pub live: Vec<PathBuf>,
}

impl ScanArgs {
    pub fn plan(&self) -> anyhow::Result<(ScanPlan, Config)> {
        let config = load_config(self.config.as_ref())?;
        let mut states = config.terraform_states.clone();
        for state in &self.states {
            // Named in findings and reports, which are UTF-8: say so rather than
            // clap's "invalid UTF-8 was detected in one or more arguments".
            let state = state.to_str().ok_or_else(|| {
                anyhow::anyhow!(
                    "--state {}: the path is not valid UTF-8; rename the file, or link to it under a UTF-8 name",
                    state.to_string_lossy()
                )
            })?;
            states.push(state.to_string());
        }
        let regions = if self.regions.is_empty() {
            config.regions.clone()
        } else {
            self.regions.clone()
        };
        let live = if self.live.is_empty() {
            LiveSource::Aws(Ec2Plan {
                regions,
                accounts: config.accounts.clone(),
                ..Ec2Plan::default()
            })
        } else {
            LiveSource::Files {
                paths: self.live.clone(),
                regions,
            }
        };
        let plan = plan_from_config(&config, states, live);
        Ok((plan, config))
    }
}

/// A scan of `states` against `live`, with the config's diff options and
/// acknowledgements.
fn plan_from_config(config: &Config, states: Vec<String>, live: LiveSource) -> ScanPlan {
    let stacks = config
        .cloudformation
        .iter()
        .map(|c| StackPlan {
            stacks: c.stacks.clone(),
            regions: c.regions.clone(),
            drift: c.drift.clone(),
        })
        .collect();
    ScanPlan {
        states,
        live,
        cloudformation: Some(CloudFormationPlan {
            stacks,
            accounts: config.accounts.clone(),
        }),
        options: DiffOptions {
            include_default_groups: config.include_default_groups,
            severity: config.severity.clone(),
            // `serve` sets it per schedule.
            regions_read_elsewhere: Vec::new(),
            flows: config.flows.clone(),
        },
        acknowledgements: config.acknowledgements.clone(),
        limits: limits(config),
        cloudtrail: config.cloudtrail.unwrap_or(true),
    }
}

/// Who hears about what: the config's notifiers, without their URLs.
fn routing(config: &Config) -> Routing {
    let filters = config.notifiers.iter().map(|(&channel, n)| {
        let filter = Filter {
            min_severity: n.min_severity,
            resolutions: n.resolutions,
        };
        (channel, filter)
    });
    Routing {
        filters: filters.collect(),
    }
}

/// Where each notifier's messages go (secrets).
fn endpoints(config: &Config) -> Endpoints {
    let endpoints = config.notifiers.iter().map(|(&channel, n)| {
        let endpoint = Endpoint {
            url: n.url.clone(),
            secret: n.secret.clone(),
        };
        (channel, endpoint)
    });
    Endpoints {
        by_channel: endpoints.collect(),
    }
}

/// `[scan] timeout` and `[aws]` timeouts over the defaults.
fn limits(config: &Config) -> ScanLimits {
    let default = ScanLimits::default();
    ScanLimits {
        aws: Timeouts {
            connect: config.aws_connect_timeout.unwrap_or(default.aws.connect),
            read: config.aws_read_timeout.unwrap_or(default.aws.read),
            call: config.aws_call_timeout.unwrap_or(default.aws.call),
        },
        deadline: config.scan_timeout(),
    }
}
