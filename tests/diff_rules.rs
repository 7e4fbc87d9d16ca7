//! The pure diff, rule by rule of DESIGN.md ("Matching rules for a field-level diff",
//! "Correctness rules") and contracts/FINDINGS.md: every code, its severity, owner,
//! `changes` and the whole rule objects it carries.

#[path = "support/builders.rs"]
mod builders;

use builders::*;
use driftd::model::{
    Direction, Finding, FindingCode, FindingStatus, Owner, OwnerKind, Peer, Protocol, Rule,
    SecurityGroup, Severity,
};
use driftd::sources::{SourceKind, SourceStatus};
use serde_json::{Value, json};

const ALB: &str = "sg-0a1b000000000001";
const FRONT: &str = "sg-0f00000000000002";
const SHARED: &str = "sg-05a4000000000003";
const GONE: &str = "sg-0dead000000000004";
const LOOSE: &str = "sg-0100000000000005";

fn alb_owner() -> Owner {
    tf(STATE, "module.net.aws_security_group.alb")
}

fn front_owner() -> Owner {
    tf(STATE, "module.net.aws_security_group.front")
}

fn rule_owner() -> Owner {
    tf(
        STATE,
        "module.net.aws_vpc_security_group_egress_rule.alb_to_front",
    )
}

fn other_rule_owner() -> Owner {
    tf(
        STATE,
        "module.net.aws_vpc_security_group_ingress_rule.extra",
    )
}

/// `alb-public` and `ecs-front`, both managed and live with identical fields.
fn chain() -> World {
    World::new()
        .managed_live(ALB, "alb-public", alb_owner())
        .managed_live(FRONT, "ecs-front", front_owner())
}

/// One `changes` entry: (field, expected, actual).
type ChangeRow = (String, Value, Value);

fn json_change(field: &str, expected: Value, actual: Value) -> ChangeRow {
    (field.to_string(), expected, actual)
}

fn peer_json(kind: &str, value: &str) -> Value {
    json!({"kind": kind, "value": value})
}

fn assert_codes(findings: &[Finding], want: &[FindingCode]) {
    assert_eq!(codes(findings), want, "{:#?}", summary(findings));
}

// ── (1) identical rules ────────────────────────────────────────────────────────

#[test]
fn identical_rules_give_no_finding() {
    let cases: Vec<(&str, Rule, Rule)> = vec![
        (
            "tcp to a group",
            tcp_out(ALB, 80, 80, sg(FRONT)),
            tcp_out(ALB, 80, 80, sg(FRONT)),
        ),
        (
            "all to the world",
            all_out(ALB, v4("0.0.0.0/0")),
            all_out(ALB, v4("0.0.0.0/0")),
        ),
        (
            "ipv6 ingress",
            tcp_in(ALB, 443, 443, v6("::/0")),
            tcp_in(ALB, 443, 443, v6("::/0")),
        ),
        (
            "prefix list",
            tcp_in(ALB, 443, 443, Peer::PrefixList("pl-1234".into())),
            tcp_in(ALB, 443, 443, Peer::PrefixList("pl-1234".into())),
        ),
        (
            "icmp type/code",
            rule(
                ALB,
                Direction::Ingress,
                Protocol::Icmp,
                Some((8, 0)),
                v4("10.0.0.0/8"),
            ),
            rule(
                ALB,
                Direction::Ingress,
                Protocol::Icmp,
                Some((8, 0)),
                v4("10.0.0.0/8"),
            ),
        ),
        (
            "host bits in a CIDR",
            tcp_in(ALB, 22, 22, v4("10.1.2.3/8")),
            tcp_in(ALB, 22, 22, v4("10.0.0.0/8")),
        ),
        (
            "ports of protocol all as Terraform and AWS spell them",
            rule(
                ALB,
                Direction::Egress,
                Protocol::All,
                Some((0, 0)),
                v4("0.0.0.0/0"),
            ),
            rule(
                ALB,
                Direction::Egress,
                Protocol::All,
                Some((-1, -1)),
                v4("0.0.0.0/0"),
            ),
        ),
        (
            "same description, declared without id, live with id",
            with_description(tcp_out(ALB, 80, 80, sg(FRONT)), Some("to front")),
            with_id(
                with_description(tcp_out(ALB, 80, 80, sg(FRONT)), Some("to front")),
                "sgr-0001",
            ),
        ),
        (
            "same tags, aws:* tags ignored",
            tcp_out(ALB, 80, 80, sg(FRONT)).with_tags(Some(tags(&[("Team", "net")]))),
            tcp_out(ALB, 80, 80, sg(FRONT)).with_tags(Some(tags(&[
                ("Team", "net"),
                ("aws:cloudformation:stack-name", "x"),
            ]))),
        ),
    ];
    for (name, declared_rule, live) in cases {
        let world = chain()
            .declare(declared(declared_rule, rule_owner()))
            .live_rule(live);
        let findings = world.findings();
        assert!(findings.is_empty(), "{name}: {:#?}", findings);
    }
}

// ── (2) same rule id ───────────────────────────────────────────────────────────

#[test]
fn same_rule_id_with_to_port_changed_is_one_field_level_change() {
    let declared_rule = with_id(tcp_out(ALB, 80, 80, sg(FRONT)), "sgr-0aaa");
    let live = with_id(tcp_out(ALB, 80, 8080, sg(FRONT)), "sgr-0aaa");
    let world = chain()
        .declare(declared(declared_rule.clone(), rule_owner()))
        .live_rule(live.clone());
    let findings = world.findings();
    assert_codes(&findings, &[FindingCode::RuleModified]);
    let f = &findings[0];
    assert_eq!(
        changes(f),
        vec![json_change("to_port", json!(80), json!(8080))]
    );
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.status, FindingStatus::New);
    assert_eq!(f.owner, rule_owner());
    assert_eq!(f.direction, Some(Direction::Egress));
    assert_eq!(f.expected.as_ref(), Some(&declared_rule));
    assert_eq!(f.actual.as_ref(), Some(&live));
    assert_eq!(f.resource.kind, "security_group_rule");
    assert_eq!(f.resource.id.as_deref(), Some("sgr-0aaa"));
    assert_eq!(f.resource.group_id.as_deref(), Some(ALB));
    assert_eq!(f.resource.group_name.as_deref(), Some("alb-public"));
    assert_eq!(f.resource.vpc_id.as_deref(), Some("vpc-1"));
    assert_eq!(f.account_id.as_deref(), Some(ACCOUNT));
    assert_eq!(f.region.as_deref(), Some(REGION));
    assert!(f.acknowledged.is_none());
    assert!(
        f.message.contains("to_port 80 → 8080"),
        "message: {}",
        f.message
    );
    assert!(
        f.message
            .contains("module.net.aws_vpc_security_group_egress_rule.alb_to_front"),
        "message: {}",
        f.message
    );
    // The JSON shape of the changes entry.
    assert_eq!(
        serde_json::to_value(&f.changes).unwrap(),
        json!([{"field": "to_port", "expected": 80, "actual": 8080}])
    );
}

