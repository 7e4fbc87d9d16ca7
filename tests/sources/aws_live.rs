//! End-to-end against a real local AWS endpoint (moto server, see docs/local-aws.md):
//! the five-group ECS chain of DESIGN.md seeded through the EC2 API with its matching
//! Terraform state, then each incident's drift applied, and driftd run as a user would.

use crate::scenario::Scenario;
use crate::support::cli::*;
use crate::support::moto::Moto;
use crate::support::region_gate;
use serde_json::{Value, json};

#[test]
fn seeded_chain_matches_its_state_at_the_minimum_of_calls() {
    let s = Scenario::new(&[]);
    let (code, report) = s.report(&[]);
    assert_eq!(drift(&report), Vec::<Value>::new());
    assert_eq!(code, 0);
    assert_eq!(report["summary"]["managed_security_groups"], 5);
    assert_eq!(report["summary"]["declared_rules"], 12);
    assert_eq!(
        report["scan"]["api_calls"],
        // The state's load balancer is asked of ELBv2 too.
        json!({"ec2:DescribeNetworkInterfaces": 1, "ec2:DescribeSecurityGroupRules": 1,
               "ec2:DescribeSecurityGroups": 1, "elasticloadbalancing:DescribeLoadBalancers": 1})
    );
    // The all-clear covers what carries the groups too: the interfaces were read.
    assert_eq!(report["scan"]["sources"][2]["kind"], "network-interfaces");
    assert_eq!(report["scan"]["sources"][2]["ok"], true);
    assert_eq!(report["scan"]["sources"][1]["kind"], "ec2");
    assert_eq!(
        report["scan"]["sources"][1]["location"],
        "123456789012/us-east-1"
    );
}

