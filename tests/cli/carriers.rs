//! What carries the groups, from captured `aws ec2 describe-network-interfaces`
//! output (`--live`), as the CLI prints it: the chain's clean captures plus the
//! interfaces of its load balancers and tasks.

use crate::support::cli::*;
use serde_json::{Value, json};

const CLEAN_GROUPS: &str = "tests/fixtures/ecs-chain/clean-groups.json";
const CLEAN_RULES: &str = "tests/fixtures/ecs-chain/clean-rules.json";
const ALB_PUBLIC: &str = "sg-0a1b2c3d4e5f60001";
const ECS_FRONT: &str = "sg-0a1b2c3d4e5f60002";
const ALB_INTERNAL: &str = "sg-0a1b2c3d4e5f60003";
const ECS_API: &str = "sg-0a1b2c3d4e5f60004";
const RDS: &str = "sg-0a1b2c3d4e5f60005";
const SHARED_MONITORING: &str = "sg-0a1b2c3d4e5f6ffff";

/// One interface as `aws ec2 describe-network-interfaces` prints it (the fields of
/// the EC2 API reference's example; the ones driftd reads and a few it does not).
fn interface(id: &str, description: &str, groups: &[&str], ip: &str) -> Value {
    json!({
        "AvailabilityZone": "us-east-1a",
        "Description": description,
        "Groups": groups.iter().map(|g| json!({"GroupId": g, "GroupName": "x"})).collect::<Vec<_>>(),
        "InterfaceType": "interface",
        "Ipv6Addresses": [],
        "MacAddress": "02:74:b0:72:79:61",
        "NetworkInterfaceId": id,
        "OwnerId": "123456789012",
        "PrivateIpAddress": ip,
        "PrivateIpAddresses": [{"Primary": true, "PrivateIpAddress": ip}],
        "RequesterManaged": false,
        "SourceDestCheck": true,
        "Status": "in-use",
        "SubnetId": "subnet-0c9e8ba8",
        "TagSet": [],
        "VpcId": "vpc-0c0ffee1234567890"
    })
}

/// The chain's carriers (the shared monitoring group's scraper included: ecs-front
/// allows it); `alb` is what the public load balancer's interface carries.
fn interfaces(dir: &std::path::Path, alb: &str) -> std::path::PathBuf {
    let task = "arn:aws:ecs:us-east-1:123456789012:attachment/4f6a7c2e-1b3d-4e5f-8a9b-0c1d2e3f4a5b";
    let doc = json!({"NetworkInterfaces": [
        interface("eni-0a00000000000001", "ELB app/alb-public/50dc6c495c0c9188", &[alb], "10.20.1.10"),
        interface("eni-0a00000000000002", task, &[ECS_FRONT], "10.20.1.11"),
        interface("eni-0a00000000000003", "ELB app/alb-internal/7a1b2c3d4e5f6a7b", &[ALB_INTERNAL], "10.20.1.12"),
        interface("eni-0a00000000000004", task, &[ECS_API], "10.20.1.13"),
        interface("eni-0a00000000000005", "RDSNetworkInterface", &[RDS], "10.20.1.14"),
        interface("eni-0a00000000000006", "prometheus scraper", &[SHARED_MONITORING], "10.20.1.15"),
    ]});
    write_json(dir, "interfaces.json", &doc)
}

/// `report` (a table) of the chain's state against its clean captures and `enis`.
fn table_args(enis: &std::path::Path) -> Vec<&str> {
    vec![
        "report",
        "--state",
        CHAIN_STATE,
        "--live",
        CLEAN_GROUPS,
        "--live",
        CLEAN_RULES,
        "--live",
        enis.to_str().unwrap(),
        "--region",
        "us-east-1",
    ]
}

