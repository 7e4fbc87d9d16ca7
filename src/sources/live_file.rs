//! Captured live data (`--live FILE`): the JSON printed by
//! `aws ec2 describe-security-groups`, `aws ec2 describe-security-group-rules` and
//! `aws ec2 describe-network-interfaces` (what carries the groups).
//!
//! Given both documents, rules come from the rules document (it carries rule ids
//! and tags) and group fields from the groups document; given only groups, rules
//! are derived from `IpPermissions`/`IpPermissionsEgress`. Boto3 dumps (with
//! `ResponseMetadata`) and recorded responses (the response under `data`) are read too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use tracing::warn;

use crate::input::{MAX_DOCUMENT_BYTES, ReadError, read_file};
use crate::model::{LiveView, NetworkInterface, Rule, Scope, SecurityGroup};
use crate::sources::describe::{
    GroupDoc, InterfaceDoc, RuleDoc, group_to_model, interface_to_model, live_rules, rule_to_model,
};
use crate::sources::json_error::{self, JsonError};
use crate::sources::{SourceKind, SourceStatus};

#[derive(Debug, thiserror::Error)]
pub enum LiveFileError {
    #[error("{location}: cannot read: {source}")]
    Io { location: String, source: ReadError },
    #[error("{location}: {error}")]
    Encoding {
        location: String,
        error: crate::input::EncodingError,
    },
    #[error(
        "{location}: the file is empty; expected the JSON of `aws ec2 describe-security-groups`, \
         `aws ec2 describe-security-group-rules` or `aws ec2 describe-network-interfaces`"
    )]
    Empty { location: String },
    #[error("{location}: {error}")]
    Json { location: String, error: JsonError },
    #[error(
        "{location}: not a describe-security-groups, describe-security-group-rules or \
         describe-network-interfaces document (expected a top-level \"SecurityGroups\", \
         \"SecurityGroupRules\" or \"NetworkInterfaces\" list)"
    )]
    UnknownDocument { location: String },
    #[error("{location}: at {json_path}: {message}")]
    Invalid {
        location: String,
        json_path: String,
        message: String,
    },
}

/// One captured document, before groups and rules documents are combined.
#[derive(Debug, Default)]
pub struct Capture {
    groups: Vec<SecurityGroup>,
    /// Rules derived from `IpPermissions`, used only when no rules document is given.
    permission_rules: Vec<Rule>,
    rules: Vec<Rule>,
    /// `GroupOwnerId` of rules, naming the account of groups known only from rules.
    rule_group_owners: BTreeMap<String, String>,
    has_rules_document: bool,
    /// `None` without a describe-network-interfaces document.
    interfaces: Option<Vec<NetworkInterface>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Document {
    security_groups: Option<Vec<GroupDoc>>,
    security_group_rules: Option<Vec<RuleDoc>>,
    network_interfaces: Option<Vec<InterfaceDoc>>,
    /// Recorded test responses keep the real response under `data`.
    #[serde(rename = "data")]
    data: Option<Box<Document>>,
}

pub fn load_file(path: &Path) -> Result<Capture, LiveFileError> {
    let location = path.display().to_string();
    let bytes = read_file(path, MAX_DOCUMENT_BYTES).map_err(|source| LiveFileError::Io {
        location: location.clone(),
        source,
    })?;
    parse_capture(&location, &bytes)
}

pub fn parse_capture(location: &str, bytes: &[u8]) -> Result<Capture, LiveFileError> {
    let bytes = crate::input::document_bytes(bytes).map_err(|error| LiveFileError::Encoding {
        location: location.to_string(),
        error,
    })?;
    // A capture that failed (`aws ... > file` without credentials) leaves an empty
    // file: say so rather than "EOF while parsing".
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(LiveFileError::Empty {
            location: location.to_string(),
        });
    }
    let mut doc: Document =
        json_error::parse_document(bytes).map_err(|error| LiveFileError::Json {
            location: location.to_string(),
            error,
        })?;
    let mut base = "$".to_string();
    if doc.security_groups.is_none()
        && doc.security_group_rules.is_none()
        && doc.network_interfaces.is_none()
        && let Some(inner) = doc.data.take()
    {
        doc = *inner;
        base = "$.data".to_string();
    }
    let invalid = |json_path: String, message: String| LiveFileError::Invalid {
        location: location.to_string(),
        json_path,
        message,
    };
    let mut capture = Capture {
        interfaces: doc
            .network_interfaces
            .map(|docs| docs.into_iter().map(interface_to_model).collect()),
        ..Capture::default()
    };
    match (doc.security_groups, doc.security_group_rules) {
        (None, None) if capture.interfaces.is_some() => {}
        (None, None) => {
            return Err(LiveFileError::UnknownDocument {
                location: location.to_string(),
            });
        }
        (groups, rules) => {
            for (g, group) in groups.into_iter().flatten().enumerate() {
                let path = format!("{base}.SecurityGroups[{g}]");
                let (group, rules) =
                    group_to_model(group).map_err(|(p, m)| invalid(format!("{path}.{p}"), m))?;
                capture.groups.push(group);
                capture.permission_rules.extend(rules);
            }
            if let Some(rules) = rules {
                capture.has_rules_document = true;
                for (r, rule) in rules.into_iter().enumerate() {
                    let path = format!("{base}.SecurityGroupRules[{r}]");
                    if let Some(owner) = &rule.group_owner_id {
                        capture
                            .rule_group_owners
                            .insert(rule.group_id.clone(), owner.clone());
                    }
                    let rule = rule_to_model(rule).map_err(|m| invalid(path, m))?;
                    capture.rules.push(rule);
                }
            }
        }
    }
    Ok(capture)
}

