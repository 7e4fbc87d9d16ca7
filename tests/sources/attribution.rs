//! Who changed it, end to end: the chain's incidents applied to a real local AWS
//! endpoint (moto), the CloudTrail events behind them served by the local CloudTrail
//! (scripts/localaws/fake_cloudtrail.py; moto has no LookupEvents) in the shapes of
//! tests/fixtures/cloudtrail/records.json, and driftd run as a user would.

use serde_json::{Value, json};

use crate::scenario::Scenario;
use crate::support::cli::*;
use crate::support::trail::{event_by, identity, minutes_ago, reported_time};

const ACCOUNT: &str = "123456789012";

/// The finding `code` of a report, which must be the only one with that code.
fn only<'r>(findings: &'r [Value], code: &str) -> &'r Value {
    let with: Vec<&Value> = findings.iter().filter(|f| f["code"] == code).collect();
    assert_eq!(with.len(), 1, "one {code} expected: {findings:#?}");
    with[0]
}

/// The report's `cloudtrail` sources.
fn trail_sources(report: &Value) -> Vec<Value> {
    report["scan"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == "cloudtrail")
        .cloned()
        .collect()
}

/// A `ModifySecurityGroupRules` of the chain's `alb_to_front` egress rule (to
/// ecs-front) setting its ports to `port`.
fn alb_egress_set_to(s: &Scenario, port: u16, who: &str, how: &str, time: &Value) -> Value {
    let mut event = event_by(
        "ModifySecurityGroupRules",
        who,
        how,
        &[
            ("GROUP_ID", json!(s.group("alb-public"))),
            ("RULE_ID", json!(s.rule("alb_to_front"))),
            ("FROM_PORT", json!(port)),
            ("TO_PORT", json!(port)),
            ("DESCRIPTION", json!("to ecs-front tasks")),
            ("EVENT_TIME", time.clone()),
        ],
    );
    // The rule's peer is a group, not an address range.
    let rule = &mut event["record"]["requestParameters"]["ModifySecurityGroupRulesRequest"]["SecurityGroupRule"]
        ["SecurityGroupRule"];
    let rule = rule.as_object_mut().unwrap();
    rule.remove("CidrIpv4");
    rule.insert("ReferencedGroupId".into(), json!(s.group("ecs-front")));
    event
}

/// Incident 1: the ALB's egress port edited in the console. Two later events do not
/// count: one that failed, and one that set another port.
#[test]
fn the_alb_egress_port_change_is_tied_to_the_console_session_that_made_it() {
    let s = Scenario::new(&["alb-egress-port"]);
    let made = minutes_ago(30);
    let console = alb_egress_set_to(&s, 8080, "sso", "console", &made);
    let mut failed = alb_egress_set_to(&s, 8080, "iam_user", "cli", &minutes_ago(10));
    failed["record"]["errorCode"] = json!("Client.UnauthorizedOperation");
    let other_port = alb_egress_set_to(&s, 9090, "terraform_role", "terraform", &minutes_ago(20));
    s.moto.trail.add(&[console.clone(), failed, other_port]);

    let (code, report) = s.report(&[]);
    let findings = drift(&report);
    assert_eq!(codes(&findings), ["rule-modified"], "{findings:#?}");
    let sso = identity("sso");
    assert_eq!(
        findings[0]["changed_by"],
        json!({
            "principal": sso["arn"],
            "event": "ModifySecurityGroupRules",
            "time": reported_time(&made),
            "source_ip": "AWS Internal",
            "user_agent": "AWS Internal",
            "via": "console",
            "event_id": console["record"]["eventID"],
        })
    );
    // Attribution does not change what the scan says of the drift.
    assert_eq!(code, 2);
    assert_eq!(
        trail_sources(&report),
        [
            json!({"kind": "cloudtrail", "location": format!("{ACCOUNT}/us-east-1"), "ok": true,
                "error": null, "account_id": ACCOUNT, "region": "us-east-1"})
        ]
    );
    // One lookup, by the group: the event lists it.
    let requests = s.moto.trail.requests();
    let asked: Vec<&Value> = requests.iter().map(|r| &r["attributes"]).collect();
    assert_eq!(
        asked,
        [&json!([{"AttributeKey": "ResourceName", "AttributeValue": s.group("alb-public")}])]
    );
    assert_eq!(report["scan"]["api_calls"]["cloudtrail:LookupEvents"], 1);

    // People read it under the finding.
    let table = driftd_with_env(
        &["report", "--state", &s.state(), "--region", "us-east-1"],
        &s.moto.env(),
    );
    let when = made.as_str().unwrap().replace('T', " ");
    let line = format!(
        "changed by jane.doe@example.com via console at {} UTC (ModifySecurityGroupRules)",
        &when[..16]
    );
    // The table wraps long lines: compare words.
    assert!(
        words(&table.stdout).contains(&line),
        "{line}\n{}",
        table.stdout
    );
}

