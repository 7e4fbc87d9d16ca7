//! Acknowledged drift (contracts/CONFIG.md, `[[acknowledge]]`): matched by every key
//! it gives, per field, with a reason and an expiry; still reported, never failing.

use crate::support::builders::*;
use chrono::{DateTime, TimeZone, Utc};
use driftd::acknowledge::{Acknowledgement, Expiry, apply};
use driftd::model::{
    Acknowledged, Attribution, ChangedBy, Finding, FindingCode, Owner, SecurityGroup, Severity,
};

const ALB: &str = "sg-0a1b000000000001";
const FRONT: &str = "sg-0f00000000000002";

const GROUP_ADDRESS: &str = "module.net.aws_security_group.alb";
const RULE_ADDRESS: &str = "module.net.aws_vpc_security_group_egress_rule.alb_to_front";

fn alb_owner() -> Owner {
    tf(STATE, GROUP_ADDRESS)
}

fn rule_owner() -> Owner {
    tf(STATE, RULE_ADDRESS)
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 6, 0, 0).unwrap()
}

fn ack(reason: &str) -> Acknowledgement {
    Acknowledgement {
        code: None,
        group_id: None,
        address: None,
        field: None,
        account: None,
        region: None,
        changed_by: None,
        reason: reason.to_string(),
        expires: None,
    }
}

