//! Who changed it: the CloudTrail management event behind a finding
//! (`changed_by` in contracts/FINDINGS.md), and the events themselves once read.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::rule::{Direction, Peer, Protocol, Rule};
use super::time::Timestamp;

/// What attribution says about a finding. On the wire: the event's object,
/// `{"pending": true}`, or `null`; a finding nobody looked up has no `changed_by`.
#[derive(Debug, Clone, PartialEq)]
pub enum Attribution {
    Found(ChangedBy),
    /// CloudTrail may still deliver the event (it arrives up to 15 minutes late).
    Pending,
    /// Looked up, and no event made this change.
    NotFound,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedBy {
    /// The IAM ARN; for an assumed role (SSO included) it ends with the session
    /// name, usually the person.
    pub principal: String,
    pub event: String,
    pub time: String,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub via: Option<Via>,
    pub event_id: Option<String>,
}

/// How the change was made, from the event's `userAgent` and `invokedBy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Via {
    Console,
    Terraform,
    Cloudformation,
    Cli,
    Sdk,
    AwsService,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Console => "console",
            Via::Terraform => "terraform",
            Via::Cloudformation => "cloudformation",
            Via::Cli => "cli",
            Via::Sdk => "sdk",
            Via::AwsService => "aws-service",
        }
    }

    /// Classifies a caller. Order matters: CloudFormation and Terraform call through
    /// SDKs whose names also appear in their user agents, and the CLI is botocore.
    pub fn classify(
        user_agent: Option<&str>,
        invoked_by: Option<&str>,
        from_console: bool,
        identity_type: Option<&str>,
    ) -> Option<Via> {
        let agent = user_agent.unwrap_or("").to_ascii_lowercase();
        let invoked_by = invoked_by.unwrap_or("").to_ascii_lowercase();
        if invoked_by == "cloudformation.amazonaws.com" || agent == "cloudformation.amazonaws.com" {
            return Some(Via::Cloudformation);
        }
        if agent.contains("terraform") {
            return Some(Via::Terraform);
        }
        if agent.starts_with("aws-cli/") {
            return Some(Via::Cli);
        }
        // Console calls say "AWS Internal" (or the browser) with the console flag,
        // older ones `console.ec2.amazonaws.com`.
        if from_console
            || agent.starts_with("console.")
            || agent.starts_with("signin.amazonaws.com")
        {
            return Some(Via::Console);
        }
        if identity_type == Some("AWSService")
            || invoked_by.ends_with(".amazonaws.com")
            || agent.ends_with(".amazonaws.com")
            || agent == "aws internal"
        {
            return Some(Via::AwsService);
        }
        let sdks = [
            "boto3",
            "botocore",
            "aws-sdk-",
            "aws-sdk/",
            "aws-cdk",
            "powershell",
        ];
        if sdks.iter().any(|s| agent.contains(s)) {
            return Some(Via::Sdk);
        }
        None
    }
}

impl ChangedBy {
    /// Who, as a person reads it: an assumed role's session name (usually the
    /// person's email under SSO), an IAM user's name, or the whole ARN.
    pub fn who(&self) -> &str {
        let arn = self.principal.as_str();
        if arn.contains(":assumed-role/") || arn.contains(":user/") {
            arn.rsplit('/')
                .next()
                .filter(|s| !s.is_empty())
                .unwrap_or(arn)
        } else if arn.ends_with(":root") {
            "the account's root user"
        } else {
            arn
        }
    }

    /// The role behind an assumed-role session (`arn:aws:sts::1:assumed-role/ci/s` →
    /// `arn:aws:iam::1:role/ci`), so that `[[acknowledge]] changed_by` can name the
    /// role a pipeline assumes.
    pub fn role_arn(&self) -> Option<String> {
        let (head, rest) = self.principal.split_once(":assumed-role/")?;
        let (role, _session) = rest.rsplit_once('/')?;
        let head = head.replacen(":sts:", ":iam:", 1);
        Some(format!("{head}:role/{role}"))
    }

    /// `alice@example.com via console from 198.51.100.7 at 2026-12-05 14:02 UTC
    /// (AuthorizeSecurityGroupIngress)`.
    pub fn sentence(&self) -> String {
        let mut text = self.who().to_string();
        if let Some(via) = self.via {
            text.push_str(&format!(" via {}", via.as_str()));
        }
        // Services and the console often call from "AWS Internal", not an address.
        if let Some(ip) = self
            .source_ip
            .as_deref()
            .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok())
        {
            text.push_str(&format!(" from {ip}"));
        }
        let when = chrono::DateTime::parse_from_rfc3339(&self.time)
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|_| self.time.clone());
        text.push_str(&format!(" at {when} ({})", self.event));
        text
    }
}

