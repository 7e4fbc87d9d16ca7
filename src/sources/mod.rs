//! Where data enters: each source reads one kind of input and normalises it into
//! the canonical model (`crate::model`).

pub mod accounts;
pub mod cloudformation;
pub mod cloudtrail;
pub mod describe;
pub mod ec2;
pub mod ecs;
pub mod elbv2;
pub mod json_error;
pub mod live;
pub mod live_file;

pub mod terraform;

use serde::{Deserialize, Serialize};

/// How one source fared in a scan: the report's `scan.sources` entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceStatus {
    pub kind: SourceKind,
    pub location: String,
    pub ok: bool,
    pub error: Option<String>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    /// A source of intent whose ownership was read although the source failed (a
    /// stack whose resources were listed but whose drift detection failed): what
    /// it owns is known, so its failure hides nothing else.
    #[serde(skip)]
    pub ownership_read: bool,
    /// A stack whose drift detection results were read: only then can the absence
    /// of a `cfn-drift` finding mean the drift is gone.
    #[serde(skip)]
    pub drift_read: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    Terraform,
    Cloudformation,
    Ec2,
    LiveFile,
    /// What carries the groups: `DescribeNetworkInterfaces`, per account and region.
    NetworkInterfaces,
    /// Which interfaces are the tasks of the declared ECS services.
    Ecs,
    /// The security groups of the declared load balancers.
    Elbv2,
    /// Who made each change (`LookupEvents`): enrichment, never part of the verdict.
    Cloudtrail,
}

impl SourceKind {
    /// Whether this kind says what should exist (as opposed to what does).
    pub fn is_intent(self) -> bool {
        matches!(self, SourceKind::Terraform | SourceKind::Cloudformation)
    }

    /// Whether this kind reads live security groups and rules (as opposed to
    /// intent, or to what carries the groups).
    pub fn reads_groups(self) -> bool {
        matches!(self, SourceKind::Ec2 | SourceKind::LiveFile)
    }
}

impl SourceStatus {
    /// A failed source that leaves part of the scan unjudged (the scan is partial).
    /// CloudTrail only says who made a change: its failure judges nothing.
    pub fn holds_back(&self) -> bool {
        !self.ok && self.kind != SourceKind::Cloudtrail
    }

    /// A failed source of intent whose ownership is unknown: anything nobody else
    /// declares may be declared there.
    pub fn leaves_intent_unknown(&self) -> bool {
        self.kind.is_intent() && !self.ok && !self.ownership_read
    }

    pub fn ok(kind: SourceKind, location: &str) -> SourceStatus {
        SourceStatus {
            kind,
            location: location.to_string(),
            ok: true,
            error: None,
            account_id: None,
            region: None,
            ownership_read: false,
            drift_read: false,
        }
    }

    pub fn failed(kind: SourceKind, location: &str, error: String) -> SourceStatus {
        SourceStatus {
            ok: false,
            error: Some(error),
            ..SourceStatus::ok(kind, location)
        }
    }
}
