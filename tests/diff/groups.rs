//! Group-level checks (`src/diff/groups.rs`): `sg-missing`, `sg-unmanaged`,
//! `sg-modified`, `owner-conflict`, and who declares a rule.

use super::*;

// ── sg-missing ─────────────────────────────────────────────────────────────────

#[test]
fn managed_group_gone_is_sg_missing_and_its_rules_are_not_removed() {
    let world = World::new()
        .group(managed(ALB, "alb-public", alb_owner()))
        .declare(inline(tcp_in(ALB, 443, 443, v4("0.0.0.0/0")), alb_owner()))
        .declare(declared(
            tcp_out(ALB, 80, 80, v4("10.0.0.0/8")),
            rule_owner(),
        ));
    let findings = world.findings();
    assert_codes(&findings, &[FindingCode::SgMissing]);
    let f = &findings[0];
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.owner, alb_owner());
    assert_eq!(f.resource.kind, "security_group");
    assert_eq!(f.resource.id.as_deref(), Some(ALB));
    assert_eq!(f.resource.group_id.as_deref(), Some(ALB));
    assert_eq!(f.resource.group_name.as_deref(), Some("alb-public"));
    assert_eq!(f.resource.vpc_id.as_deref(), Some("vpc-1"));
    assert_eq!(f.account_id.as_deref(), Some(ACCOUNT));
    assert_eq!(f.region.as_deref(), Some(REGION));
    assert_eq!(f.direction, None);
    assert!(f.changes.is_empty());
}

#[test]
fn group_without_arn_is_compared_in_every_region_read() {
    let mut group = managed(ALB, "alb-public", alb_owner());
    group.group.account_id = None;
    group.group.region = None;
    let world = World::new().group(group);
    assert_codes(&world.findings(), &[FindingCode::SgMissing]);
}

#[test]
fn group_in_a_scope_that_was_not_read_is_not_missing() {
    let cases = [
        ("another region", ACCOUNT, OTHER_REGION),
        ("another account", OTHER_ACCOUNT, REGION),
        ("another account and region", OTHER_ACCOUNT, OTHER_REGION),
    ];
    for (name, account, region) in cases {
        let mut group = managed(ALB, "alb-public", alb_owner());
        group.group.account_id = Some(account.to_string());
        group.group.region = Some(region.to_string());
        let mut rule = declared(tcp_out(ALB, 80, 80, v4("10.0.0.0/8")), rule_owner());
        rule.account_id = Some(account.to_string());
        rule.region = Some(region.to_string());
        // A rule resource on an unmanaged group in that scope: not removed either.
        let mut loose = declared(tcp_in(LOOSE, 22, 22, v4("10.0.0.0/8")), other_rule_owner());
        loose.account_id = Some(account.to_string());
        loose.region = Some(region.to_string());
        let world = World::new().group(group).declare(rule).declare(loose);
        let findings = world.findings();
        // Nothing missing or removed: the place was not compared, and says so.
        assert_codes(&findings, &[FindingCode::ScopeUnscanned]);
        let place = format!("{account}/{region}");
        assert_eq!(
            findings[0].resource.id.as_deref(),
            Some(place.as_str()),
            "{name}"
        );
        assert!(
            findings[0]
                .message
                .starts_with(&format!("1 declared group and 2 declared rules in {place}")),
            "{name}: {}",
            findings[0].message
        );
    }
}

#[test]
fn rule_resource_on_a_deleted_unmanaged_group_in_a_read_scope_is_removed() {
    let world = World::new().declare(declared(
        tcp_in(LOOSE, 22, 22, v4("10.0.0.0/8")),
        other_rule_owner(),
    ));
    let findings = world.findings();
    assert_codes(&findings, &[FindingCode::RuleRemoved]);
    assert_eq!(findings[0].owner, other_rule_owner());
}

