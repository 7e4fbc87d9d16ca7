//! `source-error`: a source that could not be read makes the scan partial.

use crate::model::{Finding, FindingCode, Subject};
use crate::sources::{SourceKind, SourceStatus};

pub fn check(sources: &[SourceStatus]) -> Vec<Finding> {
    sources
        .iter()
        .filter(|s| s.holds_back())
        .map(|source| {
            let kind = match source.kind {
                SourceKind::Terraform => "terraform_state",
                SourceKind::Cloudformation => "cloudformation_stack",
                SourceKind::Ec2 => "ec2_region",
                SourceKind::LiveFile => "live_file",
                SourceKind::NetworkInterfaces => "network_interfaces",
                SourceKind::Ecs => "ecs_services",
                SourceKind::Elbv2 => "load_balancers",
                SourceKind::Cloudtrail => "cloudtrail",
            };
            let error = source.error.as_deref().unwrap_or("unknown error");
            // Readers name the file in their errors already: said once.
            let location = format!("{}: ", source.location);
            let error = error.strip_prefix(&location).unwrap_or(error);
            let consequence = if source.ownership_read {
                "what it owns is known, but not whether it drifted: none of its drift is reported resolved meanwhile"
            } else if source.kind.is_intent() {
                "no rule-added or sg-unmanaged findings are reported while it is unread"
            } else if source.kind == SourceKind::NetworkInterfaces {
                "what carries its groups is unknown: no group there is said to be carried by nothing"
            } else if source.kind == SourceKind::Ecs {
                "which interfaces are its services' tasks is unknown: no ECS service there is judged"
            } else if source.kind == SourceKind::Elbv2 {
                "its load balancers are judged by their interfaces alone"
            } else {
                "nothing it would have covered is reported missing"
            };
            Finding::about(
                Subject {
                    code: FindingCode::SourceError,
                    account_id: source.account_id.clone(),
                    region: source.region.clone(),
                    kind: kind.to_string(),
                    id: source.location.clone(),
                    key: kind.to_string(),
                },
                format!(
                    "could not read {}{}: {error}; {consequence}",
                    what_of(source.kind),
                    source.location
                ),
            )
        })
        .collect()
}

/// What of the location could not be read, where the location alone does not say.
fn what_of(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::NetworkInterfaces => "the network interfaces of ",
        SourceKind::Ecs => "the ECS services of ",
        SourceKind::Elbv2 => "the load balancers of ",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_is_named_once() {
        let status =
            |error: &str| SourceStatus::failed(SourceKind::Terraform, "prod.tfstate", error.into());
        let message = |error: &str| check(&[status(error)])[0].message.clone();
        assert_eq!(
            message("prod.tfstate: invalid JSON at line 2, column 0"),
            "could not read prod.tfstate: invalid JSON at line 2, column 0; no rule-added or sg-unmanaged findings are reported while it is unread"
        );
        assert!(
            message("access denied").starts_with("could not read prod.tfstate: access denied;")
        );
    }
}
