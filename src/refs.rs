//! `driftd refs`: everything that references a security group, to check before
//! someone deletes it: live rules of other groups, declared rules, Terraform data
//! sources reading it, and network interfaces using it.

use serde::Serialize;

use crate::aws::ApiCalls;
use crate::coverage::Coverage;
use crate::model::NetworkInterface;
use crate::model::{Owner, Rule};
use crate::scan::{LiveSource, ScanPlan, collect, live_source_for, sdk_for};
use crate::sources::SourceStatus;
use crate::sources::ec2::network_interfaces_using;

#[derive(Debug, Clone, Serialize)]
pub struct DeclaredReference {
    pub rule: Rule,
    pub owner: Owner,
}

#[derive(Debug, Clone, Serialize)]
pub struct References {
    pub group_id: String,
    pub group_name: Option<String>,
    /// Whether the group exists live; `None` where no live source covered it.
    pub exists: Option<bool>,
    /// Live rules of other groups whose peer is this group.
    pub live_rules: Vec<Rule>,
    /// Declared rules (any group, this one excepted) whose peer is this group.
    pub declared_rules: Vec<DeclaredReference>,
    /// Terraform data sources that read this group.
    pub data_sources: Vec<Owner>,
    /// Network interfaces using it (read from AWS only; empty with `--live`).
    pub network_interfaces: Vec<NetworkInterface>,
    pub complete: bool,
    pub sources: Vec<SourceStatus>,
}

impl References {
    pub fn is_referenced(&self) -> bool {
        !(self.live_rules.is_empty()
            && self.declared_rules.is_empty()
            && self.data_sources.is_empty()
            && self.network_interfaces.is_empty())
    }
}

pub async fn find(plan: &ScanPlan, group_id: &str) -> References {
    let calls = ApiCalls::default();
    let (intent, live, mut sources) = collect(plan, &calls).await;
    let live_group = live.groups.iter().find(|g| g.id == group_id);
    let exists = if live_group.is_some() {
        Some(true)
    } else {
        let declared = intent.groups.iter().find(|g| g.group.id == group_id);
        let (account, region) = declared
            .map(|g| (g.group.account_id.as_deref(), g.group.region.as_deref()))
            .unwrap_or((None, None));
        Coverage::new(&intent, &live, &sources)
            .read_in_full(account, region)
            .then_some(false)
    };
    let group_name = live_group
        .and_then(|g| g.name.clone())
        .or_else(|| {
            intent
                .groups
                .iter()
                .find(|g| g.group.id == group_id)
                .and_then(|g| g.group.name.clone())
        })
        .or_else(|| {
            intent
                .reads
                .iter()
                .find(|r| r.group_id == group_id)
                .and_then(|r| r.name.clone())
        });
    let points_here =
        |rule: &Rule| rule.group_id != group_id && rule.peer.referenced_group() == Some(group_id);

    let mut live_rules: Vec<Rule> = live
        .rules
        .iter()
        .filter(|r| points_here(r))
        .cloned()
        .collect();
    live_rules.sort_by_key(Rule::key);
    let mut declared_rules: Vec<DeclaredReference> = intent
        .rules
        .iter()
        .filter(|r| points_here(&r.rule))
        .map(|r| DeclaredReference {
            rule: r.rule.clone(),
            owner: r.owner.clone(),
        })
        .collect();
    declared_rules.sort_by(|a, b| (a.rule.key(), &a.owner).cmp(&(b.rule.key(), &b.owner)));
    declared_rules.dedup_by(|a, b| a.rule.key() == b.rule.key() && a.owner == b.owner);
    let mut data_sources: Vec<Owner> = intent
        .reads
        .iter()
        .filter(|r| r.group_id == group_id)
        .map(|r| r.reader.clone())
        .collect();
    data_sources.sort();

    let mut network_interfaces = Vec::new();
    let sdk = sdk_for(plan).await;
    if let LiveSource::Aws(ec2_plan) =
        live_source_for(plan, &crate::model::Places::of(&intent), sdk.as_ref())
        && let Some(sdk) = sdk
    {
        let (found, statuses) = network_interfaces_using(&sdk, &ec2_plan, group_id, &calls).await;
        network_interfaces = found;
        sources.extend(statuses);
    }
    References {
        group_id: group_id.to_string(),
        group_name,
        exists,
        live_rules,
        declared_rules,
        data_sources,
        network_interfaces,
        complete: sources.iter().all(|s| s.ok),
        sources,
    }
}

/// The references as a table for a terminal.
pub fn render_table(refs: &References) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let name = refs
        .group_name
        .as_deref()
        .map(|n| format!("{n} ({})", refs.group_id))
        .unwrap_or_else(|| refs.group_id.clone());
    let state = match refs.exists {
        Some(true) => "exists",
        Some(false) => "does not exist",
        None => "not covered by the live sources read",
    };
    let _ = writeln!(
        out,
        "{name}: {state}{}",
        if refs.complete {
            ""
        } else {
            " · PARTIAL: some sources could not be read"
        }
    );
    let section = |out: &mut String, title: &str, lines: Vec<String>| {
        let _ = writeln!(out, "\n{title} ({})", lines.len());
        if lines.is_empty() {
            let _ = writeln!(out, "  none");
        }
        for line in lines {
            let _ = writeln!(out, "  {line}");
        }
    };
    section(
        &mut out,
        "live rules of other groups",
        refs.live_rules.iter().map(live_rule_line).collect(),
    );
    section(
        &mut out,
        "declared rules",
        refs.declared_rules.iter().map(declared_rule_line).collect(),
    );
    section(
        &mut out,
        "data sources reading it",
        refs.data_sources.iter().map(Owner::label).collect(),
    );
    section(
        &mut out,
        "network interfaces using it",
        refs.network_interfaces.iter().map(interface_line).collect(),
    );
    for source in refs.sources.iter().filter(|s| !s.ok) {
        let _ = writeln!(
            out,
            "\ncould not read {}: {}",
            source.location,
            source.error.as_deref().unwrap_or("")
        );
    }
    let _ = writeln!(
        out,
        "\n{}",
        if refs.is_referenced() {
            "Referenced: deleting it would break what is listed above."
        } else {
            "Nothing read references it."
        }
    );
    out
}

/// `sg-web: tcp 443 from sg-alb (sgr-1)`.
fn live_rule_line(rule: &Rule) -> String {
    let id = rule
        .rule_id
        .as_deref()
        .map(|id| format!(" ({id})"))
        .unwrap_or_default();
    format!("{}: {}{id}", rule.group_id, rule.label())
}

fn declared_rule_line(declared: &DeclaredReference) -> String {
    format!(
        "{}: {}  {}",
        declared.rule.group_id,
        declared.rule.label(),
        declared.owner.label()
    )
}

/// `eu-west-1 eni-1: ELB app/web`, or `eu-west-1 eni-1 (its description)` where
/// the interface stands for nothing driftd recognises.
fn interface_line(interface: &NetworkInterface) -> String {
    let region = interface.region.as_deref().unwrap_or("?");
    let carrier = interface.carrier();
    if carrier != interface.id {
        return format!("{region} {}: {carrier}", interface.id);
    }
    let description = interface
        .description
        .as_deref()
        .map(|d| format!(" ({d})"))
        .unwrap_or_default();
    format!("{region} {}{description}", interface.id)
}
