//! Command-line interface (contracts/CLI.md): one file per subcommand, each a thin
//! layer that builds its inputs and calls the library.

mod check_config;
mod report;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(
    name = "driftd",
    version,
    about = "Security-group drift between Terraform state and live AWS, field by field",
    long_about = "driftd compares what Terraform state declares about security groups and their \
                  rules with what AWS really has, and reports exactly which field changed, from \
                  what, to what, and who owns it.\n\n\
                  Exit codes: 0 no unacknowledged drift, 2 drift found, 1 error or partial scan.\n\
                  Logs go to stderr (RUST_LOG filters them; DRIFTD_LOG_FORMAT=json for JSON lines)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan once and print the report.
    Report(report::ReportArgs),
    /// Validate a config file without scanning.
    CheckConfig(check_config::CheckConfigArgs),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Report(args) => report::run(args),
        Command::CheckConfig(args) => check_config::run(args),
    }
}

fn load_config(path: Option<&PathBuf>) -> anyhow::Result<Config> {
    match path {
        Some(path) => Ok(Config::load(path)?),
        None => Ok(Config::default()),
    }
}
