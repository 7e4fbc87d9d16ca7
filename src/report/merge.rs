//! The latest result of every scope, merged into one report (`/report` of a fleet
//! of replicas, `driftd report --from-store`). Each scope's result is stored on its
//! own (`store::Store::keep_result`); a whole scan is stored as the one result of
//! every scope it read (scope `""`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Compared, Report};
use crate::model::{Finding, Owner, Timestamp, format_timestamp, parse_timestamp};
use crate::sources::SourceStatus;

/// What the store keeps of one scope's latest scan: enough to rebuild its report
/// and to merge it with the other scopes'.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScopeResult {
    /// `account/region`, or empty for a whole scan.
    pub scope: String,
    pub scan_id: String,
    pub started_at: String,
    pub finished_at: String,
    pub complete: bool,
    pub sources: Vec<SourceStatus>,
    pub api_calls: BTreeMap<String, u64>,
    /// The summary's counts that the findings do not give, and what carries
    /// each group.
    pub compared: Compared,
    /// With their statuses from history.
    pub findings: Vec<Finding>,
    /// The owner of each finding's group where it is not the finding's own (by
    /// finding id), which a finding's JSON leaves out.
    #[serde(default)]
    pub group_owners: BTreeMap<String, Owner>,
}

/// One scope's place in a merged report (`scan.scopes`): which scan it comes from
/// and how old it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScopeAge {
    pub scope: String,
    pub scan_id: String,
    pub finished_at: String,
    pub complete: bool,
    pub age_seconds: i64,
}

impl ScopeResult {
    /// `report` (as stored, statuses from history) as the result of `scope`.
    pub fn of(scope: &str, report: &Report) -> ScopeResult {
        let s = &report.summary;
        ScopeResult {
            scope: scope.to_string(),
            scan_id: report.scan.id.clone(),
            started_at: report.scan.started_at.clone(),
            finished_at: report.scan.finished_at.clone(),
            complete: report.scan.complete,
            sources: report.scan.sources.clone(),
            api_calls: report.scan.api_calls.clone(),
            compared: Compared {
                live_security_groups: s.live_security_groups,
                live_rules: s.live_rules,
                managed_security_groups: s.managed_security_groups,
                declared_rules: s.declared_rules,
                compared_security_groups: s.compared_security_groups,
                compared_rules: s.compared_rules,
                scopes: s.compared_scopes.clone(),
                carriers: report.carriers.clone(),
            },
            findings: report.findings.clone(),
            group_owners: report
                .findings
                .iter()
                .filter_map(|f| Some((f.id.clone(), f.group_owner.clone()?)))
                .collect(),
        }
    }
}

/// The scopes' latest results as one report at `now`: findings, sources and counts
/// added up, the sources of intent (read by every scope) once, the earliest start
/// and the latest finish, and each scope's age in `scan.scopes`. `None` without
/// results.
pub fn merge(mut results: Vec<ScopeResult>, now: Timestamp) -> Option<Report> {
    results.sort_by(|a, b| a.scope.cmp(&b.scope));
    let newest = results
        .iter()
        .max_by(|a, b| a.finished_at.cmp(&b.finished_at))?;
    let scan_id = newest.scan_id.clone();
    let started_at = earliest(results.iter().map(|r| r.started_at.as_str()))?;
    let finished_at = parse_timestamp(&newest.finished_at)?;
    let mut sources: Vec<SourceStatus> = Vec::new();
    let mut api_calls = BTreeMap::new();
    let mut compared = Compared::default();
    let mut findings: Vec<Finding> = Vec::new();
    let mut ages = Vec::new();
    for result in results {
        for source in result.sources {
            // Every scope reads the same states and stacks: said once.
            if !sources.contains(&source) {
                sources.push(source);
            }
        }
        for (call, n) in result.api_calls {
            *api_calls.entry(call).or_insert(0) += n;
        }
        add(&mut compared, result.compared);
        let mut owners = result.group_owners;
        findings.extend(result.findings.into_iter().map(|mut f| {
            f.group_owner = owners.remove(&f.id);
            f
        }));
        ages.push(ScopeAge {
            age_seconds: parse_timestamp(&result.finished_at)
                .map(|at| (now - at).num_seconds())
                .unwrap_or_default(),
            scope: result.scope,
            scan_id: result.scan_id,
            finished_at: result.finished_at,
            complete: result.complete,
        });
    }
    // A finding of no place (a state that cannot be read) is in every scope's
    // result: listed once, as last seen.
    let findings = once_each(findings);
    // `Report::new` counts the findings and leaves the statuses and first
    // sightings history gave them as they are.
    let mut report = Report::new(
        scan_id,
        started_at,
        finished_at,
        sources,
        api_calls,
        compared,
        findings,
    );
    report.generated_at = format_timestamp(&now);
    report.scan.complete &= ages.iter().all(|a| a.complete);
    report.scan.scopes = ages.into_iter().filter(|a| !a.scope.is_empty()).collect();
    Some(report)
}

fn add(total: &mut Compared, scope: Compared) {
    total.live_security_groups += scope.live_security_groups;
    total.live_rules += scope.live_rules;
    total.managed_security_groups += scope.managed_security_groups;
    total.declared_rules += scope.declared_rules;
    total.compared_security_groups += scope.compared_security_groups;
    total.compared_rules += scope.compared_rules;
    total.scopes.extend(scope.scopes);
    total.carriers.extend(scope.carriers);
}

fn earliest<'a>(times: impl Iterator<Item = &'a str>) -> Option<Timestamp> {
    times.filter_map(parse_timestamp).min()
}

/// Each finding once, in the order first met, as last seen.
fn once_each(findings: Vec<Finding>) -> Vec<Finding> {
    let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut once: Vec<Finding> = Vec::with_capacity(findings.len());
    for finding in findings {
        match at.get(&finding.id) {
            Some(&i) if once[i].last_seen < finding.last_seen => once[i] = finding,
            Some(_) => {}
            None => {
                at.insert(finding.id.clone(), once.len());
                once.push(finding);
            }
        }
    }
    once
}
