//! Telling people: which findings alert whom (`compose`, which the store runs
//! inside the scan's transaction so that nothing is lost), and delivering what waits in the
//! outbox (`deliver`), with retries.
//!
//! Quiet when nothing is new: only new, changed and recurred findings alert (and
//! resolutions, where a notifier asks for them), at or above the notifier's
//! `min_severity`; acknowledged findings never do.
//!
//! Each notifier is one file here implementing [`Notifier`] (its `[notify.NAME]` keys,
//! its messages, its request headers), registered by one line in `notifiers!` below.

pub mod deliver;
pub mod slack;
pub mod webhook;

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::model::{Event, Finding, Severity};
use crate::secret::Secret;
use crate::store::OutboxMessage;

/// One attempt at sending an outbox message.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// The outbox row: the same for every attempt at this message.
    pub id: i64,
    /// When this attempt is made (Unix seconds).
    pub sent_at: i64,
    pub body: &'a str,
}

/// One notifier: what its config section holds, what it sends, and how.
pub trait Notifier {
    /// `[notify.NAME]` as written (`#[serde(deny_unknown_fields)]`).
    type Section: DeserializeOwned + std::fmt::Debug;
    /// Keys of the section whose values are secrets, never shown in an error.
    const SECRET_KEYS: &'static [&'static str];
    /// `min_severity` when the section does not say.
    const DEFAULT_MIN_SEVERITY: Severity;
    /// The section as the keys every notifier has, for the config to validate.
    fn keys(section: Self::Section) -> Keys;
    /// The outbox bodies for one scan's notices (never empty).
    fn messages(scan_id: &str, notices: &[Notice]) -> Vec<String>;
    /// Headers sent beside the body (a signature), after `Content-Type` and the
    /// delivery id. Made at each attempt: a signature may carry the time it was sent.
    fn headers(_endpoint: &Endpoint, _message: &Outgoing<'_>) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}

/// Declares the notifiers: the `Channel` enum (whose names are the outbox's channel
/// column and the `[notify.NAME]` sections), `[notify]`'s shape, and the dispatch.
macro_rules! notifiers {
    ($($variant:ident = $name:literal => $notifier:ty,)*) => {
        /// A notifier, by the name its outbox rows and config section carry.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Channel {
            $($variant,)*
        }

        impl Channel {
            pub const ALL: [Channel; [$($name),*].len()] = [$(Channel::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Channel::$variant => $name,)*
                }
            }

            pub fn secret_keys(self) -> &'static [&'static str] {
                match self {
                    $(Channel::$variant => <$notifier as Notifier>::SECRET_KEYS,)*
                }
            }

            pub fn default_min_severity(self) -> Severity {
                match self {
                    $(Channel::$variant => <$notifier as Notifier>::DEFAULT_MIN_SEVERITY,)*
                }
            }

            fn messages(self, scan_id: &str, notices: &[Notice]) -> Vec<String> {
                match self {
                    $(Channel::$variant => <$notifier as Notifier>::messages(scan_id, notices),)*
                }
            }

            fn headers(self, endpoint: &Endpoint, message: &Outgoing<'_>) -> Vec<(&'static str, String)> {
                match self {
                    $(Channel::$variant => <$notifier as Notifier>::headers(endpoint, message),)*
                }
            }
        }

        /// `[notify]`: one optional section per notifier; any other is refused.
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(non_snake_case)]
        pub struct Sections {
            $(#[serde(rename = $name)] $variant: Option<<$notifier as Notifier>::Section>,)*
        }

        impl Sections {
            /// The sections given, in the order declared, as their keys.
            pub fn into_keys(self) -> Vec<(Channel, Keys)> {
                let mut out = Vec::new();
                $(if let Some(section) = self.$variant {
                    out.push((Channel::$variant, <$notifier as Notifier>::keys(section)));
                })*
                out
            }
        }
    };
}

// A new notifier: a file in this folder implementing `Notifier`, one line here, its
// keys in config/driftd.example.toml. Names are stored in the outbox: never rename.
notifiers! {
    Slack = "slack" => slack::Slack,
    Webhook = "webhook" => webhook::Webhook,
}

impl Channel {
    pub fn parse(raw: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == raw)
    }
}

/// The keys every notifier has, as written; the config validates them.
#[derive(Debug)]
pub struct Keys {
    /// Where to POST (a secret).
    pub url: Given,
    /// The key the notifier signs with, for a notifier that signs (optional).
    pub secret: Option<Given>,
    pub min_severity: Option<String>,
    pub resolutions: Option<bool>,
}

/// A secret key given inline (`key`, usually `${ENV}`) or as a file (`key_file`).
#[derive(Debug)]
pub struct Given {
    pub key: &'static str,
    pub value: Option<String>,
    pub file: Option<String>,
}