#[test]
fn same_rule_id_pairs_whatever_else_changed() {
    // (declared, live, expected changes)
    let cases: Vec<(Rule, Rule, Vec<ChangeRow>)> = vec![
        (
            tcp_out(ALB, 80, 80, sg(FRONT)),
            tcp_out(ALB, 8080, 8080, sg(FRONT)),
            vec![
                json_change("from_port", json!(80), json!(8080)),
                json_change("to_port", json!(80), json!(8080)),
            ],
        ),
        (
            // ports and peer both changed: only the rule id ties them together
            tcp_out(ALB, 80, 80, sg(FRONT)),
            tcp_out(ALB, 8080, 8080, v4("10.0.0.0/8")),
            vec![
                json_change("from_port", json!(80), json!(8080)),
                json_change("to_port", json!(80), json!(8080)),
                json_change(
                    "peer",
                    peer_json("security_group", FRONT),
                    peer_json("cidr_ipv4", "10.0.0.0/8"),
                ),
            ],
        ),
        (
            // protocol changed: tcp 80 → all (ports go to null)
            tcp_out(ALB, 80, 80, sg(FRONT)),
            all_out(ALB, sg(FRONT)),
            vec![
                json_change("protocol", json!("tcp"), json!("all")),
                json_change("from_port", json!(80), Value::Null),
                json_change("to_port", json!(80), Value::Null),
            ],
        ),
    ];
    for (declared_rule, live, want) in cases {
        let world = chain()
            .declare(declared(
                with_id(declared_rule.clone(), "sgr-0aaa"),
                rule_owner(),
            ))
            .live_rule(with_id(live.clone(), "sgr-0aaa"));
        let findings = world.findings();
        assert_codes(&findings, &[FindingCode::RuleModified]);
        assert_eq!(
            changes(&findings[0]),
            want,
            "{} → {}",
            declared_rule.label(),
            live.label()
        );
    }
}

// ── (3) protocol and peer, or protocol and ports ───────────────────────────────

#[test]
fn ports_changed_without_rule_id_is_modified_not_added_and_removed() {
    // driftctl reports this as one rule removed and another added.
    let cases = [
        (
            (80, 80),
            (8080, 8080),
            vec![
                json_change("from_port", json!(80), json!(8080)),
                json_change("to_port", json!(80), json!(8080)),
            ],
        ),
        (
            (80, 80),
            (80, 8080),
            vec![json_change("to_port", json!(80), json!(8080))],
        ),
        (
            (1024, 65535),
            (0, 65535),
            vec![json_change("from_port", json!(1024), json!(0))],
        ),
    ];
    for ((df, dt), (lf, lt), want) in cases {
        let world = chain()
            .declare(declared(tcp_out(ALB, df, dt, sg(FRONT)), rule_owner()))
            .live_rule(tcp_out(ALB, lf, lt, sg(FRONT)));
        let findings = world.findings();
        assert_codes(&findings, &[FindingCode::RuleModified]);
        let f = &findings[0];
        assert_eq!(changes(f), want, "{df}-{dt} → {lf}-{lt}");
        assert_eq!(f.resource.id, None, "no rule id known");
        assert_eq!(f.owner, rule_owner());
    }
}

#[test]
fn peer_changed_with_same_protocol_and_ports_is_modified() {
    let cases = [
        (
            v4("10.0.0.0/8"),
            v4("192.168.0.0/16"),
            peer_json("cidr_ipv4", "10.0.0.0/8"),
            peer_json("cidr_ipv4", "192.168.0.0/16"),
        ),
        (
            sg(FRONT),
            v4("10.0.0.0/8"),
            peer_json("security_group", FRONT),
            peer_json("cidr_ipv4", "10.0.0.0/8"),
        ),
        (
            v6("2001:db8::/32"),
            Peer::PrefixList("pl-0abc".into()),
            peer_json("cidr_ipv6", "2001:db8::/32"),
            peer_json("prefix_list", "pl-0abc"),
        ),
    ];
    for (from, to, want_expected, want_actual) in cases {
        let world = chain()
            .declare(declared(tcp_out(ALB, 443, 443, from.clone()), rule_owner()))
            .live_rule(tcp_out(ALB, 443, 443, to.clone()));
        let findings = world.findings();
        assert_codes(&findings, &[FindingCode::RuleModified]);
        assert_eq!(
            changes(&findings[0]),
            vec![json_change("peer", want_expected, want_actual)],
            "{from} → {to}"
        );
        assert_eq!(findings[0].severity, Severity::High);
    }
}

#[test]
fn protocol_and_everything_else_changed_without_rule_id_is_removed_and_added() {
    let cases = [
        // different protocol: no shared protocol, so no pairing
        (
            rule(
                ALB,
                Direction::Ingress,
                Protocol::Tcp,
                Some((53, 53)),
                v4("10.0.0.0/8"),
            ),
            rule(
                ALB,
                Direction::Ingress,
                Protocol::Udp,
                Some((53, 53)),
                v4("10.0.0.0/8"),
            ),
        ),
        // same protocol, but both ports and peer changed
        (
            tcp_in(ALB, 80, 80, v4("10.0.0.0/8")),
            tcp_in(ALB, 8080, 8080, v4("192.168.0.0/16")),
        ),
    ];
    for (declared_rule, live) in cases {
        let world = chain()
            .declare(declared(declared_rule.clone(), rule_owner()))
            .live_rule(live.clone());
        let findings = world.findings();
        let mut got = codes(&findings);
        got.sort();
        assert_eq!(
            got,
            vec![FindingCode::RuleAdded, FindingCode::RuleRemoved],
            "{} vs {}",
            declared_rule.label(),
            live.label()
        );
        assert_eq!(
            only(&findings, FindingCode::RuleRemoved).expected,
            Some(declared_rule)
        );
        assert_eq!(only(&findings, FindingCode::RuleAdded).actual, Some(live));
    }
}