#[test]
fn failed_live_file_means_nothing_is_missing() {
    let world = World::new()
        .group(managed(ALB, "alb-public", alb_owner()))
        .declare(inline(tcp_in(ALB, 443, 443, v4("0.0.0.0/0")), alb_owner()))
        .declare(declared(
            tcp_in(LOOSE, 22, 22, v4("10.0.0.0/8")),
            other_rule_owner(),
        ))
        .source(SourceStatus::failed(
            SourceKind::LiveFile,
            "rules.json",
            "truncated JSON at line 3".to_string(),
        ));
    let findings = world.findings();
    assert_codes(&findings, &[FindingCode::SourceError]);
}

#[test]
fn failed_live_file_means_no_rule_of_a_live_group_is_removed() {
    // The groups capture was read, the rules capture failed: that the group has no
    // live rules proves nothing.
    let world = chain()
        .declare(declared(tcp_out(ALB, 80, 80, sg(FRONT)), rule_owner()))
        .declare(inline(tcp_in(ALB, 443, 443, v4("0.0.0.0/0")), alb_owner()))
        .source(SourceStatus::failed(
            SourceKind::LiveFile,
            "rules.json",
            "truncated JSON at line 3".to_string(),
        ));
    let findings = world.findings();
    assert_codes(&findings, &[FindingCode::SourceError]);
}

// ── sg-unmanaged ───────────────────────────────────────────────────────────────

#[test]
fn live_group_nobody_owns_or_reads_is_sg_unmanaged() {
    let world = chain().live_group(live_group(LOOSE, "hand-made"));
    let findings = world.findings();
    assert_codes(&findings, &[FindingCode::SgUnmanaged]);
    let f = &findings[0];
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.owner, Owner::none());
    assert_eq!(f.resource.kind, "security_group");
    assert_eq!(f.resource.id.as_deref(), Some(LOOSE));
    assert_eq!(f.resource.group_id.as_deref(), Some(LOOSE));
    assert_eq!(f.resource.group_name.as_deref(), Some("hand-made"));
    assert_eq!(f.resource.vpc_id.as_deref(), Some("vpc-1"));
    assert_eq!(f.group_owner, None);
}

#[test]
fn default_group_is_unmanaged_only_when_configured() {
    let mut world = chain().live_group(live_group(LOOSE, "default"));
    assert!(world.findings().is_empty(), "{:#?}", world.findings());
    world.options.include_default_groups = true;
    let findings = world.findings();
    assert_codes(&findings, &[FindingCode::SgUnmanaged]);
    assert_eq!(findings[0].resource.id.as_deref(), Some(LOOSE));
}

#[test]
fn an_unmanaged_group_open_to_the_world_is_critical_and_lists_its_rules() {
    let world = chain()
        .live_group(live_group(LOOSE, "hand-made"))
        .live_rule(tcp_in(LOOSE, 22, 22, v6("::/0")))
        .live_rule(tcp_in(LOOSE, 443, 443, v4("0.0.0.0/0")));
    let findings = world.findings();
    assert_codes(&findings, &[FindingCode::SgUnmanaged]);
    let f = &findings[0];
    assert_eq!(f.severity, Severity::Critical);
    let rules: Vec<(&str, &Value, &Value)> = f
        .changes
        .iter()
        .map(|c| (c.field.as_str(), &c.expected, &c.actual))
        .collect();
    assert_eq!(
        rules,
        [
            ("rule", &Value::Null, &json!("ingress tcp 22 from ::/0")),
            (
                "rule",
                &Value::Null,
                &json!("ingress tcp 443 from 0.0.0.0/0")
            ),
        ]
    );
    assert!(
        f.message.ends_with("; it allows ingress tcp 22 from ::/0"),
        "{}",
        f.message
    );
    // Open to the world only on a web port: medium, as an empty group.
    let web = chain()
        .live_group(live_group(LOOSE, "hand-made"))
        .live_rule(tcp_in(LOOSE, 443, 443, v4("0.0.0.0/0")));
    assert_eq!(
        only(&web.findings(), FindingCode::SgUnmanaged).severity,
        Severity::Medium
    );
}

// ── default groups ─────────────────────────────────────────────────────────────

/// The chain beside a VPC's default group with the rules AWS creates with it.
fn default_group() -> World {
    chain()
        .live_group(live_group(LOOSE, "default"))
        .live_rule(all_in(LOOSE, sg(LOOSE)))
        .live_rule(all_out(LOOSE, v4("0.0.0.0/0")))
}

