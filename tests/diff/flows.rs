//! `flow-broken` (`src/diff/flows.rs`): `[[flow]]` paths judged over the live rules
//! and what carries the groups, with AWS's semantics.

use super::*;
use driftd::model::CarrierRef;

const EXTRA: &str = "sg-0e00000000000005";
/// The load balancer's Terraform address, declaring `ALB` for it.
const LB: &str = "module.lb.aws_lb.web";

/// The ALB's interface (10.0.0.10) carries `alb`; the task's (10.0.0.11) `ecs-front`.
/// Rules are the test's. One flow: the load balancer to ecs-front, tcp 80.
fn world(alb_groups: &[&str]) -> World {
    chain()
        .live_group(live_group(SHARED, "alb-by-hand"))
        .live_group(live_group(EXTRA, "extra"))
        .attach(
            CarrierRef::LoadBalancer("app/web/50dc6c495c0c9188".into()),
            alb_groups,
            tf(STATE, LB),
        )
        .interface("eni-0a1b", ALB_INTERFACE, alb_groups)
        .interface("eni-0f00", TASK_INTERFACE, &[FRONT])
        .flow(LB, FRONT, Protocol::Tcp, Some(80))
}

/// The chain's path: ALB egress 80 to ecs-front, ecs-front ingress 80 from the ALB.
fn open(world: World) -> World {
    world
        .live_rule(tcp_out(ALB, 80, 80, sg(FRONT)))
        .live_rule(tcp_in(FRONT, 80, 80, sg(ALB)))
}

fn flow_findings(world: &World) -> Vec<Finding> {
    world
        .findings()
        .into_iter()
        .filter(|f| f.code == FindingCode::FlowBroken)
        .collect()
}

fn broken_message(world: &World) -> String {
    let found = flow_findings(world);
    assert_eq!(found.len(), 1, "{found:#?}");
    found[0].message.clone()
}

#[test]
fn an_open_path_holds() {
    assert_eq!(flow_findings(&open(world(&[ALB]))), vec![]);
}

#[test]
fn a_detached_group_blocks_the_ingress_and_says_why() {
    // Incident 2: the ALB now carries alb-by-hand, which allows all egress; the
    // front still allows port 80 only from alb-public.
    let world = world(&[SHARED])
        .live_rule(all_out(SHARED, v4("0.0.0.0/0")))
        .live_rule(tcp_in(FRONT, 80, 80, sg(ALB)));
    let found = flow_findings(&world);
    assert_eq!(found.len(), 1);
    let f = &found[0];
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.resource.kind, "flow");
    assert_eq!(f.resource.id.as_deref(), Some("flow-1"));
    assert_eq!(
        f.message,
        format!(
            "flow flow-1 (tcp 80 from {LB} to {FRONT}): ecs-front ({FRONT})'s ingress blocks it: \
             its groups (ecs-front ({FRONT})) allow tcp 80 only from alb-public ({ALB}); \
             ELB app/web ({LB}) (eni-0a1b, 10.0.0.10) carries alb-by-hand ({SHARED})"
        )
    );
}

#[test]
fn egress_blocked_is_told_apart_from_ingress_blocked() {
    let world = world(&[ALB])
        .live_rule(tcp_out(ALB, 8080, 8080, sg(FRONT)))
        .live_rule(tcp_in(FRONT, 80, 80, sg(ALB)));
    let message = broken_message(&world);
    assert!(
        message.contains(&format!(
            "ELB app/web ({LB})'s egress blocks it: its groups (alb-public ({ALB})) allow no tcp 80 to anywhere"
        )),
        "{message}"
    );
}

#[test]
fn port_ranges_are_inclusive() {
    let with = |from: i64, to: i64| {
        world(&[ALB])
            .live_rule(tcp_out(ALB, from, to, sg(FRONT)))
            .live_rule(tcp_in(FRONT, 80, 80, sg(ALB)))
    };
    assert_eq!(flow_findings(&with(80, 80)), vec![]);
    assert_eq!(flow_findings(&with(79, 80)), vec![]);
    assert_eq!(flow_findings(&with(80, 81)), vec![]);
    assert_eq!(flow_findings(&with(81, 90)).len(), 1);
    assert_eq!(flow_findings(&with(70, 79)).len(), 1);
}

