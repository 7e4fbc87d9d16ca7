//! Delivering the outbox: POST each due message to its channel's URL; 2xx marks it
//! delivered (it is never sent again), 429 waits as long as `Retry-After` says,
//! other 5xx and network errors back off exponentially, and any other 4xx is a
//! permanent failure (recorded, logged, counted; not retried). Messages left
//! pending survive restarts: the next `serve` or `report --notify` goes on.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tracing::{error, info, warn};

use super::{Channel, Endpoint, Outgoing};
use crate::model::format_timestamp;
use crate::store::{Queued, Store, StoreError};

/// The outbox row id: receivers can drop a message they have already seen.
pub const DELIVERY_HEADER: &str = "X-Driftd-Delivery";

const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// The longest `Retry-After` obeyed.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a claimed message is ours: longer than one attempt can take.
const LEASE: Duration = Duration::from_secs(60);

/// Where each configured notifier's messages go.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    pub by_channel: BTreeMap<Channel, Endpoint>,
}

/// How one attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Attempt {
    Delivered,
    /// Try again after this long (at least).
    Retry(Option<Duration>, String),
    Permanent(String),
}

/// Counts of one delivery round, by channel and outcome, for metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivered {
    pub outcomes: Vec<(Channel, &'static str)>,
}

pub struct Deliverer {
    client: reqwest::Client,
    endpoints: Endpoints,
}

impl Deliverer {
    pub fn new(endpoints: Endpoints) -> Deliverer {
        let client = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            // A redirect would send the body (and its signature) elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("driftd/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("an HTTP client with rustls builds");
        Deliverer { client, endpoints }
    }

