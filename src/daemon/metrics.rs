//! `/metrics` (CLI.md names the series): the classic Prometheus text format
//! (0.0.4), which `promtool check metrics` and every scraper read, or OpenMetrics
//! when the scraper asks for it.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::{prometheus_text, text};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use crate::model::{FindingStatus, Severity};
use crate::report::Report;

/// The label set of a series that has none (no braces in the text).
type NoLabels = [(&'static str, &'static str); 0];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FindingLabels {
    severity: String,
    status: String,
    /// "true" or "false": alerts exclude acknowledged (intended) drift with it.
    acknowledged: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    channel: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: String,
}

/// How a scan ended, for `driftd_scans_total{outcome}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Complete, nothing unacknowledged.
    Clean,
    /// Complete, with drift.
    Drift,
    /// Some source could not be read.
    Partial,
    /// The scan could not be stored.
    Failed,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Clean => "clean",
            Outcome::Drift => "drift",
            Outcome::Partial => "partial",
            Outcome::Failed => "failed",
        }
    }
}

pub struct Metrics {
    registry: Registry,
    scans: Family<OutcomeLabels, Counter>,
    duration: Histogram,
    findings: Family<FindingLabels, Gauge>,
    api_calls: Family<OperationLabels, Counter>,
    api_errors: Family<OperationLabels, Counter>,
    /// No series until a complete scan exists: a 0 would read as "1970" to an
    /// alert on the scan's age, and absent() alerts on a missing one.
    last_complete_scan: Family<NoLabels, Gauge<f64, AtomicU64>>,
    notifications_pending: Gauge,
    deliveries: Family<DeliveryLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let scans = Family::<OutcomeLabels, Counter>::default();
        // 0.5 s to about 17 min
        let duration = Histogram::new(exponential_buckets(0.5, 2.0, 12));
        let findings = Family::<FindingLabels, Gauge>::default();
        let api_calls = Family::<OperationLabels, Counter>::default();
        let api_errors = Family::<OperationLabels, Counter>::default();
        let last_complete_scan = Family::<NoLabels, Gauge<f64, AtomicU64>>::default();
        let notifications_pending = Gauge::default();
        let deliveries = Family::<DeliveryLabels, Counter>::default();

        let mut registry = Registry::with_prefix("driftd");
        registry.register(
            "build",
            "The running driftd's version",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        registry.register("scans", "Scans by outcome", scans.clone());
        registry.register(
            "scan_duration_seconds",
            "Duration of a scan, from the first read to the stored result",
            duration.clone(),
        );
        registry.register(
            "findings",
            "Findings of the latest scan by severity, status and whether they are acknowledged",
            findings.clone(),
        );
        registry.register(
            "aws_api_calls",
            "AWS API call attempts by operation (retries included)",
            api_calls.clone(),
        );
        registry.register(
            "aws_api_errors",
            "AWS API call attempts that failed, by operation",
            api_errors.clone(),
        );
        registry.register(
            "last_scan_timestamp_seconds",
            "When the latest complete scan finished (Unix time)",
            last_complete_scan.clone(),
        );
        registry.register(
            "notifications_pending",
            "Notifications waiting for delivery",
            notifications_pending.clone(),
        );
        registry.register(
            "notifications",
            "Notification delivery attempts by channel and outcome (delivered, retry, failed)",
            deliveries.clone(),
        );
        Metrics {
            registry,
            deliveries,
            scans,
            duration,
            findings,
            api_calls,
            api_errors,
            last_complete_scan,
            notifications_pending,
        }
    }
}

impl Metrics {
    /// Counts one finished scan and shows its findings.
    pub fn record_scan(
        &self,
        outcome: Outcome,
        seconds: f64,
        report: &Report,
        api_errors: &BTreeMap<String, u64>,
    ) {
        self.count_scan(outcome, seconds, report, api_errors);
        self.show_findings(report);
    }