#[test]
fn alb_egress_port_changed() {
    let s = Scenario::new(&["alb-egress-port"]);
    let (code, report) = s.report(&[]);
    let findings = drift(&report);
    assert_eq!(codes(&findings), ["rule-modified"], "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f["resource"]["id"], s.rule("alb_to_front"));
    assert_eq!(f["resource"]["group_id"], s.group("alb-public"));
    assert_eq!(f["resource"]["group_name"], "alb-public");
    assert_eq!(
        f["owner"]["address"],
        "module.net.aws_vpc_security_group_egress_rule.alb_to_front"
    );
    assert_eq!(
        f["changes"],
        json!([{"field": "from_port", "expected": 80, "actual": 8080},
               {"field": "to_port", "expected": 80, "actual": 8080}])
    );
    assert_eq!(code, 2);
}

#[test]
fn ssh_from_the_internet_added() {
    let s = Scenario::new(&["ssh-open"]);
    let (_, report) = s.report(&[]);
    let findings = drift(&report);
    assert_eq!(codes(&findings), ["rule-added"], "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["owner"]["kind"], "none");
    assert_eq!(f["resource"]["group_id"], s.group("ecs-api"));
    assert_eq!(f["resource"]["id"], s.seed["drift"]["ssh-open"]);
    assert_eq!(
        f["actual"]["peer"],
        json!({"kind": "cidr_ipv4", "value": "0.0.0.0/0"})
    );
    assert_eq!(
        (
            f["actual"]["from_port"].clone(),
            f["actual"]["to_port"].clone()
        ),
        (json!(22), json!(22))
    );
}

/// Incident 2 as it really happens: the shared group is detached from the load
/// balancer (`ModifyNetworkInterfaceAttribute`), not deleted. Every rule and group
/// is unchanged; ecs-front still allows port 80 only from alb-public, which nothing
/// carries any more.
#[test]
fn alb_detached_from_its_group_leaves_the_front_rule_empty() {
    let s = Scenario::new(&["alb-detached"]);
    let (code, report) = s.report(&[]);
    assert_eq!(code, 2);
    let findings = drift(&report);
    let mut got = codes(&findings);
    got.sort();
    // The load balancer no longer carries what its state declares, the front rule
    // allows a group nothing carries, and the group made by hand is nobody's.
    assert_eq!(
        got,
        ["attachment-modified", "reference-empty", "sg-unmanaged"],
        "{findings:#?}"
    );
    let attachment = findings
        .iter()
        .find(|f| f["code"] == "attachment-modified")
        .unwrap();
    let by_hand_id = s.seed["drift"]["alb-detached"].as_str().unwrap();
    assert_eq!(
        attachment["changes"],
        json!([{"field": "security_groups", "expected": [s.group("alb-public")], "actual": [by_hand_id]}])
    );
    let empty = findings
        .iter()
        .find(|f| f["code"] == "reference-empty")
        .unwrap();
    let (front, alb) = (s.group("ecs-front"), s.group("alb-public"));
    assert_eq!(empty["severity"], "high");
    assert_eq!(empty["resource"]["group_id"], front);
    assert_eq!(empty["resource"]["id"], s.rule("front_in"));
    assert_eq!(empty["direction"], "ingress");
    assert_eq!(
        empty["actual"]["peer"],
        json!({"kind": "security_group", "value": alb})
    );
    assert_eq!(
        (
            empty["actual"]["from_port"].clone(),
            empty["actual"]["to_port"].clone()
        ),
        (json!(80), json!(80))
    );
    assert_eq!(
        empty["owner"]["address"],
        "module.ecs.aws_security_group_rule.front[\"from_alb\"]"
    );
    let task = &s.seed["interfaces"]["ecs-front"];
    assert_eq!(
        empty["message"],
        format!(
            "ecs-front ({front}) (carried by ecs task {}): ingress tcp 80 from {alb} allows \
             alb-public ({alb}), which no network interface carries; traffic through this rule \
             reaches nothing",
            task.as_str().unwrap()
        )
    );
    // The group made by hand now on the ALB: unmanaged, open to the world.
    let by_hand = findings
        .iter()
        .find(|f| f["code"] == "sg-unmanaged")
        .unwrap();
    assert_eq!(
        by_hand["resource"]["group_id"],
        s.seed["drift"]["alb-detached"]
    );
    // HTTPS from anywhere: a web port, so not critical.
    assert_eq!(by_hand["severity"], "medium");

    // The table says what carries each group, and that alb-public is carried by nothing.
    let state = s.state();
    let table = driftd_with_env(
        &["report", "--state", &state, "--region", "us-east-1"],
        &s.moto.env(),
    );
    // The heading wraps between its parts at the table's width.
    let at = table
        .stdout
        .find(&format!("ecs-front ({front}) · "))
        .expect("a heading for ecs-front");
    let heading: Vec<&str> = table.stdout[at..]
        .lines()
        .take_while(|line| !line.starts_with("  "))
        .collect();
    let heading = heading.join(" ");
    assert!(
        heading.contains(&format!("· carried by ecs task {}", task.as_str().unwrap())),
        "{heading}\n{}",
        table.stdout
    );
}

/// A permissive existing group attached by hand to the load balancer: no rule
/// changed, the state's `aws_lb.security_groups` no longer matches what it carries.
#[test]
fn a_permissive_group_attached_by_hand_to_the_alb() {
    let s = Scenario::new(&["alb-extra-group"]);
    let (code, report) = s.report(&[]);
    assert_eq!(code, 2);
    let findings = drift(&report);
    let mut got = codes(&findings);
    got.sort();
    assert_eq!(
        got,
        ["attachment-modified", "sg-unmanaged"],
        "{findings:#?}"
    );
    let f = findings
        .iter()
        .find(|f| f["code"] == "attachment-modified")
        .unwrap();
    let (alb, wide) = (
        s.group("alb-public"),
        s.seed["drift"]["alb-extra-group"]
            .as_str()
            .unwrap()
            .to_string(),
    );
    assert_eq!(f["severity"], "high");
    assert_eq!(f["resource"]["type"], "load_balancer");
    assert_eq!(f["resource"]["id"], "app/alb-public/50dc6c495c0c9188");
    assert_eq!(f["owner"]["address"], "module.lb.aws_lb.public");
    let mut live = vec![alb.clone(), wide.clone()];
    live.sort();
    assert_eq!(
        f["changes"],
        json!([{"field": "security_groups", "expected": [alb], "actual": live}])
    );
    let state = s.state();
    assert_eq!(
        f["message"],
        format!(
            "ELB app/alb-public carries wide-open ({wide}), which module.lb.aws_lb.public ({state}) \
             does not declare; it allows ingress tcp 0-65535 from 0.0.0.0/0, egress all to 0.0.0.0/0"
        )
    );
    // The table heads it with the load balancer.
    let table = driftd_with_env(
        &["report", "--state", &state, "--region", "us-east-1"],
        &s.moto.env(),
    );
    assert!(
        table
            .stdout
            .contains("ELB app/alb-public · 123456789012/us-east-1\n  high"),
        "{}",
        table.stdout
    );
}

/// The chain's declared paths (ALB → ecs-front, ecs-front → alb-internal, ecs-api
/// → rds) hold on the seeded chain, and the ALB → ecs-front one breaks, with its
/// reason, when alb-public is detached from the load balancer.
#[test]
fn declared_flows_hold_and_break_when_the_alb_is_detached() {
    let flows = |s: &Scenario| -> (i32, Value) {
        let run = s.report_with(&format!(
            "[[flow]]\nname = \"alb-to-front\"\nfrom = \"module.lb.aws_lb.public\"\n\
             to = 'module.net.aws_security_group.this[\"ecs-front\"]'\nport = 80\n\
             [[flow]]\nname = \"front-to-internal\"\nfrom = \"ecs-front\"\nto = \"alb-internal\"\nport = 80\n\
             [[flow]]\nname = \"api-to-rds\"\nfrom = \"{}\"\nto = \"rds\"\nport = 3306\n",
            s.group("ecs-api"),
        ));
        assert_ne!(run.code, 1, "{}", run.stderr);
        (run.code, run.json())
    };
    let clean = Scenario::new(&[]);
    let (code, report) = flows(&clean);
    assert_eq!(drift(&report), Vec::<Value>::new());
    assert_eq!(code, 0);
    assert_eq!(report["summary"]["compared_security_groups"], 5);

    let detached = Scenario::new(&["alb-detached"]);
    let (code, report) = flows(&detached);
    assert_eq!(code, 2);
    let findings = drift(&report);
    let broken: Vec<&Value> = findings
        .iter()
        .filter(|f| f["code"] == "flow-broken")
        .collect();
    assert_eq!(broken.len(), 1, "{findings:#?}");
    let f = broken[0];
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["resource"]["type"], "flow");
    assert_eq!(f["resource"]["id"], "alb-to-front");
    let (front, alb) = (detached.group("ecs-front"), detached.group("alb-public"));
    let by_hand = detached.seed["drift"]["alb-detached"].as_str().unwrap();
    let message = f["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "flow alb-to-front (tcp 80 from module.lb.aws_lb.public to \
             module.net.aws_security_group.this[\"ecs-front\"]): ecs-front ({front})'s ingress \
             blocks it: its groups (ecs-front ({front})) allow tcp 80 only from alb-public ({alb}); \
             ELB app/alb-public (module.lb.aws_lb.public) ("
        )) && message.ends_with(&format!("carries alb-by-hand ({by_hand})")),
        "{message}"
    );
}

#[test]
fn unowned_group() {
    let s = Scenario::new(&["unowned-group"]);
    let (_, report) = s.report(&[]);
    let findings = drift(&report);
    // moto gives a new group allow-all egress: it is part of the group, not a finding
    // of its own (the group is unmanaged as a whole).
    assert_eq!(codes(&findings), ["sg-unmanaged"], "{findings:#?}");
    assert_eq!(
        findings[0]["resource"]["id"],
        s.seed["drift"]["unowned-group"]
    );
    assert_eq!(findings[0]["resource"]["group_name"], "launch-wizard-1");
    assert_eq!(findings[0]["severity"], "medium");
}

#[test]
fn declared_rule_revoked() {
    let s = Scenario::new(&["revoke-db-egress"]);
    let (_, report) = s.report(&[]);
    let findings = drift(&report);
    assert_eq!(codes(&findings), ["rule-removed"], "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f["expected"]["rule_id"], s.rule("api_db"));
    assert_eq!(f["expected"]["peer"]["value"], s.group("rds"));
    assert_eq!(f["expected"]["to_port"], 3306);
    assert_eq!(
        f["owner"]["address"],
        "module.ecs.aws_security_group_rule.api[\"to_rds\"]"
    );
}

#[test]
fn deleted_shared_group_dangles_and_was_a_hidden_dependency() {
    let s = Scenario::new(&["delete-shared"]);
    let (code, report) = s.report(&[]);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(
        codes(findings),
        ["reference-dangling", "dependency-hidden"],
        "{findings:#?}"
    );
    let dangling = &findings[0];
    assert_eq!(dangling["severity"], "critical");
    assert_eq!(dangling["resource"]["group_id"], s.group("ecs-front"));
    assert_eq!(dangling["actual"]["peer"]["value"], s.seed["shared"]);
    assert_eq!(dangling["actual"]["from_port"], 9100);
    assert_eq!(findings[1]["severity"], "info");
    assert_eq!(code, 2);
}

/// One region's endpoint fails: that region is a source error, the scan is partial
/// (exit 1), throttling-class failures were retried, and nothing in the failed
/// region is reported missing.
#[test]
fn a_failing_region_makes_a_partial_scan_without_false_deletions() {
    let s = Scenario::new(&[]);
    let gate = region_gate::RegionGate::start(format!("127.0.0.1:{}", s.moto.port), "eu-west-1");
    // The state also declares a group that lives in eu-west-1.
    let state_text = std::fs::read_to_string(s.state()).unwrap();
    let mut state: Value = serde_json::from_str(&state_text).unwrap();
    let mut eu = state["resources"][1]["instances"][0].clone();
    eu["index_key"] = json!("eu-only");
    eu["attributes"]["id"] = json!("sg-0e0e0e0e0e0e0e0e0");
    eu["attributes"]["arn"] =
        json!("arn:aws:ec2:eu-west-1:123456789012:security-group/sg-0e0e0e0e0e0e0e0e0");
    state["resources"][1]["instances"]
        .as_array_mut()
        .unwrap()
        .push(eu);
    let state_path = write_json(s.dir.path(), "with-eu.tfstate", &state);

    let mut env = s.moto.env_through(&gate.endpoint());
    env.push(("AWS_MAX_ATTEMPTS".into(), "3".into()));
    let run = driftd_with_env(
        &[
            "report",
            "--state",
            state_path.to_str().unwrap(),
            "--region",
            "us-east-1",
            "--region",
            "eu-west-1",
            "--format",
            "json",
        ],
        &env,
    );
    let (report, findings) = partial_report(&run);
    assert_eq!(codes(&findings), ["source-error"], "{findings:#?}");
    assert_eq!(findings[0]["region"], "eu-west-1");
    assert!(
        findings[0]["message"]
            .as_str()
            .unwrap()
            .contains("DescribeSecurityGroups")
    );
    // The cause, in words, without the SDK error's `Debug` dump.
    let message = findings[0]["message"].as_str().unwrap();
    assert!(
        message.contains("ServiceUnavailable: region down") && !message.contains("ServiceError {"),
        "{message}"
    );
    // The retries were said while they happened.
    for attempt in 1..=3 {
        assert!(
            run.stderr
                .contains(&format!("AWS call attempt {attempt} of up to 3 failed")),
            "{}",
            run.stderr
        );
    }
    // 1 call for us-east-1, 3 attempts for eu-west-1; as many for its interfaces,
    // read alongside.
    assert_eq!(report["scan"]["api_calls"]["ec2:DescribeSecurityGroups"], 4);
    assert_eq!(
        report["scan"]["api_calls"]["ec2:DescribeNetworkInterfaces"],
        4
    );
    assert_eq!(
        gate.failed_requests
            .load(std::sync::atomic::Ordering::SeqCst),
        6
    );
    let ok: Vec<&Value> = report["scan"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["ok"] == true)
        .collect();
    assert_eq!(
        ok.len(),
        4,
        "the state, and us-east-1's groups, interfaces and load balancers were read"
    );
}

/// One call hangs (the endpoint reads the request and never answers): its region
/// fails within the configured timeouts, and nothing it would have read, nor what the
/// call before it did read, becomes a finding.
#[test]
fn one_hung_call_fails_its_region_and_nothing_is_called_missing() {
    let s = Scenario::new(&["ssh-open"]);
    let relay = region_gate::RegionGate::hang_action(
        format!("127.0.0.1:{}", s.moto.port),
        "DescribeSecurityGroupRules",
    );
    let config = s.dir.path().join("driftd.toml");
    std::fs::write(
        &config,
        "[aws]\nread_timeout = \"1s\"\ncall_timeout = \"5s\"\n",
    )
    .unwrap();
    let env = s.moto.env_through(&relay.endpoint());
    let state = s.state();
    let run = driftd_with_env(
        &[
            "report",
            "--config",
            config.to_str().unwrap(),
            "--state",
            &state,
            "--region",
            "us-east-1",
            "--format",
            "json",
        ],
        &env,
    );
    let (report, findings) = partial_report(&run);
    assert_eq!(codes(&findings), ["source-error"], "{findings:#?}");
    let message = findings[0]["message"].as_str().unwrap();
    assert!(
        message.contains("DescribeSecurityGroupRules") && message.contains("timeout"),
        "{message}"
    );
    assert_eq!(report["scan"]["api_calls"]["ec2:DescribeSecurityGroups"], 1);
    assert!(
        relay
            .failed_requests
            .load(std::sync::atomic::Ordering::SeqCst)
            >= 2
    );
}

/// Two regions and an assumed-role member account in one scan.
#[test]
fn two_regions_and_an_assumed_role_account() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home.tfstate");
    moto.seed_chain(&home, &[]);
    let member = dir.path().join("member.tfstate");
    let role = "arn:aws:iam::210987654321:role/driftd-read";
    let seeded = moto.seed_chain(&member, &["--region", "eu-west-1", "--account-role", role]);
    assert_eq!(seeded["account"], "210987654321");
    let config = dir.path().join("driftd.toml");
    std::fs::write(
        &config,
        format!(
            "[scan]\nregions = [\"us-east-1\", \"eu-west-1\"]\n\n\
             [[account]]\nid = \"123456789012\"\n\n\
             [[account]]\nid = \"210987654321\"\nrole_arn = \"{role}\"\n\n\
             [[terraform]]\nstate = \"home.tfstate\"\n\n[[terraform]]\nstate = \"member.tfstate\"\n"
        ),
    )
    .unwrap();
    let run = driftd_with_env(
        &[
            "report",
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
        ],
        &moto.env(),
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, run.stdout);
    let report = run.json();
    assert_eq!(drift(&report), Vec::<Value>::new());
    assert_eq!(report["summary"]["managed_security_groups"], 10);
    assert_eq!(
        report["scan"]["api_calls"],
        // Rule ids only where the states' rule resources are: one region per account.
        json!({"ec2:DescribeNetworkInterfaces": 4, "ec2:DescribeSecurityGroupRules": 2,
               "ec2:DescribeSecurityGroups": 4, "elasticloadbalancing:DescribeLoadBalancers": 2,
               "sts:AssumeRole": 1})
    );
    let locations: Vec<&str> = report["scan"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == "ec2")
        .map(|s| s["location"].as_str().unwrap())
        .collect();
    assert_eq!(
        locations,
        [
            "123456789012/eu-west-1",
            "123456789012/us-east-1",
            "210987654321/eu-west-1",
            "210987654321/us-east-1"
        ]
    );
    // The member account's findings carry its account id.
    let dir2 = tempfile::tempdir().unwrap();
    let _ = dir2;
}

#[test]
fn state_from_s3_including_a_workspace_key() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let url = "s3://tfstate-bucket/env:/prod/network/terraform.tfstate";
    moto.seed_chain(&dir.path().join("unused.tfstate"), &["--s3", url]);
    let run = driftd_with_env(
        &[
            "report",
            "--state",
            url,
            "--region",
            "us-east-1",
            "--format",
            "json",
        ],
        &moto.env(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    assert_eq!(drift(&report), Vec::<Value>::new());
    assert_eq!(report["scan"]["api_calls"]["s3:GetObject"], 1);
    assert_eq!(report["findings"][0]["owner"]["location"], url);

    for (bad, expected) in [
        (
            "s3://tfstate-bucket/env:/staging/network/terraform.tfstate",
            "no object",
        ),
        ("s3://no-such-bucket/terraform.tfstate", "no bucket"),
        ("s3://tfstate-bucket", "expected s3://BUCKET/KEY"),
    ] {
        let run = driftd_with_env(
            &[
                "report",
                "--state",
                bad,
                "--region",
                "us-east-1",
                "--format",
                "json",
            ],
            &moto.env(),
        );
        assert_eq!(run.code, 1, "{bad}");
        assert!(run.stderr.contains(expected), "{bad}: {}", run.stderr);
        let codes: Vec<String> = run.json()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            codes,
            ["source-error"],
            "{bad}: an unread state makes nothing unmanaged"
        );
    }
    // A bucket object that is not a state.
    moto.python("s3.put_object(Bucket='tfstate-bucket', Key='notes.txt', Body=b'hello')");
    let run = driftd_with_env(
        &[
            "report",
            "--state",
            "s3://tfstate-bucket/notes.txt",
            "--region",
            "us-east-1",
        ],
        &moto.env(),
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("s3://tfstate-bucket/notes.txt: invalid JSON"),
        "{}",
        run.stderr
    );
}

/// The per-service endpoint variable wins over the general one.
#[test]
fn per_service_endpoint_variables_are_honoured() {
    let s = Scenario::new(&[]);
    let mut env = s.moto.env_through("http://127.0.0.1:9");
    env.push(("AWS_ENDPOINT_URL_EC2".into(), s.moto.endpoint()));
    // The state declares a load balancer: ELBv2 is asked too, through its own name.
    env.push((
        "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2".into(),
        s.moto.endpoint(),
    ));
    let run = s.report_in(&env, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(drift(&run.json()), Vec::<Value>::new());
}

#[test]
fn refs_lists_everything_that_references_a_group() {
    let s = Scenario::new(&[]);
    let front = s.group("ecs-front");
    let state = s.state();
    let run = driftd_with_env(
        &[
            "refs",
            &front,
            "--state",
            &state,
            "--region",
            "us-east-1",
            "--format",
            "json",
        ],
        &s.moto.env(),
    );
    assert_eq!(run.code, 2, "referenced: exit 2\n{}", run.stderr);
    let refs = run.json();
    assert_eq!(refs["exists"], true);
    assert_eq!(refs["group_name"], "ecs-front");
    let live: Vec<(&str, &str)> = refs["live_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["group_id"].as_str().unwrap(),
                r["direction"].as_str().unwrap(),
            )
        })
        .collect();
    let mut expected = vec![
        (s.group("alb-public"), "egress".to_string()),
        (s.group("alb-internal"), "ingress".to_string()),
    ];
    expected.sort();
    let mut live: Vec<(String, String)> = live
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    live.sort();
    assert_eq!(live, expected);
    let declared: Vec<&str> = refs["declared_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["owner"]["address"].as_str().unwrap())
        .collect();
    assert_eq!(declared.len(), 2, "{declared:?}");
    assert!(declared.contains(&"module.net.aws_vpc_security_group_egress_rule.alb_to_front"));
    // What carries it: the seeded task's interface, described by its attachment.
    let task = s.seed["interfaces"]["ecs-front"].as_str().unwrap();
    assert_eq!(refs["network_interfaces"].as_array().unwrap().len(), 1);
    assert_eq!(refs["network_interfaces"][0]["id"], task);
    assert!(
        refs["network_interfaces"][0]["description"]
            .as_str()
            .unwrap()
            .contains(":attachment/"),
        "{refs:#}"
    );
    let text = driftd_with_env(
        &["refs", &front, "--state", &state, "--region", "us-east-1"],
        &s.moto.env(),
    );
    assert!(
        text.stdout
            .contains(&format!("us-east-1 {task}: ecs task {task}")),
        "{}",
        text.stdout
    );

    // The shared group: read by a data source, referenced by ecs-front's rule.
    let shared = s.seed["shared"].as_str().unwrap();
    let run = driftd_with_env(
        &["refs", shared, "--state", &state, "--region", "us-east-1"],
        &s.moto.env(),
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stdout
            .contains("module.ecs.data.aws_security_group.shared"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("data sources reading it (1)"),
        "{}",
        run.stdout
    );

    // A group nothing references.
    let lonely = s.moto.python(&format!(
        "print(ec2.create_security_group(GroupName='lonely', Description='x', VpcId='{}')['GroupId'])",
        s.seed["vpc"].as_str().unwrap()
    ));
    let run = driftd_with_env(
        &[
            "refs",
            lonely.trim(),
            "--state",
            &state,
            "--region",
            "us-east-1",
        ],
        &s.moto.env(),
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("Nothing read references it."));
}

/// With no `--region` and no `[scan] regions`, the regions read are those the state
/// lives in (its ARNs), not the SDK's default; a wrong `--region` is said, exit 1,
/// and nothing is called missing.
#[test]
fn regions_default_to_the_intent_and_a_wrong_region_is_never_an_all_clear() {
    let s = Scenario::new(&[]);
    let state = s.state();
    // The SDK's default region is elsewhere (a wrong AWS_REGION).
    let mut env = s.moto.env();
    env.retain(|(k, _)| k != "AWS_REGION");
    env.push(("AWS_REGION".into(), "eu-west-1".into()));
    let run = driftd_with_env(&["report", "--state", &state, "--format", "json"], &env);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    assert_valid_report(&report);
    assert_eq!(drift(&report), Vec::<Value>::new());
    assert_eq!(report["summary"]["compared_security_groups"], 5);
    assert_eq!(
        report["scan"]["sources"][1]["location"],
        "123456789012/us-east-1"
    );

    let run = driftd_with_env(
        &[
            "report",
            "--state",
            &state,
            "--region",
            "eu-west-1",
            "--format",
            "json",
        ],
        &env,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    assert_valid_report(&report);
    let found = drift(&report);
    let codes: Vec<&Value> = found.iter().map(|f| &f["code"]).collect();
    assert_eq!(codes, ["scope-unscanned"], "{found:#?}");
    assert_eq!(found[0]["resource"]["id"], "123456789012/us-east-1");
    assert_eq!(report["summary"]["compared_security_groups"], 0);
    assert!(
        run.stderr
            .contains("none of the 5 declared groups was compared")
            && run.stderr.contains("--region"),
        "{}",
        run.stderr
    );
}

/// ECS answers `ListTasks`/`DescribeTasks` from a local HTTP server speaking its
/// protocol (AWS JSON 1.1, `X-Amz-Target: AmazonEC2ContainerServiceV20141113.*`):
/// moto runs no task of a service (docs/local-aws.md). The shapes are those of the
/// ECS API reference's examples: a task with its `ElasticNetworkInterface`
/// attachment and that attachment's details.
fn ecs_answering(rt: &tokio::runtime::Runtime, tasks: &[(&str, &str)]) -> wiremock::MockServer {
    use wiremock::matchers::{header, method};
    use wiremock::{Mock, ResponseTemplate};
    let target = |op: &str| format!("AmazonEC2ContainerServiceV20141113.{op}");
    let arns: Vec<String> = tasks
        .iter()
        .map(|(id, _)| format!("arn:aws:ecs:us-east-1:123456789012:task/prod/{id}"))
        .collect();
    let described: Vec<Value> = tasks
        .iter()
        .zip(&arns)
        .map(|((_, eni), arn)| {
            json!({"taskArn": arn, "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
                "group": "service:front", "lastStatus": "RUNNING", "launchType": "FARGATE",
                "attachments": [{"id": "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE", "type": "ElasticNetworkInterface",
                    "status": "ATTACHED", "details": [
                        {"name": "subnetId", "value": "subnet-0c9e8ba8"},
                        {"name": "networkInterfaceId", "value": eni},
                        {"name": "macAddress", "value": "02:74:b0:72:79:61"},
                        {"name": "privateIPv4Address", "value": "10.20.1.11"}]}]})
        })
        .collect();
    let json_11 = |body: Value| {
        ResponseTemplate::new(200)
            .insert_header("content-type", "application/x-amz-json-1.1")
            .set_body_json(body)
    };
    rt.block_on(async {
        let server = wiremock::MockServer::start().await;
        Mock::given(method("POST"))
            .and(header("x-amz-target", target("ListTasks").as_str()))
            .respond_with(json_11(json!({"taskArns": arns})))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(header("x-amz-target", target("DescribeTasks").as_str()))
            .respond_with(json_11(json!({"tasks": described, "failures": []})))
            .mount(&server)
            .await;
        server
    })
}

/// An ECS service whose tasks lost their group: the state's `aws_ecs_service`
/// declares ecs-front for the tasks of prod/front, and its task's interface now
/// carries alb-internal instead.
#[test]
fn an_ecs_service_whose_tasks_lost_their_group() {
    let s = Scenario::new(&[]);
    let front = s.group("ecs-front");
    let task_eni = s.seed["interfaces"]["ecs-front"]
        .as_str()
        .unwrap()
        .to_string();
    // The state declares the service.
    s.declare(json!({
        "module": "module.ecs", "mode": "managed", "type": "aws_ecs_service", "name": "front",
        "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
        "instances": [{"schema_version": 0, "sensitive_attributes": [], "attributes": {
            "id": "arn:aws:ecs:us-east-1:123456789012:service/prod/front", "name": "front",
            "cluster": "arn:aws:ecs:us-east-1:123456789012:cluster/prod", "desired_count": 1,
            "launch_type": "FARGATE",
            "network_configuration": [{"assign_public_ip": false, "security_groups": [front],
                                       "subnets": ["subnet-0c9e8ba8"]}]}}]}));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ecs = ecs_answering(&rt, &[("0a1b", task_eni.as_str())]);
    let mut env = s.moto.env();
    env.push(("AWS_ENDPOINT_URL_ECS".into(), ecs.uri()));
    let state_path = s.state();
    let report = |format: &str| {
        driftd_with_env(
            &[
                "report",
                "--state",
                &state_path,
                "--region",
                "us-east-1",
                "--format",
                format,
            ],
            &env,
        )
    };

    // As declared: nothing, and the task is named by its service.
    let run = report("json");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    assert_eq!(drift(&json), Vec::<Value>::new());
    assert_eq!(json["scan"]["api_calls"]["ecs:ListTasks"], 1);
    assert_eq!(json["scan"]["api_calls"]["ecs:DescribeTasks"], 1);
    let refs = driftd_with_env(
        &[
            "refs",
            &front,
            "--state",
            &state_path,
            "--region",
            "us-east-1",
        ],
        &env,
    );
    assert!(
        refs.stdout.contains(&format!("us-east-1 {task_eni}")),
        "{}",
        refs.stdout
    );

    // The task's interface loses ecs-front.
    let internal = s.group("alb-internal");
    s.moto.python(&format!(
        "ec2.modify_network_interface_attribute(NetworkInterfaceId='{task_eni}', Groups=['{internal}'])"
    ));
    let run = report("json");
    assert_eq!(run.code, 2, "{}", run.stderr);
    let findings = drift(&run.json());
    let f = findings
        .iter()
        .find(|f| f["code"] == "attachment-modified")
        .unwrap_or_else(|| panic!("{findings:#?}"));
    assert_eq!(f["resource"]["type"], "ecs_service");
    assert_eq!(f["resource"]["id"], "prod/front");
    assert_eq!(f["owner"]["address"], "module.ecs.aws_ecs_service.front");
    assert_eq!(
        f["changes"],
        json!([{"field": "security_groups", "expected": [front], "actual": [internal]}])
    );
    let table = report("table");
    assert!(
        words(&table.stdout).contains("ecs service prod/front (1 task)"),
        "{}",
        table.stdout
    );

    // ECS unreadable: a source error, and nothing said of the service.
    let mut down = s.moto.env();
    down.push(("AWS_ENDPOINT_URL_ECS".into(), "http://127.0.0.1:9".into()));
    down.push(("AWS_MAX_ATTEMPTS".into(), "1".into()));
    let run = driftd_with_env(
        &[
            "report",
            "--state",
            &state_path,
            "--region",
            "us-east-1",
            "--format",
            "json",
        ],
        &down,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let findings = drift(&run.json());
    assert!(
        findings.iter().all(|f| f["code"] != "attachment-modified"),
        "{findings:#?}"
    );
    assert!(
        findings.iter().any(|f| f["code"] == "source-error"
            && f["message"]
                .as_str()
                .unwrap()
                .starts_with("could not read the ECS services of 123456789012/us-east-1")),
        "{findings:#?}"
    );
}

/// A flow allowed only through a managed prefix list: its entries are read
/// (`GetManagedPrefixListEntries`) and judged as the interfaces' addresses.
#[test]
fn a_flow_through_a_prefix_list_is_judged_by_its_entries() {
    let s = Scenario::new(&[]);
    let (internal, api) = (s.group("alb-internal"), s.group("ecs-api"));
    let with_list = |cidr: &str| -> (i32, Value) {
        // The seeded interfaces are in 10.20.1.0/24.
        let pl = s.moto.python(&format!(
            "pl=ec2.create_managed_prefix_list(PrefixListName='lbs-{n}', MaxEntries=5, AddressFamily='IPv4', \
             Entries=[{{'Cidr': '{cidr}'}}])['PrefixList']['PrefixListId']\n\
             for group, call in (('{internal}', ec2.authorize_security_group_egress), ('{api}', ec2.authorize_security_group_ingress)):\n\
             \x20   call(GroupId=group, IpPermissions=[{{'IpProtocol': 'tcp', 'FromPort': 9000, 'ToPort': 9000, 'PrefixListIds': [{{'PrefixListId': pl}}]}}])\n\
             print(pl)",
            n = cidr.replace(['.', '/'], "-"),
        ));
        let run = s.report_with(
            "[[flow]]\nname = \"internal-to-api-9000\"\nfrom = \"alb-internal\"\nto = \"ecs-api\"\nport = 9000\n",
        );
        // Revoke what this list allowed, for the next one.
        s.moto.python(&format!(
            "pl='{}'\n\
             ec2.revoke_security_group_egress(GroupId='{internal}', IpPermissions=[{{'IpProtocol': 'tcp', 'FromPort': 9000, 'ToPort': 9000, 'PrefixListIds': [{{'PrefixListId': pl}}]}}])\n\
             ec2.revoke_security_group_ingress(GroupId='{api}', IpPermissions=[{{'IpProtocol': 'tcp', 'FromPort': 9000, 'ToPort': 9000, 'PrefixListIds': [{{'PrefixListId': pl}}]}}])",
            pl.trim()
        ));
        (run.code, run.json())
    };
    let flow_findings = |report: &Value| -> Vec<Value> {
        drift(report)
            .into_iter()
            .filter(|f| f["code"] == "flow-broken")
            .collect()
    };
    let (_, report) = with_list("10.20.1.0/24");
    assert_eq!(
        flow_findings(&report),
        Vec::<Value>::new(),
        "{:#}",
        report["findings"]
    );
    // One list, named by two rules: one call.
    assert_eq!(
        report["scan"]["api_calls"]["ec2:GetManagedPrefixListEntries"],
        1
    );
    let (_, report) = with_list("10.99.0.0/16");
    let broken = flow_findings(&report);
    assert_eq!(broken.len(), 1, "{:#}", report["findings"]);
    assert!(
        broken[0]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("alb-internal ({internal})'s egress blocks it")),
        "{}",
        broken[0]["message"]
    );
}

/// A load balancer the state declares is asked of ELBv2 (`DescribeLoadBalancers`):
/// its own groups, whatever its interfaces. moto keeps a load balancer's groups and
/// `SetSecurityGroups` (docs/local-aws.md).
#[test]
fn a_declared_load_balancer_is_compared_with_what_elbv2_says_it_carries() {
    let s = Scenario::new(&[]);
    let alb = s.group("alb-public");
    let vpc = s.seed["vpc"].as_str().unwrap();
    let arn = s.moto.python(&format!(
        "elb=boto3.client('elbv2', **kw)\n\
         a=ec2.create_subnet(VpcId='{vpc}', CidrBlock='10.20.2.0/24', AvailabilityZone='us-east-1a')['Subnet']['SubnetId']\n\
         b=ec2.create_subnet(VpcId='{vpc}', CidrBlock='10.20.3.0/24', AvailabilityZone='us-east-1b')['Subnet']['SubnetId']\n\
         print(elb.create_load_balancer(Name='web', Subnets=[a, b], SecurityGroups=['{alb}'])['LoadBalancers'][0]['LoadBalancerArn'])"
    ));
    let arn = arn.trim().to_string();
    s.declare(json!({
        "module": "module.lb", "mode": "managed", "type": "aws_lb", "name": "web",
        "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
        "instances": [{"schema_version": 0, "sensitive_attributes": [], "attributes": {
            "arn": arn, "id": arn, "name": "web", "load_balancer_type": "application",
            "security_groups": [alb]}}]}));

    let run = s.report_in(&s.moto.env(), &[]);
    let report = run.json();
    assert_eq!(run.code, 0, "{:#}\n{}", report["findings"], run.stderr);
    // The seed's state also declares a load balancer moto never made: the call for
    // both fails as LoadBalancerNotFound, and each is asked alone (1 + 2). That
    // answer is expected, never retried, and not warned of as a retry.
    assert_eq!(
        report["scan"]["api_calls"]["elasticloadbalancing:DescribeLoadBalancers"],
        3
    );
    assert!(!run.stderr.contains("AWS call attempt"), "{}", run.stderr);
    let elbv2 = report["scan"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "elbv2")
        .expect("an elbv2 source");
    assert_eq!(elbv2["ok"], true);

    let wide = s.moto.python(&format!(
        "elb=boto3.client('elbv2', **kw)\n\
         g=ec2.create_security_group(GroupName='wide-open', Description='wide-open', VpcId='{vpc}')['GroupId']\n\
         elb.set_security_groups(LoadBalancerArn='{arn}', SecurityGroups=['{alb}', g])\n\
         print(g)"
    ));
    let wide = wide.trim().to_string();
    let (code, report) = s.report(&[]);
    assert_eq!(code, 2);
    let findings = drift(&report);
    let f = findings
        .iter()
        .find(|f| f["code"] == "attachment-modified")
        .unwrap_or_else(|| panic!("{findings:#?}"));
    let key = arn.split_once(":loadbalancer/").unwrap().1;
    assert_eq!(f["resource"]["id"], key);
    assert_eq!(f["owner"]["address"], "module.lb.aws_lb.web");
    let mut live = vec![alb.clone(), wide];
    live.sort();
    assert_eq!(
        f["changes"],
        json!([{"field": "security_groups", "expected": [alb], "actual": live}])
    );
}

/// A flow whose endpoint nothing carries: the database's interface is deleted (its
/// instance stopped for good), and the API's path to it is broken, said so.
#[test]
fn a_flow_whose_endpoint_has_no_interface_is_broken() {
    let s = Scenario::new(&[]);
    let rds_eni = s.seed["interfaces"]["rds"].as_str().unwrap();
    s.moto.python(&format!(
        "ec2.delete_network_interface(NetworkInterfaceId='{rds_eni}')"
    ));
    let run = s.report_with(
        "[[flow]]\nname = \"api-to-rds\"\nfrom = \"ecs-api\"\nto = \"rds\"\nport = 3306\n",
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let findings = drift(&run.json());
    let broken: Vec<&Value> = findings
        .iter()
        .filter(|f| f["code"] == "flow-broken")
        .collect();
    assert_eq!(broken.len(), 1, "{findings:#?}");
    let rds = s.group("rds");
    assert_eq!(
        broken[0]["message"],
        format!(
            "flow api-to-rds (tcp 3306 from ecs-api to rds): rds ({rds}) has no network \
             interface: nothing carries the traffic"
        )
    );
}
