//! The report of one scan (contracts/report.schema.json) and its renderings:
//! `json` for tools, `table` for terminals, `markdown` for tickets and PRs.

mod markdown;
mod marks;
mod merge;
mod table;
mod wrap;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{
    CarrierRef, Finding, FindingCode, Owner, OwnerKind, ResourceRef, Severity, Timestamp,
    format_timestamp,
};
use crate::sources::SourceStatus;

pub use markdown::render_markdown;
pub use merge::{ScopeAge, ScopeResult, merge};
pub use table::{DEFAULT_TABLE_WIDTH, TableStyle, render_table};

pub const SCHEMA: &str = "driftd.report/v1";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub generated_at: String,
    pub generator: Generator,
    pub scan: ScanInfo,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    /// What carries each group where the network interfaces were read (empty:
    /// nothing), for the group headings. Not part of the JSON report.
    #[serde(skip)]
    pub carriers: BTreeMap<String, Vec<String>>,
}

/// The program that wrote the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Generator {
    pub name: &'static str,
    pub version: &'static str,
}

impl Default for Generator {
    fn default() -> Generator {
        Generator {
            name: "driftd",
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanInfo {
    pub id: String,
    pub started_at: String,
    pub finished_at: String,
    pub complete: bool,
    pub sources: Vec<SourceStatus>,
    /// AWS API calls by `service:Operation`.
    pub api_calls: BTreeMap<String, u64>,
    /// Where the report merges the latest results of several scopes (`/report` of
    /// replicas, `report --from-store`): each scope's scan and age.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<ScopeAge>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub findings: usize,
    pub by_code: BTreeMap<String, usize>,
    pub by_severity: BTreeMap<String, usize>,
    pub acknowledged: usize,
    pub live_security_groups: usize,
    pub live_rules: usize,
    pub managed_security_groups: usize,
    pub declared_rules: usize,
    pub compared_security_groups: usize,
    /// Declared rules compared, for the summary line.
    #[serde(skip)]
    pub compared_rules: usize,
    /// Where live data was read (`account/region`), for the summary line.
    #[serde(skip)]
    pub compared_scopes: Vec<String>,
}

/// What the scan compared: the counts the summary cannot derive from the findings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Compared {
    pub live_security_groups: usize,
    pub live_rules: usize,
    pub managed_security_groups: usize,
    pub declared_rules: usize,
    pub compared_security_groups: usize,
    pub compared_rules: usize,
    pub scopes: Vec<String>,
    /// What carries each group, where known (see `Report::carriers`).
    pub carriers: BTreeMap<String, Vec<String>>,
}

impl Report {
    pub fn new(
        scan_id: String,
        started_at: Timestamp,
        finished_at: Timestamp,
        sources: Vec<SourceStatus>,
        api_calls: BTreeMap<String, u64>,
        inventory: Compared,
        findings: Vec<Finding>,
    ) -> Report {
        // What was not read makes the scan partial: a failed source, or a scope
        // holding declared groups that no live source read (unless acknowledged).
        let complete = !sources.iter().any(SourceStatus::holds_back)
            && !findings
                .iter()
                .any(|f| f.code == FindingCode::ScopeUnscanned && f.acknowledged.is_none());
        let mut report = Report {
            schema: SCHEMA,
            generated_at: format_timestamp(&finished_at),
            generator: Generator::default(),
            scan: ScanInfo {
                id: scan_id,
                started_at: format_timestamp(&started_at),
                finished_at: format_timestamp(&finished_at),
                complete,
                sources,
                api_calls,
                scopes: Vec::new(),
            },
            summary: Summary {
                findings: 0,
                by_code: BTreeMap::new(),
                by_severity: BTreeMap::new(),
                acknowledged: 0,
                live_security_groups: inventory.live_security_groups,
                live_rules: inventory.live_rules,
                managed_security_groups: inventory.managed_security_groups,
                declared_rules: inventory.declared_rules,
                compared_security_groups: inventory.compared_security_groups,
                compared_rules: inventory.compared_rules,
                compared_scopes: inventory.scopes,
            },
            findings: Vec::new(),
            carriers: inventory.carriers,
        };
        report.set_findings(findings);
        report
    }

    /// Replaces the findings (with statuses from history, say) and recounts.
    pub fn set_findings(&mut self, findings: Vec<Finding>) {
        let mut by_code = BTreeMap::new();
        let mut by_severity = BTreeMap::new();
        for f in &findings {
            *by_code.entry(f.code.as_str().to_string()).or_insert(0) += 1;
            *by_severity
                .entry(f.severity.as_str().to_string())
                .or_insert(0) += 1;
        }
        self.summary.findings = findings.len();
        self.summary.by_code = by_code;
        self.summary.by_severity = by_severity;
        self.summary.acknowledged = findings.iter().filter(|f| f.acknowledged.is_some()).count();
        self.findings = findings;
    }

    /// As `terraform plan -detailed-exitcode`: 1 for a partial scan, 2 when an
    /// unacknowledged, unresolved finding reaches `fail_on`, else 0.
    pub fn exit_code(&self, fail_on: Severity) -> i32 {
        if !self.scan.complete {
            1
        } else if self.findings.iter().any(|f| f.fails(fail_on)) {
            2
        } else {
            0
        }
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a report always serializes");
        text.push('\n');
        text
    }
}

/// Why a scan is partial, in words; `None` for a complete one.
pub(crate) fn partial_reason(report: &Report) -> Option<&'static str> {
    match (
        report.scan.complete,
        !report.scan.sources.iter().any(SourceStatus::holds_back),
    ) {
        (true, _) => None,
        (false, false) => Some("some sources could not be read"),
        (false, true) => Some("some declared scopes were not read"),
    }
}

/// `latest of 40 scopes; oldest 123456789012/us-east-1, 312s ago`: for a report that
/// merges the latest results of several scopes (`scan.scopes`).
pub(crate) fn scopes_line(report: &Report) -> Option<String> {
    let oldest = report.scan.scopes.iter().max_by_key(|s| s.age_seconds)?;
    let partial: Vec<&str> = report
        .scan
        .scopes
        .iter()
        .filter(|s| !s.complete)
        .map(|s| s.scope.as_str())
        .collect();
    let partial = match partial.is_empty() {
        true => String::new(),
        false => format!("; partial in {}", partial.join(", ")),
    };
    Some(format!(
        "latest of {} scopes; oldest {}, {}s ago{partial}",
        report.scan.scopes.len(),
        oldest.scope,
        oldest.age_seconds
    ))
}

/// `compared 5 of 5 managed groups (12 rules) in 123456789012/us-east-1`.
pub(crate) fn compared_line(summary: &Summary) -> String {
    let place = match summary.compared_scopes.is_empty() {
        true => String::new(),
        false => format!(" in {}", summary.compared_scopes.join(", ")),
    };
    format!(
        "compared {} of {} managed groups ({} rules){place}",
        summary.compared_security_groups, summary.managed_security_groups, summary.compared_rules
    )
}

/// `5 findings (2 critical, 2 high, 1 info; 1 acknowledged)`, most severe first.
pub(crate) fn findings_count(summary: &Summary) -> String {
    let noun = match summary.findings {
        1 => "finding",
        _ => "findings",
    };
    let by_severity: Vec<String> = Severity::ALL
        .iter()
        .filter_map(|s| {
            let n = summary.by_severity.get(s.as_str())?;
            Some(format!("{n} {s}"))
        })
        .collect();
    let acknowledged = match summary.acknowledged {
        0 => String::new(),
        n => format!("; {n} acknowledged"),
    };
    match by_severity.is_empty() {
        true => format!("{} {noun}", summary.findings),
        false => format!(
            "{} {noun} ({}{acknowledged})",
            summary.findings,
            by_severity.join(", ")
        ),
    }
}

/// What a report without findings says: the all-clear only where it is earned
/// (every managed group compared), else that not everything was. `None` while
/// there are findings to list.
pub(crate) fn no_findings_line(report: &Report) -> Option<&'static str> {
    let s = &report.summary;
    match (
        report.findings.is_empty(),
        s.compared_security_groups == s.managed_security_groups,
    ) {
        (false, _) => None,
        (true, true) => Some("No drift: live security groups match their declarations."),
        (true, false) => {
            Some("Nothing compared differs, but not every managed group was compared.")
        }
    }
}

