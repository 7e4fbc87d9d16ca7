//! Findings: the stable codes and severities of `contracts/FINDINGS.md`, and the
//! shape every finding has in the JSON report.

use std::fmt::{self, Write};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::changed_by::Attribution;
use super::owner::Owner;
use super::rule::{Direction, Rule};
use super::stack::DifferenceType;

/// Declares the finding codes once: the enum, its wire spelling, its default
/// severity (`[severity]` in the config overrides it) and the list of all.
macro_rules! finding_codes {
    ($($variant:ident = $code:literal, $severity:ident;)*) => {
        /// Finding codes (contracts/FINDINGS.md). Kebab-case on the wire; never
        /// renamed once released.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum FindingCode {
            $(#[serde(rename = $code)] $variant,)*
        }

        impl FindingCode {
            pub const ALL: [FindingCode; [$($code),*].len()] = [$(FindingCode::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(FindingCode::$variant => $code,)*
                }
            }

            /// The contract's default severity: checks raise or lower it only where
            /// FINDINGS.md says so (e.g. a rule opened to the world is critical).
            pub fn default_severity(self) -> Severity {
                match self {
                    $(FindingCode::$variant => Severity::$severity,)*
                }
            }
        }
    };
}

// A new code: one line here, its check in `diff/`, and (if its absence is judged
// other than by its scope and owner) `coverage.rs`. `tests/architecture/contract.rs` holds this
// list, and each default severity, to FINDINGS.md.
finding_codes! {
    RuleModified = "rule-modified", High;
    RuleAdded = "rule-added", High;
    RuleRemoved = "rule-removed", High;
    SgMissing = "sg-missing", Critical;
    SgUnmanaged = "sg-unmanaged", Medium;
    SgModified = "sg-modified", Low;
    ReferenceDangling = "reference-dangling", Critical;
    DependencyHidden = "dependency-hidden", Info;
    OwnerConflict = "owner-conflict", Medium;
    CfnDrift = "cfn-drift", High;
    SourceError = "source-error", Critical;
    ScopeUnscanned = "scope-unscanned", Medium;
    ReferenceEmpty = "reference-empty", High;
    AttachmentModified = "attachment-modified", High;
    FlowBroken = "flow-broken", Critical;
}

impl FindingCode {
    pub fn parse(raw: &str) -> Option<FindingCode> {
        FindingCode::ALL.into_iter().find(|c| c.as_str() == raw)
    }

    /// Whether a CloudTrail event can make this drift, and so say who changed it.
    pub fn is_attributed(self) -> bool {
        matches!(
            self,
            FindingCode::RuleAdded
                | FindingCode::RuleRemoved
                | FindingCode::RuleModified
                | FindingCode::SgModified
                | FindingCode::SgMissing
                | FindingCode::SgUnmanaged
                | FindingCode::AttachmentModified
                | FindingCode::ReferenceEmpty
        )
    }

    /// Whether the finding is about what carries the groups: judged, and resolved,
    /// only where every network interface was read.
    pub fn judges_carriers(self) -> bool {
        matches!(
            self,
            FindingCode::ReferenceEmpty | FindingCode::AttachmentModified | FindingCode::FlowBroken
        )
    }
}

impl fmt::Display for FindingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Ordered from least to most severe, so `>=` reads as "at least as severe".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(raw: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingStatus {
    New,
    Ongoing,
    Resolved,
}

impl FindingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingStatus::New => "new",
            FindingStatus::Ongoing => "ongoing",
            FindingStatus::Resolved => "resolved",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRef {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Option<String>,
    pub group_id: Option<String>,
    pub group_name: Option<String>,
    pub vpc_id: Option<String>,
}

/// One differing field: `expected` and `actual` as compared (null when missing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub field: String,
    pub expected: Value,
    pub actual: Value,
    /// For `cfn-drift`: the CloudFormation property path this change comes from,
    /// when `field` is a canonical rule field rather than the path itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property_path: Option<String>,
    /// For `cfn-drift`: how CloudFormation classed the difference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difference_type: Option<DifferenceType>,
}

