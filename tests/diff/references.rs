//! Reference checks (`src/diff/references.rs`): `reference-dangling`,
//! `dependency-hidden`.

use super::*;

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