#[test]
fn pairing_takes_the_candidate_with_fewest_differing_fields() {
    let declared_rule = with_description(tcp_in(ALB, 80, 80, v4("10.0.0.0/8")), Some("web"));
    // one differing field: the peer
    let near = with_description(tcp_in(ALB, 80, 80, v4("10.1.0.0/16")), Some("web"));
    // three: from_port, to_port, description
    let far = with_description(tcp_in(ALB, 8080, 8080, v4("10.0.0.0/8")), Some("other"));
    for live in [
        vec![near.clone(), far.clone()],
        vec![far.clone(), near.clone()],
    ] {
        let mut world = chain().declare(declared(declared_rule.clone(), other_rule_owner()));
        world.live.rules = live;
        let findings = world.findings();
        let modified = only(&findings, FindingCode::RuleModified);
        assert_eq!(modified.actual.as_ref(), Some(&near));
        assert_eq!(
            changes(&modified),
            vec![json_change(
                "peer",
                peer_json("cidr_ipv4", "10.0.0.0/8"),
                peer_json("cidr_ipv4", "10.1.0.0/16")
            )]
        );
        assert_eq!(
            only(&findings, FindingCode::RuleAdded).actual.as_ref(),
            Some(&far)
        );
        assert_eq!(findings.len(), 2);
    }
}

#[test]
fn pairing_is_one_to_one_and_global_fewest_first() {
    let a = v4("10.0.0.0/8");
    let b = v4("192.168.0.0/16");
    let d1 = tcp_in(ALB, 80, 80, a.clone());
    let d2 = tcp_in(ALB, 443, 443, a.clone());
    // l1 relates to d1 (peer shared, 2 fields) and to d2 (peer shared, 2 fields);
    // l2 relates only to d2 (ports shared, 1 field). Fewest first: d2–l2, then d1–l1.
    let l1 = tcp_in(ALB, 8080, 8080, a.clone());
    let l2 = tcp_in(ALB, 443, 443, b.clone());
    let orders: [[usize; 2]; 2] = [[0, 1], [1, 0]];
    for dorder in orders {
        for lorder in orders {
            let ds = [d1.clone(), d2.clone()];
            let ls = [l1.clone(), l2.clone()];
            let mut world = chain();
            for i in dorder {
                world = world.declare(declared(ds[i].clone(), other_rule_owner()));
            }
            for i in lorder {
                world = world.live_rule(ls[i].clone());
            }
            let findings = world.findings();
            assert_codes(
                &findings,
                &[FindingCode::RuleModified, FindingCode::RuleModified],
            );
            let pairs: Vec<(Rule, Rule)> = findings
                .iter()
                .map(|f| (f.expected.clone().unwrap(), f.actual.clone().unwrap()))
                .collect();
            assert!(
                pairs.contains(&(d1.clone(), l1.clone())),
                "{dorder:?} {lorder:?}"
            );
            assert!(
                pairs.contains(&(d2.clone(), l2.clone())),
                "{dorder:?} {lorder:?}"
            );
        }
    }
}

#[test]
fn pairing_between_equal_candidates_is_deterministic() {
    let declared_rule = tcp_in(ALB, 80, 80, v4("10.0.0.0/8"));
    // Both differ from the declared rule in exactly one field.
    let peer_changed = tcp_in(ALB, 80, 80, v4("10.1.0.0/16"));
    let port_changed = tcp_in(ALB, 80, 81, v4("10.0.0.0/8"));
    let run = |live: Vec<Rule>| {
        let mut world = chain().declare(declared(declared_rule.clone(), other_rule_owner()));
        world.live.rules = live;
        serde_json::to_string(&world.findings()).unwrap()
    };
    let first = run(vec![peer_changed.clone(), port_changed.clone()]);
    let second = run(vec![port_changed.clone(), peer_changed.clone()]);
    assert_eq!(first, second);
    assert_eq!(first, run(vec![peer_changed, port_changed]));
    let findings: Vec<Value> = serde_json::from_str(&first).unwrap();
    let mut got: Vec<&str> = findings
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    got.sort();
    assert_eq!(got, ["rule-added", "rule-modified"]);
}

// ── (4) leftovers ──────────────────────────────────────────────────────────────

#[test]
fn leftovers_are_rule_removed_and_rule_added() {
    let gone = tcp_in(ALB, 22, 22, v4("10.0.0.0/8"));
    let extra = rule(
        ALB,
        Direction::Ingress,
        Protocol::Udp,
        Some((53, 53)),
        v4("10.0.0.0/8"),
    );
    let world = chain()
        .declare(declared(gone.clone(), other_rule_owner()))
        .live_rule(extra.clone());
    let findings = world.findings();
    assert_eq!(findings.len(), 2, "{:#?}", summary(&findings));

    let removed = only(&findings, FindingCode::RuleRemoved);
    assert_eq!(removed.severity, Severity::High);
    assert_eq!(removed.owner, other_rule_owner());
    assert_eq!(removed.expected, Some(gone));
    assert_eq!(removed.actual, None);
    assert!(removed.changes.is_empty());
    assert_eq!(removed.direction, Some(Direction::Ingress));
    assert_eq!(removed.resource.group_id.as_deref(), Some(ALB));

    let added = only(&findings, FindingCode::RuleAdded);
    assert_eq!(added.severity, Severity::High);
    assert_eq!(added.owner.kind, OwnerKind::None);
    assert_eq!(added.owner, Owner::none());
    assert_eq!(added.group_owner, Some(alb_owner()));
    assert_eq!(added.expected, None);
    assert_eq!(added.actual, Some(extra));
    assert!(added.changes.is_empty());
    assert!(
        added
            .message
            .contains("module.net.aws_security_group.alb (prod.tfstate)"),
        "the group's owner should act: {}",
        added.message
    );
    // JSON: the owner of an unowned rule is {kind: none}
    let value = serde_json::to_value(&added).unwrap();
    assert_eq!(value["owner"]["kind"], json!("none"));
    assert_eq!(value["expected"], Value::Null);
    assert_eq!(value["actual"]["protocol"], json!("udp"));
    assert_eq!(value["actual"]["from_port"], json!(53));
}

// ── descriptions ───────────────────────────────────────────────────────────────

#[test]
fn description_changes_and_empty_means_none() {
    // (declared, live, expected change or None)
    type DescriptionCase<'a> = (Option<&'a str>, Option<&'a str>, Option<(Value, Value)>);
    let cases: [DescriptionCase; 7] = [
        (Some("web"), None, Some((json!("web"), Value::Null))),
        (None, Some("debug"), Some((Value::Null, json!("debug")))),
        (Some("a"), Some("b"), Some((json!("a"), json!("b")))),
        (Some(""), None, None),
        (None, Some(""), None),
        (Some(""), Some(""), None),
        (Some("same"), Some("same"), None),
    ];
    for (d, l, want) in cases {
        let world = chain()
            .declare(declared(
                with_description(tcp_out(ALB, 80, 80, sg(FRONT)), d),
                rule_owner(),
            ))
            .live_rule(with_description(tcp_out(ALB, 80, 80, sg(FRONT)), l));
        let findings = world.findings();
        match want {
            None => assert!(findings.is_empty(), "{d:?} vs {l:?}: {findings:#?}"),
            Some((expected, actual)) => {
                assert_codes(&findings, &[FindingCode::RuleModified]);
                assert_eq!(
                    changes(&findings[0]),
                    vec![json_change("description", expected, actual)],
                    "{d:?} vs {l:?}"
                );
                assert_eq!(findings[0].severity, Severity::High);
            }
        }
    }
}