impl Attribution {
    /// The line the table, markdown, Slack and `history` show under a finding.
    pub fn sentence(&self) -> String {
        match self {
            Attribution::Found(by) => format!("changed by {}", by.sentence()),
            Attribution::Pending => {
                "changed by: pending (CloudTrail has not delivered the event yet)".to_string()
            }
            Attribution::NotFound => {
                "changed by: unknown (no CloudTrail event made this change)".to_string()
            }
        }
    }

    pub fn changed_by(&self) -> Option<&ChangedBy> {
        match self {
            Attribution::Found(by) => Some(by),
            _ => None,
        }
    }
}

impl Serialize for Attribution {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Attribution::Found(by) => by.serialize(s),
            Attribution::Pending => serde_json::json!({ "pending": true }).serialize(s),
            Attribution::NotFound => s.serialize_none(),
        }
    }
}

impl<'de> Deserialize<'de> for Attribution {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Attribution, D::Error> {
        let value = Value::deserialize(d)?;
        if value.is_null() {
            return Ok(Attribution::NotFound);
        }
        if value.get("pending").and_then(Value::as_bool) == Some(true) {
            return Ok(Attribution::Pending);
        }
        serde_json::from_value(value)
            .map(Attribution::Found)
            .map_err(serde::de::Error::custom)
    }
}

/// `changed_by` as a finding holds it: absent (never looked up) stays absent, and
/// `null` (looked up, nothing found) is kept as such rather than read as absent.
pub fn deserialize_attribution<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Attribution>, D::Error> {
    Attribution::deserialize(d).map(Some)
}

/// A CloudTrail management event, as read: who, when, and what it did.
#[derive(Debug, Clone, PartialEq)]
pub struct TrailEvent {
    pub event_id: String,
    pub event_name: String,
    pub time: Timestamp,
    /// Set when the call failed: such an event changed nothing.
    pub error_code: Option<String>,
    pub principal: String,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub via: Option<Via>,
    /// What the call did, as far as driftd compares it.
    pub effects: Vec<Effect>,
}

impl TrailEvent {
    pub fn changed_by(&self) -> ChangedBy {
        ChangedBy {
            principal: self.principal.clone(),
            event: self.event_name.clone(),
            time: super::time::format_timestamp(&self.time),
            source_ip: self.source_ip.clone(),
            user_agent: self.user_agent.clone(),
            via: self.via,
            event_id: Some(self.event_id.clone()),
        }
    }
}

/// One thing a write call did to a group or to what carries it, in the
/// canonical model's terms.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// `AuthorizeSecurityGroup*`: this rule now exists.
    Authorized(Rule),
    /// `RevokeSecurityGroup*` by rule: this rule no longer exists.
    Revoked(Rule),
    /// `RevokeSecurityGroup*` by rule id.
    RevokedId {
        group_id: String,
        direction: Direction,
        rule_id: String,
    },
    /// `ModifySecurityGroupRules`: the rule with this id now reads as the patch
    /// says (the call names neither its direction nor the fields it left alone).
    Modified(RulePatch),
    /// `UpdateSecurityGroupRuleDescriptions*`: this rule now has this description.
    Described(Rule),
    /// `CreateTags` / `DeleteTags` on these resources.
    Tagged {
        resources: Vec<String>,
    },
    Created {
        group_id: String,
    },
    Deleted {
        group_id: String,
    },
    /// The groups of a carrier were set: `ModifyNetworkInterfaceAttribute`
    /// (`Interface`), ELBv2 `SetSecurityGroups` (`LoadBalancer`), ECS
    /// `UpdateService` (`EcsService`), `ModifyInstanceAttribute` (`Instance`).
    GroupsSet {
        carrier: super::interface::CarrierRef,
        groups: Vec<String>,
    },
}

/// A rule as `ModifySecurityGroupRules` leaves it: the fields the call sent.
#[derive(Debug, Clone, PartialEq)]
pub struct RulePatch {
    pub group_id: String,
    pub rule_id: String,
    pub protocol: Option<Protocol>,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    pub peer: Option<Peer>,
    pub description: Option<String>,
}

impl RulePatch {
    /// Whether `rule` reads as this call left it: every field it sent agrees, and
    /// the rule id where both are known.
    pub fn produces(&self, rule: &Rule) -> bool {
        let agrees = |sent: bool, same: bool| !sent || same;
        rule.group_id.as_str() == self.group_id
            && rule.rule_id.as_ref().is_none_or(|id| *id == self.rule_id)
            && agrees(
                self.protocol.is_some(),
                self.protocol == Some(rule.protocol),
            )
            && (!self.protocol.is_some_and(Protocol::has_ports)
                || (self.from_port == rule.from_port && self.to_port == rule.to_port))
            && agrees(self.peer.is_some(), self.peer.as_ref() == Some(&rule.peer))
            && agrees(
                self.description.is_some(),
                self.description == rule.description,
            )
    }
}
