//! `attachment-modified`: what carries the groups differs from what IaC declares
//! for it (a load balancer, an instance, a network interface, a Lambda function).
//! Judged only where the carrier's interfaces were read and found: a carrier with no
//! interface in what was read is gone or elsewhere, and says nothing.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::context::Inventory;
use crate::model::{
    CarrierRef, Change, DeclaredAttachment, Direction, Finding, FindingCode, NetworkInterface,
    Owner, Rule, Subject, overlaps,
};

/// At most this many of a group's rules are named in a message.
const RULES_NAMED: usize = 3;

pub fn check(inv: &Inventory) -> Vec<Finding> {
    if inv.intent.attachments.is_empty() {
        return Vec::new();
    }
    let mut declared: BTreeMap<&CarrierRef, Vec<&DeclaredAttachment>> = BTreeMap::new();
    // Groups only added to an interface (`aws_network_interface_sg_attachment`),
    // which count too for what the interface stands for (an instance's primary).
    let mut added: BTreeMap<&str, Vec<&DeclaredAttachment>> = BTreeMap::new();
    for attachment in &inv.intent.attachments {
        match &attachment.carrier {
            // Lambda shares one interface among the functions of a subnet and group
            // set, described after the first: which function it serves is unknown.
            CarrierRef::Lambda(_) => continue,
            CarrierRef::Interface(id) if attachment.adds_only => {
                added.entry(id.as_str()).or_default().push(attachment);
            }
            _ => {}
        }
        declared
            .entry(&attachment.carrier)
            .or_default()
            .push(attachment);
    }
    let mut interfaces: BTreeMap<CarrierRef, Vec<&NetworkInterface>> = BTreeMap::new();
    for interface in &inv.live.interfaces {
        for carrier in interface.carrier_refs() {
            if declared.contains_key(&carrier) {
                interfaces.entry(carrier).or_default().push(interface);
            }
        }
    }
    declared
        .into_iter()
        .filter_map(|(carrier, mut declarations)| {
            // A load balancer ELBv2 describes carries what ELBv2 says.
            if let CarrierRef::LoadBalancer(key) = carrier
                && let Some(groups) = inv.live.load_balancers.get(key)
            {
                return described_balancer(inv, carrier, &declarations, groups);
            }
            // Only the interfaces in the declared place: one name in two regions is
            // two resources.
            let live: Vec<&NetworkInterface> = interfaces
                .get(carrier)?
                .iter()
                .copied()
                .filter(|i| declarations.iter().any(|d| same_place(d, i)))
                .collect();
            for interface in &live {
                if *carrier != CarrierRef::Interface(interface.id.clone()) {
                    declarations.extend(added.get(interface.id.as_str()).into_iter().flatten());
                }
            }
            (!live.is_empty()).then(|| compare(inv, carrier, &declarations, &live))?
        })
        .collect()
}

/// A load balancer's declared groups against those ELBv2 describes for it.
fn described_balancer(
    inv: &Inventory,
    carrier: &CarrierRef,
    declarations: &[&DeclaredAttachment],
    groups: &[String],
) -> Option<Finding> {
    let declaration = declarations.first()?;
    let declared = declaration.groups.iter().map(String::as_str).collect();
    let live = groups.iter().map(String::as_str).collect();
    let place = Place {
        account: declaration.account_id.clone(),
        region: declaration.region.clone(),
    };
    let owner = declaration.owner.clone();
    finding(inv, carrier, owner, place, &declared, &live, true)
}

/// Whether the interface is where the declaration says its resource lives (an
/// unknown account or region matches).
fn same_place(declared: &DeclaredAttachment, interface: &NetworkInterface) -> bool {
    overlaps(
        declared.account_id.as_deref(),
        interface.account_id.as_deref(),
    ) && overlaps(declared.region.as_deref(), interface.region.as_deref())
}

fn compare(
    inv: &Inventory,
    carrier: &CarrierRef,
    declarations: &[&DeclaredAttachment],
    interfaces: &[&NetworkInterface],
) -> Option<Finding> {
    let first = interfaces[0];
    let (account, region) = (first.account_id.as_deref(), first.region.as_deref());
    if !inv.coverage.interfaces_read(account, region) {
        return None;
    }
    let live: BTreeSet<&str> = interfaces
        .iter()
        .flat_map(|i| i.groups.iter().map(String::as_str))
        .collect();
    // The declaration of the whole set, if any (not only groups added to it).
    let whole = declarations.iter().copied().find(|d| !d.adds_only);
    let declared: BTreeSet<&str> = declarations
        .iter()
        .flat_map(|d| d.groups.iter().map(String::as_str))
        .collect();
    let owner = whole.unwrap_or(declarations[0]).owner.clone();
    let place = Place {
        account: first.account_id.clone(),
        region: first.region.clone(),
    };
    finding(
        inv,
        carrier,
        owner,
        place,
        &declared,
        &live,
        whole.is_some(),
    )
}

/// Where the carrier lives.
pub struct Place {
    pub account: Option<String>,
    pub region: Option<String>,
}

/// The `attachment-modified` of `carrier` when its `live` groups differ from the
/// `declared` ones; with `whole` false the declaration only adds its groups and
/// says nothing of the others. Also what CloudFormation's drift results say
/// (`diff/cloudformation.rs`).
pub fn finding(
    inv: &Inventory,
    carrier: &CarrierRef,
    owner: Owner,
    place: Place,
    declared: &BTreeSet<&str>,
    live: &BTreeSet<&str>,
    whole: bool,
) -> Option<Finding> {
    let extra: Vec<&str> = match whole {
        false => Vec::new(),
        true => live.difference(declared).copied().collect(),
    };
    let missing: Vec<&str> = declared.difference(live).copied().collect();
    if extra.is_empty() && missing.is_empty() {
        return None;
    }
    let mut said = Vec::new();
    for group in &extra {
        said.push(format!(
            "carries {}, which {} does not declare{}",
            inv.group_label(group),
            owner.label(),
            allows(inv, group)
        ));
    }
    for group in &missing {
        said.push(format!(
            "no longer carries {}, which {} declares",
            inv.group_label(group),
            owner.label()
        ));
    }
    let message = format!("{} {}", carrier.label(), said.join("; "));
    let live_list: Vec<&str> = match whole {
        false => declared.intersection(live).copied().collect(),
        true => live.iter().copied().collect(),
    };
    Some(Finding {
        owner,
        changes: vec![Change::new(
            "security_groups",
            json!(declared.iter().collect::<Vec<_>>()),
            json!(live_list),
        )],
        ..Finding::about(
            Subject {
                code: FindingCode::AttachmentModified,
                account_id: place.account,
                region: place.region,
                kind: carrier.resource_type().to_string(),
                id: carrier.id().to_string(),
                key: "security_groups".to_string(),
            },
            message,
        )
    })
}

/// `; it allows ingress tcp 443 from 0.0.0.0/0, …`: what a group let in by hand
/// opens, its ingress first.
fn allows(inv: &Inventory, group_id: &str) -> String {
    let rules: Vec<String> = [Direction::Ingress, Direction::Egress]
        .into_iter()
        .flat_map(|direction| inv.live_rules_of(group_id, direction))
        .map(Rule::label)
        .collect();
    match rules.len() {
        0 => "; it allows nothing".to_string(),
        n if n <= RULES_NAMED => format!("; it allows {}", rules.join(", ")),
        n => format!(
            "; it allows {} and {} more",
            rules[..RULES_NAMED].join(", "),
            n - RULES_NAMED
        ),
    }
}