/// Findings grouped by the security group (or the carrier of groups) they concern,
/// in report order; findings about neither (source errors) come first under `None`.
pub(crate) fn by_group(findings: &[Finding]) -> Vec<(Option<String>, Vec<&Finding>)> {
    let mut groups: Vec<(Option<String>, Vec<&Finding>)> = Vec::new();
    for finding in findings {
        let r = &finding.resource;
        // A flow and a carrier may share a name: keyed by what heads them.
        let key = r.group_id.clone().or_else(|| not_group_subject(r));
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(finding),
            None => groups.push((key, vec![finding])),
        }
    }
    groups.sort_by(|(a, _), (b, _)| a.cmp(b));
    groups
}

/// What a finding about no group heads its part of a report with: the carrier of
/// groups (`ELB app/web`) or the flow (`flow alb-to-front`) it concerns.
fn not_group_subject(r: &ResourceRef) -> Option<String> {
    let id = r.id.as_deref()?;
    match r.kind.as_str() {
        "flow" => Some(format!("flow {id}")),
        kind => CarrierRef::from_resource(kind, id).map(|c| c.label()),
    }
}

/// `alb-public (sg-0123) · vpc-1 · 123456789012/us-east-1`
pub(crate) fn group_heading(first: &Finding) -> String {
    group_heading_parts(first).join(" · ")
}

