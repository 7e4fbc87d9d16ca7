//! Which network interfaces are the tasks of the ECS services the intent declares
//! groups for (`aws_ecs_service`): `ListTasks` per service, `DescribeTasks` a
//! hundred tasks a call, each task's `ElasticNetworkInterface` attachment. Read in
//! each account and region beside EC2 (`sources::ec2`).

use std::collections::BTreeMap;

use aws_config::{Region, SdkConfig};

use crate::aws::{ApiCalls, error_text};

/// The most tasks `ListTasks` returns and `DescribeTasks` takes at once.
const TASKS_PER_CALL: usize = 100;

/// A service whose tasks' interfaces are wanted: `cluster/name`, where it lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredService {
    pub service: String,
    pub account_id: Option<String>,
    pub region: Option<String>,
}

pub fn ecs_client(config: &SdkConfig, region: &str, calls: &ApiCalls) -> aws_sdk_ecs::Client {
    let conf = aws_sdk_ecs::config::Builder::from(config)
        .region(Region::new(region.to_string()))
        .interceptor(calls.interceptor("ecs"))
        .build();
    aws_sdk_ecs::Client::from_conf(conf)
}

/// The running tasks' interfaces of each service (`cluster/name`), by interface id.
pub async fn task_interfaces(
    client: &aws_sdk_ecs::Client,
    services: &[&str],
) -> Result<BTreeMap<String, String>, String> {
    let mut found = BTreeMap::new();
    for service in services {
        let Some((cluster, name)) = service.split_once('/') else {
            continue;
        };
        let mut tasks = Vec::new();
        let mut pages = client
            .list_tasks()
            .cluster(cluster)
            .service_name(name)
            .max_results(TASKS_PER_CALL as i32)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| format!("ListTasks {service}: {}", error_text(&e)))?;
            tasks.extend(page.task_arns().iter().cloned());
        }
        for chunk in tasks.chunks(TASKS_PER_CALL) {
            let described = client
                .describe_tasks()
                .cluster(cluster)
                .set_tasks(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| format!("DescribeTasks {service}: {}", error_text(&e)))?;
            let interfaces = described
                .tasks()
                .iter()
                .flat_map(|task| task.attachments())
                .filter(|a| a.r#type() == Some("ElasticNetworkInterface"))
                .flat_map(|a| a.details())
                .filter(|d| d.name() == Some("networkInterfaceId"))
                .filter_map(|d| d.value());
            for interface in interfaces {
                found.insert(interface.to_string(), service.to_string());
            }
        }
    }
    Ok(found)
}
