//! `driftd report`: one scan now; prints the report; exits 0, 2 or 1.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::{ColorWhen, ScanArgs};
use crate::model::{FindingCode, FindingStatus, Severity};
use crate::notify::deliver::{Deliverer, deliver_for};
use crate::report::{DEFAULT_TABLE_WIDTH, Report, TableStyle, render_markdown, render_table};
use crate::scan;
use crate::store::{OpenMode, Store, StoreError};
use tracing::error;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// Grouped by security group, aligned, coloured on a terminal.
    Table,
    /// One document valid against report.schema.json.
    Json,
    /// For tickets and pull-request comments.
    Markdown,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FailOn {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl From<FailOn> for Severity {
    fn from(f: FailOn) -> Severity {
        match f {
            FailOn::Critical => Severity::Critical,
            FailOn::High => Severity::High,
            FailOn::Medium => Severity::Medium,
            FailOn::Low => Severity::Low,
            FailOn::Info => Severity::Info,
        }
    }
}

pub const LONG_ABOUT: &str = "Scan once: read the Terraform states (--state, [[terraform]]) \
    and CloudFormation stacks ([[cloudformation]]), read live AWS (or --live captures), \
    compare them field by field, store the scan (unless --no-store) and print the report: \
    a table on a terminal, or --format json (report.schema.json) / markdown.\n\n\
    Works without a config: `driftd report --state terraform.tfstate --region us-east-1`.";

pub const EXIT_CODES: &str = "Exit codes (as terraform plan -detailed-exitcode):\n  \
    0  no unacknowledged finding at or above --fail-on\n  \
    2  such findings exist\n  \
    1  error, or a partial scan (what could be compared is still printed), or nothing \
    declared could be compared with live data";

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub scan: ScanArgs,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Write the report here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Lowest severity that makes the exit code 2.
    #[arg(long, value_enum, default_value = "low", value_name = "SEVERITY")]
    pub fail_on: FailOn,
    /// Do not store this scan. By default it is stored in DRIFTD_DATABASE_URL,
    /// `[store] url`, or sqlite://driftd.db, and statuses and `first_seen` come from
    /// that history.
    #[arg(long)]
    pub no_store: bool,
    /// Send the config's notifications (Slack, webhook) for this scan, as `serve`
    /// would: first what still waits in the outbox, then this scan's. Without it the
    /// messages wait in the outbox for `serve` or the next `report --notify`.
    #[arg(long, conflicts_with = "no_store")]
    pub notify: bool,
    /// Print the latest stored result of every scope instead of scanning: what
    /// `serve` (or its replicas, scope by scope) found, merged, with each scope's
    /// scan and age in `scan.scopes`. Reads the database only; no AWS call.
    #[arg(long, conflicts_with_all = ["no_store", "notify", "states", "regions", "live"])]
    pub from_store: bool,
    /// How long `--notify` keeps retrying a failing delivery before leaving it in
    /// the outbox (e.g. 30s, 2m).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = crate::config::parse_duration)]
    pub notify_timeout: std::time::Duration,
    #[command(flatten)]
    pub database: super::DatabaseArg,
}

/// The table's colours and width: a terminal's own width and colours (per
/// `--color`); a file or a pipe gets DEFAULT_TABLE_WIDTH columns and colour only
/// with `--color always`.
fn table_layout(to_file: bool, color: ColorWhen) -> (TableStyle, usize) {
    let stdout = std::io::stdout();
    let to_terminal = !to_file && stdout.is_terminal();
    let coloured = match color {
        ColorWhen::Auto if to_file => false,
        _ => color.colours(&stdout),
    };
    let style = if coloured {
        TableStyle::Colour
    } else {
        TableStyle::Plain
    };
    let width = if to_terminal {
        textwrap::termwidth()
    } else {
        DEFAULT_TABLE_WIDTH
    };
    (style, width)
}