/// Incident 2: alb-public detached from the load balancer, which got a group made by
/// hand. The detach (`SetSecurityGroups`) explains both the load balancer's changed
/// groups and the front rule that now reaches nothing; the group's creation explains
/// the unmanaged group, and the declared flow it broke. On a first scan, with no
/// history of what carried alb-public.
#[test]
fn the_detach_is_tied_to_the_load_balancer_and_to_the_rule_it_emptied() {
    let s = Scenario::new(&["alb-detached"]);
    let by_hand = s.seed["drift"]["alb-detached"].as_str().unwrap();
    let lb = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/alb-public/50dc6c495c0c9188";
    let created = event_by(
        "CreateSecurityGroup",
        "sso",
        "console",
        &[
            ("GROUP_ID", json!(by_hand)),
            ("GROUP_NAME", json!("alb-by-hand")),
            ("EVENT_TIME", minutes_ago(14)),
        ],
    );
    let detach = event_by(
        "SetSecurityGroups.elbv2",
        "sso",
        "console",
        &[
            ("GROUP_ID", json!(by_hand)),
            ("LB_ARN", json!(lb)),
            ("EVENT_TIME", minutes_ago(12)),
        ],
    );
    s.moto.trail.add(&[created.clone(), detach.clone()]);

    // The path the detach broke, declared as a flow.
    let run = s.report_with(
        "[[flow]]\nname = \"alb-to-front\"\nfrom = \"module.lb.aws_lb.public\"\n\
         to = 'module.net.aws_security_group.this[\"ecs-front\"]'\nport = 80\n",
    );
    let report = run.json();
    assert_valid_report(&report);
    let findings = drift(&report);
    let event_of = |code: &str| only(&findings, code)["changed_by"]["event_id"].clone();
    assert_eq!(event_of("attachment-modified"), detach["record"]["eventID"]);
    assert_eq!(event_of("reference-empty"), detach["record"]["eventID"]);
    assert_eq!(event_of("flow-broken"), detach["record"]["eventID"]);
    assert_eq!(event_of("sg-unmanaged"), created["record"]["eventID"]);
}

/// Two changes to one group, one by hand in the console and one by Terraform's
/// role, each tied to its own event; an event on another group is not taken. An
/// `[[acknowledge]] changed_by` naming the pipeline's role covers its change only.
#[test]
fn a_console_change_and_a_terraform_change_on_one_group_are_told_apart() {
    let s = Scenario::new(&["ssh-open", "revoke-db-egress"]);
    let api = s.group("ecs-api");
    let ssh = event_by(
        "AuthorizeSecurityGroupIngress.current",
        "sso",
        "console",
        &[
            ("GROUP_ID", json!(api)),
            ("FROM_PORT", json!(22)),
            ("TO_PORT", json!(22)),
            ("CIDR", json!("0.0.0.0/0")),
            ("EVENT_TIME", minutes_ago(40)),
        ],
    );
    let mut revoke = event_by(
        "RevokeSecurityGroupEgress.by_ip_permissions",
        "terraform_role",
        "terraform",
        &[
            ("GROUP_ID", json!(api)),
            ("FROM_PORT", json!(3306)),
            ("TO_PORT", json!(3306)),
            ("EVENT_TIME", minutes_ago(35)),
        ],
    );
    // Revoked as Terraform declares it: to the database's group.
    let permission = &mut revoke["record"]["requestParameters"]["ipPermissions"]["items"][0];
    permission["groups"] = json!({"items": [{"groupId": s.group("rds")}]});
    permission["ipRanges"] = json!({});
    // The same ssh rule opened later on another group.
    let elsewhere = event_by(
        "AuthorizeSecurityGroupIngress.current",
        "iam_user",
        "cli",
        &[
            ("GROUP_ID", json!(s.group("ecs-front"))),
            ("FROM_PORT", json!(22)),
            ("TO_PORT", json!(22)),
            ("CIDR", json!("0.0.0.0/0")),
            ("EVENT_TIME", minutes_ago(5)),
        ],
    );
    s.moto.trail.add(&[ssh.clone(), revoke.clone(), elsewhere]);

    // The pipeline's own role is trusted; hands are not.
    let run = s.report_with(
        "[[acknowledge]]\nchanged_by = \"arn:aws:iam::*:role/Operator\"\n\
         reason = \"what Terraform's role applies was reviewed\"\n",
    );
    let report = run.json();
    assert_valid_report(&report);
    let findings = drift(&report);
    assert_eq!(only(&findings, "rule-added")["acknowledged"], Value::Null);
    assert_eq!(
        only(&findings, "rule-removed")["acknowledged"]["reason"],
        "what Terraform's role applies was reviewed"
    );
    assert_eq!(run.code, 2, "the hand change still fails the run");
    let added = &only(&findings, "rule-added")["changed_by"];
    assert_eq!(added["via"], "console");
    assert_eq!(added["principal"], identity("sso")["arn"]);
    assert_eq!(added["event"], "AuthorizeSecurityGroupIngress");
    assert_eq!(added["event_id"], ssh["record"]["eventID"]);
    let removed = &only(&findings, "rule-removed")["changed_by"];
    assert_eq!(removed["via"], "terraform");
    assert_eq!(removed["principal"], identity("terraform_role")["arn"]);
    assert_eq!(removed["event"], "RevokeSecurityGroupEgress");
    assert_eq!(removed["event_id"], revoke["record"]["eventID"]);
    assert_eq!(report["scan"]["api_calls"]["cloudtrail:LookupEvents"], 1);
}

