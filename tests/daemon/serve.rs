//! `driftd serve` against the local AWS endpoint (moto server, docs/local-aws.md)
//! with a per-second schedule: scans happen and are stored, the HTTP endpoints
//! answer, a slow scan does not overlap the next, SIGTERM exits 0 within the
//! grace, and a bad cron expression is refused at start.

use std::time::Duration;

use crate::support::cli::*;
use crate::support::service::{Service, metric, stored_scans};
use serde_json::Value;

const SECRET_TOKEN: &str = "T0/B0/xoxo-not-for-logs";

#[tokio::test(flavor = "multi_thread")]
async fn scans_on_schedule_stores_them_and_answers_on_http() {
    // A local receiver standing for Slack; its URL carries a secret token.
    let slack = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&slack)
        .await;
    let webhook = format!("{}/services/{SECRET_TOKEN}", slack.uri());
    let mut service = Service::start(
        "\n[[schedule]]\ncron = \"* * * * * *\"\n\n[notify.slack]\nwebhook_url = \"${SLACK_WEBHOOK_URL}\"\nmin_severity = \"info\"\n",
        &[("SLACK_WEBHOOK_URL", &webhook)],
    );
    assert_eq!(service.get("/healthz"), (200, "ok\n".into()));
    service.wait_for_log("scan done", 2, Duration::from_secs(60));
    let next = service.wait_for_log("next scan scheduled", 1, Duration::from_secs(1));
    assert!(next["fields"]["next_run"].as_str().unwrap().ends_with('Z'));

    let (status, ready) = service.get("/readyz");
    assert_eq!(status, 200, "{ready}");
    assert!(ready.starts_with("ready: last complete scan finished at"));

    let (status, metrics) = service.get("/metrics");
    assert_eq!(status, 200);
    assert!(metric(&metrics, "driftd_scans_total{outcome=\"clean\"}") >= 2.0);
    assert!(metric(&metrics, "driftd_scan_duration_seconds_count") >= 2.0);
    assert!(
        metric(
            &metrics,
            "driftd_aws_api_calls_total{operation=\"ec2:DescribeSecurityGroups\"}"
        ) >= 2.0
    );
    // The chain's one risk note (dependency-hidden, info), ongoing after the first scan.
    assert_eq!(
        metric(
            &metrics,
            "driftd_findings{severity=\"info\",status=\"ongoing\",acknowledged=\"false\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(
            &metrics,
            "driftd_findings{severity=\"info\",status=\"ongoing\",acknowledged=\"true\"}"
        ),
        0.0
    );
    assert!(metric(&metrics, "driftd_last_scan_timestamp_seconds") > 1.7e9);
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        metric(
            &metrics,
            &format!("driftd_build_info{{version=\"{version}\"}}")
        ),
        1.0
    );
    promtool_accepts(&metrics);
    // The first scan's new risk note (info, as this notifier asks) went to Slack,
    // once: later scans have nothing new.
    service.wait_for_log("notification delivered", 1, Duration::from_secs(10));
    let (_, metrics) = service.get("/metrics");
    assert_eq!(metric(&metrics, "driftd_notifications_pending"), 0.0);
    assert_eq!(
        metric(
            &metrics,
            "driftd_notifications_total{channel=\"slack\",outcome=\"delivered\"}"
        ),
        1.0
    );
    let sent = slack.received_requests().await.unwrap();
    assert_eq!(sent.len(), 1);
    assert!(String::from_utf8_lossy(&sent[0].body).contains("dependency-hidden"));

    let (status, report) = service.get("/report");
    assert_eq!(status, 200);
    let report: Value = serde_json::from_str(&report).unwrap();
    assert_valid_report(&report);
    assert_eq!(report["scan"]["complete"], true);

    let (code, took) = service.terminate();
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_secs(25), "{took:?}");
    let (scans, integrity) = stored_scans(&service.db()).await;
    assert_eq!(integrity, "ok");
    assert_eq!(scans.len(), service.messages("scan stored").len());
    assert!(scans.len() >= 2);
    // No secret in any log line.
    let logs = service.logs.lock().unwrap().clone();
    assert!(
        logs.iter()
            .all(|l| !l.to_string().contains("xoxo-not-for-logs"))
    );
    // Every log line is JSON (checked as read); scans have their span.
    assert!(
        service
            .messages("scan done")
            .iter()
            .all(|l| l["spans"].as_array().is_some_and(|s| !s.is_empty()))
    );
}

