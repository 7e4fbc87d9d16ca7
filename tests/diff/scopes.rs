//! `scope-unscanned` (`src/diff/scopes.rs`) and what the diff says it compared: a
//! declared group in an account/region no live source read is said, never skipped.

use chrono::{TimeZone, Utc};
use driftd::acknowledge::{Acknowledgement, apply};
use driftd::model::{DeclaredGroup, DeclaredRule, SecurityGroup};

use super::*;

const WEST: &str = "sg-0e0000000000000e1";

/// The chain, read in us-east-1, plus a group the same state manages in eu-west-1,
/// which no live source read.
fn two_regions() -> World {
    let west = SecurityGroup {
        region: Some("eu-west-1".to_string()),
        ..live_group(WEST, "west")
    };
    let mut world = chain().group(DeclaredGroup {
        group: west,
        owner: tf(STATE, "aws_security_group.west"),
    });
    world.intent.rules.push(DeclaredRule {
        // Its scope is its group's (a rule resource's ARN names none).
        account_id: None,
        region: None,
        ..declared(
            tcp_in(WEST, 443, 443, v4("10.0.0.0/8")),
            tf(STATE, "aws_security_group_rule.west_https"),
        )
    });
    world
}

#[test]
fn declared_groups_in_an_unread_region_are_scope_unscanned_not_missing() {
    let world = two_regions();
    let outcome = world.diff();
    let codes: Vec<FindingCode> = outcome.findings.iter().map(|f| f.code).collect();
    assert_eq!(
        codes,
        [FindingCode::ScopeUnscanned],
        "{:#?}",
        outcome.findings
    );
    let f = &outcome.findings[0];
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.owner, Owner::none());
    assert_eq!(f.resource.kind, "scope");
    assert_eq!(
        f.resource.id.as_deref(),
        Some(format!("{ACCOUNT}/eu-west-1").as_str())
    );
    assert_eq!(f.account_id.as_deref(), Some(ACCOUNT));
    assert_eq!(f.region.as_deref(), Some("eu-west-1"));
    assert_eq!(
        f.message,
        format!(
            "1 declared group and 1 declared rule in {ACCOUNT}/eu-west-1 were not compared: no live source read that account and region; add --region eu-west-1 (or it to [scan] regions)"
        )
    );
    // What was compared: the chain's groups, not the western one.
    let managed = world.intent.groups.len();
    assert_eq!(outcome.managed_groups, managed);
    assert_eq!(outcome.compared_groups, managed - 1);
    assert_eq!(outcome.compared_rules, outcome.declared_rules - 1);
}

#[test]
fn the_region_read_too_makes_it_compared() {
    let mut world = two_regions();
    world.live.scopes.push(scope(ACCOUNT, "eu-west-1"));
    let outcome = world.diff();
    // Now it is read, and gone: missing, with its rule.
    let codes: Vec<FindingCode> = outcome.findings.iter().map(|f| f.code).collect();
    assert_eq!(codes, [FindingCode::SgMissing], "{:#?}", outcome.findings);
    assert_eq!(outcome.compared_groups, outcome.managed_groups);
}

#[test]
fn a_region_left_to_another_deployment_is_acknowledged_by_region() {
    let mut findings = two_regions().findings();
    let by_region = Acknowledgement {
        code: Some(FindingCode::ScopeUnscanned),
        group_id: None,
        address: None,
        field: None,
        account: None,
        region: Some("eu-west-1".to_string()),
        changed_by: None,
        reason: "eu-west-1 is scanned by the EU deployment".to_string(),
        expires: None,
    };
    let elsewhere = Acknowledgement {
        region: Some("us-west-2".to_string()),
        ..by_region.clone()
    };
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
    apply(&mut findings, std::slice::from_ref(&elsewhere), now);
    assert!(findings[0].acknowledged.is_none());
    apply(&mut findings, &[by_region], now);
    assert_eq!(
        findings[0].acknowledged.as_ref().map(|a| a.reason.as_str()),
        Some("eu-west-1 is scanned by the EU deployment")
    );
}

#[test]
fn a_region_another_schedule_reads_is_not_unscanned_here() {
    // `serve` with one schedule per region: each leaves the other's to it, instead
    // of raising what the other resolves.
    let mut world = two_regions();
    world.options.regions_read_elsewhere = vec!["eu-west-1".to_string()];
    let outcome = world.diff();
    assert!(outcome.findings.is_empty(), "{:#?}", outcome.findings);
    // Still not compared here, and counted so.
    assert_eq!(outcome.compared_groups, outcome.managed_groups - 1);
    world.options.regions_read_elsewhere = vec!["us-west-2".to_string()];
    let codes: Vec<FindingCode> = world.findings().iter().map(|f| f.code).collect();
    assert_eq!(codes, [FindingCode::ScopeUnscanned]);
}
