//! The security groups of the load balancers a state declares (`aws_lb`), from ELBv2
//! (`DescribeLoadBalancers`, twenty ARNs a call): what the load balancer itself
//! carries, whether or not its interfaces were read. Read in each account and
//! region beside EC2 (`sources::ec2`).

use std::collections::BTreeMap;

use aws_config::{Region, SdkConfig};

use crate::aws::{ApiCalls, error_text};
use crate::model::CarrierRef;

/// The most load balancer ARNs `DescribeLoadBalancers` takes at once.
const ARNS_PER_CALL: usize = 20;

/// A declared load balancer: its ARN, where it lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredLoadBalancer {
    pub arn: String,
    pub account_id: Option<String>,
    pub region: Option<String>,
}

pub fn elbv2_client(
    config: &SdkConfig,
    region: &str,
    calls: &ApiCalls,
) -> aws_sdk_elasticloadbalancingv2::Client {
    let conf = aws_sdk_elasticloadbalancingv2::config::Builder::from(config)
        .region(Region::new(region.to_string()))
        .interceptor(calls.interceptor("elasticloadbalancing"))
        .build();
    aws_sdk_elasticloadbalancingv2::Client::from_conf(conf)
}

/// The sorted security groups of each of `arns` that exists, by its
/// `app/<name>/<id>` (a load balancer that is gone is absent: its interfaces say).
pub async fn load_balancer_groups(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    arns: &[&str],
) -> Result<BTreeMap<String, Vec<String>>, String> {
    let mut found = BTreeMap::new();
    for chunk in arns.chunks(ARNS_PER_CALL) {
        let answer = client
            .describe_load_balancers()
            .set_load_balancer_arns(Some(chunk.iter().map(|a| a.to_string()).collect()))
            .send()
            .await;
        let answer = match answer {
            Ok(answer) => answer,
            // One unknown ARN fails the whole call: ask for the others one by one.
            Err(e) if error_text(&e).contains("LoadBalancerNotFound") && chunk.len() > 1 => {
                for arn in chunk {
                    found.extend(Box::pin(load_balancer_groups(client, &[arn])).await?);
                }
                continue;
            }
            Err(e) if error_text(&e).contains("LoadBalancerNotFound") => continue,
            Err(e) => return Err(format!("DescribeLoadBalancers: {}", error_text(&e))),
        };
        for balancer in answer.load_balancers() {
            let Some(CarrierRef::LoadBalancer(key)) = balancer
                .load_balancer_arn()
                .and_then(CarrierRef::load_balancer)
            else {
                continue;
            };
            let mut groups = balancer.security_groups().to_vec();
            groups.sort();
            found.insert(key, groups);
        }
    }
    Ok(found)
}
