//! The config as written: every section with unknown keys refused (the first phase;
//! the sections' own files validate these into `Config`). A notifier's section is
//! declared by the notifier (`notify::Sections`).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::notify::Sections;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub scan: Option<RawScan>,
    pub aws: Option<RawAws>,
    #[serde(default)]
    pub account: Vec<RawAccount>,
    #[serde(default)]
    pub terraform: Vec<RawTerraform>,
    #[serde(default)]
    pub cloudformation: Vec<RawCloudFormation>,
    pub store: Option<RawStore>,
    pub server: Option<RawServer>,
    #[serde(default)]
    pub schedule: Vec<RawSchedule>,
    pub notify: Option<Sections>,
    pub cloudtrail: Option<RawCloudTrail>,
    #[serde(default)]
    pub flow: Vec<RawFlow>,
    #[serde(default)]
    pub acknowledge: Vec<RawAcknowledge>,
    #[serde(default)]
    pub severity: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScan {
    pub regions: Option<Vec<String>>,
    pub include_default_groups: Option<bool>,
    pub timeout: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAws {
    pub connect_timeout: Option<String>,
    pub read_timeout: Option<String>,
    pub call_timeout: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccount {
    pub id: String,
    pub role_arn: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTerraform {
    pub state: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCloudFormation {
    pub stacks: Vec<String>,
    pub regions: Option<Vec<String>>,
    pub detect_drift: Option<bool>,
    pub reuse_drift_younger_than: Option<String>,
    pub drift_timeout: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    pub url: Option<String>,
    pub retain_days: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub listen: Option<String>,
    pub ready_max_age: Option<String>,
    pub shutdown_grace: Option<String>,
    pub header_timeout: Option<String>,
    pub max_connections: Option<usize>,
    pub scan_on_start: Option<bool>,
    pub scan_lease: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSchedule {
    pub cron: String,
    pub regions: Option<Vec<String>>,
    pub states: Option<Vec<String>>,
    pub jitter: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFlow {
    pub name: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub protocol: Option<String>,
    pub port: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAcknowledge {
    pub code: Option<String>,
    pub group_id: Option<String>,
    pub address: Option<String>,
    pub field: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    pub changed_by: Option<String>,
    pub reason: Option<String>,
    pub expires: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCloudTrail {
    pub enabled: Option<bool>,
}