#[test]
fn description_change_on_a_world_rule_does_not_open_anything() {
    let world = chain()
        .declare(declared(
            with_description(tcp_in(ALB, 443, 443, v4("0.0.0.0/0")), Some("https")),
            other_rule_owner(),
        ))
        .live_rule(with_description(
            tcp_in(ALB, 443, 443, v4("0.0.0.0/0")),
            Some("debug"),
        ));
    let f = only(&world.findings(), FindingCode::RuleModified);
    assert_eq!(f.severity, Severity::High);
    assert_eq!(
        changes(&f),
        vec![json_change("description", json!("https"), json!("debug"))]
    );
}

// ── severities ─────────────────────────────────────────────────────────────────

#[test]
fn rule_added_severity() {
    let cases = [
        (
            "ssh from the IPv4 world",
            tcp_in(ALB, 22, 22, v4("0.0.0.0/0")),
            Severity::Critical,
        ),
        (
            "ssh from the IPv6 world",
            tcp_in(ALB, 22, 22, v6("::/0")),
            Severity::Critical,
        ),
        (
            "https from the world",
            tcp_in(ALB, 443, 443, v4("0.0.0.0/0")),
            Severity::High,
        ),
        (
            "http from the IPv6 world",
            tcp_in(ALB, 80, 80, v6("::/0")),
            Severity::High,
        ),
        (
            "all ports from the world",
            all_in(ALB, v4("0.0.0.0/0")),
            Severity::Critical,
        ),
        (
            "a range from the world",
            tcp_in(ALB, 0, 65535, v4("0.0.0.0/0")),
            Severity::Critical,
        ),
        (
            "ssh from a private range",
            tcp_in(ALB, 22, 22, v4("10.0.0.0/8")),
            Severity::High,
        ),
        (
            "allow-all egress",
            all_out(ALB, v4("0.0.0.0/0")),
            Severity::High,
        ),
        (
            "egress 22 to the world",
            tcp_out(ALB, 22, 22, v4("0.0.0.0/0")),
            Severity::High,
        ),
    ];
    for (name, live, want) in cases {
        let world = chain().live_rule(live.clone());
        let findings = world.findings();
        assert_codes(&findings, &[FindingCode::RuleAdded]);
        assert_eq!(findings[0].severity, want, "{name}");
        assert_eq!(findings[0].actual.as_ref(), Some(&live), "{name}");
        assert_eq!(findings[0].owner.kind, OwnerKind::None, "{name}");
    }
}

#[test]
fn rule_modified_severity() {
    let cases = [
        (
            "ingress opened to ::/0",
            tcp_in(ALB, 443, 443, v4("10.0.0.0/8")),
            tcp_in(ALB, 443, 443, v6("::/0")),
            Severity::Critical,
        ),
        (
            "ingress opened to 0.0.0.0/0",
            tcp_in(ALB, 22, 22, v4("10.0.0.0/8")),
            tcp_in(ALB, 22, 22, v4("0.0.0.0/0")),
            Severity::Critical,
        ),
        (
            "egress to the world is not ingress",
            tcp_out(ALB, 443, 443, v4("10.0.0.0/8")),
            tcp_out(ALB, 443, 443, v4("0.0.0.0/0")),
            Severity::High,
        ),
        (
            "internal ports change",
            tcp_in(ALB, 80, 80, v4("10.0.0.0/8")),
            tcp_in(ALB, 80, 8080, v4("10.0.0.0/8")),
            Severity::High,
        ),
        (
            "world ingress closed to a private range",
            tcp_in(ALB, 443, 443, v4("0.0.0.0/0")),
            tcp_in(ALB, 443, 443, v4("10.0.0.0/8")),
            Severity::High,
        ),
    ];
    for (name, d, l, want) in cases {
        let world = chain()
            .declare(declared(d, other_rule_owner()))
            .live_rule(l);
        let findings = world.findings();
        assert_codes(&findings, &[FindingCode::RuleModified]);
        assert_eq!(findings[0].severity, want, "{name}");
    }
}

#[test]
fn severity_override_replaces_the_default() {
    let mut world = chain().live_rule(tcp_in(ALB, 22, 22, v4("0.0.0.0/0")));
    assert_eq!(
        only(&world.findings(), FindingCode::RuleAdded).severity,
        Severity::Critical
    );
    world
        .options
        .severity
        .insert(FindingCode::RuleAdded, Severity::Low);
    // an override for another code changes nothing here
    world
        .options
        .severity
        .insert(FindingCode::SgMissing, Severity::Info);
    assert_eq!(
        only(&world.findings(), FindingCode::RuleAdded).severity,
        Severity::Low
    );

    let mut hidden = dependency_hidden_world();
    assert_eq!(
        only(&hidden.findings(), FindingCode::DependencyHidden).severity,
        Severity::Info
    );
    hidden
        .options
        .severity
        .insert(FindingCode::DependencyHidden, Severity::Medium);
    assert_eq!(
        only(&hidden.findings(), FindingCode::DependencyHidden).severity,
        Severity::Medium
    );
}

// ── rule-added only where IaC owns the group ───────────────────────────────────

#[test]
fn extra_live_rule_on_a_group_with_only_rule_resources_is_not_rule_added() {
    // LOOSE is created elsewhere; this state only adds a rule resource to it.
    let world = World::new()
        .live_group(live_group(LOOSE, "shared-by-rules"))
        .both(
            tcp_in(LOOSE, 443, 443, v4("10.0.0.0/8")),
            other_rule_owner(),
        )
        .live_rule(tcp_in(LOOSE, 22, 22, v4("0.0.0.0/0")));
    let findings = world.findings();
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn extra_live_rule_on_a_group_only_read_by_a_data_source_is_not_rule_added() {
    let world = World::new()
        .live_group(live_group(SHARED, "shared"))
        .reads(read(
            SHARED,
            "shared",
            tf(STATE, "data.aws_security_group.shared"),
        ))
        .live_rule(tcp_in(SHARED, 22, 22, v4("0.0.0.0/0")));
    let findings = world.findings();
    assert!(findings.is_empty(), "{findings:#?}");
}

// ── sg-missing ─────────────────────────────────────────────────────────────────

#[test]
fn managed_group_gone_is_sg_missing_and_its_rules_are_not_removed() {
    let world = World::new()
        .group(managed(ALB, "alb-public", alb_owner()))
        .declare(inline(tcp_in(ALB, 443, 443, v4("0.0.0.0/0")), alb_owner()))
        .declare(declared(
            tcp_out(ALB, 80, 80, v4("10.0.0.0/8")),
            rule_owner(),
        ));
    let findings = world.findings();
    assert_codes(&findings, &[FindingCode::SgMissing]);
    let f = &findings[0];
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.owner, alb_owner());
    assert_eq!(f.resource.kind, "security_group");
    assert_eq!(f.resource.id.as_deref(), Some(ALB));
    assert_eq!(f.resource.group_id.as_deref(), Some(ALB));
    assert_eq!(f.resource.group_name.as_deref(), Some("alb-public"));
    assert_eq!(f.resource.vpc_id.as_deref(), Some("vpc-1"));
    assert_eq!(f.account_id.as_deref(), Some(ACCOUNT));
    assert_eq!(f.region.as_deref(), Some(REGION));
    assert_eq!(f.direction, None);
    assert!(f.changes.is_empty());
}