#[test]
fn a_default_group_with_only_the_rules_aws_creates_is_not_drift() {
    let world = default_group().live_rule(all_out(LOOSE, v6("::/0")));
    assert!(world.findings().is_empty(), "{:#?}", world.findings());
}

#[test]
fn a_rule_added_to_a_default_group_is_rule_added_whatever_the_option() {
    let mut world = default_group().live_rule(tcp_in(LOOSE, 22, 22, v4("1.2.3.4/32")));
    let findings = world.findings();
    assert_codes(&findings, &[FindingCode::RuleAdded]);
    let added = &findings[0];
    assert_eq!(added.severity, Severity::High);
    assert_eq!(added.owner.kind, OwnerKind::None);
    assert_eq!(
        added.actual.as_ref().map(|r| r.label()).as_deref(),
        Some("ingress tcp 22 from 1.2.3.4/32")
    );
    assert!(added.message.contains("default group"), "{}", added.message);
    world.options.include_default_groups = true;
    let mut codes: Vec<FindingCode> = world.findings().iter().map(|f| f.code).collect();
    codes.sort();
    assert_eq!(codes, [FindingCode::RuleAdded, FindingCode::SgUnmanaged]);
    // Opened to the world: critical.
    let open = chain()
        .live_group(live_group(LOOSE, "default"))
        .live_rule(tcp_in(LOOSE, 22, 22, v4("0.0.0.0/0")));
    assert_eq!(
        only(&open.findings(), FindingCode::RuleAdded).severity,
        Severity::Critical
    );
}

#[test]
fn group_read_by_a_data_source_is_not_unmanaged() {
    let world = chain().live_group(live_group(SHARED, "shared")).reads(read(
        SHARED,
        "shared",
        tf(OTHER_STATE, "data.aws_security_group.shared"),
    ));
    assert!(world.findings().is_empty(), "{:#?}", world.findings());
}

#[test]
fn failed_terraform_state_suppresses_sg_unmanaged_and_rule_added() {
    let world = chain()
        .live_group(live_group(LOOSE, "hand-made"))
        .live_rule(tcp_in(ALB, 22, 22, v4("0.0.0.0/0")))
        .source(SourceStatus::failed(
            SourceKind::Terraform,
            OTHER_STATE,
            "state file is not JSON".to_string(),
        ));
    let findings = world.findings();
    assert_codes(&findings, &[FindingCode::SourceError]);
    // ...while a missing group and a modified rule are still judged.
    let world = chain()
        .group(managed(GONE, "gone", alb_owner()))
        .declare(declared(tcp_out(ALB, 80, 80, sg(FRONT)), rule_owner()))
        .live_rule(tcp_out(ALB, 80, 8080, sg(FRONT)))
        .source(SourceStatus::failed(
            SourceKind::Terraform,
            OTHER_STATE,
            "state file is not JSON".to_string(),
        ));
    let mut got = codes(&world.findings());
    got.sort();
    assert_eq!(
        got,
        [
            FindingCode::RuleModified,
            FindingCode::SgMissing,
            FindingCode::SourceError
        ]
    );
}

// ── sg-modified ────────────────────────────────────────────────────────────────

fn modified_alb(edit: impl FnOnce(&mut SecurityGroup)) -> World {
    let mut live = live_group(ALB, "alb-public");
    edit(&mut live);
    World::new()
        .group(managed(ALB, "alb-public", alb_owner()))
        .live_group(live)
}