/// Groups are declared but none could be compared with live data: not an all-clear
/// but a mistake (a wrong region, an empty capture), said with what to fix.
fn nothing_compared(report: &Report) -> Option<String> {
    let s = &report.summary;
    if s.managed_security_groups == 0 || s.compared_security_groups > 0 {
        return None;
    }
    let declared: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::ScopeUnscanned && f.status != FindingStatus::Resolved)
        .filter_map(|f| f.resource.id.as_deref())
        .collect();
    let declared = match declared.is_empty() {
        true => String::new(),
        false => format!(" (they live in {})", declared.join(", ")),
    };
    let read = match s.compared_scopes.is_empty() {
        true => {
            "no live data naming an account (is the capture empty, or without OwnerId?)".to_string()
        }
        false => s.compared_scopes.join(", "),
    };
    Some(format!(
        "none of the {} declared groups was compared with live data{declared}; the scan read {read}. Pass --region (or set [scan] regions) for where they live, or a capture of those accounts",
        s.managed_security_groups
    ))
}

/// Days of history kept when `[store] retain_days` is not set.
pub const DEFAULT_RETAIN_DAYS: u32 = 90;

pub async fn run(args: ReportArgs, color: ColorWhen) -> anyhow::Result<ExitCode> {
    if args.from_store {
        return from_store(args, color).await;
    }
    let (plan, config) = args.scan.plan()?;
    // Opened before scanning: a database that is not one driftd can use fails fast;
    // a damaged one is said, and the scan is still run and printed, unstored, with
    // exit code 1 (the drift matters more than its history).
    let mut store_failed = false;
    let store = match args.no_store {
        true => None,
        false => match Store::open(
            &args.database.or_default(config.store_url.as_deref()),
            OpenMode::Create,
        )
        .await
        {
            Ok(store) => Some(store),
            Err(e @ StoreError::Damaged { .. }) => {
                error!("{e}; this scan is not stored");
                store_failed = true;
                None
            }
            Err(e) => return Err(e.into()),
        },
    };
    let (report, stored) = match &store {
        None => {
            let scan = scan::within_deadline(&plan, scan::run(&plan, chrono::Utc::now)).await?;
            (scan.report, true)
        }
        Some(store) => {
            let retain_days = config.retain_days.unwrap_or(DEFAULT_RETAIN_DAYS);
            let routing = super::routing(&config);
            let (scan, stored) = scan::within_deadline(
                &plan,
                scan::run_and_store(&plan, store, retain_days, &routing),
            )
            .await?;
            if let Err(e) = &stored {
                // The report is still printed (every finding shown as new).
                error!(database = %store.path().display(), error = %e, "could not store the scan");
            }
            (scan.report, stored.is_ok())
        }
    };

    crate::progress::finished();
    print(&report, &args, color)?;
    if let (true, Some(store)) = (args.notify, &store) {
        // Delivery problems are logged, never change the exit code: the messages
        // stay in the outbox.
        let deliverer = Deliverer::new(super::endpoints(&config));
        if let Err(e) = deliver_for(store, &deliverer, args.notify_timeout).await {
            error!(error = %e, "could not deliver notifications");
        }
    }
    if let Some(problem) = nothing_compared(&report) {
        error!("{problem}");
        return Ok(ExitCode::from(1));
    }
    if !stored || store_failed {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::from(report.exit_code(args.fail_on.into()) as u8))
}

/// `report --from-store`: the merged latest results of every scope, as stored.
async fn from_store(args: ReportArgs, color: ColorWhen) -> anyhow::Result<ExitCode> {
    let config = super::load_config(args.scan.config.as_ref())?;
    let url = args.database.or_default(config.store_url.as_deref());
    let store = Store::open(&url, OpenMode::Existing).await?;
    let results = store.results().await?;
    let Some(report) = crate::report::merge(results, chrono::Utc::now()) else {
        anyhow::bail!(
            "{} holds no stored result yet: run `driftd report` or `driftd serve` with it first",
            store.path().display()
        );
    };
    print(&report, &args, color)?;
    Ok(ExitCode::from(report.exit_code(args.fail_on.into()) as u8))
}

/// Writes the report in the format asked, to `--output` or stdout.
fn print(report: &Report, args: &ReportArgs, color: ColorWhen) -> anyhow::Result<()> {
    let text = match args.format {
        Format::Table => {
            let (style, width) = table_layout(args.output.is_some(), color);
            render_table(report, style, width)
        }
        Format::Json => report.to_json(),
        Format::Markdown => render_markdown(report),
    };
    match &args.output {
        Some(path) => std::fs::write(path, &text)
            .with_context(|| format!("cannot write the report to {}", path.display()))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
        }
    }
    Ok(())
}
