//! `attachment-modified` (`src/diff/attachments.rs`): the groups on what carries
//! them differ from those IaC declares for it.

use super::*;
use driftd::model::CarrierRef;

const ALB_ARN_KEY: &str = "app/web/50dc6c495c0c9188";

fn lb_owner() -> Owner {
    tf(STATE, "module.lb.aws_lb.web")
}

/// This check's findings (the others are other checks').
fn attachment_findings(world: &World) -> Vec<Finding> {
    of_code(&world.findings(), FindingCode::AttachmentModified)
        .into_iter()
        .cloned()
        .collect()
}

fn web_lb() -> CarrierRef {
    CarrierRef::LoadBalancer(ALB_ARN_KEY.to_string())
}

#[test]
fn a_carrier_holding_what_iac_declares_is_no_finding() {
    let world = chain()
        .attach(web_lb(), &[ALB], lb_owner())
        .interface("eni-0a1b", ALB_INTERFACE, &[ALB])
        .interface("eni-0a1c", ALB_INTERFACE, &[ALB]);
    let outcome = world.diff();
    assert_eq!(outcome.findings, vec![]);
    assert_eq!(outcome.carriers[ALB], ["ELB app/web"]);
}

#[test]
fn a_group_attached_by_hand_is_named_with_what_it_allows() {
    let world = chain()
        .live_group(live_group(SHARED, "wide-open"))
        .live_rule(tcp_in(SHARED, 0, 65535, v4("0.0.0.0/0")))
        .attach(web_lb(), &[ALB], lb_owner())
        .interface("eni-0a1b", ALB_INTERFACE, &[ALB, SHARED]);
    let findings = world.findings();
    let f = only(&findings, FindingCode::AttachmentModified);
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.resource.kind, "load_balancer");
    assert_eq!(f.resource.id.as_deref(), Some(ALB_ARN_KEY));
    assert_eq!(f.owner, lb_owner());
    let mut declared = vec![ALB];
    declared.sort();
    let mut live = vec![ALB, SHARED];
    live.sort();
    assert_eq!(
        changes(&f),
        vec![json_change("security_groups", json!(declared), json!(live))]
    );
    assert_eq!(
        f.message,
        format!(
            "ELB app/web carries wide-open ({SHARED}), which module.lb.aws_lb.web (prod.tfstate) \
             does not declare; it allows ingress tcp 0-65535 from 0.0.0.0/0"
        )
    );
}

#[test]
fn a_declared_group_no_longer_carried_is_told() {
    let world = chain()
        .attach(
            CarrierRef::Instance("i-0abc".into()),
            &[ALB, FRONT],
            tf(STATE, "aws_instance.bastion"),
        )
        .interface_of_instance("eni-0b00", "i-0abc", 0, &[FRONT])
        // A secondary interface of the instance is not its primary's groups.
        .interface_of_instance("eni-0b01", "i-0abc", 1, &[ALB]);
    let f = only(&world.findings(), FindingCode::AttachmentModified);
    assert_eq!(f.resource.kind, "instance");
    assert!(
        f.message.starts_with(&format!(
            "instance i-0abc no longer carries alb-public ({ALB}), which aws_instance.bastion"
        )),
        "{}",
        f.message
    );
}

#[test]
fn attachment_modified_is_judged_only_where_it_can_be() {
    let hand = || {
        chain()
            .attach(web_lb(), &[ALB], lb_owner())
            .interface("eni-0a1b", ALB_INTERFACE, &[FRONT])
    };
    assert_codes(&hand().findings(), &[FindingCode::AttachmentModified]);
    // Interfaces unread there: nothing.
    let mut unread = hand();
    unread.live.interface_scopes.clear();
    assert_codes(&unread.findings(), &[]);
    // The load balancer has no interface among those read (gone, or elsewhere).
    let elsewhere = chain().attach(web_lb(), &[ALB], lb_owner()).interface(
        "eni-0a1b",
        "ELB app/other/1111111111111111",
        &[FRONT],
    );
    assert_codes(&elsewhere.findings(), &[]);
}

#[test]
fn a_group_only_added_to_an_interface_says_nothing_of_the_others() {
    // aws_network_interface_sg_attachment: SHARED added to eni-0c00.
    let added = |live: &[&str]| {
        let mut world = chain()
            .live_group(live_group(SHARED, "monitoring"))
            .attach(
                CarrierRef::Interface("eni-0c00".into()),
                &[SHARED],
                tf(STATE, "aws_network_interface_sg_attachment.monitoring"),
            )
            .interface("eni-0c00", "", live);
        world.intent.attachments[0].adds_only = true;
        world
    };
    // (The monitoring group itself is nobody's: sg-unmanaged, not this check's.)
    assert_eq!(attachment_findings(&added(&[ALB, SHARED])), vec![]);
    let f = only(&added(&[ALB]).findings(), FindingCode::AttachmentModified);
    assert_eq!(
        changes(&f),
        vec![json_change("security_groups", json!([SHARED]), json!([]))]
    );
    assert!(
        f.message
            .starts_with(&format!("eni-0c00 no longer carries monitoring ({SHARED})")),
        "{}",
        f.message
    );
}

#[test]
fn a_group_attached_to_an_instances_primary_interface_is_the_instances_too() {
    // The Terraform documentation's own example: aws_instance plus an
    // aws_network_interface_sg_attachment on its primary interface.
    let mut world = chain()
        .live_group(live_group(SHARED, "monitoring"))
        .attach(
            CarrierRef::Instance("i-0abc".into()),
            &[ALB],
            tf(STATE, "aws_instance.web"),
        )
        .attach(
            CarrierRef::Interface("eni-0b00".into()),
            &[SHARED],
            tf(STATE, "aws_network_interface_sg_attachment.monitoring"),
        )
        .interface_of_instance("eni-0b00", "i-0abc", 0, &[ALB, SHARED]);
    world.intent.attachments[1].adds_only = true;
    assert_eq!(attachment_findings(&world), vec![]);
}

#[test]
fn a_declaration_is_compared_only_with_interfaces_of_its_place() {
    let mut world =
        chain()
            .attach(web_lb(), &[ALB], lb_owner())
            .interface("eni-0a1b", ALB_INTERFACE, &[ALB]);
    // The same load balancer name and id in another region carries other groups.
    world = world.interface("eni-0e00", ALB_INTERFACE, &[FRONT]);
    world.live.interfaces[1].region = Some(OTHER_REGION.to_string());
    assert_eq!(attachment_findings(&world), vec![]);
}