    async fn post(&self, channel: Channel, message: &Queued) -> Attempt {
        let Some(endpoint) = self.endpoints.by_channel.get(&channel) else {
            return Attempt::Retry(
                Some(MAX_BACKOFF),
                format!("no [notify.{}] in the config", channel.as_str()),
            );
        };
        let mut request = self
            .client
            .post(endpoint.url.expose())
            .header("Content-Type", "application/json")
            .header(DELIVERY_HEADER, message.id.to_string())
            .body(message.payload.clone());
        let outgoing = Outgoing {
            id: message.id,
            sent_at: chrono::Utc::now().timestamp(),
            body: &message.payload,
        };
        for (name, value) in channel.headers(endpoint, &outgoing) {
            request = request.header(name, value);
        }
        let response = match request.send().await {
            Ok(response) => response,
            // `without_url`: the URL is a secret.
            Err(e) => return Attempt::Retry(None, with_causes(&e.without_url())),
        };
        let status = response.status();
        if status.is_success() {
            return Attempt::Delivered;
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body: String = response
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect();
        let error = format!("HTTP {status}: {body}");
        let transient = [
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::REQUEST_TIMEOUT,
            StatusCode::from_u16(425).expect("a valid status"),
        ];
        if transient.contains(&status) {
            Attempt::Retry(retry_after, error)
        } else if status.is_client_error() {
            Attempt::Permanent(error)
        } else {
            Attempt::Retry(retry_after, error)
        }
    }
}

/// The error and every cause beneath it: reqwest's own message ("error sending
/// request") says nothing of a refused connection, a DNS failure or a certificate
/// that is not trusted; its sources do.
fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// `Retry-After` as seconds or as an HTTP date, within [0, 1 h].
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    let wait = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
            (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
                .to_std()
                .unwrap_or_default()
        }
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

fn backoff(attempts: i64) -> Duration {
    let exponent = attempts.clamp(0, 16) as u32;
    (FIRST_BACKOFF * 2u32.pow(exponent)).min(MAX_BACKOFF)
}

/// Sends the messages due now, one claimed at a time, while `go_on()` says so
/// (checked before each message: a shutdown or a deadline stops between messages,
/// never in the middle of one).
pub async fn deliver_due(
    store: &Store,
    deliverer: &Deliverer,
    go_on: impl Fn() -> bool,
) -> Result<Delivered, StoreError> {
    let mut round = Delivered::default();
    while go_on() {
        let now = chrono::Utc::now();
        let lease_until = now + chrono::Duration::from_std(LEASE).expect("a minute fits");
        let Some(message) = store
            .claim_notification(&format_timestamp(&now), &format_timestamp(&lease_until))
            .await?
        else {
            break;
        };
        let Some(channel) = Channel::parse(&message.channel) else {
            continue;
        };
        let attempt = deliverer.post(channel, &message).await;
        let done_at = chrono::Utc::now();
        let (outcome, label) = match &attempt {
            Attempt::Delivered => {
                info!(
                    outbox_id = message.id,
                    channel = channel.as_str(),
                    "notification delivered"
                );
                (Ok(()), "delivered")
            }
            Attempt::Retry(after, error) => {
                // Retry-After when given (at least a second), else exponential.
                let wait = after
                    .map(|a| a.max(FIRST_BACKOFF))
                    .unwrap_or_else(|| backoff(message.attempts));
                let retry_at = done_at
                    + chrono::Duration::from_std(wait.min(MAX_RETRY_AFTER)).expect("an hour fits");
                warn!(
                    outbox_id = message.id,
                    channel = channel.as_str(),
                    %error,
                    retry_in_seconds = wait.as_secs_f64(),
                    "notification not delivered; will retry"
                );
                (
                    Err((Some(format_timestamp(&retry_at)), error.clone())),
                    "retry",
                )
            }
            Attempt::Permanent(error) => {
                error!(
                    outbox_id = message.id,
                    channel = channel.as_str(),
                    %error,
                    "notification refused; not retried"
                );
                (Err((None, error.clone())), "failed")
            }
        };
        store
            .record_attempt(message.id, &format_timestamp(&done_at), outcome)
            .await?;
        round.outcomes.push((channel, label));
    }
    Ok(round)
}

/// Delivers until the outbox is empty or `limit` has passed (`report --notify`);
/// what is left stays pending for the next run.
pub async fn deliver_for(
    store: &Store,
    deliverer: &Deliverer,
    limit: Duration,
) -> Result<usize, StoreError> {
    let deadline = Instant::now() + limit;
    loop {
        // No message is started after the deadline (one in flight may take up to
        // its HTTP timeout past it).
        deliver_due(store, deliverer, || Instant::now() < deadline).await?;
        let Some(next) = store.next_notification_due().await? else {
            return Ok(0);
        };
        let wait = chrono::DateTime::parse_from_rfc3339(&next)
            .ok()
            .and_then(|t| {
                (t.with_timezone(&chrono::Utc) - chrono::Utc::now())
                    .to_std()
                    .ok()
            })
            .unwrap_or_default();
        if Instant::now() + wait > deadline {
            let pending = store.pending_notifications().await?;
            error!(
                pending,
                "notifications still undelivered after {}s; left in the outbox for the next run",
                limit.as_secs()
            );
            return Ok(pending as usize);
        }
        // Said, so that a report that seems to hang says what it waits for.
        let pending = store.pending_notifications().await?;
        crate::progress::waiting(format_args!(
            "waiting {:.0}s to retry {pending} undelivered notification(s); giving up in {:.0}s",
            wait.as_secs_f64().ceil(),
            deadline
                .saturating_duration_since(Instant::now())
                .as_secs_f64()
        ));
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_as_a_date_and_never_longer_than_an_hour() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("999999999"), Some(MAX_RETRY_AFTER));
        let soon = chrono::Utc::now() + chrono::Duration::seconds(90);
        let date = soon.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        let wait = parse_retry_after(&date).unwrap();
        assert!(
            wait > Duration::from_secs(80) && wait <= Duration::from_secs(90),
            "{wait:?}"
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        let waits: Vec<u64> = (0..4).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8]);
        assert_eq!(backoff(40), MAX_BACKOFF);
    }
}
