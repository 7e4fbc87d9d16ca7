//! A run split by scope across replicas, on an organisation served by the local
//! AWS endpoint through `sts:AssumeRole` (one moto backend per account) behind a
//! proxy that counts what each scope receives: three replicas find exactly what
//! one process finds, each scope read once per run; a replica killed mid-scope has
//! its scope finished by another with no message sent twice; PostgreSQL restarted
//! mid-run leaves no scope lost or stored twice.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::replicas::{Fleet, count_when_ready, rows, wait_for};
use crate::support::cli::*;
use crate::support::org::Org;
use crate::support::postgres::Postgres;

const REGIONS: &str = "us-east-1,eu-west-1";

/// A config for replicas of `org`: `[server]` with `server`, a schedule, and Slack
/// (at `SLACK_WEBHOOK_URL`).
fn fleet_config(org: &Org, server: &str, cron: &str) -> std::path::PathBuf {
    fleet_config_reading(org, "org.tfstate", server, cron)
}

/// As `fleet_config`, the state read from `state`.
fn fleet_config_reading(org: &Org, state: &str, server: &str, cron: &str) -> std::path::PathBuf {
    org.config_reading(
        state,
        &format!(
            "[server]\nlisten = \"127.0.0.1:0\"\nscan_lease = \"3s\"\n{server}\n\n\
             [[schedule]]\ncron = \"{cron}\"\n\n\
             [notify.slack]\nwebhook_url = \"${{SLACK_WEBHOOK_URL}}\"\nmin_severity = \"info\"\n"
        ),
    )
}

/// The organisation's endpoint and Slack's.
fn env_of(org: &Org, slack: &Slack) -> Vec<(String, String)> {
    let mut env = org.env();
    env.push(("SLACK_WEBHOOK_URL".into(), slack.url()));
    env
}

/// One process scanning the whole organisation, storing nothing: the reference.
fn one_process(env: &[(String, String)], config: &std::path::Path) -> Value {
    one_process_exiting(env, config, 2)
}

fn ids(report: &Value) -> Vec<String> {
    let mut ids: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// What the replicas stored, merged (`report --from-store`), which exits with `code`.
fn from_store_exiting(
    env: &[(String, String)],
    config: &std::path::Path,
    url: &str,
    code: i32,
) -> Value {
    let mut env = env.to_vec();
    env.push(("DRIFTD_DATABASE_URL".into(), url.to_string()));
    let run = driftd_with_env(
        &[
            "report",
            "--config",
            config.to_str().unwrap(),
            "--from-store",
            "--format",
            "json",
        ],
        &env,
    );
    assert_eq!(run.code, code, "{}", run.stderr);
    let report = run.json();
    assert_valid_report(&report);
    report
}

/// What the replicas stored, merged, with drift found (exit 2).
fn from_store(env: &[(String, String)], config: &std::path::Path, url: &str) -> Value {
    from_store_exiting(env, config, url, 2)
}

/// A local receiver standing for Slack, on a runtime of its own.
struct Slack {
    server: MockServer,
    rt: tokio::runtime::Runtime,
}

impl Slack {
    fn start() -> Slack {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let server = rt.block_on(async {
            let server = MockServer::start().await;
            Mock::given(method("POST"))
                .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
                .mount(&server)
                .await;
            server
        });
        Slack { server, rt }
    }

    fn url(&self) -> String {
        format!("{}/services/T000/B000/XXXX", self.server.uri())
    }

    fn bodies(&self) -> Vec<String> {
        self.rt
            .block_on(self.server.received_requests())
            .unwrap_or_default()
            .iter()
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .collect()
    }

    /// Each of `groups` was in exactly one message, whichever replica sent it.
    fn told_once(&self, groups: &[String]) {
        for (group, n) in self.mentions(groups) {
            assert_eq!(n, 1, "{group} is in {n} Slack messages");
        }
    }

    /// How many messages name each of `groups`.
    fn mentions(&self, groups: &[String]) -> BTreeMap<String, usize> {
        let bodies = self.bodies();
        groups
            .iter()
            .map(|g| {
                (
                    g.clone(),
                    bodies.iter().filter(|b| b.contains(g.as_str())).count(),
                )
            })
            .collect()
    }
}

/// Waits until the first run's `scopes` are stored and Slack was told of each
/// group `whole` finds drifted; returns those groups.
fn first_run_told(url: &str, scopes: i64, slack: &Slack, whole: &Value) -> Vec<String> {
    wait_for(
        "every scope of the first run",
        Duration::from_secs(120),
        || first_run_done(url) == Some(scopes),
    );
    let groups = drifted_groups(whole);
    wait_for(
        "Slack told of every drifted group",
        Duration::from_secs(60),
        || slack.mentions(&groups).values().all(|&n| n >= 1),
    );
    groups
}

/// The groups the reference report's findings are about.
fn drifted_groups(report: &Value) -> Vec<String> {
    let mut groups: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["resource"]["group_id"].as_str().map(str::to_string))
        .collect();
    groups.sort();
    groups.dedup();
    groups
}

