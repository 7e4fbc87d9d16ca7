//! `driftd history`: what changed in live security groups between stored scans.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use clap::{Args, ValueEnum};

use crate::config::Config;
use crate::diff_text::describe_change;
use crate::model::Timestamp;
use crate::store::{HistoryEntry, HistoryQuery, OpenMode, Store};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// One line per change, oldest first.
    Table,
    /// A JSON array of changes.
    Json,
}

pub const LONG_ABOUT: &str = "What changed in live security groups between consecutive \
    stored scans, field by field, managed or not: \"what changed in this group, and when\".\n\n\
    Each change is dated by the scan that first saw it; the scan before it still saw the \
    old value. The database is --database-url (DRIFTD_DATABASE_URL), `[store] url` in the \
    config, or sqlite://driftd.db; nothing else of the config is read.";

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Config file (for `[store] url`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Only this security group.
    #[arg(long, value_name = "SG_ID")]
    pub group: Option<String>,
    /// Only changes seen since then: a duration back from now (`30m`, `12h`, `7d`,
    /// `2w`) or an RFC 3339 time.
    #[arg(long, value_name = "WHEN", value_parser = parse_since)]
    pub since: Option<Timestamp>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    #[command(flatten)]
    pub database: super::DatabaseArg,
}

pub async fn run(args: HistoryArgs) -> anyhow::Result<ExitCode> {
    let config_url = match &args.config {
        Some(path) => Config::load_one(path, "store", "url")?,
        None => None,
    };
    let url = args.database.or_default(config_url.as_deref());
    let store = Store::open(&url, OpenMode::Existing).await?;
    let query = HistoryQuery {
        group: args.group.clone(),
        since: args.since,
    };
    let entries = store.history(&query).await?;
    let text = match args.format {
        Format::Json => {
            let mut text = serde_json::to_string_pretty(&entries).context("history serializes")?;
            text.push('\n');
            text
        }
        Format::Table => render_table(&entries, &query),
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// An RFC 3339 time, or a duration back from now in the grammar every duration
/// of driftd uses (`30s`, `12h`, `7d`, `2w`).
fn parse_since(raw: &str) -> anyhow::Result<Timestamp> {
    if let Ok(time) = DateTime::parse_from_rfc3339(raw) {
        return Ok(time.with_timezone(&Utc));
    }
    let back = crate::config::parse_duration(raw)
        .map_err(|e| anyhow::anyhow!("{e}, or an RFC 3339 time"))?;
    // parse_duration bounds it to 3650 days: it always fits.
    let back = Duration::from_std(back).context("a duration that fits")?;
    Utc::now()
        .checked_sub_signed(back)
        .with_context(|| format!("{raw:?} reaches back further than a date can"))
}

/// `2026-11-25T10:00:00.000Z  alb-public (sg-1)  rule modified  egress tcp 80 to …  to_port 80 → 8080`
pub fn render_table(entries: &[HistoryEntry], query: &HistoryQuery) -> String {
    let mut out = String::new();
    if entries.is_empty() {
        let scope = query
            .group
            .as_deref()
            .map(|g| format!(" to {g}"))
            .unwrap_or_default();
        let _ = writeln!(out, "No changes{scope} in the stored scans.");
        return out;
    }
    let group_w = entries
        .iter()
        .map(|e| group_label(e).len())
        .max()
        .unwrap_or(0);
    let kind_w = entries
        .iter()
        .map(|e| e.kind.label().len())
        .max()
        .unwrap_or(0);
    for entry in entries {
        let rule = entry
            .after
            .as_ref()
            .or(entry.before.as_ref())
            .map(|r| r.label())
            .unwrap_or_default();
        let fields = entry
            .changes
            .iter()
            .map(|c| describe_change(&c.field, &c.before, &c.after))
            .collect::<Vec<_>>()
            .join(", ");
        let who = entry
            .changed_by
            .as_ref()
            .map(|by| format!("(by {})", by.sentence()))
            .unwrap_or_default();
        let detail = [rule, fields, who]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(": ");
        let _ = writeln!(
            out,
            "{}  {:<group_w$}  {:<kind_w$}  {}",
            entry.at,
            group_label(entry),
            entry.kind.label(),
            detail
        );
    }
    out
}

fn group_label(entry: &HistoryEntry) -> String {
    match &entry.group_name {
        Some(name) => format!("{name} ({})", entry.group_id),
        None => entry.group_id.clone(),
    }
}
