//! One scan from end to end: read every source, diff, apply acknowledgements,
//! build the report. Sources that fail become `source-error` findings; the scan
//! goes on with what could be read.

use std::collections::BTreeMap;
use std::path::PathBuf;

use tracing::{info, warn};

use crate::acknowledge::{self, Acknowledgement};
use crate::diff::{DiffInput, DiffOptions, diff};
use crate::model::{FindingStatus, Intent, LiveView, Timestamp, format_timestamp};
use crate::report::{Inventory, Report};
use crate::sources::{SourceKind, SourceStatus, live_file, terraform};

/// A scan of Terraform states against captured live data.
#[derive(Debug, Clone, Default)]
pub struct OfflineScan {
    /// Local paths or `s3://` URLs.
    pub states: Vec<String>,
    pub live_files: Vec<PathBuf>,
    /// The region the live files stand for (any region when empty).
    pub regions: Vec<String>,
    pub options: DiffOptions,
    pub acknowledgements: Vec<Acknowledgement>,
}

pub fn load_intent(states: &[String]) -> (Intent, Vec<SourceStatus>) {
    let mut intent = Intent::default();
    let mut statuses = Vec::new();
    for location in states {
        let result = if location.starts_with("s3://") {
            Err(format!(
                "{location}: reading state from S3 needs the AWS scanner, which this build does not have yet; \
                 download the state and pass the local file"
            ))
        } else {
            terraform::load_file(location.as_ref()).map_err(|e| e.to_string())
        };
        match result {
            Ok(state) => {
                info!(state = %location, groups = state.groups.len(), rules = state.rules.len(), "read Terraform state");
                intent.extend(state);
                statuses.push(SourceStatus::ok(SourceKind::Terraform, location));
            }
            Err(error) => {
                warn!(state = %location, %error, "could not read Terraform state");
                statuses.push(SourceStatus::failed(SourceKind::Terraform, location, error));
            }
        }
    }
    (intent, statuses)
}

pub fn load_live_files(files: &[PathBuf], regions: &[String]) -> (LiveView, Vec<SourceStatus>) {
    let mut captures = Vec::new();
    let mut statuses = Vec::new();
    for path in files {
        let location = path.display().to_string();
        match live_file::load_file(path) {
            Ok(capture) => {
                captures.push(capture);
                statuses.push(SourceStatus::ok(SourceKind::LiveFile, &location));
            }
            Err(error) => {
                warn!(file = %location, %error, "could not read captured live data");
                statuses.push(SourceStatus::failed(
                    SourceKind::LiveFile,
                    &location,
                    error.to_string(),
                ));
            }
        }
    }
    let live = live_file::combine(captures, regions);
    info!(
        groups = live.groups.len(),
        rules = live.rules.len(),
        "read captured live data"
    );
    (live, statuses)
}

/// Runs the scan; `now` is asked for the start and end times.
pub fn run_offline(scan: &OfflineScan, now: impl Fn() -> Timestamp) -> Report {
    let started_at = now();
    let (intent, mut sources) = load_intent(&scan.states);
    let (live, live_sources) = load_live_files(&scan.live_files, &scan.regions);
    sources.extend(live_sources);
    let outcome = diff(&DiffInput {
        intent: &intent,
        live: &live,
        sources: &sources,
        options: &scan.options,
    });
    let finished_at = now();
    let mut findings = outcome.findings;
    acknowledge::apply(&mut findings, &scan.acknowledgements, finished_at);
    // Without history every finding is new, first and last seen now.
    let seen = format_timestamp(&finished_at);
    for finding in &mut findings {
        finding.status = FindingStatus::New;
        finding.first_seen = Some(seen.clone());
        finding.last_seen = Some(seen.clone());
    }
    let inventory = Inventory {
        live_security_groups: live.groups.len(),
        live_rules: live.rules.len(),
        managed_security_groups: outcome.managed_groups,
        declared_rules: outcome.declared_rules,
    };
    Report::new(
        scan_id(&started_at),
        started_at,
        finished_at,
        sources,
        BTreeMap::new(),
        inventory,
        findings,
    )
}

/// `scan-20261125T063500123Z-4f2a`: sortable by time, distinct across processes.
pub fn scan_id(started_at: &Timestamp) -> String {
    format!(
        "scan-{}-{:04x}",
        started_at.format("%Y%m%dT%H%M%S%3fZ"),
        std::process::id() & 0xffff
    )
}
