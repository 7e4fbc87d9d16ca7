//! What a user may change about the diff: the `default` groups, severities, and the
//! paths that must stay open.

use std::collections::BTreeMap;

use crate::model::{FindingCode, Flow, Severity};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiffOptions {
    /// Report each VPC's undeletable `default` group as `sg-unmanaged` too.
    pub include_default_groups: bool,
    /// Per-code severity replacing the defaults of FINDINGS.md.
    pub severity: BTreeMap<FindingCode, Severity>,
    /// Regions another schedule of the same `serve` reads: not `scope-unscanned`
    /// here (else each schedule would raise what the other resolves).
    pub regions_read_elsewhere: Vec<String>,
    /// `[[flow]]`: paths that must stay open.
    pub flows: Vec<Flow>,
}