#[test]
fn protocol_all_matches_everything_and_a_flow_of_all_traffic_needs_it() {
    let all_rules = world(&[ALB])
        .live_rule(all_out(ALB, sg(FRONT)))
        .live_rule(all_in(FRONT, sg(ALB)));
    assert_eq!(flow_findings(&all_rules), vec![]);
    let every_tcp_port = |w: World| {
        w.live_rule(tcp_out(ALB, 0, 65535, sg(FRONT)))
            .live_rule(tcp_in(FRONT, 0, 65535, sg(ALB)))
    };
    assert_eq!(flow_findings(&every_tcp_port(world(&[ALB]))), vec![]);
    let all_traffic = every_tcp_port(world(&[ALB])).flow(LB, FRONT, Protocol::All, None);
    let found = flow_findings(&all_traffic);
    assert_eq!(found.len(), 1, "tcp rules do not allow all traffic");
    assert!(
        found[0].message.contains("all traffic"),
        "{}",
        found[0].message
    );
    // udp is not tcp.
    let udp = world(&[ALB])
        .live_rule(rule(
            ALB,
            Direction::Egress,
            Protocol::Udp,
            Some((80, 80)),
            sg(FRONT),
        ))
        .live_rule(tcp_in(FRONT, 80, 80, sg(ALB)));
    assert_eq!(flow_findings(&udp).len(), 1);
}

#[test]
fn cidr_peers_match_the_interfaces_private_addresses() {
    let from_cidr = |cidr: &str| {
        world(&[ALB])
            .live_rule(tcp_out(ALB, 80, 80, v4("10.0.0.0/24")))
            .live_rule(tcp_in(FRONT, 80, 80, v4(cidr)))
    };
    assert_eq!(
        flow_findings(&from_cidr("10.0.0.8/29")),
        vec![],
        "10.0.0.10 is in it"
    );
    assert_eq!(flow_findings(&from_cidr("10.0.0.10/32")), vec![]);
    assert_eq!(flow_findings(&from_cidr("10.0.0.16/28")).len(), 1);
    // IPv6: an address of the interface in the rule's network.
    let mut v6 = world(&[ALB])
        .live_rule(tcp_out(ALB, 80, 80, v6("2001:db8::/64")))
        .live_rule(tcp_in(FRONT, 80, 80, sg(ALB)));
    assert_eq!(
        flow_findings(&v6).len(),
        1,
        "the task has no IPv6 address yet"
    );
    v6.live.interfaces[1]
        .private_ips
        .push("2001:db8::11".into());
    assert_eq!(
        flow_findings(&v6).len(),
        1,
        "IPv6 traffic needs an IPv6 address on the ALB's interface too"
    );
    v6.live.interfaces[0]
        .private_ips
        .push("2001:db8::10".into());
    assert_eq!(flow_findings(&v6), vec![]);
    // One packet is one family: egress allowed only over IPv6 and ingress only over
    // IPv4 let nothing through.
    let mut mixed = world(&[ALB])
        .live_rule(tcp_out(ALB, 80, 80, support::builders::v6("2001:db8::/64")))
        .live_rule(tcp_in(FRONT, 80, 80, v4("10.0.0.10/32")));
    mixed.live.interfaces[0]
        .private_ips
        .push("2001:db8::10".into());
    mixed.live.interfaces[1]
        .private_ips
        .push("2001:db8::11".into());
    assert_eq!(flow_findings(&mixed).len(), 1);
}

#[test]
fn all_groups_of_an_interface_are_combined() {
    // The egress comes from one group of the ALB's interface, the reference the
    // front allows from another.
    let world = world(&[ALB, EXTRA])
        .live_rule(tcp_out(EXTRA, 80, 80, sg(FRONT)))
        .live_rule(tcp_in(FRONT, 80, 80, sg(ALB)));
    assert_eq!(flow_findings(&world), vec![]);
}