#[tokio::test]
async fn a_slow_scan_never_overlaps_and_sigterm_abandons_it_after_the_grace() {
    // Every scan holds its store transaction 4 s; the schedule fires every second
    // (and only then: every scan starts on a tick).
    let mut service = Service::start(
        "shutdown_grace = \"1s\"\nscan_on_start = false\n\n[[schedule]]\ncron = \"* * * * * *\"\n",
        &[("DRIFTD_FAULT_STALL_BEFORE_COMMIT", "4")],
    );
    service.wait_for_log("scan stored", 2, Duration::from_secs(60));
    // The 3rd scan is now stalling inside its transaction, for 4 s.
    service.wait_for_log(
        "fault injection: stalling 4s before committing the scan",
        3,
        Duration::from_secs(30),
    );
    let (code, took) = service.terminate();
    assert_eq!(code, Some(0));
    // The 1 s grace, then at most 1 s for open HTTP connections: well before the
    // stalled scan could have committed.
    assert!(took < Duration::from_millis(3500), "{took:?}");
    let abandoned = service.logs.lock().unwrap().iter().any(|l| {
        l["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("the running scan did not finish within the grace"))
    });
    assert!(abandoned);

    let (scans, integrity) = stored_scans(&service.db()).await;
    assert_eq!(integrity, "ok");
    assert_eq!(scans.len(), 2, "the abandoned scan left nothing: {scans:?}");
    assert_eq!(service.messages("scan stored").len(), 2);
    // No overlap: each scan starts after the previous one was stored (the 4 s stall
    // after it finished). No stacked runs: it starts on a fresh tick of the schedule,
    // not straight after the commit.
    for pair in scans.windows(2) {
        let finished = chrono::DateTime::parse_from_rfc3339(&pair[0].1).unwrap();
        let next_started = chrono::DateTime::parse_from_rfc3339(&pair[1].0).unwrap();
        assert!(
            next_started - finished >= chrono::Duration::seconds(4),
            "{pair:?}"
        );
    }
    for (started, _) in &scans {
        let started = chrono::DateTime::parse_from_rfc3339(started).unwrap();
        assert!(
            started.timestamp_subsec_millis() < 700,
            "a scan starts on a tick of the schedule: {started}"
        );
    }
}

#[tokio::test]
async fn sigterm_lets_a_running_scan_finish_within_the_grace() {
    let mut service = Service::start(
        "shutdown_grace = \"20s\"\n\n[[schedule]]\ncron = \"* * * * * *\"\n",
        &[("DRIFTD_FAULT_STALL_BEFORE_COMMIT", "2")],
    );
    service.wait_for_log(
        "fault injection: stalling 2s before committing the scan",
        1,
        Duration::from_secs(60),
    );
    let (code, took) = service.terminate();
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_secs(20), "{took:?}");
    assert_eq!(
        service.messages("scan stored").len(),
        1,
        "the running scan was stored"
    );
    let (scans, integrity) = stored_scans(&service.db()).await;
    assert_eq!((scans.len(), integrity.as_str()), (1, "ok"));
}

#[test]
fn an_invalid_cron_expression_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("driftd.toml");
    std::fs::write(
        &config,
        "[store]\nurl = \"sqlite://driftd.db\"\n\n[[schedule]]\ncron = \"0 61 * * * *\"\n",
    )
    .unwrap();
    let db = dir.path().join("driftd.db");
    for args in [
        vec!["serve", "--config", config.to_str().unwrap()],
        vec!["check-config", "--config", config.to_str().unwrap()],
    ] {
        let run = driftd_with_env(&args, &[database_env(&db)]);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("schedule[0].cron") && run.stderr.contains("\"0 61 * * * *\""),
            "{}",
            run.stderr
        );
    }
    assert!(!db.exists(), "nothing is started");
}

