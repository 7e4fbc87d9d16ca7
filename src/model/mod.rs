//! The canonical model every source is normalised into: one rule per peer, in the
//! shape of `DescribeSecurityGroupRules`. No I/O lives here.

mod changed_by;
mod event;
mod finding;
mod flow;
mod group;
mod group_id;
mod interface;
mod owner;
mod rule;
mod stack;
mod stack_drift;
mod time;

pub use changed_by::{Attribution, ChangedBy, Effect, RulePatch, TrailEvent, Via};
pub use event::Event;
pub use finding::{
    Acknowledged, Change, Finding, FindingCode, FindingStatus, ResourceRef, Severity, Subject,
};
pub use flow::{Flow, FlowEnds};
pub use group::{Scope, SecurityGroup, Tags, comparable_tag_entries, comparable_tags, overlaps};
pub use group_id::{GroupId, share_group_ids};
pub use interface::{CarrierRef, NetworkInterface};
pub use owner::{Owner, OwnerKind};
pub use rule::{Direction, ModelError, Peer, Protocol, Rule, RuleKey, RuleKeyRef};
pub use stack::{
    DifferenceType, PropertyDifference, ResourceDrift, ResourceDriftStatus, SECURITY_GROUP,
    SECURITY_GROUP_EGRESS, SECURITY_GROUP_INGRESS, StackResource, parse_value,
};
pub use stack_drift::{
    AttachmentDrift, DriftFound, ElementChange, GroupDrift, PropertyPath, RuleEdit, StackDrift,
    StandaloneRule,
};
pub use time::{Timestamp, format_timestamp, parse_timestamp};
mod intent;
mod live;
mod neighbours;
mod places;
pub use intent::{
    DeclaredAttachment, DeclaredEndpoint, DeclaredGroup, DeclaredRule, GroupRead, Intent,
};
pub use live::LiveView;
pub use neighbours::{LookedScope, Neighbour, Neighbours};
pub use places::Places;
