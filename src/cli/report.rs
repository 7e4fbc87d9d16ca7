//! `driftd report`: one scan now; prints the report; exits 0, 2 or 1.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

use crate::diff::DiffOptions;
use crate::model::Severity;
use crate::report::{TableStyle, render_markdown, render_table};
use crate::scan::{OfflineScan, run_offline};

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

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Config file (TOML): states, regions, acknowledgements.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Terraform state (format 4) to read; repeatable. Adds to the config's states.
    #[arg(long = "state", value_name = "PATH_OR_S3_URL")]
    pub states: Vec<String>,
    /// Region the scan covers; repeatable. Overrides the config's regions.
    #[arg(long = "region", value_name = "R")]
    pub regions: Vec<String>,
    /// Captured `aws ec2 describe-security-groups` or `describe-security-group-rules`
    /// JSON to use as live data instead of calling AWS; repeatable.
    #[arg(long = "live", value_name = "FILE")]
    pub live: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Write the report here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Lowest severity that makes the exit code 2.
    #[arg(long, value_enum, default_value = "low", value_name = "SEVERITY")]
    pub fail_on: FailOn,
    /// Do not store this scan (no scan history is kept by this build either way).
    #[arg(long)]
    pub no_store: bool,
}

pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let config = super::load_config(args.config.as_ref())?;
    let mut states = config.terraform_states.clone();
    states.extend(args.states.iter().cloned());
    let regions = if args.regions.is_empty() {
        config.regions.clone()
    } else {
        args.regions.clone()
    };
    if args.live.is_empty() {
        bail!(
            "no live data: pass --live FILE with the JSON of `aws ec2 describe-security-groups` \
             (and/or describe-security-group-rules); this build does not call AWS itself yet"
        );
    }
    let scan = OfflineScan {
        states,
        live_files: args.live.clone(),
        regions,
        options: DiffOptions {
            include_default_groups: config.include_default_groups,
            severity: config.severity.clone(),
        },
        acknowledgements: config.acknowledgements.clone(),
    };
    let report = run_offline(&scan, chrono::Utc::now);

    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let style = if to_terminal && std::env::var_os("NO_COLOR").is_none() {
        TableStyle::Colour
    } else {
        TableStyle::Plain
    };
    let text = match args.format {
        Format::Table => render_table(&report, style),
        Format::Json => report.to_json(),
        Format::Markdown => render_markdown(&report),
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
    Ok(ExitCode::from(report.exit_code(args.fail_on.into()) as u8))
}
