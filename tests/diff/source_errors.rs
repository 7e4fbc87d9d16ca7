//! `source-error` (`src/diff/source_errors.rs`).

use super::*;

// ── source-error ───────────────────────────────────────────────────────────────

#[test]
fn failed_sources_are_source_errors() {
    let cases = [
        (SourceKind::Terraform, "broken.tfstate", "terraform_state"),
        (SourceKind::LiveFile, "rules.json", "live_file"),
        (SourceKind::Ec2, "ec2:111111111111/us-east-1", "ec2_region"),
        (
            SourceKind::Cloudformation,
            "prod-network",
            "cloudformation_stack",
        ),
    ];
    for (kind, location, resource_kind) in cases {
        let world = World::new().source(SourceStatus::failed(
            kind,
            location,
            "access denied".to_string(),
        ));
        let findings = world.findings();
        assert_codes(&findings, &[FindingCode::SourceError]);
        let f = &findings[0];
        assert_eq!(f.severity, Severity::Critical, "{location}");
        assert_eq!(f.owner, Owner::none());
        assert_eq!(f.resource.kind, resource_kind);
        assert_eq!(f.resource.id.as_deref(), Some(location));
        assert_eq!(f.resource.group_id, None);
        assert!(f.message.contains(location), "{}", f.message);
        assert!(f.message.contains("access denied"), "{}", f.message);
        assert!(f.fails(Severity::High));
    }
}
