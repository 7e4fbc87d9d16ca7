//! The generic webhook: one JSON document per scan (`driftd.notification/v1`,
//! schema/notification.schema.json) with every notice, signed as Standard Webhooks
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature`) when `[notify.webhook]`
//! gives a secret, and with the older `X-Driftd-Signature` beside it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;

use super::{Endpoint, Given, Keys, Notice, Notifier, Outgoing};
use crate::model::Severity;
use crate::secret::Secret;

/// The header carrying the hex HMAC-SHA256 of the body (CONFIG.md).
pub const SIGNATURE_HEADER: &str = "X-Driftd-Signature";

pub struct Webhook;

/// `[notify.webhook]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    url: Option<String>,
    url_file: Option<String>,
    secret: Option<String>,
    secret_file: Option<String>,
    min_severity: Option<String>,
    resolutions: Option<bool>,
}

impl Notifier for Webhook {
    type Section = Section;
    const SECRET_KEYS: &'static [&'static str] = &["url", "secret"];
    const DEFAULT_MIN_SEVERITY: Severity = Severity::Low;

    fn keys(section: Section) -> Keys {
        Keys {
            url: Given {
                key: "url",
                value: section.url,
                file: section.url_file,
            },
            secret: Some(Given {
                key: "secret",
                value: section.secret,
                file: section.secret_file,
            }),
            min_severity: section.min_severity,
            resolutions: section.resolutions,
        }
    }

    fn messages(scan_id: &str, notices: &[Notice]) -> Vec<String> {
        let notices: Vec<_> = notices
            .iter()
            .map(|n| json!({"event": n.event.as_str(), "finding": n.finding}))
            .collect();
        vec![
            json!({
                "schema": "driftd.notification/v1",
                // Stable across redeliveries, and signed: a receiver that has
                // seen it can drop a repeat.
                "id": format!("{scan_id}/webhook"),
                "scan_id": scan_id,
                "notices": notices,
            })
            .to_string(),
        ]
    }

    fn headers(endpoint: &Endpoint, message: &Outgoing<'_>) -> Vec<(&'static str, String)> {
        let Some(secret) = &endpoint.secret else {
            return Vec::new();
        };
        let id = format!("driftd-{}", message.id);
        let signature = standard_signature(secret, &id, message.sent_at, message.body);
        vec![
            ("webhook-id", id),
            ("webhook-timestamp", message.sent_at.to_string()),
            ("webhook-signature", signature),
            (SIGNATURE_HEADER, sign(secret, message.body)),
        ]
    }
}

/// The Standard Webhooks key: a `whsec_` secret is base64 after its prefix (as
/// the specification's tools generate them); any other secret is its own bytes.
fn standard_key(secret: &Secret) -> Vec<u8> {
    let secret = secret.expose();
    secret
        .strip_prefix("whsec_")
        .and_then(|encoded| BASE64.decode(encoded).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`: the receiver
/// checks the timestamp is recent, so a captured delivery cannot be replayed.
pub fn standard_signature(secret: &Secret, id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&standard_key(secret)).expect("any key length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
}

/// Hex HMAC-SHA256 of `body` with `secret` (`X-Driftd-Signature`, kept for the
/// receivers written before Standard Webhooks).
pub fn sign(secret: &Secret, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).expect("any key length");
    mac.update(body.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hex_hmac_sha256() {
        // RFC 4231 test case 2.
        let secret = Secret::new("Jefe".into());
        assert_eq!(
            sign(&secret, "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn standard_signatures_match_the_specifications_example() {
        // The example of the Standard Webhooks specification (and its libraries' tests).
        let secret = Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into());
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            standard_signature(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }
}
