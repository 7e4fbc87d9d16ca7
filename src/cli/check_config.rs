//! `driftd check-config --config FILE`: validate without scanning.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::config::{Config, Problem};
use crate::model::{DeclaredEndpoint, Intent};

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
    Ok(flows(&config))
}

/// Each `[[flow]]` with what its endpoints name in the local states; an address
/// that no readable state declares is an error (a typo would break the flow on
/// every scan). Group ids and names are resolved against live data at scan time.
fn flows(config: &Config) -> ExitCode {
    if config.flows.is_empty() {
        return ExitCode::SUCCESS;
    }
    let mut intent = Intent::default();
    let mut unread = Vec::new();
    for state in &config.terraform_states {
        match state.starts_with("s3://") {
            true => unread.push(format!("{state} (S3: read at scan time)")),
            false => match crate::sources::terraform::load_file(Path::new(state)) {
                Ok(read) => intent.extend(read),
                Err(e) => unread.push(e.to_string()),
            },
        }
    }
    let mut code = ExitCode::SUCCESS;
    for (i, flow) in config.flows.iter().enumerate() {
        println!(
            "  flow[{i}] {:?}: {} from {} to {}",
            flow.name,
            flow.traffic(),
            flow.from,
            flow.to
        );
        for (key, endpoint) in [("from", &flow.from), ("to", &flow.to)] {
            let (said, known) = endpoint_text(&intent, endpoint);
            println!("    {key}: {said}");
            // An address every state was read for, and none declares.
            if !known && looks_like_address(endpoint) && unread.is_empty() {
                eprintln!(
                    "driftd: error: flow[{i}].{key}: {endpoint} is declared by none of the loaded states"
                );
                code = ExitCode::from(1);
            }
        }
    }
    for state in unread {
        println!("  not read for the flows: {state}");
    }
    code
}

/// What an endpoint names, and whether that is certain before a scan.
fn endpoint_text(intent: &Intent, endpoint: &str) -> (String, bool) {
    match intent.endpoint(endpoint) {
        Some(DeclaredEndpoint::Carrier(a)) => {
            (format!("{} ({})", a.carrier.label(), a.owner.label()), true)
        }
        Some(DeclaredEndpoint::Group(g)) => {
            (format!("group {} ({})", g.group.id, g.owner.label()), true)
        }
        None if endpoint.starts_with("sg-") => ("a group id".to_string(), true),
        None if looks_like_address(endpoint) => ("no loaded state declares it".to_string(), false),
        None => (
            "a live group's name, resolved at scan time".to_string(),
            true,
        ),
    }
}

/// `aws_lb.main`, `module.net.aws_security_group.this["x"]`.
fn looks_like_address(text: &str) -> bool {
    text.split('.').any(|part| part.starts_with("aws_")) && text.contains('.')
}