impl Change {
    pub fn new(field: impl Into<String>, expected: Value, actual: Value) -> Change {
        Change {
            field: field.into(),
            expected,
            actual,
            property_path: None,
            difference_type: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledged {
    pub reason: String,
    pub expires: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub id: String,
    pub code: FindingCode,
    pub severity: Severity,
    pub status: FindingStatus,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub resource: ResourceRef,
    pub owner: Owner,
    pub direction: Option<Direction>,
    pub expected: Option<Rule>,
    pub actual: Option<Rule>,
    pub changes: Vec<Change>,
    pub message: String,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub acknowledged: Option<Acknowledged>,
    /// This finding was resolved in an earlier scan and has come back: it is `new`
    /// again, with a new `first_seen`.
    #[serde(default)]
    pub recurred: bool,
    /// The owner of the group this finding concerns, when that is not `owner`
    /// itself (a `rule-added` has no owner; its group's owner should act).
    #[serde(skip)]
    pub group_owner: Option<Owner>,
    /// Who made this change, from CloudTrail; absent when nobody looked it up.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::changed_by::deserialize_attribution"
    )]
    pub changed_by: Option<Attribution>,
}

/// What a finding about something other than a group's rule concerns: a source,
/// a scope, a stack resource.
pub struct Subject {
    pub code: FindingCode,
    pub account_id: Option<String>,
    pub region: Option<String>,
    /// `resource.type`, and `resource.id` (also what identifies it, with `key`).
    pub kind: String,
    pub id: String,
    pub key: String,
}

impl Finding {
    /// A new finding about `subject`, at its code's default severity, with no owner,
    /// rules or changes (set them with struct update syntax).
    pub fn about(subject: Subject, message: String) -> Finding {
        Finding {
            id: Finding::stable_id(
                subject.code,
                subject.account_id.as_deref(),
                subject.region.as_deref(),
                &subject.id,
                &subject.key,
            ),
            code: subject.code,
            severity: subject.code.default_severity(),
            status: FindingStatus::New,
            account_id: subject.account_id,
            region: subject.region,
            resource: ResourceRef {
                kind: subject.kind,
                id: Some(subject.id),
                group_id: None,
                group_name: None,
                vpc_id: None,
            },
            owner: Owner::none(),
            direction: None,
            expected: None,
            actual: None,
            changes: Vec::new(),
            message,
            first_seen: None,
            last_seen: None,
            acknowledged: None,
            recurred: false,
            group_owner: None,
            changed_by: None,
        }
    }

    /// A stable id from what identifies the drift, never from its values: the same
    /// drift seen in many scans is one finding.
    pub fn stable_id(
        code: FindingCode,
        account: Option<&str>,
        region: Option<&str>,
        resource: &str,
        key: &str,
    ) -> String {
        let mut hasher = Sha256::new();
        for part in [
            code.as_str(),
            account.unwrap_or(""),
            region.unwrap_or(""),
            resource,
            key,
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0u8]);
        }
        let digest = hasher.finalize();
        let mut id = String::with_capacity(code.as_str().len() + 17);
        id.push_str(code.as_str());
        id.push('-');
        for b in &digest[..8] {
            write!(id, "{b:02x}").expect("writing to a String cannot fail");
        }
        id
    }

    /// Whether this finding counts towards the exit code at `fail_on`.
    pub fn fails(&self, fail_on: Severity) -> bool {
        self.acknowledged.is_none()
            && self.status != FindingStatus::Resolved
            && self.severity >= fail_on
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for code in FindingCode::ALL {
            assert_eq!(FindingCode::parse(code.as_str()), Some(code));
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                Value::String(code.as_str().to_string())
            );
        }
        assert_eq!(FindingCode::parse("rule_modified"), None);
    }

    #[test]
    fn severities_order_and_round_trip() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Low > Severity::Info);
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = Finding::stable_id(FindingCode::RuleAdded, Some("1"), Some("r"), "sg-1", "k");
        let b = Finding::stable_id(FindingCode::RuleAdded, Some("1"), Some("r"), "sg-1", "k");
        let c = Finding::stable_id(FindingCode::RuleAdded, Some("1"), Some("r"), "sg-1", "k2");
        // Separators keep ("ab","c") and ("a","bc") apart.
        let d = Finding::stable_id(FindingCode::RuleAdded, Some("1"), Some("r"), "sg-1k", "");
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(c, d);
        assert!(a.starts_with("rule-added-"));
        assert_eq!(a.len(), "rule-added-".len() + 16);
    }
}
