//! What CloudFormation says about a stack: which physical resources it owns, and
//! what its own drift detection found, kept as CloudFormation reported it (property
//! values parsed as JSON where they are JSON). The diff turns drift into findings.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::owner::Owner;
use super::rule::Direction;

pub const SECURITY_GROUP: &str = "AWS::EC2::SecurityGroup";
pub const SECURITY_GROUP_INGRESS: &str = "AWS::EC2::SecurityGroupIngress";
pub const SECURITY_GROUP_EGRESS: &str = "AWS::EC2::SecurityGroupEgress";

/// One resource of a stack, from `ListStackResources`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StackResource {
    /// `cloudformation`, the stack's name, the resource's logical id.
    pub owner: Owner,
    pub resource_type: String,
    /// Empty where CloudFormation gives none (a resource still being created).
    pub physical_id: String,
    pub account_id: Option<String>,
    pub region: Option<String>,
}

impl StackResource {
    pub fn stack(&self) -> &str {
        self.owner.location.as_deref().unwrap_or_default()
    }

    pub fn logical_id(&self) -> &str {
        self.owner.address.as_deref().unwrap_or_default()
    }

    /// The direction of a standalone rule resource; `None` for any other type.
    pub fn rule_direction(&self) -> Option<Direction> {
        match self.resource_type.as_str() {
            SECURITY_GROUP_INGRESS => Some(Direction::Ingress),
            SECURITY_GROUP_EGRESS => Some(Direction::Egress),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResourceDriftStatus {
    InSync,
    Modified,
    Deleted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DifferenceType {
    /// A value was added to a list property.
    Add,
    /// A value was removed.
    Remove,
    NotEqual,
}

impl DifferenceType {
    pub fn as_str(self) -> &'static str {
        match self {
            DifferenceType::Add => "ADD",
            DifferenceType::Remove => "REMOVE",
            DifferenceType::NotEqual => "NOT_EQUAL",
        }
    }
}

/// One `PropertyDifference`: `/SecurityGroupEgress/0/ToPort`, `80` → `8080`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PropertyDifference {
    pub path: String,
    /// Null where CloudFormation gives no value.
    pub expected: Value,
    pub actual: Value,
    pub kind: DifferenceType,
}

/// One `StackResourceDrift` of a completed detection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceDrift {
    pub resource: StackResource,
    pub status: ResourceDriftStatus,
    /// The resource's properties as the template declares them (null if unknown).
    pub expected: Value,
    pub actual: Value,
    pub differences: Vec<PropertyDifference>,
}

/// CloudFormation's text values as JSON: `"80"` is the number 80, `"{…}"` an
/// object; anything that does not parse stays a string.
pub fn parse_value(raw: Option<&str>) -> Value {
    match raw {
        None => Value::Null,
        Some(text) => {
            serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_parsed_as_json_where_they_are_json() {
        assert_eq!(parse_value(Some("8080")), json!(8080));
        assert_eq!(parse_value(Some("tcp")), json!("tcp"));
        assert_eq!(
            parse_value(Some(r#"{"CidrIp":"0.0.0.0/0","FromPort":22}"#)),
            json!({"CidrIp": "0.0.0.0/0", "FromPort": 22})
        );
        assert_eq!(parse_value(Some("\"quoted\"")), json!("quoted"));
        assert_eq!(parse_value(None), Value::Null);
    }
}