/// Scopes whose leases of the first run are done, and how many there are of them.
fn first_run_done(url: &str) -> Option<i64> {
    count_when_ready(
        url,
        "SELECT count(*) FROM scan_leases
         WHERE done = 1 AND tick = (SELECT min(tick) FROM scan_leases)",
    )
}

/// Each scope's stored scans and done leases: equal when no scope was stored twice
/// or lost.
fn scans_and_leases_by_scope(url: &str) -> (BTreeMap<String, i64>, BTreeMap<String, i64>) {
    let scans: Vec<(String, i64)> = rows(url, "SELECT scope, count(*) FROM scans GROUP BY scope");
    let leases: Vec<(String, i64)> = rows(
        url,
        "SELECT scope, count(*) FROM scan_leases WHERE done = 1 GROUP BY scope",
    );
    (scans.into_iter().collect(), leases.into_iter().collect())
}

#[test]
fn three_replicas_share_twenty_accounts_by_scope_and_find_what_one_process_finds() {
    let org = Org::seed(20, REGIONS, 5, 3, true);
    let slack = Slack::start();
    let config = fleet_config(&org, "scan_on_start = false", "*/20 * * * * *");
    let env = env_of(&org, &slack);
    let whole = one_process(&env, &config);
    // What the seed's drift makes: an extra rule in every 4th account's regions,
    // an unmanaged group in every 5th account's first region; nothing else.
    assert_eq!(
        whole["summary"]["by_code"],
        serde_json::json!({"rule-added": 10, "sg-unmanaged": 4})
    );
    assert_eq!(whole["summary"]["compared_security_groups"], 200);
    org.reset_counts();

    let server = Postgres::start();
    let mut fleet = Fleet::spawn(&config, env.clone(), 3, server.database("org"));
    let url = fleet.url.clone();
    let groups = first_run_told(&url, 40, &slack, &whole);
    fleet.terminate();

    let first: Vec<(String, String)> = rows(
        &url,
        "SELECT scope, holder FROM scan_leases WHERE tick = (SELECT min(tick) FROM scan_leases)",
    );
    assert_eq!(
        first.len(),
        40,
        "one lease per scope: 20 accounts × 2 regions"
    );
    let holders: std::collections::BTreeSet<&str> = first.iter().map(|(_, h)| h.as_str()).collect();
    assert!(
        holders.len() >= 2,
        "the replicas shared the run: {holders:?}"
    );

    // Counted at the endpoint: each scope was read once per stored scan of it, and
    // no scope was stored twice in a run.
    let (scans, leases) = scans_and_leases_by_scope(&url);
    assert_eq!(scans, leases, "one stored scan per scope and run");
    let counts = org.counts();
    for (scope, stored) in &scans {
        let reads = counts[scope.as_str()]["DescribeSecurityGroups"].as_i64();
        assert_eq!(reads, Some(*stored), "{scope}: {}", counts[scope.as_str()]);
        let assumed = counts["123456789012/us-east-1"]["AssumeRole"]
            .as_i64()
            .unwrap();
        assert!(assumed >= 40, "each scope assumes its account's role");
    }
    assert_eq!(scans.len(), 40);

    let merged = from_store(&env, &config, &url);
    assert_eq!(ids(&merged), ids(&whole), "the same findings, by id");
    assert_eq!(merged["summary"]["compared_security_groups"], 200);
    assert_eq!(merged["summary"]["managed_security_groups"], 200);
    assert_eq!(merged["scan"]["complete"], true);
    let scopes = merged["scan"]["scopes"].as_array().unwrap();
    assert_eq!(scopes.len(), 40);
    assert!(scopes.iter().all(|s| s["age_seconds"].as_i64() < Some(120)));

    slack.told_once(&groups);
}