#[test]
fn sg_modified_fields_and_severity() {
    type Edit = fn(&mut SecurityGroup);
    let cases: [(&str, Edit, Severity, Vec<ChangeRow>); 6] = [
        (
            "description",
            |g| g.description = Some("changed by hand".into()),
            Severity::Medium,
            vec![json_change(
                "description",
                json!("alb-public group"),
                json!("changed by hand"),
            )],
        ),
        (
            "name",
            |g| g.name = Some("alb-renamed".into()),
            Severity::Medium,
            vec![json_change(
                "name",
                json!("alb-public"),
                json!("alb-renamed"),
            )],
        ),
        (
            "vpc",
            |g| g.vpc_id = Some("vpc-2".into()),
            Severity::Medium,
            vec![json_change("vpc_id", json!("vpc-1"), json!("vpc-2"))],
        ),
        (
            "a tag value",
            |g| g.tags = Some(tags(&[("Name", "alb-public"), ("Env", "dev")])),
            Severity::Low,
            vec![json_change("tags.Env", Value::Null, json!("dev"))],
        ),
        (
            "a tag changed and aws:* tags added",
            |g| {
                g.tags = Some(tags(&[
                    ("Name", "hand-edited"),
                    ("aws:cloudformation:stack-name", "net"),
                ]))
            },
            Severity::Low,
            vec![json_change(
                "tags.Name",
                json!("alb-public"),
                json!("hand-edited"),
            )],
        ),
        (
            "description and tags",
            |g| {
                g.description = Some("x".into());
                g.tags = Some(tags(&[]));
            },
            Severity::Medium,
            vec![
                json_change("description", json!("alb-public group"), json!("x")),
                json_change("tags.Name", json!("alb-public"), Value::Null),
            ],
        ),
    ];
    for (name, edit, severity, want) in cases {
        let findings = modified_alb(edit).findings();
        assert_codes(&findings, &[FindingCode::SgModified]);
        let f = &findings[0];
        assert_eq!(changes(f), want, "{name}");
        assert_eq!(f.severity, severity, "{name}");
        assert_eq!(f.owner, alb_owner(), "{name}");
        assert_eq!(f.resource.id.as_deref(), Some(ALB), "{name}");
        assert_eq!(f.resource.kind, "security_group", "{name}");
    }
}

#[test]
fn reserved_aws_tags_alone_are_not_drift() {
    let findings = modified_alb(|g| {
        g.tags = Some(tags(&[
            ("Name", "alb-public"),
            ("aws:cloudformation:logical-id", "Alb"),
        ]))
    })
    .findings();
    assert!(findings.is_empty(), "{findings:#?}");
}

// ── owner-conflict and who declares a rule ─────────────────────────────────────

fn two_owners() -> (Owner, Owner) {
    (
        tf(STATE, "aws_security_group.alb"),
        tf(OTHER_STATE, "module.copy.aws_security_group.alb"),
    )
}

#[test]
fn two_states_managing_a_group_identically_is_no_conflict() {
    let (a, b) = two_owners();
    let https = tcp_in(ALB, 443, 443, v4("0.0.0.0/0"));
    let world = World::new()
        .managed_live(ALB, "alb-public", a.clone())
        .group(managed(ALB, "alb-public", b.clone()))
        .declare(inline(https.clone(), a))
        .declare(inline(https.clone(), b))
        .live_rule(https);
    let outcome = world.diff();
    assert!(outcome.findings.is_empty(), "{:#?}", outcome.findings);
    assert_eq!(outcome.managed_groups, 1);
    assert_eq!(outcome.declared_rules, 1);
}

#[test]
fn two_states_managing_a_group_with_different_inline_rules_conflict() {
    let (a, b) = two_owners();
    let https = tcp_in(ALB, 443, 443, v4("0.0.0.0/0"));
    let http = tcp_in(ALB, 80, 80, v4("0.0.0.0/0"));
    let world = World::new()
        .managed_live(ALB, "alb-public", a.clone())
        .group(managed(ALB, "alb-public", b.clone()))
        .declare(inline(https.clone(), a.clone()))
        .declare(inline(https.clone(), b.clone()))
        .declare(inline(http.clone(), b.clone()))
        .live_rule(https)
        .live_rule(http.clone());
    let findings = world.findings();
    assert_codes(&findings, &[FindingCode::OwnerConflict]);
    let f = &findings[0];
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.resource.id.as_deref(), Some(ALB));
    // Owners are ordered: other.tfstate sorts before prod.tfstate.
    assert_eq!(f.owner, b);
    assert_eq!(
        changes(f),
        vec![json_change("rules", json!([http.label()]), json!([]))]
    );
    assert!(f.message.contains("prod.tfstate"), "{}", f.message);
    assert!(f.message.contains("other.tfstate"), "{}", f.message);
}