#[test]
fn group_without_arn_is_compared_in_every_region_read() {
    let mut group = managed(ALB, "alb-public", alb_owner());
    group.group.account_id = None;
    group.group.region = None;
    let world = World::new().group(group);
    assert_codes(&world.findings(), &[FindingCode::SgMissing]);
}

#[test]
fn group_in_a_scope_that_was_not_read_is_not_missing() {
    let cases = [
        ("another region", ACCOUNT, OTHER_REGION),
        ("another account", OTHER_ACCOUNT, REGION),
        ("another account and region", OTHER_ACCOUNT, OTHER_REGION),
    ];
    for (name, account, region) in cases {
        let mut group = managed(ALB, "alb-public", alb_owner());
        group.group.account_id = Some(account.to_string());
        group.group.region = Some(region.to_string());
        let mut rule = declared(tcp_out(ALB, 80, 80, v4("10.0.0.0/8")), rule_owner());
        rule.account_id = Some(account.to_string());
        rule.region = Some(region.to_string());
        // A rule resource on an unmanaged group in that scope: not removed either.
        let mut loose = declared(tcp_in(LOOSE, 22, 22, v4("10.0.0.0/8")), other_rule_owner());
        loose.account_id = Some(account.to_string());
        loose.region = Some(region.to_string());
        let world = World::new().group(group).declare(rule).declare(loose);
        let findings = world.findings();
        assert!(findings.is_empty(), "{name}: {:#?}", summary(&findings));
    }
}

#[test]
fn rule_resource_on_a_deleted_unmanaged_group_in_a_read_scope_is_removed() {
    let world = World::new().declare(declared(
        tcp_in(LOOSE, 22, 22, v4("10.0.0.0/8")),
        other_rule_owner(),
    ));
    let findings = world.findings();
    assert_codes(&findings, &[FindingCode::RuleRemoved]);
    assert_eq!(findings[0].owner, other_rule_owner());
}

#[test]
fn failed_live_file_means_nothing_is_missing() {
    let world = World::new()
        .group(managed(ALB, "alb-public", alb_owner()))
        .declare(inline(tcp_in(ALB, 443, 443, v4("0.0.0.0/0")), alb_owner()))
        .declare(declared(
            tcp_in(LOOSE, 22, 22, v4("10.0.0.0/8")),
            other_rule_owner(),
        ))
        .source(SourceStatus::failed(
            SourceKind::LiveFile,
            "rules.json",
            "truncated JSON at line 3".to_string(),
        ));
    let findings = world.findings();
    assert_codes(&findings, &[FindingCode::SourceError]);
}

#[test]
fn failed_live_file_means_no_rule_of_a_live_group_is_removed() {
    // The groups capture was read, the rules capture failed: that the group has no
    // live rules proves nothing.
    let world = chain()
        .declare(declared(tcp_out(ALB, 80, 80, sg(FRONT)), rule_owner()))
        .declare(inline(tcp_in(ALB, 443, 443, v4("0.0.0.0/0")), alb_owner()))
        .source(SourceStatus::failed(
            SourceKind::LiveFile,
            "rules.json",
            "truncated JSON at line 3".to_string(),
        ));
    let findings = world.findings();
    assert_codes(&findings, &[FindingCode::SourceError]);
}

// ── sg-unmanaged ───────────────────────────────────────────────────────────────

#[test]
fn live_group_nobody_owns_or_reads_is_sg_unmanaged() {
    let world = chain().live_group(live_group(LOOSE, "hand-made"));
    let findings = world.findings();
    assert_codes(&findings, &[FindingCode::SgUnmanaged]);
    let f = &findings[0];
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.owner, Owner::none());
    assert_eq!(f.resource.kind, "security_group");
    assert_eq!(f.resource.id.as_deref(), Some(LOOSE));
    assert_eq!(f.resource.group_id.as_deref(), Some(LOOSE));
    assert_eq!(f.resource.group_name.as_deref(), Some("hand-made"));
    assert_eq!(f.resource.vpc_id.as_deref(), Some("vpc-1"));
    assert_eq!(f.group_owner, None);
}

#[test]
fn default_group_is_unmanaged_only_when_configured() {
    let mut world = chain().live_group(live_group(LOOSE, "default"));
    assert!(world.findings().is_empty(), "{:#?}", world.findings());
    world.options.include_default_groups = true;
    let findings = world.findings();
    assert_codes(&findings, &[FindingCode::SgUnmanaged]);
    assert_eq!(findings[0].resource.id.as_deref(), Some(LOOSE));
}

#[test]
fn group_read_by_a_data_source_is_not_unmanaged() {
    let world = chain().live_group(live_group(SHARED, "shared")).reads(read(
        SHARED,
        "shared",
        tf(OTHER_STATE, "data.aws_security_group.shared"),
    ));
    assert!(world.findings().is_empty(), "{:#?}", world.findings());
}

#[test]
fn failed_terraform_state_suppresses_sg_unmanaged_and_rule_added() {
    let world = chain()
        .live_group(live_group(LOOSE, "hand-made"))
        .live_rule(tcp_in(ALB, 22, 22, v4("0.0.0.0/0")))
        .source(SourceStatus::failed(
            SourceKind::Terraform,
            OTHER_STATE,
            "state file is not JSON".to_string(),
        ));
    let findings = world.findings();
    assert_codes(&findings, &[FindingCode::SourceError]);
    // ...while a missing group and a modified rule are still judged.
    let world = chain()
        .group(managed(GONE, "gone", alb_owner()))
        .declare(declared(tcp_out(ALB, 80, 80, sg(FRONT)), rule_owner()))
        .live_rule(tcp_out(ALB, 80, 8080, sg(FRONT)))
        .source(SourceStatus::failed(
            SourceKind::Terraform,
            OTHER_STATE,
            "state file is not JSON".to_string(),
        ));
    let mut got = codes(&world.findings());
    got.sort();
    assert_eq!(
        got,
        [
            FindingCode::RuleModified,
            FindingCode::SgMissing,
            FindingCode::SourceError
        ]
    );
}

