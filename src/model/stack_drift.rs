//! CloudFormation's drift results in canonical terms: the rules a stack declares and
//! the rules AWS now has, each canonical field with the property path it came from.
//! `sources::cloudformation::canonical` builds these from `ResourceDrift`; the diff
//! reads nothing else of CloudFormation.

use super::finding::Change;
use super::interface::CarrierRef;
use super::rule::Rule;
use super::stack::{DifferenceType, ResourceDriftStatus, StackResource};

/// One resource of a completed drift detection.
#[derive(Debug, Clone, PartialEq)]
pub struct StackDrift {
    pub resource: StackResource,
    pub status: ResourceDriftStatus,
    /// For a standalone `AWS::EC2::SecurityGroupIngress`/`Egress` naming its group.
    pub standalone: Option<StandaloneRule>,
    pub found: DriftFound,
}

/// What a standalone ingress/egress resource declares, whatever its status.
#[derive(Debug, Clone, PartialEq)]
pub struct StandaloneRule {
    /// The group its `GroupId` names.
    pub group_id: String,
    /// The rule its properties declare; `None` where they do not read as one.
    pub rule: Option<Rule>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DriftFound {
    /// An `AWS::EC2::SecurityGroup` with a physical id.
    Group(GroupDrift),
    /// A standalone rule that still exists, as declared and as it is.
    RuleEdited(Box<RuleEdit>),
    /// A standalone rule CloudFormation reports deleted.
    RuleDeleted(Rule),
    /// A resource that carries security groups (a load balancer, an instance, a
    /// network interface) whose only differences are its groups.
    Attachment(AttachmentDrift),
    /// Any other resource, or rules that did not read as rules: each difference by
    /// its property path.
    Properties(Vec<Change>),
}

/// The groups a stack declares for what carries them, and the ones it carries.
#[derive(Debug, Clone, PartialEq)]
pub struct AttachmentDrift {
    pub carrier: CarrierRef,
    /// Sorted.
    pub declared: Vec<String>,
    pub live: Vec<String>,
}

/// A group's `SecurityGroupIngress`/`SecurityGroupEgress` lists against AWS.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupDrift {
    pub group_id: String,
    /// The rules the group's lists declare; `None` where the expected properties
    /// are unknown or a list does not read as rules (the group cannot be judged).
    pub declared: Option<Vec<Rule>>,
    /// The template declares egress (else EC2's default allow-all egress is kept).
    pub declares_egress: bool,
    /// Elements edited in place, by list and index.
    pub edited: Vec<RuleEdit>,
    /// Whole elements removed or added.
    pub removed: Vec<ElementChange>,
    pub added: Vec<ElementChange>,
    /// Differences outside the rule lists, or in elements that are not rules.
    pub other: Vec<Change>,
}

/// One rule as declared and as it is now.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleEdit {
    pub expected: Rule,
    pub actual: Rule,
    /// Where each canonical field's difference came from, in report order.
    pub paths: Vec<PropertyPath>,
    /// Differences in properties no canonical field holds, by their paths.
    pub other: Vec<Change>,
}

/// `to_port` came from `/SecurityGroupEgress/0/ToPort`.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyPath {
    pub field: &'static str,
    pub path: String,
    pub kind: DifferenceType,
}

/// A whole list element removed or added, and the difference that says so.
#[derive(Debug, Clone, PartialEq)]
pub struct ElementChange {
    pub rule: Rule,
    pub change: Change,
}
