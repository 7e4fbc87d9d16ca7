//! Rule-level checks (`src/diff/rules.rs`): descriptions, severities, and
//! `rule-added` only where IaC owns the group.

use super::*;

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
fn extra_live_rule_on_a_partly_declared_group_is_rule_added_low_or_critical_when_world_open() {
    // LOOSE is created elsewhere (its owner is not loaded); this state only adds a
    // rule resource to it. A rule nobody declares there is somebody's change.
    let partly = |extra: Rule| {
        World::new()
            .live_group(live_group(LOOSE, "shared-by-rules"))
            .both(
                tcp_in(LOOSE, 443, 443, v4("10.0.0.0/8")),
                other_rule_owner(),
            )
            // AWS's default egress on a console-made group: nobody declares
            // egress there, so that direction is not judged.
            .live_rule(all_out(LOOSE, v4("0.0.0.0/0")))
            .live_rule(extra)
            .findings()
    };
    let findings = partly(tcp_in(LOOSE, 22, 22, v4("10.1.0.0/16")));
    let added = only(&findings, FindingCode::RuleAdded);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(added.severity, Severity::Low);
    assert_eq!(added.owner.kind, OwnerKind::None);
    assert_eq!(added.actual.as_ref().unwrap().from_port, Some(22));
    assert!(
        added.message.contains("the group's owner is not loaded"),
        "{}",
        added.message
    );
    let world_open = partly(tcp_in(LOOSE, 22, 22, v4("0.0.0.0/0")));
    assert_eq!(
        only(&world_open, FindingCode::RuleAdded).severity,
        Severity::Critical
    );
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
