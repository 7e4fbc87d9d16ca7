//! Notifications end to end: `driftd report --notify` on the example's captured data
//! (its three incidents), delivering to local HTTP receivers (wiremock) that stand
//! for Slack and a generic webhook and check what arrives.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::cli::*;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sqlx::Connection;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const DRIFT_GROUPS: &str = "examples/live/describe-security-groups.json";
const DRIFT_RULES: &str = "examples/live/describe-security-group-rules.json";
const TOKEN: &str = "T0/B0/xoxb-secret-token";

struct Setup {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Setup {
    fn new(notify: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("driftd.toml");
        std::fs::write(&config, notify).unwrap();
        Setup { dir, config }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("driftd.db")
    }

    /// `report --notify` against drifted (or clean) captured data.
    fn report(&self, drifted: bool, extra_env: &[(&str, String)], extra: &[&str]) -> Run {
        let (groups, rules) = if drifted {
            (DRIFT_GROUPS, DRIFT_RULES)
        } else {
            (CLEAN_GROUPS, CLEAN_RULES)
        };
        let config = self.config.to_str().unwrap();
        let mut args = vec![
            "report",
            "--config",
            config,
            "--state",
            CHAIN_STATE,
            "--live",
            groups,
            "--live",
            rules,
            "--format",
            "json",
            "--notify",
        ];
        args.extend(extra);
        let mut env = vec![database_env(&self.db())];
        env.extend(extra_env.iter().map(|(k, v)| (k.to_string(), v.clone())));
        let run = driftd_with_env(&args, &env);
        assert!(
            !run.stderr.contains(TOKEN),
            "a webhook URL was logged:\n{}",
            run.stderr
        );
        run
    }
}

fn slack_config(resolutions: bool) -> String {
    format!(
        "[notify.slack]\nwebhook_url = \"${{SLACK_WEBHOOK_URL}}\"\nresolutions = {resolutions}\n"
    )
}

async fn slack_env(server: &MockServer) -> Vec<(&'static str, String)> {
    vec![(
        "SLACK_WEBHOOK_URL",
        format!("{}/services/{TOKEN}", server.uri()),
    )]
}

async fn received(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap_or_default()
}

fn body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

async fn outbox(db: &Path) -> Vec<(String, i64)> {
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let rows = sqlx::query_as("SELECT status, attempts FROM outbox ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    rows
}

/// A receiver that answers `failure` to the first `times` requests, then 200.
async fn flaky_receiver(failure: ResponseTemplate, times: u64) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(failure)
        .up_to_n_times(times)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

async fn ok_receiver() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn the_incidents_alert_once_an_unchanged_scan_is_quiet_and_a_fix_is_told() {
    let server = ok_receiver().await;
    let setup = Setup::new(&slack_config(true));
    let env = slack_env(&server).await;

    let first = setup.report(true, &env, &[]);
    assert_eq!(first.code, 2, "{}", first.stderr);
    let requests = received(&server).await;
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].url.path(), format!("/services/{TOKEN}"));
    let message = body(&requests[0]);
    let text = message.to_string();
    for needle in [
        "`to_port`: `80` → `8080`",
        "alb-public (sg-0a1b2c3d4e5f60001)",
        "module.net.aws_vpc_security_group_egress_rule.alb_to_front",
        "`reference-dangling`",
        "[[acknowledge]]",
    ] {
        assert!(text.contains(needle), "{needle} in {message:#}");
    }
    // min_severity = medium (the default): the info-level risk note stays quiet.
    assert!(!text.contains("dependency-hidden"));
    assert!(message["text"].as_str().unwrap().starts_with("driftd: "));

    let unchanged = setup.report(true, &env, &[]);
    assert_eq!(unchanged.code, 2);
    assert_eq!(received(&server).await.len(), 1, "nothing new: no message");

