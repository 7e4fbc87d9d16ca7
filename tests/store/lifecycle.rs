//! The finding lifecycle across scans on the local AWS endpoint (moto server, see
//! docs/local-aws.md), and `driftd history` of the group whose rule changed:
//! drift appears → new; persists → ongoing with the same `first_seen`; a partial
//! scan → untouched; fixed → resolved (listed once); back → new again, recurred.

use crate::support::cli::*;
use crate::support::moto::Moto;
use crate::support::region_gate;
use serde_json::Value;

struct Chain {
    moto: Moto,
    dir: tempfile::TempDir,
    seed: Value,
}

impl Chain {
    fn new() -> Chain {
        let moto = Moto::start();
        let dir = tempfile::tempdir().unwrap();
        let seed = moto.seed_chain(&dir.path().join("chain.tfstate"), &[]);
        Chain { moto, dir, seed }
    }

    fn db(&self) -> std::path::PathBuf {
        self.dir.path().join("driftd.db")
    }

    fn group(&self, name: &str) -> String {
        self.seed["groups"][name].as_str().unwrap().to_string()
    }

    /// Sets the ALB's egress rule to ecs-front to `port`, as a console edit would.
    fn set_alb_egress_port(&self, port: u16) {
        self.moto.python(&format!(
            "ec2.modify_security_group_rules(GroupId='{alb}', SecurityGroupRules=[{{
                'SecurityGroupRuleId': '{rule}',
                'SecurityGroupRule': {{'IpProtocol': 'tcp', 'FromPort': {port}, 'ToPort': {port},
                    'ReferencedGroupId': '{front}', 'Description': 'to ecs-front tasks'}}}}])",
            alb = self.group("alb-public"),
            front = self.group("ecs-front"),
            rule = self.seed["rules"]["alb_to_front"].as_str().unwrap(),
        ));
    }

    fn report_with(&self, endpoint: Option<String>) -> (i32, Value) {
        let state = self.dir.path().join("chain.tfstate");
        let mut env = match endpoint {
            Some(endpoint) => {
                let mut env = self.moto.env_through(&endpoint);
                env.push(("AWS_MAX_ATTEMPTS".into(), "1".into()));
                env
            }
            None => self.moto.env(),
        };
        env.push(database_env(&self.db()));
        let run = driftd_with_env(
            &[
                "report",
                "--state",
                state.to_str().unwrap(),
                "--region",
                "us-east-1",
                "--format",
                "json",
            ],
            &env,
        );
        let report = run.json();
        assert_valid_report(&report);
        (run.code, report)
    }

    fn report(&self) -> (i32, Value) {
        self.report_with(None)
    }
}

fn by_code<'a>(report: &'a Value, code: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == code)
        .collect()
}

fn only<'a>(report: &'a Value, code: &str) -> &'a Value {
    let found = by_code(report, code);
    assert_eq!(found.len(), 1, "{code}: {:#}", report["findings"]);
    found[0]
}

