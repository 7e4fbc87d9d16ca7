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

// ── reference-empty ────────────────────────────────────────────────────────────

/// The chain with its carriers: the ALB's interface carries `alb-public`, a task's
/// interface `ecs-front`; the front allows port 80 from the ALB's group.
fn carried_chain() -> World {
    chain()
        .both(tcp_in(FRONT, 80, 80, sg(ALB)), front_owner())
        .interface("eni-0a1b", ALB_INTERFACE, &[ALB])
        .interface("eni-0f00", TASK_INTERFACE, &[FRONT])
}

#[test]
fn a_rule_allowing_a_carried_group_is_no_finding() {
    let outcome = carried_chain().diff();
    assert_eq!(outcome.findings, vec![]);
    // What was compared: both groups, and what carries each.
    assert_eq!(outcome.compared_groups, 2);
    assert_eq!(outcome.carriers[ALB], ["ELB app/web"]);
    assert_eq!(outcome.carriers[FRONT], ["ecs task eni-0f00"]);
}

#[test]
fn a_group_detached_from_its_load_balancer_empties_the_rules_that_allow_it() {
    // Incident 2 as a detach: the ALB now carries another group; alb-public still
    // exists and the front still allows port 80 only from it.
    let world = chain()
        .live_group(live_group(SHARED, "alb-by-hand"))
        .both(tcp_in(FRONT, 80, 80, sg(ALB)), front_owner())
        .interface("eni-0a1b", ALB_INTERFACE, &[SHARED])
        .interface("eni-0f00", TASK_INTERFACE, &[FRONT]);
    let outcome = world.diff();
    let findings = &outcome.findings;
    let mut got = codes(findings);
    got.sort();
    // The hand-made group is unmanaged; the rule is the ghost reference.
    assert_eq!(got, [FindingCode::SgUnmanaged, FindingCode::ReferenceEmpty]);
    let f = only(findings, FindingCode::ReferenceEmpty);
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.owner, front_owner());
    assert_eq!(f.resource.group_id.as_deref(), Some(FRONT));
    assert_eq!(f.expected, Some(tcp_in(FRONT, 80, 80, sg(ALB))));
    assert_eq!(f.actual, Some(tcp_in(FRONT, 80, 80, sg(ALB))));
    assert_eq!(
        f.message,
        format!(
            "ecs-front ({FRONT}) (carried by ecs task eni-0f00): ingress tcp 80 from {ALB} \
             allows alb-public ({ALB}), which no network interface carries; traffic through \
             this rule reaches nothing"
        )
    );
    assert_eq!(
        outcome.carriers[ALB],
        Vec::<String>::new(),
        "carried by nothing"
    );
}

#[test]
fn an_egress_rule_to_a_group_nothing_carries_is_empty_too() {
    let world = chain()
        .both(tcp_out(ALB, 80, 80, sg(FRONT)), alb_owner())
        .interface("eni-0a1b", ALB_INTERFACE, &[ALB]);
    let f = only(&world.findings(), FindingCode::ReferenceEmpty);
    assert_eq!(f.direction, Some(Direction::Egress));
    assert_eq!(f.resource.group_id.as_deref(), Some(ALB));
    assert!(
        f.message.contains("carried by ELB app/web"),
        "{}",
        f.message
    );
}

#[test]
fn reference_empty_is_judged_only_where_it_can_be() {
    let detached = || {
        chain()
            .both(tcp_in(FRONT, 80, 80, sg(ALB)), front_owner())
            .interface("eni-0f00", TASK_INTERFACE, &[FRONT])
    };
    assert_codes(&detached().findings(), &[FindingCode::ReferenceEmpty]);

    // The interfaces of that place could not be read: nothing is said of them.
    let mut unread = detached();
    unread.live.interface_scopes.clear();
    assert_codes(&unread.findings(), &[]);
    let failed = detached().source(SourceStatus {
        account_id: Some(ACCOUNT.to_string()),
        region: Some(REGION.to_string()),
        ..SourceStatus::failed(
            SourceKind::NetworkInterfaces,
            &format!("{ACCOUNT}/{REGION}"),
            "UnauthorizedOperation".into(),
        )
    });
    assert_codes(&failed.findings(), &[FindingCode::SourceError]);

    // A group that nothing carries lets nothing through: its rules are moot.
    let own_group_idle = chain()
        .both(tcp_in(FRONT, 80, 80, sg(ALB)), front_owner())
        .interface("eni-0other", "", &[]);
    assert_codes(&own_group_idle.findings(), &[]);

    // A group's reference to itself, and one across a peering, are not judged.
    let own = chain()
        .both(tcp_in(FRONT, 80, 80, sg(FRONT)), front_owner())
        .interface("eni-0f00", TASK_INTERFACE, &[FRONT]);
    assert_codes(&own.findings(), &[]);
    let mut peered = tcp_in(FRONT, 80, 80, sg(ALB));
    peered.peer_via_peering = true;
    let peering =
        chain()
            .both(peered, front_owner())
            .interface("eni-0f00", TASK_INTERFACE, &[FRONT]);
    assert_codes(&peering.findings(), &[]);

    // A group that does not exist is dangling, not empty.
    let gone = chain()
        .both(tcp_in(FRONT, 80, 80, sg(GONE)), front_owner())
        .interface("eni-0f00", TASK_INTERFACE, &[FRONT]);
    assert_codes(&gone.findings(), &[FindingCode::ReferenceDangling]);
}