    let fixed = setup.report(false, &env, &[]);
    assert_eq!(fixed.code, 0);
    let requests = received(&server).await;
    assert_eq!(requests.len(), 2);
    let resolution = body(&requests[1]).to_string();
    assert!(resolution.contains("resolved"), "{resolution}");
    assert!(resolution.contains("`to_port`: `80` → `8080`"));
    assert_eq!(outbox(&setup.db()).await, vec![("delivered".into(), 1); 2]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_receiver_that_recovers_gets_the_message_exactly_once() {
    let server = flaky_receiver(ResponseTemplate::new(500), 2).await;
    let setup = Setup::new(&slack_config(false));
    let run = setup.report(true, &slack_env(&server).await, &[]);
    assert_eq!(run.code, 2, "delivery never changes the exit code");
    let requests = received(&server).await;
    assert_eq!(requests.len(), 3, "500, 500, then 200");
    assert!(requests.iter().all(|r| r.body == requests[0].body));
    assert_eq!(outbox(&setup.db()).await, vec![("delivered".into(), 3)]);
    // Backing off: 1 s, then 2 s.
    assert!(run.stderr.contains("will retry"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_after_is_honoured() {
    let failure = ResponseTemplate::new(429).insert_header("Retry-After", "3");
    let server = flaky_receiver(failure, 1).await;
    let setup = Setup::new(&slack_config(false));
    let started = std::time::Instant::now();
    let run = setup.report(true, &slack_env(&server).await, &[]);
    assert_eq!(run.code, 2);
    assert_eq!(received(&server).await.len(), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "waited as Slack asked"
    );
    assert_eq!(outbox(&setup.db()).await, vec![("delivered".into(), 2)]);
    // And said so while it waited, rather than sitting silent.
    assert!(
        run.stderr
            .contains("waiting 3s to retry 1 undelivered notification(s); giving up in"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn undelivered_messages_survive_a_restart_and_are_not_sent_twice() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/services/{TOKEN}")))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let setup = Setup::new(&slack_config(false));
    let env = slack_env(&server).await;
    let down = setup.report(true, &env, &["--notify-timeout", "2s"]);
    assert_eq!(down.code, 2, "{}", down.stderr);
    assert!(
        down.stderr.contains("left in the outbox"),
        "{}",
        down.stderr
    );
    let attempts = received(&server).await.len();
    assert!(attempts >= 2);
    assert_eq!(outbox(&setup.db()).await[0].0, "pending");

    // The receiver recovers; a new process (the same drift, nothing new to say)
    // delivers what waited.
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let later = setup.report(true, &env, &[]);
    assert_eq!(later.code, 2);
    assert_eq!(received(&server).await.len(), 1);
    assert_eq!(outbox(&setup.db()).await[0].0, "delivered");

    let again = setup.report(true, &env, &[]);
    assert_eq!(again.code, 2);
    assert_eq!(received(&server).await.len(), 1, "never sent twice");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_message_is_recorded_and_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(404).set_body_string("no_service"))
        .mount(&server)
        .await;
    let setup = Setup::new(&slack_config(false));
    let run = setup.report(true, &slack_env(&server).await, &[]);
    assert_eq!(run.code, 2);
    assert_eq!(received(&server).await.len(), 1);
    assert!(
        run.stderr.contains("notification refused"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("no_service"));
    assert_eq!(outbox(&setup.db()).await, vec![("failed".into(), 1)]);
}

/// What the Standard Webhooks reference library (PyPI `standardwebhooks`) says of
/// a delivery: `Ok` with the payload it verified, or its error.
fn reference_verify(secret: &str, request: &Request) -> Result<Value, String> {
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body");
    std::fs::write(&body, &request.body).unwrap();
    let headers: serde_json::Map<String, Value> = request
        .headers
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().into()))
        .collect();
    let script = "import json, os, sys\n\
        from standardwebhooks.webhooks import Webhook\n\
        secret = os.environ['HOOK_SECRET']\n\
        key = secret if secret.startswith('whsec_') else secret.encode()\n\
        payload = Webhook(key).verify(open(sys.argv[1], 'rb').read(), json.loads(sys.argv[2]))\n\
        print(json.dumps(payload))\n";
    let out = crate::support::tools::python()
        .args([
            "-c",
            script,
            body.to_str().unwrap(),
            &Value::Object(headers).to_string(),
        ])
        .env("HOOK_SECRET", secret)
        .output()
        .unwrap();
    match out.status.success() {
        true => Ok(serde_json::from_slice(&out.stdout).unwrap()),
        false => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_webhook_is_signed_as_standard_webhooks_and_the_reference_verifies_it() {
    // A secret as the specification's tools make them, and a plain one.
    for secret in ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "s3cr3t"] {
        let server = ok_receiver().await;
        let setup =
            Setup::new("[notify.webhook]\nurl = \"${HOOK_URL}\"\nsecret = \"${HOOK_SECRET}\"\n");
        let env = vec![
            ("HOOK_URL", format!("{}/hook", server.uri())),
            ("HOOK_SECRET", secret.to_string()),
        ];
        assert_eq!(setup.report(true, &env, &[]).code, 2);
        let requests = received(&server).await;
        assert_eq!(requests.len(), 1);
        let request = &requests[0];
        let verified =
            reference_verify(secret, request).unwrap_or_else(|e| panic!("{secret}: {e}"));
        assert_eq!(verified, body(request));
        let outbox_row = request
            .headers
            .get("x-driftd-delivery")
            .unwrap()
            .to_str()
            .unwrap();
        assert_eq!(
            request.headers.get("webhook-id").unwrap().to_str().unwrap(),
            format!("driftd-{outbox_row}")
        );

        // The verifier can say no: a changed body, a replay an hour later.
        let mut tampered = request.clone();
        tampered.body = String::from_utf8(request.body.clone())
            .unwrap()
            .replace("8080", "8081")
            .into_bytes();
        assert!(
            reference_verify(secret, &tampered)
                .unwrap_err()
                .contains("No matching signature")
        );
        let mut replayed = request.clone();
        let an_hour_ago = chrono::Utc::now().timestamp() - 3600;
        replayed.headers.insert(
            "webhook-timestamp",
            an_hour_ago.to_string().parse().unwrap(),
        );
        assert!(
            reference_verify(secret, &replayed)
                .unwrap_err()
                .contains("too old")
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_webhook_gets_the_findings_as_json_signed_with_hmac() {
    let server = ok_receiver().await;
    let setup =
        Setup::new("[notify.webhook]\nurl = \"${HOOK_URL}\"\nsecret = \"${HOOK_SECRET}\"\n");
    let env = vec![
        ("HOOK_URL", format!("{}/hook", server.uri())),
        ("HOOK_SECRET", "s3cr3t".to_string()),
    ];
    let run = setup.report(true, &env, &[]);
    assert_eq!(run.code, 2);
    assert!(!run.stderr.contains("s3cr3t"));
    let requests = received(&server).await;
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    // The payload's published schema, which carries the report's finding shape.
    let schema = read_json("schema/notification.schema.json");
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&body(request))
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(
        schema["definitions"],
        read_json("schema/report.schema.json")["definitions"],
        "notification.schema.json's copy of the report's definitions drifted"
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"s3cr3t").unwrap();
    mac.update(&request.body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        request
            .headers
            .get("x-driftd-signature")
            .unwrap()
            .to_str()
            .unwrap(),
        expected
    );
    let payload = body(request);
    assert_eq!(payload["schema"], "driftd.notification/v1");
    let notices = payload["notices"].as_array().unwrap();
    // min_severity = low (the webhook's default): everything but the info note.
    assert!(notices.iter().all(|n| n["event"] == "new"));
    assert!(
        notices
            .iter()
            .any(|n| n["finding"]["code"] == "rule-modified"
                && n["finding"]["changes"][1]["actual"] == 8080)
    );
    assert!(notices.iter().all(|n| n["finding"]["severity"] != "info"));
}

#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_findings_never_alert() {
    let server = ok_receiver().await;
    let setup = Setup::new(&format!(
        "{}\n[[acknowledge]]\ncode = \"rule-modified\"\ngroup_id = \"sg-0a1b2c3d4e5f60001\"\nreason = \"blue/green port move, OPS-7\"\n",
        slack_config(false)
    ));
    let run = setup.report(true, &slack_env(&server).await, &[]);
    assert_eq!(run.code, 2, "the other incidents still fail the report");
    let requests = received(&server).await;
    assert_eq!(requests.len(), 1);
    let text = body(&requests[0]).to_string();
    assert!(text.contains("`reference-dangling`"), "{text}");
    assert!(!text.contains("`rule-modified`"), "{text}");
    assert!(!text.contains("8080"));
}
