//! A local CloudTrail for tests (scripts/localaws/fake_cloudtrail.py: LookupEvents in
//! CloudTrail's own protocol, paged and throttled like the real one), fed with the
//! records of tests/fixtures/cloudtrail/records.json, where each shape's source is
//! cited.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

pub struct FakeTrail {
    child: Child,
    pub port: u16,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The documented records, by key (`AuthorizeSecurityGroupIngress.current`, …).
pub fn fixture() -> Value {
    let text = std::fs::read_to_string(root().join("tests/fixtures/cloudtrail/records.json"))
        .expect("the CloudTrail fixture is readable");
    serde_json::from_str(&text).expect("the CloudTrail fixture is JSON")
}

/// Replaces each `"${NAME}"` token (quotes included) by its JSON value, within one
/// record: numbers stay numbers, objects objects.
pub fn substitute(template: &Value, values: &[(&str, Value)]) -> Value {
    let mut text = template.to_string();
    for (name, value) in values {
        text = text.replace(&format!("\"${{{name}}}\""), &value.to_string());
    }
    assert!(
        !text.contains("\"${"),
        "a placeholder was left unset in {text}"
    );
    serde_json::from_str(&text).expect("a substituted record is JSON")
}

/// One documented record (`key` in the fixture), filled in with `values` over
/// defaults for every placeholder: what LookupEvents indexes it under, and the
/// record itself, as `FakeTrail::add` takes them.
pub fn event(key: &str, values: &[(&str, Value)]) -> Value {
    let fixture = fixture();
    let entry = &fixture["records"][key];
    assert!(entry.is_object(), "no record {key} in the fixture");
    let mut all: Vec<(&str, Value)> = values.to_vec();
    let id = format!(
        "{:08x}-0000-4000-8000-{:012x}",
        fastrand::u32(..),
        fastrand::u64(..) >> 16
    );
    let lb =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188";
    let defaults: Vec<(&str, Value)> = vec![
        ("ACCOUNT_ID", json!("123456789012")),
        ("REGION", json!("us-east-1")),
        ("EVENT_ID", json!(id)),
        (
            "EVENT_TIME",
            json!(chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()),
        ),
        ("USER_IDENTITY", identity("sso")),
        ("USER_AGENT", json!("AWS Internal")),
        ("SOURCE_IP", json!("198.51.100.7")),
        ("GROUP_ID", json!("sg-00000000000000000")),
        ("GROUP_NAME", json!("group")),
        ("VPC_ID", json!("vpc-00000000")),
        ("RULE_ID", json!("sgr-00000000000000000")),
        (
            "RULE_ARN",
            json!("arn:aws:ec2:us-east-1:123456789012:security-group-rule/sgr-00000000000000000"),
        ),
        ("PROTOCOL", json!("tcp")),
        ("FROM_PORT", json!(443)),
        ("TO_PORT", json!(443)),
        ("CIDR", json!("0.0.0.0/0")),
        ("PEER_GROUP_ID", json!("sg-11111111111111111")),
        ("DESCRIPTION", json!("")),
        ("ENI_ID", json!("eni-00000000000000000")),
        ("LB_ARN", json!(lb)),
        ("CLUSTER", json!("prod")),
        ("SERVICE", json!("front")),
        (
            "CLUSTER_ARN",
            json!("arn:aws:ecs:us-east-1:123456789012:cluster/prod"),
        ),
        (
            "SERVICE_ARN",
            json!("arn:aws:ecs:us-east-1:123456789012:service/prod/front"),
        ),
        ("TAG_KEY", json!("Owner")),
        ("TAG_VALUE", json!("someone")),
    ];
    for (name, value) in defaults {
        if !all.iter().any(|(n, _)| *n == name) {
            all.push((name, value));
        }
    }
    let record = substitute(&entry["record"], &all);
    let resources = substitute(&entry["resources"], &all);
    json!({"record": record, "resources": resources})
}

/// `event` made by the fixture's identity `who` through its user agent `how`
/// (`console`, `terraform`, …): the agent's source address and console flag too.
pub fn event_by(key: &str, who: &str, how: &str, values: &[(&str, Value)]) -> Value {
    let agent = &fixture()["user_agents"][how];
    assert!(agent.is_object(), "no user agent {how} in the fixture");
    let mut all = vec![
        ("USER_IDENTITY", identity(who)),
        ("USER_AGENT", agent["userAgent"].clone()),
    ];
    if let Some(ip) = agent.get("sourceIPAddress") {
        all.push(("SOURCE_IP", ip.clone()));
    }
    all.extend(values.iter().cloned());
    let mut made = event(key, &all);
    // The flag is the caller's, not the documented record's.
    let record = made["record"].as_object_mut().expect("a record");
    record.remove("sessionCredentialFromConsole");
    if let Some(flag) = agent.get("sessionCredentialFromConsole") {
        record.insert("sessionCredentialFromConsole".into(), flag.clone());
    }
    made
}

/// An event time `minutes` before now, as CloudTrail writes it.
pub fn minutes_ago(minutes: i64) -> Value {
    let time = chrono::Utc::now() - chrono::Duration::minutes(minutes);
    json!(time.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// `time` (as `minutes_ago` gives it) as driftd reports times.
pub fn reported_time(time: &Value) -> String {
    let text = time.as_str().expect("a time string");
    format!("{}.000Z", text.trim_end_matches('Z'))
}

/// A user identity of the fixture (`sso`, `iam_user`, `terraform_role`, …).
pub fn identity(key: &str) -> Value {
    fixture()["user_identities"][key]["userIdentity"].clone()
}

/// A user agent of the fixture (`console`, `terraform`, `cli`, …): the agent, and
/// whether the console flag is set.
pub fn user_agent(key: &str) -> Value {
    json!(fixture()["user_agents"][key]["userAgent"].clone())
}

impl FakeTrail {
    pub fn start() -> FakeTrail {
        let python = root().join(".venv/bin/python");
        let python = if python.exists() {
            python
        } else {
            PathBuf::from("python3")
        };
        let mut child = Command::new(python)
            .arg(root().join("scripts/localaws/fake_cloudtrail.py"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the fake CloudTrail starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("the fake CloudTrail says its port");
        let port = line.trim().parse().expect("a port number");
        FakeTrail { child, port }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Adds events (as `event` makes them).
    pub fn add(&self, events: &[Value]) {
        self.http("POST", "/_fake/events", Some(&json!(events)));
    }

    /// Refuses every later call made with `access_key`, as IAM does without
    /// `cloudtrail:LookupEvents`.
    pub fn deny(&self, access_key: &str) {
        self.http("POST", "/_fake/deny", Some(&json!([access_key])));
    }

    /// Every LookupEvents request answered so far.
    pub fn requests(&self) -> Vec<Value> {
        match self.http("GET", "/_fake/requests", None) {
            Value::Array(requests) => requests,
            other => panic!("unexpected answer {other}"),
        }
    }

    fn http(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let body = body.map(Value::to_string).unwrap_or_default();
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (_, body) = response.split_once("\r\n\r\n").expect("an HTTP answer");
        serde_json::from_str(body).expect("the fake answers JSON")
    }
}

impl Drop for FakeTrail {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
