//! The diff's output as a whole (`src/diff/mod.rs`): stable finding ids, sorted
//! findings.

use super::*;

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
