//! `[notify.NAME]`: every notifier's URL, signing key, `min_severity` and
//! `resolutions`, validated the same way; which keys a notifier has is its own
//! file's business (`notify::Notifier`).

use std::path::Path;

use super::values::{secret, severity};
use super::{Config, Notifier, Problem, Problems};
use crate::notify::{Channel, Given, Keys, Sections};
use crate::secret::Secret;

pub fn notifiers(
    raw: Option<Sections>,
    base_dir: Option<&Path>,
    config: &mut Config,
    problems: &mut Problems,
) {
    let Some(sections) = raw else { return };
    for (channel, keys) in sections.into_keys() {
        if let Some(notifier) = notifier(channel, keys, base_dir, problems) {
            config.notifiers.insert(channel, notifier);
        }
    }
    config.slack = config.notifiers.get(&Channel::Slack).cloned();
    config.webhook = config.notifiers.get(&Channel::Webhook).cloned();
    config.webhook_secret = config.webhook.as_ref().and_then(|w| w.secret.clone());
}

fn notifier(
    channel: Channel,
    keys: Keys,
    base_dir: Option<&Path>,
    problems: &mut Problems,
) -> Option<Notifier> {
    let section = format!("notify.{}", channel.as_str());
    let url = problems.keep(url(keys.url, &section, base_dir));
    let secret = keys.secret.and_then(|given| {
        let path = format!("{section}.{}", given.key);
        problems
            .keep(secret(given.value, given.file, &path, base_dir))
            .flatten()
    });
    let min_severity = problems.keep(severity(
        keys.min_severity.as_deref(),
        &format!("{section}.min_severity"),
        channel.default_min_severity(),
    ));
    Some(Notifier {
        url: url?,
        secret,
        min_severity: min_severity?,
        resolutions: keys.resolutions.unwrap_or(false),
    })
}

/// The URL to POST to, required; the value itself is never shown in an error.
fn url(given: Given, section: &str, base_dir: Option<&Path>) -> Result<Secret, Problem> {
    let path = format!("{section}.{}", given.key);
    let from_file = given.file.is_some();
    let Some(url) = secret(given.value, given.file, &path, base_dir)? else {
        return Err(Problem::at(
            path,
            format!("{key} (or {key}_file) is required", key = given.key),
        ));
    };
    if url.expose().starts_with("https://") || url.expose().starts_with("http://") {
        Ok(url)
    } else {
        let path = if from_file {
            format!("{path}_file")
        } else {
            path
        };
        Err(Problem::at(
            path,
            "expected an http(s):// URL (the value is not shown: it is a secret)",
        ))
    }
}
