//! `driftd refs SG_ID`: what references a group, before someone deletes it.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use super::ScanArgs;
use crate::refs::{find, render_table};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RefsFormat {
    Table,
    Json,
}

pub const EXIT_CODES: &str =
    "Exit codes: 0 nothing references the group, 2 something does, 1 error or partial read.";

#[derive(Debug, Args)]
pub struct RefsArgs {
    /// The security group to look up (sg-…).
    #[arg(value_name = "SG_ID")]
    pub group_id: String,
    #[command(flatten)]
    pub scan: ScanArgs,
    #[arg(long, value_enum, default_value = "table")]
    pub format: RefsFormat,
}

pub async fn run(args: RefsArgs) -> anyhow::Result<ExitCode> {
    if !args.group_id.starts_with("sg-") {
        anyhow::bail!("{:?} is not a security group id (sg-…)", args.group_id);
    }
    let (mut plan, _) = args.scan.plan()?;
    // Who owns and references a group needs the stacks' resources, not a drift
    // detection (slow, and rate-limited on CloudFormation's side).
    for stack in plan.cloudformation.iter_mut().flat_map(|c| &mut c.stacks) {
        stack.drift.detect = false;
    }
    let refs = find(&plan, &args.group_id).await;
    crate::progress::finished();
    let text = match args.format {
        RefsFormat::Table => render_table(&refs),
        RefsFormat::Json => serde_json::to_string_pretty(&refs)? + "\n",
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(ExitCode::from(
        match (refs.complete, refs.is_referenced()) {
            (false, _) => 1,
            (true, true) => 2,
            (true, false) => 0,
        },
    ))
}