#[test]
fn a_replica_killed_mid_scope_has_its_scope_finished_by_another() {
    let org = Org::seed(6, REGIONS, 3, 2, true);
    let slack = Slack::start();
    let config = fleet_config(&org, "scan_on_start = false", "*/30 * * * * *");
    let env = env_of(&org, &slack);
    let whole = one_process(&env, &config);
    let server = Postgres::start();
    let mut stalled = env.clone();
    // Each scope's store holds its transaction open 2 s: long enough to kill a
    // replica in the middle of one.
    stalled.push(("DRIFTD_FAULT_STALL_BEFORE_COMMIT".into(), "2".into()));
    let mut fleet = Fleet::spawn(&config, stalled, 3, server.database("org"));
    let url = fleet.url.clone();
    wait_for("a replica holding a scope", Duration::from_secs(90), || {
        count_when_ready(&url, "SELECT count(*) FROM scan_leases WHERE done = 0") >= Some(1)
    });
    let (scope, holder): (String, String) =
        rows(&url, "SELECT scope, holder FROM scan_leases WHERE done = 0")
            .into_iter()
            .next()
            .unwrap();
    let pid: u32 = holder.split('/').nth(1).unwrap().parse().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let victim = fleet.replicas.iter_mut().find(|c| c.id() == pid).unwrap();
    victim.kill().unwrap();
    victim.wait().unwrap();

    let groups = first_run_told(&url, 12, &slack, &whole);
    fleet.terminate();

    let finished: Vec<(String,)> = rows(
        &url,
        &format!("SELECT holder FROM scan_leases WHERE scope = '{scope}' AND done = 1"),
    );
    assert!(
        finished.iter().all(|(h,)| h != &holder),
        "{scope} was finished by another replica"
    );
    let (scans, leases) = scans_and_leases_by_scope(&url);
    assert_eq!(
        scans, leases,
        "the killed replica's uncommitted scan is not kept"
    );
    assert_eq!(ids(&from_store(&env, &config, &url)), ids(&whole));
    slack.told_once(&groups);
}

#[test]
fn postgresql_restarted_mid_run_leaves_no_scope_lost_or_stored_twice() {
    let org = Org::seed(6, REGIONS, 3, 2, true);
    let slack = Slack::start();
    // One replica, one run (at start): each scope's outcome is this run's.
    let config = fleet_config(&org, "scan_on_start = true", "0 0 0 1 1 *");
    let env = env_of(&org, &slack);
    let whole = one_process(&env, &config);
    let mut server = Postgres::start();
    let mut stalled = env.clone();
    stalled.push(("DRIFTD_FAULT_STALL_BEFORE_COMMIT".into(), "1".into()));
    let mut fleet = Fleet::spawn(&config, stalled, 1, server.database("org"));
    let url = fleet.url.clone();
    wait_for("three scopes stored", Duration::from_secs(90), || {
        first_run_done(&url) >= Some(3)
    });
    // A scope is in its store transaction: the restart fails it.
    server.restart();
    wait_for(
        "every scope of the run, after the restart",
        Duration::from_secs(120),
        || first_run_done(&url) == Some(12),
    );
    fleet.terminate();

    let (scans, leases) = scans_and_leases_by_scope(&url);
    assert_eq!(scans.len(), 12);
    assert!(
        scans.values().all(|&n| n == 1),
        "no scope stored twice: {scans:?}"
    );
    assert_eq!(scans, leases);
    let open: Vec<(i64,)> = rows(
        &url,
        "SELECT count(*) FROM findings WHERE status <> 'resolved'",
    );
    assert_eq!(
        open[0].0 as usize,
        ids(&whole).len(),
        "nothing lost, nothing resolved"
    );
    assert_eq!(ids(&from_store(&env, &config, &url)), ids(&whole));
}

/// `GET path` on `address`: the status and the body.
fn get(address: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: driftd\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string());
    (status, body.unwrap_or_default())
}

