//! The pure diff (`src/diff/`), rule by rule of DESIGN.md ("Matching rules for a
//! field-level diff", "Correctness rules") and contracts/FINDINGS.md: every code, its
//! severity, owner, `changes` and the whole rule objects it carries. One module per
//! file of `src/diff/` (the check families, matching, the sorted output), properties
//! over random inputs, and the acknowledgements applied to the diff's findings
//! (`src/acknowledge.rs`).

#[path = "../support/mod.rs"]
mod support;

mod acknowledge;
mod attachments;
mod attribution;
mod cloudformation;
mod flows;
mod groups;
mod matching;
mod neighbours;
mod output;
mod properties;
mod references;
mod rules;
mod scopes;
mod source_errors;

// What the check-family modules share (`use super::*`).
use driftd::model::{
    Direction, Finding, FindingCode, FindingStatus, Owner, OwnerKind, Peer, Protocol, Rule,
    SecurityGroup, Severity,
};
use driftd::sources::{SourceKind, SourceStatus};
use serde_json::{Value, json};
use support::builders::*;

const ALB: &str = "sg-0a1b000000000001";
const FRONT: &str = "sg-0f00000000000002";
const SHARED: &str = "sg-05a4000000000003";
const GONE: &str = "sg-0dead000000000004";
const LOOSE: &str = "sg-0100000000000005";

/// What the interfaces of the chain's load balancer and of an ECS task say they are.
const ALB_INTERFACE: &str = "ELB app/web/50dc6c495c0c9188";
const TASK_INTERFACE: &str =
    "arn:aws:ecs:us-east-1:111111111111:attachment/4f6a7c2e-1b3d-4e5f-8a9b-0c1d2e3f4a5b";

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

/// `ecs-front` managed, with a rule on `shared-alb`, which its state only reads
/// (`dependency-hidden`).
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