// ── sg-modified ────────────────────────────────────────────────────────────────

fn modified_alb(edit: impl FnOnce(&mut SecurityGroup)) -> World {
    let mut live = live_group(ALB, "alb-public");
    edit(&mut live);
    World::new()
        .group(managed(ALB, "alb-public", alb_owner()))
        .live_group(live)
}

#[test]
fn sg_modified_fields_and_severity() {
    type Edit = fn(&mut SecurityGroup);
    let cases: [(&str, Edit, Severity, Vec<ChangeRow>); 6] = [
        (
            "description",
            |g| g.description = Some("changed by hand".into()),
            Severity::Medium,
            vec![json_change(
                "description",
                json!("alb-public group"),
                json!("changed by hand"),
            )],
        ),
        (
            "name",
            |g| g.name = Some("alb-renamed".into()),
            Severity::Medium,
            vec![json_change(
                "name",
                json!("alb-public"),
                json!("alb-renamed"),
            )],
        ),
        (
            "vpc",
            |g| g.vpc_id = Some("vpc-2".into()),
            Severity::Medium,
            vec![json_change("vpc_id", json!("vpc-1"), json!("vpc-2"))],
        ),
        (
            "a tag value",
            |g| g.tags = Some(tags(&[("Name", "alb-public"), ("Env", "dev")])),
            Severity::Low,
            vec![json_change("tags.Env", Value::Null, json!("dev"))],
        ),
        (
            "a tag changed and aws:* tags added",
            |g| {
                g.tags = Some(tags(&[
                    ("Name", "hand-edited"),
                    ("aws:cloudformation:stack-name", "net"),
                ]))
            },
            Severity::Low,
            vec![json_change(
                "tags.Name",
                json!("alb-public"),
                json!("hand-edited"),
            )],
        ),
        (
            "description and tags",
            |g| {
                g.description = Some("x".into());
                g.tags = Some(tags(&[]));
            },
            Severity::Medium,
            vec![
                json_change("description", json!("alb-public group"), json!("x")),
                json_change("tags.Name", json!("alb-public"), Value::Null),
            ],
        ),
    ];
    for (name, edit, severity, want) in cases {
        let findings = modified_alb(edit).findings();
        assert_codes(&findings, &[FindingCode::SgModified]);
        let f = &findings[0];
        assert_eq!(changes(f), want, "{name}");
        assert_eq!(f.severity, severity, "{name}");
        assert_eq!(f.owner, alb_owner(), "{name}");
        assert_eq!(f.resource.id.as_deref(), Some(ALB), "{name}");
        assert_eq!(f.resource.kind, "security_group", "{name}");
    }
}

#[test]
fn reserved_aws_tags_alone_are_not_drift() {
    let findings = modified_alb(|g| {
        g.tags = Some(tags(&[
            ("Name", "alb-public"),
            ("aws:cloudformation:logical-id", "Alb"),
        ]))
    })
    .findings();
    assert!(findings.is_empty(), "{findings:#?}");
}

// ── reference-dangling ─────────────────────────────────────────────────────────

#[test]
fn declared_and_live_rule_referencing_a_deleted_group_dangles() {
    let world = chain().both(tcp_in(FRONT, 80, 80, sg(GONE)), other_rule_owner());
    let findings = world.findings();
    assert_codes(&findings, &[FindingCode::ReferenceDangling]);
    let f = &findings[0];
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.owner, other_rule_owner());
    assert_eq!(f.resource.group_id.as_deref(), Some(FRONT));
    assert_eq!(f.expected, Some(tcp_in(FRONT, 80, 80, sg(GONE))));
    assert_eq!(f.actual, Some(tcp_in(FRONT, 80, 80, sg(GONE))));
    assert!(f.message.contains(GONE), "{}", f.message);
}

#[test]
fn live_only_rule_referencing_a_deleted_group_dangles() {
    let world = chain().live_rule(tcp_out(ALB, 80, 80, sg(GONE)));
    let findings = world.findings();
    let mut got = codes(&findings);
    got.sort();
    assert_eq!(
        got,
        [FindingCode::RuleAdded, FindingCode::ReferenceDangling]
    );
    let f = only(&findings, FindingCode::ReferenceDangling);
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.owner, Owner::none());
    assert_eq!(f.expected, None);
    assert_eq!(f.actual, Some(tcp_out(ALB, 80, 80, sg(GONE))));
}

#[test]
fn live_rule_referencing_a_deleted_group_in_the_same_account_dangles() {
    let mut same = tcp_out(ALB, 80, 80, sg(GONE));
    same.peer_account = Some(ACCOUNT.to_string());
    let world = chain().both(same, rule_owner());
    assert_codes(&world.findings(), &[FindingCode::ReferenceDangling]);
}