#[test]
fn a_scope_that_cannot_be_read_keeps_readyz_failing_and_names_that_scope() {
    let org = Org::seed(2, "us-east-1", 2, 1, false);
    // The second account's role may not describe anything: its scope is read
    // partially, every run, while the first account's is read completely.
    org.refuse("210000000001/us-east-1");
    let slack = Slack::start();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    let config = org.config(&format!(
        "[server]\nlisten = \"{address}\"\nscan_on_start = true\nready_max_age = \"1h\"\n\n\
         [[schedule]]\ncron = \"0 0 0 1 1 *\"\n"
    ));
    let env = env_of(&org, &slack);
    let server = Postgres::start();
    let mut fleet = Fleet::spawn(&config, env.clone(), 1, server.database("org"));
    let url = fleet.url.clone();
    wait_for("both scopes of the run", Duration::from_secs(90), || {
        first_run_done(&url) == Some(2)
    });
    let (status, body) = get(&address, "/readyz");
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        body,
        "scope 210000000001/us-east-1 has no complete scan yet\n"
    );

    let (status, body) = get(&address, "/report");
    assert_eq!(status, 200);
    let report: Value = serde_json::from_str(&body).unwrap();
    assert_valid_report(&report);
    assert_eq!(report["scan"]["complete"], false);
    let scopes: Vec<(&str, bool)> = report["scan"]["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["scope"].as_str().unwrap(),
                s["complete"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        scopes,
        [
            ("210000000000/us-east-1", true),
            ("210000000001/us-east-1", false)
        ]
    );
    // The refused scope is a source error, never a deleted group.
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["source-error"], "{body}");
    fleet.terminate();
}

/// A database whose history was written by whole scans (one task, or `report`) goes
/// on under runs split by scope: every finding stays ongoing with its first
/// sighting, whichever scope now reads it.
#[test]
fn findings_of_whole_scans_stay_ongoing_when_runs_are_split_by_scope() {
    let org = Org::seed(2, REGIONS, 2, 1, true);
    let slack = Slack::start();
    let config = org.config(
        "[server]\nlisten = \"127.0.0.1:0\"\nscan_on_start = true\n\n\
         [[schedule]]\ncron = \"0 0 0 1 1 *\"\n",
    );
    let server = Postgres::start();
    let url = server.database("org");
    let mut env = env_of(&org, &slack);
    env.push(("DRIFTD_DATABASE_URL".into(), url.clone()));
    let whole = driftd_with_env(
        &[
            "report",
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
        ],
        &env,
    );
    assert_eq!(whole.code, 2, "{}", whole.stderr);
    let whole = whole.json();
    let seen: BTreeMap<String, (String, String)> = whole["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let first = f["first_seen"].as_str().unwrap().to_string();
            (
                f["id"].as_str().unwrap().to_string(),
                (f["code"].as_str().unwrap().to_string(), first),
            )
        })
        .collect();
    let codes: Vec<&str> = seen.values().map(|(code, _)| code.as_str()).collect();
    assert_eq!(
        codes,
        ["rule-added", "rule-added", "sg-unmanaged"],
        "{seen:?}"
    );

    let mut fleet = Fleet::spawn(&config, env.clone(), 1, url.clone());
    wait_for("the run's four scopes", Duration::from_secs(90), || {
        first_run_done(&url) == Some(4)
    });
    fleet.terminate();
    let merged = from_store_exiting(&env, &config, &url, 2);
    assert_eq!(merged["scan"]["scopes"].as_array().unwrap().len(), 4);
    let after: BTreeMap<String, (String, String)> = merged["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let state = (
                f["status"].as_str().unwrap().to_string(),
                f["first_seen"].as_str().unwrap().to_string(),
            );
            (f["id"].as_str().unwrap().to_string(), state)
        })
        .collect();
    assert_eq!(after.len(), seen.len(), "each finding once: {after:?}");
    for (id, (_, first_seen)) in &seen {
        assert_eq!(
            after[id],
            ("ongoing".to_string(), first_seen.clone()),
            "{id}"
        );
    }
}

/// A finding of no place (a state that cannot be read) is raised by every scope of
/// a run: it is one finding, told new once, listed once.
#[test]
fn a_finding_every_scope_raises_is_one_finding_new_once() {
    let org = Org::seed(2, "us-east-1", 2, 1, false);
    let slack = Slack::start();
    let config = org.config(
        "[[terraform]]\nstate = \"gone.tfstate\"\n\n\
         [server]\nlisten = \"127.0.0.1:0\"\nscan_on_start = true\n\n\
         [[schedule]]\ncron = \"0 0 0 1 1 *\"\n",
    );
    let server = Postgres::start();
    let mut fleet = Fleet::spawn(&config, env_of(&org, &slack), 1, server.database("org"));
    let url = fleet.url.clone();
    wait_for("the run's two scopes", Duration::from_secs(90), || {
        first_run_done(&url) == Some(2)
    });
    fleet.terminate();
    let events: Vec<(String, String, String)> = rows(
        &url,
        "SELECT f.code, f.body, e.event FROM finding_events e JOIN findings f ON f.id = e.finding_id",
    );
    let about_the_state: Vec<&str> = events
        .iter()
        .filter(|(code, body, _)| code == "source-error" && body.contains("gone.tfstate"))
        .map(|(_, _, event)| event.as_str())
        .collect();
    assert_eq!(about_the_state, ["new"], "{events:?}");
    let mut env = env_of(&org, &slack);
    env.push(("DRIFTD_DATABASE_URL".into(), url.clone()));
    let merged = from_store_exiting(&env, &config, &url, 1);
    let listed = merged["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["message"]
                .as_str()
                .unwrap_or_default()
                .contains("gone.tfstate")
        })
        .count();
    assert_eq!(listed, 1, "{merged}");
    assert_eq!(
        merged["summary"]["findings"],
        merged["findings"].as_array().unwrap().len()
    );
}

