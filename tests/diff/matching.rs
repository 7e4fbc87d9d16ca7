//! Rule matching (DESIGN.md, "Matching rules for a field-level diff";
//! `src/diff/matching.rs`): identical rules, the same rule id, shared protocol and
//! peer or protocol and ports, leftovers.

use super::*;

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