#[test]
fn captured_interfaces_carry_the_chain_and_nothing_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let enis = interfaces(dir.path(), ALB_PUBLIC);
    let run = chain_report(&[CLEAN_GROUPS.as_ref(), CLEAN_RULES.as_ref(), enis.as_path()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    assert_valid_report(&report);
    assert_eq!(drift(&report), Vec::<Value>::new());
    // Earned: every managed group and rule compared, with the interfaces read.
    assert_eq!(report["summary"]["compared_security_groups"], 5);
    assert_eq!(report["summary"]["declared_rules"], 12);
    assert_eq!(report["scan"]["complete"], true);
}

#[test]
fn a_group_detached_from_the_captured_alb_leaves_the_front_rule_empty() {
    let dir = tempfile::tempdir().unwrap();
    // The ALB's interface now carries ecs-api's group instead of alb-public.
    let enis = interfaces(dir.path(), ECS_API);
    let run = chain_report(&[CLEAN_GROUPS.as_ref(), CLEAN_RULES.as_ref(), enis.as_path()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let findings = drift(&run.json());
    assert_eq!(codes(&findings), ["reference-empty"], "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f["resource"]["group_id"], ECS_FRONT);
    assert_eq!(f["actual"]["peer"]["value"], ALB_PUBLIC);
    assert_eq!(
        (
            f["actual"]["from_port"].clone(),
            f["actual"]["to_port"].clone()
        ),
        (json!(80), json!(80))
    );
    assert!(
        f["message"].as_str().unwrap().starts_with(&format!(
            "ecs-front ({ECS_FRONT}) (carried by ecs task eni-0a00000000000002): "
        )),
        "{}",
        f["message"]
    );

    // The table names what carries each group, and what carries nothing.
    let table = driftd(&table_args(&enis));
    assert!(
        words(&table.stdout).contains(&format!(
            "ecs-front ({ECS_FRONT}) · vpc-0c0ffee1234567890 · 123456789012/us-east-1 · carried by ecs task eni-0a00000000000002"
        )),
        "{}",
        table.stdout
    );
}

#[test]
fn interfaces_without_their_account_judge_nothing() {
    // A capture that names no owner proves nothing carried or not.
    let dir = tempfile::tempdir().unwrap();
    let mut doc = read_json(interfaces(dir.path(), ECS_API).to_str().unwrap());
    for eni in doc["NetworkInterfaces"].as_array_mut().unwrap() {
        eni.as_object_mut().unwrap().remove("OwnerId");
    }
    let enis = write_json(dir.path(), "anonymous.json", &doc);
    let run = chain_report(&[CLEAN_GROUPS.as_ref(), CLEAN_RULES.as_ref(), enis.as_path()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(drift(&run.json()), Vec::<Value>::new());
}

/// The store keeps what carries each group: `history` tells the detach, dated by
/// the scan that first saw it, and an unchanged scan stores nothing new for it.
#[test]
fn history_tells_when_a_group_lost_its_carrier() {
    let dir = tempfile::tempdir().unwrap();
    let db = database_env(&dir.path().join("driftd.db"));
    let scan = |alb: &str, name: &str| {
        let sub = dir.path().join(name);
        std::fs::create_dir_all(&sub).unwrap();
        let enis = interfaces(&sub, alb);
        let run = driftd_with_env(&table_args(&enis), std::slice::from_ref(&db));
        assert_ne!(run.code, 1, "{}", run.stderr);
    };
    scan(ALB_PUBLIC, "before");
    scan(ALB_PUBLIC, "same");
    scan(ECS_API, "after");
    let history = driftd_with_env(
        &["history", "--group", ALB_PUBLIC, "--format", "json"],
        std::slice::from_ref(&db),
    );
    assert_eq!(history.code, 0, "{}", history.stderr);
    let entries = history.json();
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{entries:#?}");
    assert_eq!(entries[0]["kind"], "carriers-changed");
    assert_eq!(
        entries[0]["changes"],
        json!([{"field": "carried_by", "before": ["ELB app/alb-public"], "after": []}])
    );
    // The rule that still allows alb-public says what carried it, until when: the
    // last scan that saw it carried.
    let last_carried = entries[0]["previous_at"].as_str().unwrap();
    let enis = interfaces(&dir.path().join("after"), ECS_API);
    let again = driftd_with_env(
        &[&table_args(&enis)[..], &["--format", "json"]].concat(),
        std::slice::from_ref(&db),
    );
    let findings = drift(&again.json());
    let empty = findings
        .iter()
        .find(|f| f["code"] == "reference-empty")
        .expect("reference-empty");
    assert!(
        empty["message"].as_str().unwrap().ends_with(&format!(
            "; {ALB_PUBLIC} was carried by ELB app/alb-public until {last_carried}"
        )),
        "{}",
        empty["message"]
    );
    let table = driftd_with_env(
        &["history", "--group", ALB_PUBLIC],
        std::slice::from_ref(&db),
    );
    assert!(
        table
            .stdout
            .contains("carriers changed  carried_by [\"ELB app/alb-public\"] → []"),
        "{}",
        table.stdout
    );
}
