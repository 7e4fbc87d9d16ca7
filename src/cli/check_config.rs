//! `driftd check-config --config FILE`: validate without scanning.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::config::{Config, Problem};

#[derive(Debug, Args)]
pub struct CheckConfigArgs {
    /// The config file to validate (TOML; see config/driftd.example.toml).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    #[command(flatten)]
    pub database: super::DatabaseArg,
}

const NEXT_RUNS_SHOWN: usize = 3;

pub fn run(args: CheckConfigArgs) -> anyhow::Result<ExitCode> {
    // `[store] url` is checked here, not by every command: `report --no-store` and
    // DRIFTD_DATABASE_URL never use it. Its problem is told with the config's others.
    let config = Config::load_and_check(&args.config, |config| {
        let url = config.store_url.as_deref();
        let error = url.and_then(|url| crate::store::check_url(url).err());
        error
            .map(|e| Problem::at("store.url", e.to_string()))
            .into_iter()
            .collect()
    })?;
    if let Some(url) = args.database.url.as_deref().filter(|url| !url.is_empty()) {
        crate::store::check_url(url).map_err(|e| anyhow::anyhow!("DRIFTD_DATABASE_URL: {e}"))?;
    }
    println!(
        "{}: ok ({} Terraform state(s), {} CloudFormation stack entr{}, {} region(s), {} acknowledgement(s), {} schedule(s))",
        args.config.display(),
        config.terraform_states.len(),
        config.cloudformation.len(),
        if config.cloudformation.len() == 1 {
            "y"
        } else {
            "ies"
        },
        config.regions.len(),
        config.acknowledgements.len(),
        config.schedules.len(),
    );
    // The next runs, so that a schedule reads as its author meant it (UTC).
    for (i, schedule) in config.schedules.iter().enumerate() {
        let runs: Vec<String> = schedule
            .cron
            .runs_after(chrono::Utc::now(), NEXT_RUNS_SHOWN)
            .iter()
            .map(|t| t.format("%a %Y-%m-%d %H:%M:%S UTC").to_string())
            .collect();
        println!(
            "  schedule[{i}] {:?}: next runs {}",
            schedule.cron.to_string(),
            runs.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
