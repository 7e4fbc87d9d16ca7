//! The generic webhook: one JSON document per scan (`driftd.notification/v1`) with
//! every notice, signed with HMAC-SHA256 of the body when `[notify.webhook]` gives a
//! secret.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;

use super::{Endpoint, Given, Keys, Notice, Notifier};
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

    fn headers(endpoint: &Endpoint, body: &str) -> Vec<(&'static str, String)> {
        match &endpoint.secret {
            Some(secret) => vec![(SIGNATURE_HEADER, sign(secret, body))],
            None => Vec::new(),
        }
    }
}

/// Hex HMAC-SHA256 of `body` with `secret`.
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
}