/// Runs whose every scope (of `scopes`) is stored.
fn runs_done(url: &str, scopes: i64) -> i64 {
    count_when_ready(
        url,
        &format!(
            "SELECT count(*) FROM (SELECT tick FROM scan_leases WHERE done = 1
             GROUP BY tick HAVING count(*) = {scopes}) AS done_runs"
        ),
    )
    .unwrap_or(0)
}

/// The reference, which exits with `code`.
fn one_process_exiting(env: &[(String, String)], config: &std::path::Path, code: i32) -> Value {
    let run = driftd_with_env(
        &[
            "report",
            "--config",
            config.to_str().unwrap(),
            "--no-store",
            "--format",
            "json",
        ],
        env,
    );
    assert_eq!(run.code, code, "{}", run.stderr);
    run.json()
}

/// (id, code, message) of each finding.
fn verdicts(report: &Value) -> Vec<(String, String, String)> {
    let mut verdicts: Vec<(String, String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let text = |key: &str| f[key].as_str().unwrap().to_string();
            (text("id"), text("code"), text("message"))
        })
        .collect();
    verdicts.sort();
    verdicts
}

/// A rule of one account allowing a group of another (`UserIdGroupPairs` naming
/// it) is judged, in runs split by scope, from the latest stored scan of that
/// other account: nothing while the group exists, and once its owner deletes it,
/// exactly what one process reading both accounts finds. The state is read from
/// S3, as on ECS: downloaded once per run, each scope streaming its part.
#[test]
fn a_reference_into_another_account_is_judged_from_that_accounts_stored_scan() {
    let org = Org::seed_with(2, "us-east-1", 2, 1, &["--cross-account-reference"]);
    let shared = org.cross_account_group();
    let slack = Slack::start();
    let state = org.state_to_s3("org-states", "network/terraform.tfstate");
    let config = fleet_config_reading(&org, &state, "scan_on_start = true", "*/3 * * * * *");
    let env = env_of(&org, &slack);
    let before = one_process_exiting(&env, &config, 0);
    assert_eq!(before["summary"]["compared_security_groups"], 5);
    let server = Postgres::start();
    let mut fleet = Fleet::spawn(&config, env.clone(), 1, server.database("org"));
    let url = fleet.url.clone();

    // Two runs: the second reads each scope after the other one's scan is stored.
    wait_for("two runs", Duration::from_secs(90), || {
        runs_done(&url, 2) >= 2
    });
    let clean = from_store_exiting(&env, &config, &url, 0);
    assert_eq!(clean["findings"], serde_json::json!([]));
    let read_from_s3 = clean["scan"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["kind"] == "terraform" && s["location"] == state.as_str() && s["ok"] == true);
    assert!(read_from_s3, "{}", clean["scan"]["sources"]);
    assert_eq!(clean["summary"]["compared_security_groups"], 5);
    assert_eq!(clean["scan"]["scopes"].as_array().unwrap().len(), 2);

    org.delete_group("210000000000", "us-east-1", &shared);
    let deleted_at = runs_done(&url, 2);
    let after = one_process_exiting(&env, &config, 2);
    let codes: std::collections::BTreeSet<String> = verdicts(&after)
        .into_iter()
        .map(|(_, code, _)| code)
        .collect();
    assert_eq!(
        codes,
        ["reference-dangling".to_string(), "sg-missing".to_string()].into()
    );
    // The run under way may have read the owner's scope before the delete, and
    // the next one the referring scope before the owner's: the one after that
    // judges from a scan that saw the group gone.
    wait_for(
        "three runs after the delete",
        Duration::from_secs(90),
        || runs_done(&url, 2) >= deleted_at + 3,
    );
    let merged = from_store(&env, &config, &url);
    assert_eq!(verdicts(&merged), verdicts(&after));
    fleet.terminate();
}