    /// Counts one finished scan (of a run, or of one scope of it).
    pub fn count_scan(
        &self,
        outcome: Outcome,
        seconds: f64,
        report: &Report,
        api_errors: &BTreeMap<String, u64>,
    ) {
        self.scans
            .get_or_create(&OutcomeLabels {
                outcome: outcome.label(),
            })
            .inc();
        self.duration.observe(seconds);
        for (operation, calls) in &report.scan.api_calls {
            self.api_calls
                .get_or_create(&OperationLabels {
                    operation: operation.clone(),
                })
                .inc_by(*calls);
        }
        for (operation, errors) in api_errors {
            self.api_errors
                .get_or_create(&OperationLabels {
                    operation: operation.clone(),
                })
                .inc_by(*errors);
        }
    }

    /// Sets the findings gauges (and the last complete scan) from `report`: a
    /// scan's, or the merged latest results of every scope.
    pub fn show_findings(&self, report: &Report) {
        // Every severity × status × acknowledged is set, zeros included: a scrape
        // never sees a series vanish (which would resolve alerts by absence).
        let statuses = [
            FindingStatus::New,
            FindingStatus::Ongoing,
            FindingStatus::Resolved,
        ];
        for severity in Severity::ALL {
            for status in statuses {
                for acknowledged in [false, true] {
                    let count = report
                        .findings
                        .iter()
                        .filter(|f| f.severity == severity && f.status == status)
                        .filter(|f| f.acknowledged.is_some() == acknowledged)
                        .count();
                    let labels = FindingLabels {
                        severity: severity.as_str().to_string(),
                        status: status.as_str().to_string(),
                        acknowledged: if acknowledged { "true" } else { "false" },
                    };
                    self.findings.get_or_create(&labels).set(count as i64);
                }
            }
        }
        if report.scan.complete {
            self.set_last_complete_scan(&report.scan.finished_at);
        }
    }

    /// When the latest complete scan finished (RFC 3339): from this process's
    /// scans, or from the database at start.
    pub fn set_last_complete_scan(&self, finished_at: &str) {
        if let Ok(at) = chrono::DateTime::parse_from_rfc3339(finished_at) {
            self.last_complete_scan
                .get_or_create(&[])
                .set(at.timestamp_millis() as f64 / 1000.0);
        }
    }

    /// Counts a scan that ended without a report (it passed its deadline).
    pub fn record_failed_scan(&self, seconds: f64) {
        self.scans
            .get_or_create(&OutcomeLabels {
                outcome: Outcome::Failed.label(),
            })
            .inc();
        self.duration.observe(seconds);
    }

    pub fn record_deliveries(&self, round: &crate::notify::deliver::Delivered) {
        for (channel, outcome) in &round.outcomes {
            self.deliveries
                .get_or_create(&DeliveryLabels {
                    channel: channel.as_str(),
                    outcome,
                })
                .inc();
        }
    }

    pub fn set_notifications_pending(&self, pending: i64) {
        self.notifications_pending.set(pending);
    }

    /// The body and its content type: OpenMetrics when `accept` asks for it, else
    /// the classic text format.
    pub fn render(&self, accept: &str) -> (String, &'static str) {
        let mut body = String::new();
        let written = if wants_openmetrics(accept) {
            text::encode(&mut body, &self.registry).map(|()| OPENMETRICS)
        } else {
            prometheus_text::encode(&mut body, &self.registry)
                .map(|()| prometheus_text::CONTENT_TYPE)
        };
        let content_type = written.expect("writing to a String cannot fail");
        (body, content_type)
    }
}

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Whether an Accept header asks for OpenMetrics (Prometheus sends
/// `application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,…`):
/// any mention of it not refused with `q=0`.
fn wants_openmetrics(accept: &str) -> bool {
    accept.split(',').any(|range| {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default();
        let refused = parts.any(|p| p.replace(' ', "") == "q=0");
        media.eq_ignore_ascii_case("application/openmetrics-text") && !refused
    })
}