#[test]
fn drift_is_new_then_ongoing_untouched_by_a_partial_scan_resolved_and_recurs() {
    let chain = Chain::new();
    let (code, clean) = chain.report();
    assert_eq!(code, 0);
    assert!(by_code(&clean, "rule-modified").is_empty());

    // 1. the drift appears: new, first seen now
    chain.set_alb_egress_port(8080);
    let (code, appeared) = chain.report();
    assert_eq!(code, 2);
    let f = only(&appeared, "rule-modified");
    let id = f["id"].clone();
    let first_seen = f["first_seen"].clone();
    assert_eq!(f["status"], "new");
    assert_eq!(f["recurred"], false);
    assert_eq!(first_seen, appeared["scan"]["finished_at"]);
    assert_eq!(f["last_seen"], first_seen);

    // 2. it persists: ongoing, same first_seen, later last_seen
    let (code, persists) = chain.report();
    assert_eq!(code, 2);
    let f = only(&persists, "rule-modified");
    assert_eq!((&f["id"], &f["status"]), (&id, &Value::from("ongoing")));
    assert_eq!(f["first_seen"], first_seen);
    assert_eq!(f["last_seen"], persists["scan"]["finished_at"]);
    // The risk note seen since the first scan is ongoing too.
    assert_eq!(only(&persists, "dependency-hidden")["status"], "ongoing");

    // 3. a partial scan (the region's endpoint is down) while the drift is fixed:
    // it cannot see that, so it resolves nothing.
    chain.set_alb_egress_port(80);
    let gate =
        region_gate::RegionGate::start(format!("127.0.0.1:{}", chain.moto.port), "us-east-1");
    let (code, partial) = chain.report_with(Some(gate.endpoint()));
    assert_eq!(code, 1);
    assert_eq!(partial["scan"]["complete"], false);
    assert!(by_code(&partial, "rule-modified").is_empty());
    assert!(
        partial["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["status"] != "resolved"),
        "{:#}",
        partial["findings"]
    );
    assert_eq!(only(&partial, "source-error")["status"], "new");

    // 4. a complete scan sees the fix: resolved, listed once, exit 0
    let (code, fixed) = chain.report();
    assert_eq!(code, 0, "resolved findings do not fail the report");
    let f = only(&fixed, "rule-modified");
    assert_eq!((&f["id"], &f["status"]), (&id, &Value::from("resolved")));
    assert_eq!(f["first_seen"], first_seen, "untouched by the partial scan");
    assert_eq!(f["last_seen"], persists["scan"]["finished_at"]);
    assert_eq!(only(&fixed, "source-error")["status"], "resolved");
    assert_eq!(only(&fixed, "dependency-hidden")["status"], "ongoing");

    let (_, after) = chain.report();
    assert!(by_code(&after, "rule-modified").is_empty(), "listed once");
    assert!(by_code(&after, "source-error").is_empty());

    // 5. the drift comes back: new again, recurred, a new first_seen
    chain.set_alb_egress_port(8080);
    let (code, back) = chain.report();
    assert_eq!(code, 2);
    let f = only(&back, "rule-modified");
    assert_eq!((&f["id"], &f["status"]), (&id, &Value::from("new")));
    assert_eq!(f["recurred"], true);
    assert_eq!(f["first_seen"], back["scan"]["finished_at"]);

    // The group's history: the port went 80 → 8080, back to 80, and to 8080 again,
    // each change dated by the scan that first saw it.
    let alb = chain.group("alb-public");
    let history = driftd_with_env(
        &["history", "--group", &alb, "--format", "json"],
        &[database_env(&chain.db())],
    );
    assert_eq!(history.code, 0, "{}", history.stderr);
    let entries: Value = serde_json::from_str(&history.stdout).unwrap();
    let entries = entries.as_array().unwrap();
    let ports: Vec<(Value, Value, Value, Value)> = entries
        .iter()
        .map(|e| {
            assert_eq!(e["kind"], "rule-modified");
            assert_eq!(e["group_id"], alb.as_str());
            assert_eq!(e["direction"], "egress");
            let to_port = e["changes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["field"] == "to_port")
                .unwrap();
            (
                e["previous_scan_id"].clone(),
                e["at"].clone(),
                to_port["before"].clone(),
                to_port["after"].clone(),
            )
        })
        .collect();
    assert_eq!(
        ports,
        vec![
            (
                clean["scan"]["id"].clone(),
                appeared["scan"]["finished_at"].clone(),
                80.into(),
                8080.into()
            ),
            // The partial scan saw nothing of the group: the old value was last
            // seen by the scan before it.
            (
                persists["scan"]["id"].clone(),
                fixed["scan"]["finished_at"].clone(),
                8080.into(),
                80.into()
            ),
            (
                after["scan"]["id"].clone(),
                back["scan"]["finished_at"].clone(),
                80.into(),
                8080.into()
            ),
        ],
        "the partial scan saw nothing, so it is no change"
    );

    // The table says the same, one line per change; `--since` narrows it.
    let table = driftd_with_env(
        &["history", "--group", &alb, "--since", "1d"],
        &[database_env(&chain.db())],
    );
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert_eq!(table.stdout.lines().count(), 3, "{}", table.stdout);
    assert!(table.stdout.contains("rule modified"));
    assert!(
        table.stdout.contains("to_port 80 → 8080"),
        "{}",
        table.stdout
    );
    let since = back["scan"]["started_at"].as_str().unwrap();
    let recent = driftd_with_env(
        &["history", "--since", since, "--format", "json"],
        &[database_env(&chain.db())],
    );
    let recent: Value = serde_json::from_str(&recent.stdout).unwrap();
    assert_eq!(recent.as_array().unwrap().len(), 1, "{recent:#}");
    // Every duration reads the same: seconds and weeks too; a wrong one is named.
    for since in ["30s", "2w"] {
        let run = driftd_with_env(&["history", "--since", since], &[database_env(&chain.db())]);
        assert_eq!(run.code, 0, "--since {since}: {}", run.stderr);
    }
    let wrong = driftd_with_env(
        &["history", "--since", "soon"],
        &[database_env(&chain.db())],
    );
    assert_eq!(wrong.code, 1);
    assert!(
        wrong.stderr.contains(
            "\"soon\" is not a duration like 30s, 10m, 2h, 1d or 1w, or an RFC 3339 time"
        ),
        "{}",
        wrong.stderr
    );
}