/// Reads every capture: one status per file, the readable ones combined.
pub fn read_all(files: &[PathBuf], regions: &[String]) -> (LiveView, Vec<SourceStatus>) {
    let mut captures = Vec::new();
    let mut statuses = Vec::new();
    for path in files {
        let location = path.display().to_string();
        match load_file(path) {
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
    (combine(captures, regions), statuses)
}

/// Combines captured documents into one live view, covering the accounts their
/// `OwnerId` fields name (no others) in each of `regions` (any region when none is
/// given).
pub fn combine(captures: Vec<Capture>, regions: &[String]) -> LiveView {
    let has_rules_document = captures.iter().any(|c| c.has_rules_document);
    let mut groups: BTreeMap<String, SecurityGroup> = BTreeMap::new();
    let mut permission_rules = Vec::new();
    let mut rules_documents = Vec::new();
    let mut rule_group_owners = BTreeMap::new();
    let mut interfaces: Option<BTreeMap<String, NetworkInterface>> = None;
    for capture in captures {
        if let Some(captured) = capture.interfaces {
            let all = interfaces.get_or_insert_default();
            for interface in captured {
                all.entry(interface.id.clone()).or_insert(interface);
            }
        }
        rule_group_owners.extend(capture.rule_group_owners);
        for group in capture.groups {
            groups.entry(group.id.clone()).or_insert(group);
        }
        permission_rules.extend(capture.permission_rules);
        rules_documents.extend(capture.rules);
    }
    let rules = live_rules(
        permission_rules,
        has_rules_document.then_some(rules_documents),
    );
    // A rules-only capture still names its groups.
    for rule in &rules {
        groups
            .entry(rule.group_id.to_string())
            .or_insert_with(|| SecurityGroup {
                account_id: rule_group_owners.get(rule.group_id.as_str()).cloned(),
                ..SecurityGroup::new(rule.group_id.as_str())
            });
    }
    let region = (regions.len() == 1).then(|| regions[0].clone());
    for group in groups.values_mut() {
        group.region = region.clone();
    }
    // Only a named account is covered: a capture without `OwnerId` says what exists
    // but not where, so nothing can be proven missing from it.
    let accounts: BTreeSet<Option<String>> = groups
        .values()
        .filter(|g| g.account_id.is_some())
        .map(|g| g.account_id.clone())
        .collect();
    let region_scopes: Vec<Option<String>> = if regions.is_empty() {
        vec![None]
    } else {
        regions.iter().cloned().map(Some).collect()
    };
    let scopes_of = |accounts: &BTreeSet<Option<String>>| -> Vec<Scope> {
        let mut scopes = Vec::new();
        for account in accounts {
            for region in &region_scopes {
                scopes.push(Scope {
                    account_id: account.clone(),
                    region: region.clone(),
                });
            }
        }
        scopes
    };
    // Interfaces cover, in the same way, the accounts their `OwnerId` names.
    let mut interfaces: Vec<NetworkInterface> = interfaces
        .map(|all| all.into_values().collect())
        .unwrap_or_default();
    for interface in &mut interfaces {
        interface.region = region.clone();
    }
    let interface_accounts: BTreeSet<Option<String>> = interfaces
        .iter()
        .filter(|i| i.account_id.is_some())
        .map(|i| i.account_id.clone())
        .collect();
    LiveView {
        groups: groups.into_values().collect(),
        rules,
        scopes: scopes_of(&accounts),
        interface_scopes: scopes_of(&interface_accounts),
        interfaces,
        // Captures hold no prefix list's entries: flows they could allow are not judged.
        prefix_lists: BTreeMap::new(),
        load_balancers: BTreeMap::new(),
        neighbours: Default::default(),
    }
}
