//! The slot every live source plugs into: what a scan reads reality from. Each
//! variant names its plan; `read` dispatches to its reader, which returns the live
//! view (groups, rules and the scopes it read completely) and one status per place
//! it read. Adding a live source is a variant here and its reader module.

use std::path::PathBuf;

use aws_config::SdkConfig;

use super::ec2::{self, Ec2Plan};
use super::ecs::DeclaredService;
use super::elbv2::DeclaredLoadBalancer;
use super::{SourceStatus, live_file};
use crate::aws::ApiCalls;
use crate::model::{CarrierRef, Intent, LiveView};
use crate::progress::Step;

/// Where reality comes from.
#[derive(Debug, Clone)]
pub enum LiveSource {
    /// Captured `describe-security-groups` / `-rules` JSON, standing for `regions`
    /// (any region when empty).
    Files {
        paths: Vec<PathBuf>,
        regions: Vec<String>,
    },
    /// EC2 itself, through the SDK's credential and region chain.
    Aws(Ec2Plan),
}

impl LiveSource {
    /// Whether reading it needs the SDK configuration.
    pub fn needs_aws(&self) -> bool {
        match self {
            LiveSource::Files { .. } => false,
            LiveSource::Aws(_) => true,
        }
    }

    /// The first region it reads, if it names any.
    pub fn first_region(&self) -> Option<&str> {
        match self {
            LiveSource::Aws(plan) => plan.regions.first(),
            LiveSource::Files { regions, .. } => regions.first(),
        }
        .map(String::as_str)
    }

    /// The regions to read when none were given (`--region`, `[scan] regions`):
    /// those the intent lives in, so that a state is compared where it is. With
    /// none, the SDK's default region is read.
    pub fn defaulting_regions(&self, intent_regions: &[String]) -> Option<LiveSource> {
        match self {
            LiveSource::Aws(plan) if plan.regions.is_empty() && !intent_regions.is_empty() => {
                Some(LiveSource::Aws(Ec2Plan {
                    regions: intent_regions.to_vec(),
                    ..plan.clone()
                }))
            }
            _ => None,
        }
    }

    /// What the intent needs read beside the groups: rule ids and tags only for
    /// the groups that compare them (`Intent::rule_detail_groups`), and the tasks of
    /// the ECS services it declares groups for. Captured files are read as they are.
    pub fn for_intent(self, intent: &Intent, flows: bool) -> LiveSource {
        match self {
            LiveSource::Aws(plan) => LiveSource::Aws(Ec2Plan {
                rule_detail_groups: intent.rule_detail_groups(),
                ecs_services: intent
                    .attachments
                    .iter()
                    .filter_map(|a| match &a.carrier {
                        CarrierRef::EcsService(service) => Some(DeclaredService {
                            service: service.clone(),
                            account_id: a.account_id.clone(),
                            region: a.region.clone(),
                        }),
                        _ => None,
                    })
                    .collect(),
                resolve_prefix_lists: flows,
                load_balancers: intent
                    .attachments
                    .iter()
                    .filter_map(|a| match (&a.carrier, &a.account_id, &a.region) {
                        // The ARN again, from what it names.
                        (CarrierRef::LoadBalancer(key), Some(account), Some(region)) => {
                            Some(DeclaredLoadBalancer {
                                arn: format!(
                                    "arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/{key}"
                                ),
                                account_id: Some(account.clone()),
                                region: Some(region.clone()),
                            })
                        }
                        _ => None,
                    })
                    .collect(),
                ..plan
            }),
            files => files,
        }
    }

    /// Reads it; `sdk` is loaded by the caller when `needs_aws` says so.
    pub async fn read(
        &self,
        sdk: Option<&SdkConfig>,
        calls: &ApiCalls,
    ) -> (LiveView, Vec<SourceStatus>) {
        match (self, sdk) {
            (LiveSource::Files { paths, regions }, _) => {
                let step = Step::start("reading captured live data");
                let (live, statuses) = live_file::read_all(paths, regions);
                step.done(format_args!(
                    "{} files, {} groups, {} rules",
                    paths.len(),
                    live.groups.len(),
                    live.rules.len()
                ));
                (live, statuses)
            }
            (LiveSource::Aws(plan), Some(sdk)) => ec2::scan(sdk, plan, calls).await,
            (LiveSource::Aws(_), None) => {
                unreachable!("an AWS scan always loads the SDK configuration")
            }
        }
    }
}
