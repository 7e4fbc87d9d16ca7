//! CloudTrail's `LookupEvents`, per account and region: the management events that
//! name a resource or carry an event name, in a time window, newest first.
//!
//! CloudTrail allows 2 lookups a second per account and region and 50 events a page.
//! Each scope has its own `Trail`, which paces its calls under that rate; throttling
//! that still happens is retried with backoff by the SDK (`crate::aws`).

pub mod record;

use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use tokio::sync::Mutex;
use tokio::time::{Instant, sleep_until};
use tracing::warn;

use crate::aws::{ApiCalls, error_text};
use crate::model::{Timestamp, TrailEvent};

/// The most events a page holds.
const PAGE_SIZE: i32 = 50;
/// Between two calls in one scope: a little over 1/2 s, so that any one-second
/// window holds at most two calls even with a clock's jitter.
pub const PACE: Duration = Duration::from_millis(520);
/// The first wait before retrying a throttled call: twice the pace, so that a
/// retry never makes three calls in one second.
const RETRY_BACKOFF: Duration = Duration::from_millis(2 * PACE.as_millis() as u64);
/// Pages read for one lookup before giving up on older events (the newest come
/// first, and the latest matching event is the one that counts).
const MAX_PAGES: usize = 20;

/// What one lookup asks for: CloudTrail takes exactly one attribute per call.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Attribute {
    /// Events that list this resource (a group id).
    ResourceName(String),
    /// Events of this API call, for records that do not list the group.
    EventName(String),
}

impl Attribute {
    fn to_sdk(&self) -> LookupAttribute {
        let (key, value) = match self {
            Attribute::ResourceName(v) => (LookupAttributeKey::ResourceName, v),
            Attribute::EventName(v) => (LookupAttributeKey::EventName, v),
        };
        LookupAttribute::builder()
            .attribute_key(key)
            .attribute_value(value)
            .build()
            .expect("key and value are set")
    }
}

impl std::fmt::Display for Attribute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Attribute::ResourceName(v) => write!(f, "ResourceName={v}"),
            Attribute::EventName(v) => write!(f, "EventName={v}"),
        }
    }
}

/// What one lookup found.
#[derive(Debug, Clone, Default)]
pub struct Lookup {
    /// Newest first.
    pub events: Vec<TrailEvent>,
    /// False when older events were left unread (`MAX_PAGES`): a change not found
    /// among these may still have an event.
    pub complete: bool,
}

/// CloudTrail in one account and region, paced.
pub struct Trail {
    client: aws_sdk_cloudtrail::Client,
    next_call: Mutex<Instant>,
}

impl Trail {
    /// `config` carries the scope's credentials and region.
    pub fn new(config: &SdkConfig, calls: &ApiCalls) -> Trail {
        // The SDK retries a throttled call by itself: its retries must keep the
        // pace too, or they bunch up just when CloudTrail pushes back.
        let retry = config
            .retry_config()
            .cloned()
            .unwrap_or_else(RetryConfig::adaptive)
            .with_initial_backoff(RETRY_BACKOFF);
        let conf = aws_sdk_cloudtrail::config::Builder::from(config)
            .retry_config(retry)
            .interceptor(calls.interceptor("cloudtrail"))
            .build();
        Trail {
            client: aws_sdk_cloudtrail::Client::from_conf(conf),
            next_call: Mutex::new(Instant::now()),
        }
    }

    /// Waits for this scope's next slot, then holds it until `call` is answered:
    /// the next slot is a pace after the answer (a call the SDK retried may have
    /// gone out late).
    async fn paced<T>(&self, call: impl Future<Output = T>) -> T {
        let mut next = self.next_call.lock().await;
        sleep_until(*next).await;
        let answer = call.await;
        *next = Instant::now() + PACE;
        answer
    }

    /// Every event with `attribute` between `start` and `end`, newest first.
    /// Records that cannot be parsed are skipped, and logged.
    pub async fn lookup(
        &self,
        attribute: &Attribute,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<Lookup, String> {
        let mut events = Vec::new();
        let mut token: Option<String> = None;
        for page in 0.. {
            if page == MAX_PAGES {
                warn!(%attribute, pages = MAX_PAGES, "stopped reading older CloudTrail events");
                return Ok(Lookup {
                    events,
                    complete: false,
                });
            }
            let call = self
                .client
                .lookup_events()
                .lookup_attributes(attribute.to_sdk())
                .start_time(aws_smithy_types::DateTime::from_secs(start.timestamp()))
                .end_time(aws_smithy_types::DateTime::from_secs(end.timestamp() + 1))
                .max_results(PAGE_SIZE)
                .set_next_token(token.take())
                .send();
            let out = self
                .paced(call)
                .await
                .map_err(|e| format!("LookupEvents {attribute}: {}", error_text(&e)))?;
            for event in out.events() {
                let Some(text) = event.cloud_trail_event() else {
                    continue;
                };
                match record::parse(text) {
                    Ok(parsed) => events.push(parsed),
                    Err(error) => {
                        warn!(event_id = ?event.event_id(), %error, "skipped a CloudTrail record")
                    }
                }
            }
            match out.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_string()),
                _ => break,
            }
        }
        Ok(Lookup {
            events,
            complete: true,
        })
    }
}
