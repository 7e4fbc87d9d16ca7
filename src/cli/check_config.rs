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
}

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
    if let Some(url) = super::configured_database_url(&config) {
        crate::store::check_url(&url).map_err(|e| anyhow::anyhow!("DRIFTD_DATABASE_URL: {e}"))?;
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
    for schedule in &config.schedules {
        let next = schedule.cron.upcoming(chrono::Utc).next();
        println!(
            "  schedule {:?}: next run {}",
            schedule.cron.to_string(),
            next.map(|t| crate::model::format_timestamp(&t))
                .unwrap_or_else(|| "never".into())
        );
    }
    Ok(ExitCode::SUCCESS)
}