/// CloudTrail delivers minutes late: a fresh change with no event yet is pending,
/// alerted once; on the next scan the event is there and the finding gets it,
/// without a second alert; after that it is never asked for again.
#[test]
fn a_change_without_its_event_yet_is_pending_then_attributed_without_a_second_alert() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let slack = rt.block_on(wiremock::MockServer::start());
    rt.block_on(
        wiremock::Mock::given(wiremock::matchers::method("POST"))
            .respond_with(wiremock::ResponseTemplate::new(200).set_body_string("ok"))
            .mount(&slack),
    );
    let s = Scenario::new(&["alb-egress-port"]);
    let config = s.dir.path().join("notify.toml");
    std::fs::write(
        &config,
        format!(
            "[scan]\nregions = [\"us-east-1\"]\n[[terraform]]\nstate = {1}\n\
             [notify.slack]\nwebhook_url = \"{0}/services/T0/B0/x\"\nmin_severity = \"info\"\n\
             [notify.webhook]\nurl = \"{0}/hook\"\nsecret = \"s3cr3t\"\n",
            slack.uri(),
            toml::Value::String(s.state()),
        ),
    )
    .unwrap();
    let mut env = s.moto.env();
    env.push(database_env(&s.dir.path().join("driftd.db")));
    let scan = || {
        // A second apart: each run is a new process, which cannot know when the
        // last one called CloudTrail (the daemon's scans are minutes apart).
        std::thread::sleep(std::time::Duration::from_secs(1));
        let run = driftd_with_env(
            &[
                "report",
                "--config",
                config.to_str().unwrap(),
                "--format",
                "json",
                "--notify",
            ],
            &env,
        );
        assert_eq!(run.code, 2, "{}", run.stderr);
        run.json()
    };
    // What Slack got (the webhook's posts go to /hook).
    let sent = || {
        let all = rt.block_on(slack.received_requests()).unwrap();
        all.into_iter()
            .filter(|r| r.url.path() != "/hook")
            .collect::<Vec<_>>()
    };
    let hooked = || {
        let all = rt.block_on(slack.received_requests()).unwrap();
        all.into_iter()
            .filter(|r| r.url.path() == "/hook")
            .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap())
            .collect::<Vec<_>>()
    };

    let first = scan();
    let findings = drift(&first);
    assert_eq!(codes(&findings), ["rule-modified"]);
    assert_eq!(findings[0]["changed_by"], json!({"pending": true}));
    assert_eq!(sent().len(), 1);
    let message = String::from_utf8_lossy(&sent()[0].body).into_owned();
    assert!(message.contains("pending"), "{message}");
    let hooks = hooked();
    assert_eq!(hooks.len(), 1);
    assert_eq!(
        hooks[0]["notices"][0]["finding"]["changed_by"],
        json!({"pending": true})
    );

    let made = minutes_ago(2);
    let console = alb_egress_set_to(&s, 8080, "sso", "console", &made);
    s.moto.trail.add(std::slice::from_ref(&console));
    let second = scan();
    let findings = drift(&second);
    assert_eq!(
        findings[0]["changed_by"]["event_id"],
        console["record"]["eventID"],
        "{:#}\n{:#}",
        findings[0],
        json!(s.moto.trail.requests())
    );
    assert_eq!(findings[0]["changed_by"]["time"], reported_time(&made));
    assert_eq!(findings[0]["first_seen"], drift(&first)[0]["first_seen"]);
    assert_eq!(
        sent().len(),
        1,
        "the attribution alone sends no second alert"
    );
    assert_eq!(hooked().len(), 1);
    // Found by the group, so no lookup by event name this time.
    assert_eq!(second["scan"]["api_calls"]["cloudtrail:LookupEvents"], 1);
    let asked = s.moto.trail.requests().len();

    let third = scan();
    assert_eq!(
        drift(&third)[0]["changed_by"],
        drift(&second)[0]["changed_by"]
    );
    assert_eq!(s.moto.trail.requests().len(), asked, "an answer is kept");
    assert_eq!(
        third["scan"]["api_calls"].get("cloudtrail:LookupEvents"),
        None
    );
}

