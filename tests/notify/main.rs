//! Notifications (`src/notify/`): delivery end to end to local HTTP receivers
//! (`deliver`), and the Slack Block Kit messages (`slack`, `insta` snapshots).

#[path = "../support/mod.rs"]
mod support;

mod deliver;
mod slack;
mod tls;
