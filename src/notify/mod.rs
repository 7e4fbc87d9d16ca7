//! Telling people: which findings alert whom (`compose`, which the store runs
//! inside the scan's transaction so that nothing is lost), and delivering what waits in the
//! outbox (`deliver`), with retries.
//!
//! Quiet when nothing is new: only new, changed and recurred findings alert (and
//! resolutions, where a notifier asks for them), at or above the notifier's
//! `min_severity`; acknowledged findings never do.

pub mod deliver;
pub mod slack;

use serde_json::json;

use crate::model::{Event, Finding, Severity};
use crate::store::OutboxMessage;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Slack,
    Webhook,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Slack => "slack",
            Channel::Webhook => "webhook",
        }
    }

    pub fn parse(raw: &str) -> Option<Channel> {
        match raw {
            "slack" => Some(Channel::Slack),
            "webhook" => Some(Channel::Webhook),
            _ => None,
        }
    }
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Routing {
    pub slack: Option<Filter>,
    pub webhook: Option<Filter>,
}

/// The messages a scan's events call for.
pub fn compose(
    routing: &Routing,
    scan_id: &str,
    events: &[(&Finding, Event)],
) -> Vec<OutboxMessage> {
    let mut out = Vec::new();
    if let Some(filter) = routing.slack {
        let notices: Vec<slack::Notice> = events
            .iter()
            .filter(|(f, e)| filter.wants(f, *e))
            .map(|(finding, event)| slack::Notice {
                finding,
                event: *event,
            })
            .collect();
        if !notices.is_empty() {
            out.extend(
                slack::messages(scan_id, &notices)
                    .into_iter()
                    .map(|m| OutboxMessage {
                        channel: Channel::Slack.as_str(),
                        payload: m.to_string(),
                    }),
            );
        }
    }
    if let Some(filter) = routing.webhook {
        let notices: Vec<_> = events
            .iter()
            .filter(|(f, e)| filter.wants(f, *e))
            .map(|(finding, event)| json!({"event": event.as_str(), "finding": finding}))
            .collect();
        if !notices.is_empty() {
            out.push(OutboxMessage {
                channel: Channel::Webhook.as_str(),
                payload: json!({
                    "schema": "driftd.notification/v1",
                    // Stable across redeliveries, and signed: a receiver that has
                    // seen it can drop a repeat.
                    "id": format!("{scan_id}/webhook"),
                    "scan_id": scan_id,
                    "notices": notices,
                })
                .to_string(),
            });
        }
    }
    out
}