fn unjudgeable(port: i64) -> [(&'static str, Rule); 2] {
    let mut peered = tcp_out(ALB, port, port, sg(GONE));
    peered.peer_via_peering = true;
    let mut foreign = tcp_out(ALB, port, port, sg(GONE));
    foreign.peer_account = Some(OTHER_ACCOUNT.to_string());
    [("via VPC peering", peered), ("account not read", foreign)]
}

#[test]
fn references_whose_target_cannot_be_judged_do_not_dangle() {
    for (name, live) in unjudgeable(80) {
        // live only: an unowned rule, but not a dangling one
        let findings = chain().live_rule(live.clone()).findings();
        assert_codes(&findings, &[FindingCode::RuleAdded]);
        // declared and live alike
        let findings = chain().both(live, rule_owner()).findings();
        assert!(findings.is_empty(), "{name}: {findings:#?}");
    }
}

#[test]
fn declared_rule_paired_with_an_unjudgeable_live_reference_does_not_dangle() {
    for (name, live) in unjudgeable(80) {
        // Terraform knows only the group id; AWS says where it lives.
        let world = chain()
            .declare(declared(tcp_out(ALB, 80, 80, sg(GONE)), rule_owner()))
            .live_rule(live);
        let findings = world.findings();
        assert!(findings.is_empty(), "{name}: {findings:#?}");
    }
}

#[test]
fn ghost_reference_through_a_data_source() {
    // Incident 2: the stack reads a shared group, its ECS ingress rule references
    // it, and the shared group is deleted elsewhere.
    let rule_address = "module.ecs.aws_security_group_rule.from_shared";
    let world = World::new()
        .managed_live(FRONT, "ecs-front", front_owner())
        .reads(read(
            GONE,
            "shared-alb",
            tf(STATE, "data.aws_security_group.shared"),
        ))
        .both(tcp_in(FRONT, 80, 80, sg(GONE)), tf(STATE, rule_address));
    let findings = world.findings();
    let mut got = codes(&findings);
    got.sort();
    assert_eq!(
        got,
        [
            FindingCode::ReferenceDangling,
            FindingCode::DependencyHidden
        ]
    );
    let dangling = only(&findings, FindingCode::ReferenceDangling);
    assert_eq!(dangling.severity, Severity::Critical);
    assert_eq!(dangling.owner, tf(STATE, rule_address));
    assert!(
        dangling.message.contains("data.aws_security_group.shared"),
        "{}",
        dangling.message
    );
    let hidden = only(&findings, FindingCode::DependencyHidden);
    assert_eq!(hidden.severity, Severity::Info);
    assert!(!hidden.fails(Severity::Low));
}

// ── dependency-hidden ──────────────────────────────────────────────────────────

fn dependency_hidden_world() -> World {
    World::new()
        .managed_live(FRONT, "ecs-front", front_owner())
        .live_group(live_group(SHARED, "shared-alb"))
        .reads(read(
            SHARED,
            "shared-alb",
            tf(STATE, "data.aws_security_group.shared"),
        ))
        .both(
            tcp_in(FRONT, 80, 80, sg(SHARED)),
            tf(STATE, "module.ecs.aws_security_group_rule.from_shared"),
        )
}

#[test]
fn managed_rule_on_a_group_its_state_only_reads_is_dependency_hidden() {
    let findings = dependency_hidden_world().findings();
    assert_codes(&findings, &[FindingCode::DependencyHidden]);
    let f = &findings[0];
    assert_eq!(f.severity, Severity::Info);
    assert_eq!(
        f.owner,
        tf(STATE, "module.ecs.aws_security_group_rule.from_shared")
    );
    assert_eq!(f.resource.group_id.as_deref(), Some(FRONT));
    assert_eq!(f.expected, Some(tcp_in(FRONT, 80, 80, sg(SHARED))));
    assert_eq!(f.actual, None);
    assert_eq!(f.direction, Some(Direction::Ingress));
    assert!(
        f.message.contains("data.aws_security_group.shared"),
        "{}",
        f.message
    );
}

#[test]
fn no_dependency_hidden_when_another_state_reads_it_or_someone_manages_it() {
    let read_elsewhere = World::new()
        .managed_live(FRONT, "ecs-front", front_owner())
        .live_group(live_group(SHARED, "shared-alb"))
        .reads(read(
            SHARED,
            "shared-alb",
            tf(OTHER_STATE, "data.aws_security_group.shared"),
        ))
        .both(
            tcp_in(FRONT, 80, 80, sg(SHARED)),
            tf(STATE, "module.ecs.aws_security_group_rule.from_shared"),
        );
    assert!(
        read_elsewhere.findings().is_empty(),
        "{:#?}",
        read_elsewhere.findings()
    );

    let managed_elsewhere = dependency_hidden_world().group(managed(
        SHARED,
        "shared-alb",
        tf(OTHER_STATE, "aws_security_group.shared"),
    ));
    assert!(
        managed_elsewhere.findings().is_empty(),
        "{:#?}",
        managed_elsewhere.findings()
    );
}

// ── owner-conflict and who declares a rule ─────────────────────────────────────

fn two_owners() -> (Owner, Owner) {
    (
        tf(STATE, "aws_security_group.alb"),
        tf(OTHER_STATE, "module.copy.aws_security_group.alb"),
    )
}

#[test]
fn two_states_managing_a_group_identically_is_no_conflict() {
    let (a, b) = two_owners();
    let https = tcp_in(ALB, 443, 443, v4("0.0.0.0/0"));
    let world = World::new()
        .managed_live(ALB, "alb-public", a.clone())
        .group(managed(ALB, "alb-public", b.clone()))
        .declare(inline(https.clone(), a))
        .declare(inline(https.clone(), b))
        .live_rule(https);
    let outcome = world.diff();
    assert!(outcome.findings.is_empty(), "{:#?}", outcome.findings);
    assert_eq!(outcome.managed_groups, 1);
    assert_eq!(outcome.declared_rules, 1);
}

#[test]
fn two_states_managing_a_group_with_different_inline_rules_conflict() {
    let (a, b) = two_owners();
    let https = tcp_in(ALB, 443, 443, v4("0.0.0.0/0"));
    let http = tcp_in(ALB, 80, 80, v4("0.0.0.0/0"));
    let world = World::new()
        .managed_live(ALB, "alb-public", a.clone())
        .group(managed(ALB, "alb-public", b.clone()))
        .declare(inline(https.clone(), a.clone()))
        .declare(inline(https.clone(), b.clone()))
        .declare(inline(http.clone(), b.clone()))
        .live_rule(https)
        .live_rule(http.clone());
    let findings = world.findings();
    assert_codes(&findings, &[FindingCode::OwnerConflict]);
    let f = &findings[0];
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.resource.id.as_deref(), Some(ALB));
    // Owners are ordered: other.tfstate sorts before prod.tfstate.
    assert_eq!(f.owner, b);
    assert_eq!(
        changes(f),
        vec![json_change(
            "rules",
            json!([http.key().to_string()]),
            json!([])
        )]
    );
    assert!(f.message.contains("prod.tfstate"), "{}", f.message);
    assert!(f.message.contains("other.tfstate"), "{}", f.message);
}

#[test]
fn two_states_managing_a_group_with_different_fields_conflict() {
    let (a, b) = two_owners();
    let mut copy = managed(ALB, "alb-public", b);
    copy.group.description = Some("the copy".into());
    let world = World::new().managed_live(ALB, "alb-public", a).group(copy);
    let findings = world.findings();
    // The first owner (other.tfstate) also differs from live.
    let conflict = only(&findings, FindingCode::OwnerConflict);
    assert_eq!(conflict.severity, Severity::Medium);
    assert_eq!(
        changes(&conflict),
        vec![json_change(
            "description",
            json!("the copy"),
            json!("alb-public group")
        )]
    );
}

#[test]
fn two_states_managing_a_group_with_different_rule_resources_conflict() {
    let (a, b) = two_owners();
    let https = tcp_in(ALB, 443, 443, v4("0.0.0.0/0"));
    let ssh = tcp_in(ALB, 22, 22, v4("10.0.0.0/8"));
    let world = World::new()
        .managed_live(ALB, "alb-public", a)
        .group(managed(ALB, "alb-public", b))
        .both(
            https.clone(),
            tf(STATE, "aws_vpc_security_group_ingress_rule.https"),
        )
        .declare(declared(
            https,
            tf(
                OTHER_STATE,
                "module.copy.aws_vpc_security_group_ingress_rule.https",
            ),
        ))
        .declare(declared(
            ssh,
            tf(
                OTHER_STATE,
                "module.copy.aws_vpc_security_group_ingress_rule.ssh",
            ),
        ));
    let findings = world.findings();
    assert_eq!(
        of_code(&findings, FindingCode::OwnerConflict).len(),
        1,
        "{:#?}",
        summary(&findings)
    );
}