/// `history` says who made each change it lists: the ALB's egress port edited
/// between two stored scans, and the event that did it.
#[test]
fn history_says_who_made_each_change() {
    let s = Scenario::new(&[]);
    let mut env = s.moto.env();
    env.push(database_env(&s.dir.path().join("driftd.db")));
    let state = s.state();
    let scan = || {
        let run = driftd_with_env(
            &["report", "--state", &state, "--region", "us-east-1"],
            &env,
        );
        assert_ne!(run.code, 1, "{}", run.stderr);
    };
    scan();
    s.moto.python(&format!(
        "ec2.modify_security_group_rules(GroupId='{}', SecurityGroupRules=[{{\
         'SecurityGroupRuleId': '{}', 'SecurityGroupRule': {{'IpProtocol': 'tcp', \
         'FromPort': 8080, 'ToPort': 8080, 'ReferencedGroupId': '{}', \
         'Description': 'to ecs-front tasks'}}}}])",
        s.group("alb-public"),
        s.rule("alb_to_front"),
        s.group("ecs-front")
    ));
    let made = minutes_ago(0);
    let console = alb_egress_set_to(&s, 8080, "sso", "console", &made);
    s.moto.trail.add(std::slice::from_ref(&console));
    scan();

    let history = driftd_with_env(&["history", "--format", "json"], &env);
    assert_eq!(history.code, 0, "{}", history.stderr);
    let entries = history.json();
    let modified: Vec<&Value> = entries
        .as_array()
        .expect("a list of changes")
        .iter()
        .filter(|e| e["group_id"] == s.group("alb-public").as_str())
        .collect();
    assert_eq!(modified.len(), 1, "{entries:#}");
    assert_eq!(
        modified[0]["changed_by"]["event_id"],
        console["record"]["eventID"]
    );
    let table = driftd_with_env(&["history"], &env);
    assert!(
        words(&table.stdout).contains("(by jane.doe@example.com via console at"),
        "{}",
        table.stdout
    );
}

/// Attribution never breaks a scan: CloudTrail refused or unreachable leaves
/// `changed_by` absent and says so in `scan.sources`, and the scan stays complete
/// with the same exit code.
#[test]
fn cloudtrail_refused_or_down_leaves_the_scan_whole() {
    let s = Scenario::new(&["alb-egress-port"]);
    s.moto.trail.deny("testing");
    let (code, refused) = s.report(&[]);
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut env = s.moto.env();
    env.retain(|(k, _)| k != "AWS_ENDPOINT_URL_CLOUDTRAIL");
    env.push((
        "AWS_ENDPOINT_URL_CLOUDTRAIL".into(),
        format!("http://127.0.0.1:{dead}"),
    ));
    let down = s.report_in(&env, &[]);
    for (run_code, report, error) in [
        (code, refused, "AccessDenied"),
        (down.code, down.json(), "Connection refused"),
    ] {
        assert_eq!(run_code, 2);
        assert_valid_report(&report);
        assert_eq!(report["scan"]["complete"], true, "{report:#}");
        let findings = drift(&report);
        assert_eq!(codes(&findings), ["rule-modified"]);
        assert_eq!(findings[0].get("changed_by"), None, "{:#}", findings[0]);
        let sources = trail_sources(&report);
        assert_eq!(sources.len(), 1, "{sources:#?}");
        assert_eq!(sources[0]["ok"], false);
        let said = sources[0]["error"].as_str().unwrap();
        assert!(said.contains(error), "{said}");
        assert!(!said.contains("testing"), "no credential echoed: {said}");
    }
    assert!(
        down.stderr.contains("CloudTrail could not be read"),
        "{}",
        down.stderr
    );
}

/// `[cloudtrail] enabled = false`: nothing is asked and nothing is said.
#[test]
fn cloudtrail_turned_off_is_not_asked() {
    let s = Scenario::new(&["alb-egress-port"]);
    let run = s.report_with("[cloudtrail]\nenabled = false\n");
    assert_eq!(run.code, 2, "{}", run.stderr);
    let report = run.json();
    let findings = drift(&report);
    assert_eq!(codes(&findings), ["rule-modified"]);
    assert_eq!(findings[0].get("changed_by"), None);
    assert!(trail_sources(&report).is_empty());
    assert!(s.moto.trail.requests().is_empty());
}