/// The heading of a group in a report, with what carries the group where the
/// report knows: `… · 123456789012/us-east-1 · carried by ELB app/web`.
pub(crate) fn report_group_heading(report: &Report, first: &Finding) -> Vec<String> {
    let mut parts = group_heading_parts(first);
    // Only where the interfaces were read: elsewhere what carries it is unknown.
    let group_id = first.resource.group_id.as_ref();
    if let Some(carriers) = group_id.and_then(|id| report.carriers.get(id)) {
        parts.push(match carriers.is_empty() {
            true => "carried by nothing".to_string(),
            false => format!("carried by {}", carriers.join(", ")),
        });
    }
    parts
}

/// The parts of [`group_heading`], for a renderer that wraps between them.
pub(crate) fn group_heading_parts(first: &Finding) -> Vec<String> {
    let r = &first.resource;
    let mut parts = Vec::new();
    match (&r.group_name, &r.group_id, not_group_subject(r)) {
        (Some(name), Some(id), _) => parts.push(format!("{name} ({id})")),
        (None, Some(id), _) => parts.push(id.clone()),
        (None, None, Some(subject)) => parts.push(subject),
        _ => parts.push("sources".to_string()),
    }
    if let Some(vpc) = &r.vpc_id {
        parts.push(vpc.clone());
    }
    match (&first.account_id, &first.region) {
        (Some(a), Some(reg)) => parts.push(format!("{a}/{reg}")),
        (Some(a), None) => parts.push(a.clone()),
        (None, Some(reg)) => parts.push(reg.clone()),
        (None, None) => {}
    }
    parts
}

/// The rule a finding concerns, in words: `egress tcp 80 to sg-0abc`.
pub(crate) fn subject(finding: &Finding) -> String {
    match finding.expected.as_ref().or(finding.actual.as_ref()) {
        Some(rule) => rule.label(),
        None => match finding.resource.kind.as_str() {
            "security_group" => "group".to_string(),
            _ => finding.resource.id.clone().unwrap_or_default(),
        },
    }
}

/// Where the finding stands in history: `new`, `new (recurred)`,
/// `ongoing since …`, `resolved (first seen …)`.
pub(crate) fn status_text(finding: &Finding) -> String {
    use crate::model::FindingStatus;
    let first_seen = finding.first_seen.as_deref().unwrap_or("unknown");
    match finding.status {
        FindingStatus::New if finding.recurred => "new (recurred)".to_string(),
        FindingStatus::New => "new".to_string(),
        FindingStatus::Ongoing => format!("ongoing since {first_seen}"),
        FindingStatus::Resolved => format!("resolved (first seen {first_seen})"),
    }
}

/// Who should act on a finding.
pub(crate) enum Acting<'a> {
    /// Whoever declares what the finding concerns.
    Owner(&'a Owner),
    /// Nobody declares it (a rule added outside IaC): its group's owner.
    GroupOwner(&'a Owner),
    Nobody,
}

pub(crate) fn acting_owner(finding: &Finding) -> Acting<'_> {
    match (&finding.owner.kind, &finding.group_owner) {
        (OwnerKind::None, Some(group_owner)) => Acting::GroupOwner(group_owner),
        (OwnerKind::None, None) => Acting::Nobody,
        _ => Acting::Owner(&finding.owner),
    }
}

/// Who should act: the finding's owner, else its group's owner.
pub(crate) fn owner_text(finding: &Finding) -> String {
    match acting_owner(finding) {
        Acting::Owner(owner) => owner.label(),
        Acting::GroupOwner(group_owner) => format!("no owner (group: {})", group_owner.label()),
        Acting::Nobody => finding.owner.label(),
    }
}

/// Whether a finding's message says more than its changes: an owner conflict has two
/// owners and the owner line names one (the message names both); a group attached
/// by hand is named in the message with what it allows.
pub(crate) fn message_says_more(code: FindingCode) -> bool {
    matches!(
        code,
        FindingCode::OwnerConflict | FindingCode::AttachmentModified
    )
}