#[test]
fn inline_rule_shadowed_by_a_rule_resource_counts_once() {
    let https = tcp_in(ALB, 443, 443, v4("0.0.0.0/0"));
    let ssh = tcp_in(ALB, 22, 22, v4("10.0.0.0/8"));
    let group_owner = tf(STATE, "aws_security_group.alb");
    // (state of the rule resource, whether that state also manages the group)
    for (rule_state, also_manages) in [(STATE, false), (OTHER_STATE, false), (OTHER_STATE, true)] {
        let mut world = World::new()
            .managed_live(ALB, "alb-public", group_owner.clone())
            // the provider refreshed both live rules into the inline list
            .declare(inline(https.clone(), group_owner.clone()))
            .declare(inline(ssh.clone(), group_owner.clone()))
            .declare(declared(
                ssh.clone(),
                tf(rule_state, "aws_security_group_rule.ssh"),
            ))
            .live_rule(https.clone())
            .live_rule(ssh.clone());
        if also_manages {
            let other_group_owner = tf(rule_state, "module.copy.aws_security_group.alb");
            world = world
                .group(managed(ALB, "alb-public", other_group_owner.clone()))
                .declare(inline(https.clone(), other_group_owner.clone()))
                .declare(inline(ssh.clone(), other_group_owner));
        }
        let outcome = world.diff();
        assert!(
            outcome.findings.is_empty(),
            "{rule_state} {also_manages}: {:#?}",
            outcome.findings
        );
        assert_eq!(outcome.declared_rules, 2, "{rule_state} {also_manages}");
        assert_eq!(outcome.managed_groups, 1);
    }
}

#[test]
fn a_drifted_rule_owned_by_a_rule_resource_names_that_resource() {
    let ssh = tcp_in(ALB, 22, 22, v4("10.0.0.0/8"));
    let group_owner = tf(STATE, "aws_security_group.alb");
    let resource = tf(OTHER_STATE, "aws_security_group_rule.ssh");
    let world = World::new()
        .managed_live(ALB, "alb-public", group_owner.clone())
        .declare(inline(ssh.clone(), group_owner))
        .declare(declared(ssh, resource.clone()))
        .live_rule(tcp_in(ALB, 2222, 2222, v4("10.0.0.0/8")));
    let f = only(&world.findings(), FindingCode::RuleModified);
    assert_eq!(f.owner, resource);
}

// ── source-error ───────────────────────────────────────────────────────────────

#[test]
fn failed_sources_are_source_errors() {
    let cases = [
        (SourceKind::Terraform, "broken.tfstate", "terraform_state"),
        (SourceKind::LiveFile, "rules.json", "live_file"),
        (SourceKind::Ec2, "ec2:111111111111/us-east-1", "ec2_region"),
        (
            SourceKind::Cloudformation,
            "prod-network",
            "cloudformation_stack",
        ),
    ];
    for (kind, location, resource_kind) in cases {
        let world = World::new().source(SourceStatus::failed(
            kind,
            location,
            "access denied".to_string(),
        ));
        let findings = world.findings();
        assert_codes(&findings, &[FindingCode::SourceError]);
        let f = &findings[0];
        assert_eq!(f.severity, Severity::Critical, "{location}");
        assert_eq!(f.owner, Owner::none());
        assert_eq!(f.resource.kind, resource_kind);
        assert_eq!(f.resource.id.as_deref(), Some(location));
        assert_eq!(f.resource.group_id, None);
        assert!(f.message.contains(location), "{}", f.message);
        assert!(f.message.contains("access denied"), "{}", f.message);
        assert!(f.fails(Severity::High));
    }
}

// ── stable ids ─────────────────────────────────────────────────────────────────

#[test]
fn finding_ids_are_stable_across_diffs_and_distinct_across_rules() {
    let drift = |to: i64| {
        chain()
            .declare(declared(tcp_out(ALB, 80, 80, sg(FRONT)), rule_owner()))
            .live_rule(tcp_out(ALB, 80, to, sg(FRONT)))
    };
    let first = only(&drift(8080).findings(), FindingCode::RuleModified);
    let again = only(&drift(8080).findings(), FindingCode::RuleModified);
    assert_eq!(first.id, again.id);
    assert!(first.id.starts_with("rule-modified-"), "{}", first.id);
    // Other drift elsewhere in the scan does not move the id.
    let busier = drift(8080)
        .live_group(live_group(LOOSE, "hand-made"))
        .live_rule(tcp_in(FRONT, 22, 22, v4("0.0.0.0/0")));
    let busy = only(&busier.findings(), FindingCode::RuleModified);
    assert_eq!(first.id, busy.id);
    // The id names the drift, not its values.
    let other_value = only(&drift(9090).findings(), FindingCode::RuleModified);
    assert_eq!(first.id, other_value.id);

    // A different rule is a different finding.
    let other_rule = chain()
        .declare(declared(tcp_out(ALB, 443, 443, sg(FRONT)), rule_owner()))
        .live_rule(tcp_out(ALB, 443, 8443, sg(FRONT)));
    let other = only(&other_rule.findings(), FindingCode::RuleModified);
    assert_ne!(first.id, other.id);

    // Every finding of one diff has its own id.
    let findings = busier.findings();
    let mut ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n);
    assert_eq!(n, 3, "{:#?}", summary(&findings));
}

#[test]
fn findings_are_sorted_by_group_direction_and_code() {
    let world = chain()
        .live_group(live_group(LOOSE, "hand-made"))
        .live_rule(tcp_in(FRONT, 22, 22, v4("0.0.0.0/0")))
        .live_rule(all_out(ALB, v4("0.0.0.0/0")))
        .live_rule(tcp_in(ALB, 22, 22, v4("0.0.0.0/0")));
    let findings = world.findings();
    let got: Vec<(Option<&str>, Option<Direction>, FindingCode)> = findings
        .iter()
        .map(|f| (f.resource.group_id.as_deref(), f.direction, f.code))
        .collect();
    assert_eq!(
        got,
        vec![
            (Some(LOOSE), None, FindingCode::SgUnmanaged),
            (Some(ALB), Some(Direction::Ingress), FindingCode::RuleAdded),
            (Some(ALB), Some(Direction::Egress), FindingCode::RuleAdded),
            (
                Some(FRONT),
                Some(Direction::Ingress),
                FindingCode::RuleAdded
            ),
        ]
    );
}