/// Where one notifier's messages go. Secrets: never logged, never in the outbox.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub url: Secret,
    /// The key its messages are signed with, if it signs.
    pub secret: Option<Secret>,
}

/// One finding to tell about, and why now.
#[derive(Debug, Clone)]
pub struct Notice<'a> {
    pub finding: &'a Finding,
    pub event: Event,
    /// The blast radius: what carries the finding's group (`ELB app/web`), or the
    /// carrier the finding is about; empty where unknown.
    pub affects: Vec<String>,
}

/// What one notifier wants to hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filter {
    pub min_severity: Severity,
    pub resolutions: bool,
}

impl Filter {
    fn wants(&self, finding: &Finding, event: Event) -> bool {
        finding.acknowledged.is_none()
            && finding.severity >= self.min_severity
            && (event != Event::Resolved || self.resolutions)
    }
}

/// The configured notifiers, without their URLs (only delivery needs those).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routing {
    pub filters: BTreeMap<Channel, Filter>,
}

/// The messages a scan's events call for, notifier by notifier in declared order.
/// `carriers` is what carries each group (`Report::carriers`).
pub fn compose(
    routing: &Routing,
    scan_id: &str,
    events: &[(&Finding, Event)],
    carriers: &BTreeMap<String, Vec<String>>,
) -> Vec<OutboxMessage> {
    let mut out = Vec::new();
    for (&channel, filter) in &routing.filters {
        let notices: Vec<Notice> = events
            .iter()
            .filter(|(f, e)| filter.wants(f, *e))
            .map(|(finding, event)| Notice {
                finding,
                event: *event,
                affects: affects(finding, carriers),
            })
            .collect();
        if notices.is_empty() {
            continue;
        }
        out.extend(
            channel
                .messages(scan_id, &notices)
                .into_iter()
                .map(|payload| OutboxMessage {
                    channel: channel.as_str(),
                    payload,
                }),
        );
    }
    out
}

/// What a finding's change reaches: the carriers of its group, or the carrier it
/// is about.
fn affects(finding: &Finding, carriers: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let r = &finding.resource;
    if let Some(group) = &r.group_id {
        return carriers.get(group).cloned().unwrap_or_default();
    }
    r.id.as_deref()
        .and_then(|id| crate::model::CarrierRef::from_resource(&r.kind, id))
        .map(|carrier| vec![carrier.label()])
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names_are_the_outbox_rows_and_sections_and_never_change() {
        let names: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names, ["slack", "webhook"]);
        for channel in Channel::ALL {
            assert_eq!(Channel::parse(channel.as_str()), Some(channel));
        }
        assert_eq!(Channel::parse("teams"), None);
    }

    #[test]
    fn only_the_webhook_signs_and_only_with_a_secret() {
        let endpoint = |secret: Option<&str>| Endpoint {
            url: Secret::new("https://x".into()),
            secret: secret.map(|s| Secret::new(s.into())),
        };
        let message = Outgoing {
            id: 7,
            sent_at: 1_764_806_400,
            body: "{}",
        };
        assert!(
            Channel::Slack
                .headers(&endpoint(Some("k")), &message)
                .is_empty()
        );
        assert!(
            Channel::Webhook
                .headers(&endpoint(None), &message)
                .is_empty()
        );
        let names: Vec<&str> = Channel::Webhook
            .headers(&endpoint(Some("k")), &message)
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(
            names,
            [
                "webhook-id",
                "webhook-timestamp",
                "webhook-signature",
                webhook::SIGNATURE_HEADER
            ]
        );
    }

    #[test]
    fn a_finding_affects_what_carries_its_group_or_the_carrier_it_is_about() {
        use crate::model::{FindingCode, Subject};
        let about = |kind: &str, id: &str| {
            Finding::about(
                Subject {
                    code: FindingCode::AttachmentModified,
                    account_id: None,
                    region: None,
                    kind: kind.into(),
                    id: id.into(),
                    key: "k".into(),
                },
                "m".into(),
            )
        };
        let mut rule = about("security_group_rule", "sgr-1");
        rule.resource.group_id = Some("sg-1".into());
        let carriers = BTreeMap::from([(
            "sg-1".to_string(),
            vec!["ELB app/web".to_string(), "ecs task eni-1".to_string()],
        )]);
        assert_eq!(affects(&rule, &carriers), ["ELB app/web", "ecs task eni-1"]);
        rule.resource.group_id = Some("sg-2".into());
        assert_eq!(
            affects(&rule, &carriers),
            Vec::<String>::new(),
            "unknown: nothing said"
        );
        let lb = about("load_balancer", "app/web/50dc6c495c0c9188");
        assert_eq!(affects(&lb, &carriers), ["ELB app/web"]);
        assert_eq!(
            affects(&about("flow", "alb-to-front"), &carriers),
            Vec::<String>::new()
        );
    }
}