fn expiry(text: &str) -> Expiry {
    Expiry::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn base() -> World {
    World::new()
        .managed_live(ALB, "alb-public", alb_owner())
        .managed_live(
            FRONT,
            "ecs-front",
            tf(STATE, "module.ecs.aws_security_group.front"),
        )
}

/// The ALB egress rule with its description changed, and with `to_port` too.
fn rule_modified(to_port: i64, description: Option<&str>) -> Finding {
    let world = base()
        .declare(declared(
            with_description(tcp_out(ALB, 80, 80, sg(FRONT)), Some("to front")),
            rule_owner(),
        ))
        .live_rule(with_description(
            tcp_out(ALB, 80, to_port, sg(FRONT)),
            description,
        ));
    let finding = only(&world.findings(), FindingCode::RuleModified);
    assert!(finding.acknowledged.is_none());
    finding
}

fn description_only() -> Finding {
    let f = rule_modified(80, Some("debugging"));
    assert_eq!(
        f.changes
            .iter()
            .map(|c| c.field.as_str())
            .collect::<Vec<_>>(),
        ["description"]
    );
    f
}

fn description_and_port() -> Finding {
    let f = rule_modified(8080, Some("debugging"));
    assert_eq!(
        f.changes
            .iter()
            .map(|c| c.field.as_str())
            .collect::<Vec<_>>(),
        ["to_port", "description"]
    );
    f
}

/// An SSH rule added by hand on the ALB group: its owner is none, its group's owner
/// is `module.net.aws_security_group.alb`.
fn rule_added() -> Finding {
    let world = base().live_rule(tcp_in(ALB, 22, 22, v4("0.0.0.0/0")));
    let f = only(&world.findings(), FindingCode::RuleAdded);
    assert_eq!(f.owner, Owner::none());
    f
}

fn rule_added_on_front() -> Finding {
    let world = base().live_rule(tcp_in(FRONT, 22, 22, v4("0.0.0.0/0")));
    only(&world.findings(), FindingCode::RuleAdded)
}

fn sg_modified(edit: impl FnOnce(&mut SecurityGroup)) -> Finding {
    let mut live = live_group(ALB, "alb-public");
    edit(&mut live);
    let world = World::new()
        .group(managed(ALB, "alb-public", alb_owner()))
        .live_group(live);
    only(&world.findings(), FindingCode::SgModified)
}

fn acknowledged(finding: Finding, acks: &[Acknowledgement], now: DateTime<Utc>) -> Finding {
    let mut findings = vec![finding];
    apply(&mut findings, acks, now);
    findings.pop().unwrap()
}

fn is_acked(finding: Finding, acks: &[Acknowledgement]) -> bool {
    acknowledged(finding, acks, now()).acknowledged.is_some()
}

#[test]
fn by_code() {
    let a = Acknowledgement {
        code: Some(FindingCode::RuleAdded),
        ..ack("load test from the office, OPS-7")
    };
    let f = acknowledged(rule_added(), std::slice::from_ref(&a), now());
    assert_eq!(
        f.acknowledged,
        Some(Acknowledged {
            reason: "load test from the office, OPS-7".into(),
            expires: None
        })
    );
    assert!(!is_acked(description_only(), &[a]));
}

#[test]
fn by_group_id() {
    let a = Acknowledgement {
        group_id: Some(ALB.into()),
        ..ack("alb rebuild")
    };
    assert!(is_acked(rule_added(), std::slice::from_ref(&a)));
    assert!(is_acked(description_and_port(), std::slice::from_ref(&a)));
    assert!(!is_acked(rule_added_on_front(), &[a]));
}

/// `rule_added()` as CloudTrail attributes it (or not).
fn rule_added_by(attribution: Option<Attribution>) -> Finding {
    Finding {
        changed_by: attribution,
        ..rule_added()
    }
}

fn made_by(principal: &str) -> Option<Attribution> {
    Some(Attribution::Found(ChangedBy {
        principal: principal.into(),
        event: "AuthorizeSecurityGroupIngress".into(),
        time: "2026-11-25T05:40:00.000Z".into(),
        source_ip: Some("198.51.100.7".into()),
        user_agent: None,
        via: None,
        event_id: None,
    }))
}

#[test]
fn by_who_changed_it_the_pipeline_role_and_not_a_person() {
    let a = Acknowledgement {
        changed_by: Some("arn:aws:iam::*:role/terraform-ci*".into()),
        ..ack("the pipeline's own changes")
    };
    let acks = std::slice::from_ref(&a);
    // A session of the role, matched through the role it belongs to.
    let pipeline = "arn:aws:sts::123456789012:assumed-role/terraform-ci-prod/gh-run-4411";
    assert!(is_acked(rule_added_by(made_by(pipeline)), acks));
    let person =
        "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_admin_1a2b/jane@example.com";
    assert!(!is_acked(rule_added_by(made_by(person)), acks));
    assert!(!is_acked(
        rule_added_by(made_by("arn:aws:iam::123456789012:user/terraform-ci")),
        acks
    ));
    // Nobody known yet: not acknowledged.
    for unknown in [
        None,
        Some(Attribution::Pending),
        Some(Attribution::NotFound),
    ] {
        assert!(!is_acked(rule_added_by(unknown), acks));
    }
    // A user ARN given whole matches that user.
    let user = Acknowledgement {
        changed_by: Some("arn:aws:iam::123456789012:user/deploy-bot".into()),
        ..ack("the deploy bot")
    };
    assert!(is_acked(
        rule_added_by(made_by("arn:aws:iam::123456789012:user/deploy-bot")),
        &[user]
    ));
}

#[test]
fn by_address_of_the_owner() {
    let a = Acknowledgement {
        address: Some(RULE_ADDRESS.into()),
        ..ack("owned change")
    };
    assert!(is_acked(description_and_port(), std::slice::from_ref(&a)));
    let other = Acknowledgement {
        address: Some("module.net.aws_vpc_security_group_egress_rule.other".into()),
        ..ack("someone else's")
    };
    assert!(!is_acked(description_and_port(), &[other]));
}

#[test]
fn by_address_of_the_group_owner_for_an_unowned_rule() {
    let a = Acknowledgement {
        address: Some(GROUP_ADDRESS.into()),
        ..ack("the ALB team knows")
    };
    let added = rule_added();
    assert_eq!(added.group_owner, Some(alb_owner()));
    assert!(is_acked(added, std::slice::from_ref(&a)));
    // The FRONT group has another owner.
    assert!(!is_acked(rule_added_on_front(), &[a]));
}

#[test]
fn every_key_given_must_match() {
    let cases = [
        (
            Some(FindingCode::RuleAdded),
            Some(ALB),
            Some(GROUP_ADDRESS),
            true,
        ),
        (Some(FindingCode::RuleAdded), Some(FRONT), None, false),
        (Some(FindingCode::RuleModified), Some(ALB), None, false),
        (
            Some(FindingCode::RuleAdded),
            None,
            Some(RULE_ADDRESS),
            false,
        ),
        (None, Some(ALB), Some(GROUP_ADDRESS), true),
    ];
    for (code, group, address, want) in cases {
        let a = Acknowledgement {
            code,
            group_id: group.map(str::to_string),
            address: address.map(str::to_string),
            ..ack("r")
        };
        assert_eq!(
            is_acked(rule_added(), &[a]),
            want,
            "{code:?} {group:?} {address:?}"
        );
    }
}

#[test]
fn field_ack_covers_a_finding_whose_only_change_is_that_field() {
    let a = Acknowledgement {
        code: Some(FindingCode::RuleModified),
        group_id: Some(ALB.into()),
        field: Some("description".into()),
        expires: Some(expiry("2027-01-31")),
        ..ack("temporary debugging port, OPS-142")
    };
    let f = acknowledged(description_only(), &[a], now());
    assert_eq!(
        f.acknowledged,
        Some(Acknowledged {
            reason: "temporary debugging port, OPS-142".into(),
            expires: Some("2027-01-31".into()),
        })
    );
    let json = serde_json::to_value(&f).unwrap();
    assert_eq!(
        json["acknowledged"],
        serde_json::json!({"reason": "temporary debugging port, OPS-142", "expires": "2027-01-31"})
    );
    assert!(!f.fails(Severity::Info));
}

#[test]
fn field_ack_never_hides_another_changed_field() {
    let a = Acknowledgement {
        group_id: Some(ALB.into()),
        field: Some("description".into()),
        ..ack("temporary debugging port, OPS-142")
    };
    let f = acknowledged(description_and_port(), &[a], now());
    assert_eq!(f.acknowledged, None);
    assert!(f.fails(Severity::High));
}

#[test]
fn field_acks_together_covering_every_change() {
    let description = Acknowledgement {
        group_id: Some(ALB.into()),
        field: Some("description".into()),
        expires: Some(expiry("2027-03-01")),
        ..ack("debug note")
    };
    let port = Acknowledgement {
        group_id: Some(ALB.into()),
        field: Some("to_port".into()),
        expires: Some(expiry("2027-01-31")),
        ..ack("port moved for the canary")
    };
    let f = acknowledged(
        description_and_port(),
        &[description.clone(), port.clone()],
        now(),
    );
    let got = f.acknowledged.expect("both fields are covered");
    assert!(got.reason.contains("debug note"), "{}", got.reason);
    assert!(
        got.reason.contains("port moved for the canary"),
        "{}",
        got.reason
    );
    // Covered only until the first of them expires.
    assert_eq!(got.expires.as_deref(), Some("2027-01-31"));

    // One of the two expired: the port change is uncovered again.
    let later = Utc.with_ymd_and_hms(2027, 2, 15, 0, 0, 0).unwrap();
    let f = acknowledged(description_and_port(), &[description, port], later);
    assert_eq!(f.acknowledged, None);
}

#[test]
fn field_ack_needs_a_changed_field() {
    // rule-added has no `changes`: a per-field acknowledgement cannot cover it.
    let a = Acknowledgement {
        group_id: Some(ALB.into()),
        field: Some("description".into()),
        ..ack("r")
    };
    assert!(!is_acked(rule_added(), &[a]));
}

#[test]
fn whole_finding_ack_beside_a_field_ack() {
    let field = Acknowledgement {
        group_id: Some(ALB.into()),
        field: Some("description".into()),
        ..ack("only the description")
    };
    let whole = Acknowledgement {
        address: Some(RULE_ADDRESS.into()),
        ..ack("the whole rule is being migrated")
    };
    let f = acknowledged(description_and_port(), &[field, whole], now());
    assert_eq!(
        f.acknowledged.map(|a| a.reason),
        Some("the whole rule is being migrated".to_string())
    );
}

#[test]
fn tags_covers_every_tag_key() {
    let retagged = || {
        sg_modified(|g| {
            g.tags = Some(tags(&[("Name", "renamed"), ("Env", "dev")]));
        })
    };
    let fields: Vec<String> = retagged().changes.iter().map(|c| c.field.clone()).collect();
    assert_eq!(fields, ["tags.Env", "tags.Name"]);

    let cases = [
        (Some("tags"), true),
        (Some("tags.Name"), false),
        (Some("tag"), false),
        (Some("description"), false),
        (None, true),
    ];
    for (field, want) in cases {
        let a = Acknowledgement {
            code: Some(FindingCode::SgModified),
            field: field.map(str::to_string),
            ..ack("tagging migration")
        };
        assert_eq!(is_acked(retagged(), &[a]), want, "{field:?}");
    }

    // `tags.Name` alone covers a finding whose only change is that tag.
    let only_name = sg_modified(|g| g.tags = Some(tags(&[("Name", "renamed")])));
    let a = Acknowledgement {
        group_id: Some(ALB.into()),
        field: Some("tags.Name".into()),
        ..ack("renamed")
    };
    assert!(is_acked(only_name, &[a]));

    // A description change is not hidden by a `tags` acknowledgement.
    let both = sg_modified(|g| {
        g.description = Some("x".into());
        g.tags = Some(tags(&[("Name", "renamed")]));
    });
    let a = Acknowledgement {
        group_id: Some(ALB.into()),
        field: Some("tags".into()),
        ..ack("tags")
    };
    assert!(!is_acked(both, &[a]));
}

#[test]
fn expired_acknowledgements_resurface() {
    let cases = [
        ("2026-11-24", false),
        ("2026-11-25", true),
        ("2026-11-25T06:00:00Z", false),
        ("2026-11-25T06:00:01Z", true),
        ("2026-11-25T05:59:59Z", false),
        ("2026-11-25T07:00:00+02:00", false),
        ("2026-11-25T09:00:00+02:00", true),
        ("2030-01-01", true),
    ];
    for (text, want) in cases {
        let a = Acknowledgement {
            code: Some(FindingCode::RuleAdded),
            expires: Some(expiry(text)),
            ..ack("until then")
        };
        let f = acknowledged(rule_added(), &[a], now());
        assert_eq!(f.acknowledged.is_some(), want, "expires {text}");
        assert_eq!(f.fails(Severity::High), !want, "expires {text}");
        if want {
            assert_eq!(f.acknowledged.unwrap().expires.as_deref(), Some(text));
        }
    }
}

#[test]
fn a_date_is_valid_through_that_day_in_utc() {
    let a = Acknowledgement {
        code: Some(FindingCode::RuleAdded),
        expires: Some(expiry("2027-01-31")),
        ..ack("r")
    };
    let instants = [
        (Utc.with_ymd_and_hms(2027, 1, 31, 0, 0, 0).unwrap(), true),
        (Utc.with_ymd_and_hms(2027, 1, 31, 23, 59, 0).unwrap(), true),
        (
            Utc.with_ymd_and_hms(2027, 1, 31, 23, 59, 59).unwrap()
                + chrono::Duration::milliseconds(999),
            true,
        ),
        (Utc.with_ymd_and_hms(2027, 2, 1, 0, 0, 0).unwrap(), false),
        (Utc.with_ymd_and_hms(2027, 2, 1, 0, 0, 1).unwrap(), false),
    ];
    for (at, want) in instants {
        let f = acknowledged(rule_added(), std::slice::from_ref(&a), at);
        assert_eq!(f.acknowledged.is_some(), want, "at {at}");
    }
}

#[test]
fn fails_only_when_unacknowledged_and_severe_enough() {
    let f = rule_added();
    assert_eq!(f.severity, Severity::Critical);
    assert!(f.fails(Severity::Critical));
    assert!(f.fails(Severity::Info));
    let f = acknowledged(
        f,
        &[Acknowledgement {
            code: Some(FindingCode::RuleAdded),
            ..ack("r")
        }],
        now(),
    );
    assert!(f.acknowledged.is_some());
    for level in Severity::ALL {
        assert!(!f.fails(level), "{level}");
    }
    let high = description_only();
    assert_eq!(high.severity, Severity::High);
    assert!(!high.fails(Severity::Critical));
    assert!(high.fails(Severity::High));
}

#[test]
fn apply_marks_only_the_covered_findings_of_a_list() {
    let mut findings = vec![rule_added(), rule_added_on_front(), description_and_port()];
    apply(
        &mut findings,
        &[Acknowledgement {
            group_id: Some(FRONT.into()),
            ..ack("front is being rebuilt")
        }],
        now(),
    );
    let marked: Vec<bool> = findings.iter().map(|f| f.acknowledged.is_some()).collect();
    assert_eq!(marked, [false, true, false]);
    // Acknowledged findings are still reported, unchanged otherwise.
    assert_eq!(findings[1].code, FindingCode::RuleAdded);
    assert_eq!(findings[1].severity, Severity::Critical);
}

#[test]
fn expiry_parse() {
    let date = expiry("2027-01-31");
    assert_eq!(date.text, "2027-01-31");
    assert_eq!(date.at, Utc.with_ymd_and_hms(2027, 2, 1, 0, 0, 0).unwrap());
    assert_eq!(date.to_string(), "2027-01-31");
    let time = expiry("2027-01-31T12:00:00+02:00");
    assert_eq!(
        time.at,
        Utc.with_ymd_and_hms(2027, 1, 31, 10, 0, 0).unwrap()
    );
    assert_eq!(time.text, "2027-01-31T12:00:00+02:00");
    assert_eq!(
        expiry("2027-01-31T12:00:00Z").at,
        Utc.with_ymd_and_hms(2027, 1, 31, 12, 0, 0).unwrap()
    );
    for garbage in [
        "",
        "tomorrow",
        "2027-13-01",
        "2027-02-30",
        "31/01/2027",
        "2027-01-31T25:00:00Z",
        "2027-01-31 12:00",
        "2027-01-31T12:00:00",
    ] {
        let err = Expiry::parse(garbage).expect_err(garbage);
        assert!(
            err.contains(&format!("{garbage:?}")),
            "{garbage}: the error names the value: {err}"
        );
    }
}
