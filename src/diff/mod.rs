//! The diff: a pure function from intent × live × sources to sorted findings.
//! No I/O, no clock: the same inputs give byte-identical output.
//!
//! Each check lives in its own file with its code, logic and message:
//! `groups` (sg-missing, sg-unmanaged, sg-modified, owner-conflict), `rules`
//! (rule-modified, rule-added, rule-removed), `references` (reference-dangling,
//! reference-empty, dependency-hidden), `attachments` (attachment-modified),
//! `flows` (flow-broken), `cloudformation` (cfn-drift) and `source_errors`
//! (source-error).

mod attachments;
mod changes;
mod cloudformation;
mod context;
mod flows;
mod groups;
mod matching;
mod options;
mod references;
mod rules;
mod scopes;
mod source_errors;
mod stack_rules;

use std::collections::BTreeMap;

use crate::model::{Direction, Finding, FindingCode, FlowEnds, Intent, LiveView, StackDrift};
use crate::sources::SourceStatus;

pub use changes::{group_changes, rule_changes};
pub use context::Inventory;
pub use matching::{Matching, match_rules};
pub use options::DiffOptions;

pub struct DiffInput<'a> {
    pub intent: &'a Intent,
    pub live: &'a LiveView,
    /// CloudFormation's drift results as canonical rules
    /// (`sources::cloudformation::canonical::stack_drifts`).
    pub stack_drifts: &'a [StackDrift],
    pub sources: &'a [SourceStatus],
    pub options: &'a DiffOptions,
}

/// The findings of one diff and the counts the report summary needs.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffOutcome {
    /// Sorted by group, direction, code and id.
    pub findings: Vec<Finding>,
    /// Distinct groups some source manages.
    pub managed_groups: usize,
    /// Managed groups compared with live data: live, or absent where their scope was
    /// read (the rest are in `scope-unscanned` or `source-error` findings).
    pub compared_groups: usize,
    /// Distinct declared rules, an inline rule repeated by a rule resource once.
    pub declared_rules: usize,
    /// Declared rules compared with live data (the rest live where nothing read).
    pub compared_rules: usize,
    /// What carries each live group whose place's network interfaces were read
    /// (empty: nothing does), by group id.
    pub carriers: BTreeMap<String, Vec<String>>,
    /// Each `flow-broken`'s ends (by finding id): where the change that broke it is.
    pub flow_ends: BTreeMap<String, FlowEnds>,
}

pub fn diff(input: &DiffInput) -> DiffOutcome {
    let inventory = Inventory::new(input.intent, input.live, input.stack_drifts, input.sources);
    let mut findings = Vec::new();
    findings.extend(source_errors::check(input.sources));
    findings.extend(groups::check(&inventory, input.options));
    findings.extend(rules::check(&inventory));
    findings.extend(references::dependency_hidden(&inventory));
    findings.extend(attachments::check(&inventory));
    let (broken_flows, flow_ends) = flows::check(&inventory, &input.options.flows);
    findings.extend(broken_flows);
    findings.extend(cloudformation::check(&inventory));
    let unscanned = scopes::check(&inventory, input.options);
    findings.extend(unscanned.findings);

    for finding in &mut findings {
        if let Some(severity) = input.options.severity.get(&finding.code) {
            finding.severity = *severity;
        }
    }
    let mut findings = sorted(findings);
    findings.dedup_by(|a, b| a.id == b.id);
    let declared_rules = inventory.declared.values().map(Vec::len).sum();
    DiffOutcome {
        findings,
        managed_groups: inventory.managed.len(),
        compared_groups: inventory.compared_groups(),
        declared_rules,
        compared_rules: declared_rules - unscanned.rules,
        carriers: carriers_by_group(&inventory),
        flow_ends,
    }
}

fn carriers_by_group(inv: &Inventory) -> BTreeMap<String, Vec<String>> {
    inv.live
        .groups
        .iter()
        .filter(|g| {
            inv.coverage
                .interfaces_read(g.account_id.as_deref(), g.region.as_deref())
        })
        .map(|g| {
            let carriers = inv.carriers.get(g.id.as_str());
            (
                g.id.clone(),
                carriers.into_iter().flatten().cloned().collect(),
            )
        })
        .collect()
}

/// Findings by group, direction, code and id. A finding is large: sorting their
/// positions and then moving each finding once costs a tenth of moving them through
/// every pass of a sort.
fn sorted(findings: Vec<Finding>) -> Vec<Finding> {
    fn order_key(f: &Finding) -> (Option<&str>, Option<Direction>, FindingCode, &str) {
        (
            f.resource.group_id.as_deref(),
            f.direction,
            f.code,
            f.id.as_str(),
        )
    }
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&a, &b| order_key(&findings[a]).cmp(&order_key(&findings[b])));
    let mut slots: Vec<Option<Finding>> = findings.into_iter().map(Some).collect();
    order
        .into_iter()
        .map(|i| slots[i].take().expect("each position once"))
        .collect()
}