#[test]
fn a_prefix_list_that_alone_could_allow_it_is_not_judged() {
    let world = world(&[ALB])
        .live_rule(tcp_out(ALB, 80, 80, Peer::PrefixList("pl-0abc".into())))
        .live_rule(tcp_in(FRONT, 80, 80, sg(ALB)));
    assert_eq!(
        flow_findings(&world),
        vec![],
        "cannot judge: said in the log, not guessed"
    );
}

#[test]
fn an_endpoint_without_interfaces_breaks_the_flow() {
    // Nothing carries ecs-front: the tasks are gone.
    let mut world = open(world(&[ALB]));
    world.live.interfaces.pop();
    let message = broken_message(&world);
    assert!(
        message.ends_with(&format!(
            "ecs-front ({FRONT}) has no network interface: nothing carries the traffic"
        )),
        "{message}"
    );
}

#[test]
fn endpoints_resolve_by_id_name_and_address_or_say_they_cannot() {
    for from in [ALB, "alb-public", "module.net.aws_security_group.alb", LB] {
        let w = open(world(&[ALB])).flow(from, "ecs-front", Protocol::Tcp, Some(80));
        assert_eq!(flow_findings(&w), vec![], "from {from}");
    }
    let lost = open(world(&[ALB])).flow("aws_lb.gone", FRONT, Protocol::Tcp, Some(80));
    let found = flow_findings(&lost);
    assert_eq!(found.len(), 1);
    assert!(
        found[0].message.ends_with("the flow cannot be checked"),
        "{}",
        found[0].message
    );
}

#[test]
fn flows_are_judged_only_where_the_interfaces_were_read() {
    let mut unread = world(&[SHARED]).live_rule(tcp_in(FRONT, 80, 80, sg(ALB)));
    unread.live.interface_scopes.clear();
    assert_eq!(flow_findings(&unread), vec![]);
}

#[test]
fn flows_say_nothing_of_what_was_not_read() {
    let failed_region = || SourceStatus {
        account_id: Some(OTHER_ACCOUNT.to_string()),
        region: Some(REGION.to_string()),
        ..SourceStatus::failed(SourceKind::Ec2, "other/us-east-1", "503".into())
    };
    // An endpoint no source knows, while a source failed: it may be there.
    let lost = open(world(&[ALB]))
        .flow("aws_lb.gone", FRONT, Protocol::Tcp, Some(80))
        .source(failed_region());
    assert_eq!(flow_findings(&lost), vec![]);
    // A group of unknown place, while a region failed: not said to have no interface.
    let unknown = open(world(&[ALB]))
        .flow("sg-0ffff00000000009", FRONT, Protocol::Tcp, Some(80))
        .source(failed_region());
    assert_eq!(flow_findings(&unknown), vec![]);
    // A group on the interface that was not read may allow it: not judged.
    let mut foreign = world(&[ALB]).live_rule(tcp_in(FRONT, 80, 80, sg(ALB)));
    foreign.live.interfaces[0]
        .groups
        .push("sg-0ffff00000000009".into());
    assert_eq!(flow_findings(&foreign), vec![]);
}

#[test]
fn a_resolved_prefix_list_is_judged_by_its_entries() {
    let through = |cidr: &str| {
        let mut world = world(&[ALB])
            .live_rule(tcp_out(ALB, 80, 80, Peer::PrefixList("pl-0abc".into())))
            .live_rule(tcp_in(FRONT, 80, 80, sg(ALB)));
        world
            .live
            .prefix_lists
            .insert("pl-0abc".into(), vec![cidr.parse().unwrap()]);
        world
    };
    // The task's interface is 10.0.0.11.
    assert_eq!(flow_findings(&through("10.0.0.0/28")), vec![]);
    let message = broken_message(&through("10.9.0.0/16"));
    assert!(
        message.contains("'s egress blocks it: its groups (alb-public (sg-0a1b000000000001)) allow tcp 80 only to pl-0abc"),
        "{message}"
    );
    // An IPv6 entry does not carry IPv4 traffic.
    assert_eq!(flow_findings(&through("2001:db8::/32")).len(), 1);
}
