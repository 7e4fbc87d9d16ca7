//! A path that must stay open (`[[flow]]`): from one endpoint to another, on a
//! protocol and port, checked on every scan against the live rules.

use std::collections::BTreeSet;

use super::interface::CarrierRef;
use super::rule::Protocol;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    pub name: String,
    /// A group (id, name or Terraform address) or what carries groups (the
    /// Terraform address of a load balancer, instance, interface or function).
    pub from: String,
    pub to: String,
    pub protocol: Protocol,
    /// `None` for a protocol without ports (all traffic, ICMP).
    pub port: Option<i32>,
}

impl Flow {
    /// `tcp 80`, `all traffic`, `icmp`.
    pub fn traffic(&self) -> String {
        match (self.protocol, self.port) {
            (Protocol::All, _) => "all traffic".to_string(),
            (protocol, Some(port)) => format!("{} {port}", protocol.as_string()),
            (protocol, None) => protocol.as_string(),
        }
    }
}

/// A broken flow's ends as the scan found them: the groups they name or carry, and
/// what carries them. A change there (a detach, a rule) is what broke the flow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowEnds {
    pub groups: BTreeSet<String>,
    pub carriers: Vec<CarrierRef>,
}