#[test]
fn two_states_managing_a_group_with_different_fields_conflict() {
    let (a, b) = two_owners();
    let mut copy = managed(ALB, "alb-public", b);
    copy.group.description = Some("the copy".into());
    let world = World::new().managed_live(ALB, "alb-public", a).group(copy);
    let findings = world.findings();
    // The first owner (other.tfstate) also differs from live.
    let conflict = only(&findings, FindingCode::OwnerConflict);
    assert_eq!(conflict.severity, Severity::Medium);
    assert_eq!(
        changes(&conflict),
        vec![json_change(
            "description",
            json!("the copy"),
            json!("alb-public group")
        )]
    );
}

#[test]
fn two_states_managing_a_group_with_different_rule_resources_conflict() {
    let (a, b) = two_owners();
    let https = tcp_in(ALB, 443, 443, v4("0.0.0.0/0"));
    let ssh = tcp_in(ALB, 22, 22, v4("10.0.0.0/8"));
    let world = World::new()
        .managed_live(ALB, "alb-public", a)
        .group(managed(ALB, "alb-public", b))
        .both(
            https.clone(),
            tf(STATE, "aws_vpc_security_group_ingress_rule.https"),
        )
        .declare(declared(
            https,
            tf(
                OTHER_STATE,
                "module.copy.aws_vpc_security_group_ingress_rule.https",
            ),
        ))
        .declare(declared(
            ssh,
            tf(
                OTHER_STATE,
                "module.copy.aws_vpc_security_group_ingress_rule.ssh",
            ),
        ));
    let findings = world.findings();
    assert_eq!(
        of_code(&findings, FindingCode::OwnerConflict).len(),
        1,
        "{:#?}",
        summary(&findings)
    );
}

#[test]
fn inline_rule_shadowed_by_a_rule_resource_counts_once() {
    let https = tcp_in(ALB, 443, 443, v4("0.0.0.0/0"));
    let ssh = tcp_in(ALB, 22, 22, v4("10.0.0.0/8"));
    let group_owner = tf(STATE, "aws_security_group.alb");
    // (state of the rule resource, whether that state also manages the group)
    for (rule_state, also_manages) in [(STATE, false), (OTHER_STATE, false), (OTHER_STATE, true)] {
        let mut world = World::new()
            .managed_live(ALB, "alb-public", group_owner.clone())
            // the provider refreshed both live rules into the inline list
            .declare(inline(https.clone(), group_owner.clone()))
            .declare(inline(ssh.clone(), group_owner.clone()))
            .declare(declared(
                ssh.clone(),
                tf(rule_state, "aws_security_group_rule.ssh"),
            ))
            .live_rule(https.clone())
            .live_rule(ssh.clone());
        if also_manages {
            let other_group_owner = tf(rule_state, "module.copy.aws_security_group.alb");
            world = world
                .group(managed(ALB, "alb-public", other_group_owner.clone()))
                .declare(inline(https.clone(), other_group_owner.clone()))
                .declare(inline(ssh.clone(), other_group_owner));
        }
        let outcome = world.diff();
        assert!(
            outcome.findings.is_empty(),
            "{rule_state} {also_manages}: {:#?}",
            outcome.findings
        );
        assert_eq!(outcome.declared_rules, 2, "{rule_state} {also_manages}");
        assert_eq!(outcome.managed_groups, 1);
    }
}

#[test]
fn a_drifted_rule_owned_by_a_rule_resource_names_that_resource() {
    let ssh = tcp_in(ALB, 22, 22, v4("10.0.0.0/8"));
    let group_owner = tf(STATE, "aws_security_group.alb");
    let resource = tf(OTHER_STATE, "aws_security_group_rule.ssh");
    let world = World::new()
        .managed_live(ALB, "alb-public", group_owner.clone())
        .declare(inline(ssh.clone(), group_owner))
        .declare(declared(ssh, resource.clone()))
        .live_rule(tcp_in(ALB, 2222, 2222, v4("10.0.0.0/8")));
    let f = only(&world.findings(), FindingCode::RuleModified);
    assert_eq!(f.owner, resource);
}