/// `promtool check metrics` (Prometheus's own linter) accepts the exposition.
fn promtool_accepts(metrics: &str) {
    use std::io::Write;
    let mut check = crate::support::tools::promtool()
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool runs");
    check
        .stdin
        .take()
        .unwrap()
        .write_all(metrics.as_bytes())
        .unwrap();
    let out = check.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}\n{metrics}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn scans_at_start_and_a_restart_answers_with_the_stored_report() {
    // A yearly schedule: the only scan is the one at start.
    let mut service = Service::start("\n[[schedule]]\ncron = \"@yearly\"\n", &[]);
    service.wait_for_log("scan done", 1, Duration::from_secs(60));
    assert_eq!(service.messages("scanning at start").len(), 1);
    assert_eq!(service.get("/readyz").0, 200);
    let (status, first) = service.get("/report");
    assert_eq!(status, 200, "{first}");
    let first: Value = serde_json::from_str(&first).unwrap();
    let (code, _) = service.terminate();
    assert_eq!(code, Some(0));

    // Restarted without a scan at start: the stored report and scan age are served.
    let config = std::fs::read_to_string(service.config()).unwrap();
    let config = config.replace("[server]\n", "[server]\nscan_on_start = false\n");
    std::fs::write(service.config(), config).unwrap();
    service.restart();
    let (status, again) = service.get("/report");
    assert_eq!(status, 200, "{again}");
    let again: Value = serde_json::from_str(&again).unwrap();
    assert_eq!(again["scan"]["id"], first["scan"]["id"]);
    assert_valid_report(&again);
    assert_eq!(service.get("/readyz").0, 200);
    let (_, metrics) = service.get("/metrics");
    assert!(metric(&metrics, "driftd_last_scan_timestamp_seconds") > 1.7e9);
    assert!(service.messages("scan done").is_empty());
    assert!(service.messages("scanning at start").is_empty());
}

#[test]
fn healthcheck_asks_the_local_serve() {
    let mut service = Service::start(
        "scan_on_start = false\n\n[[schedule]]\ncron = \"@yearly\"\n",
        &[],
    );
    // Only [server] listen is read: a secret the notifiers need is not asked for.
    let config = service.dir.path().join("healthcheck.toml");
    let write_config = |listen: &str| {
        std::fs::write(
            &config,
            format!(
                "[server]\nlisten = \"{listen}\"\n\n[notify.webhook]\nurl = \"https://hooks.example.com/x\"\nsecret = \"${{DRIFTD_TEST_UNSET_SECRET}}\"\n"
            ),
        )
        .unwrap()
    };
    write_config(&service.address);
    let healthy = driftd(&["healthcheck", "--config", config.to_str().unwrap()]);
    assert_eq!(healthy.code, 0, "{}", healthy.stderr);

    service.terminate();
    let down = driftd(&["healthcheck", "--config", config.to_str().unwrap()]);
    assert_eq!(down.code, 1);
    let url = format!("http://{}/healthz", service.address);
    assert!(
        down.stderr.contains(&format!("{url} did not answer")),
        "{}",
        down.stderr
    );

    write_config("0.0.0.0:http");
    let wrong = driftd(&["healthcheck", "--config", config.to_str().unwrap()]);
    assert_eq!(wrong.code, 1);
    assert!(
        wrong.stderr.contains("is not an address like 0.0.0.0:9090"),
        "{}",
        wrong.stderr
    );
}

#[test]
fn not_ready_before_a_complete_scan_and_sigint_stops_it() {
    // A yearly schedule: no scan happens during the test.
    let mut service = Service::start(
        "scan_on_start = false\n\n[[schedule]]\ncron = \"0 0 0 1 1 *\"\n",
        &[],
    );
    assert_eq!(service.get("/healthz").0, 200);
    assert_eq!(
        service.get("/readyz"),
        (503, "no complete scan yet\n".into())
    );
    assert_eq!(service.get("/report").0, 503);
    // No scan yet: the scan's age is absent, not 0 (which would read as 1970).
    let (status, head, metrics) = service.get_with("/metrics", "");
    assert_eq!(status, 200);
    assert!(
        head.contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    assert!(
        !metrics.contains("driftd_last_scan_timestamp_seconds "),
        "{metrics}"
    );
    assert!(metrics.contains("driftd_build_info{version="), "{metrics}");
    promtool_accepts(&metrics);
    // OpenMetrics when the scraper asks for it, as Prometheus does.
    let accept = "Accept: application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1\r\n";
    let (status, head, open) = service.get_with("/metrics", accept);
    assert_eq!(status, 200);
    assert!(
        head.contains("content-type: application/openmetrics-text; version=1.0.0"),
        "{head}"
    );
    assert!(open.ends_with("# EOF\n"), "{open}");

    let status = std::process::Command::new("kill")
        .args(["-INT", &service.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(service.child.wait().unwrap().code(), Some(0));
}
