//! Live inventory from EC2: `DescribeSecurityGroups`, `DescribeSecurityGroupRules`
//! and, alongside them, `DescribeNetworkInterfaces` (what carries the groups), every
//! page at the maximum page size, per account and region, regions scanned
//! concurrently. A region or account that fails is a failed source: it adds no
//! scope, so nothing it would have held is ever reported missing. Interfaces that
//! cannot be read are a failed source of their own: the groups are still compared,
//! but nothing there is said to be carried by nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use aws_config::{Region, SdkConfig};
use aws_sdk_ec2::types as ec2;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::{Instrument, info_span, warn};

use crate::aws::{ApiCalls, error_text};
use crate::model::{LiveView, NetworkInterface, Rule, Scope, SecurityGroup, overlaps};
use crate::progress::Step;
use crate::sources::accounts::Account;
use crate::sources::accounts::account_configs;
use crate::sources::describe::{
    AttachmentDoc, GroupDoc, GroupIdentifierDoc, GroupPairDoc, InterfaceDoc, Ipv4RangeDoc,
    Ipv6AddressDoc, Ipv6RangeDoc, PermissionDoc, PrefixListDoc, PrivateIpDoc, ReferencedGroupDoc,
    RuleDoc, TagDoc, group_to_model, interface_to_model, live_rules, rule_to_model,
};
use crate::sources::ecs::{DeclaredService, ecs_client, task_interfaces};
use crate::sources::elbv2::{DeclaredLoadBalancer, elbv2_client, load_balancer_groups};
use crate::sources::{SourceKind, SourceStatus};

/// The most items a page may hold; the fewest calls.
const PAGE_SIZE: i32 = 1000;
/// Regions (× accounts) read at once.
const CONCURRENCY: usize = 4;

/// What to read: regions × accounts. No accounts means the caller's own.
#[derive(Debug, Clone, Default)]
pub struct Ec2Plan {
    pub regions: Vec<String>,
    pub accounts: Vec<Account>,
    /// The groups whose rules are read with ids and tags (`DescribeSecurityGroupRules`
    /// with a `group-id` filter); `None` for every group. See
    /// `Intent::rule_detail_groups`.
    pub rule_detail_groups: Option<BTreeSet<String>>,
    /// The ECS services whose tasks' interfaces are named (`aws_ecs_service`).
    pub ecs_services: Vec<DeclaredService>,
    /// Read the entries of the prefix lists the rules name (`[[flow]]`s need them).
    pub resolve_prefix_lists: bool,
    /// The load balancers whose groups ELBv2 is asked for (`aws_lb`).
    pub load_balancers: Vec<DeclaredLoadBalancer>,
}

/// What the intent declares in one account and region beside its groups, and the
/// clients to read it with.
struct Declared {
    services: Vec<String>,
    balancers: Vec<String>,
    ecs: Option<aws_sdk_ecs::Client>,
    elbv2: Option<aws_sdk_elasticloadbalancingv2::Client>,
}

impl Declared {
    fn in_place(
        plan: &Ec2Plan,
        account_id: Option<&str>,
        region: &str,
        config: &SdkConfig,
        calls: &ApiCalls,
    ) -> Declared {
        // An unknown account or region is any.
        let here = |account: &Option<String>, at: &Option<String>| {
            overlaps(account.as_deref(), account_id) && overlaps(at.as_deref(), Some(region))
        };
        let services: Vec<String> = plan
            .ecs_services
            .iter()
            .filter(|s| here(&s.account_id, &s.region))
            .map(|s| s.service.clone())
            .collect();
        let balancers: Vec<String> = plan
            .load_balancers
            .iter()
            .filter(|b| here(&b.account_id, &b.region))
            .map(|b| b.arn.clone())
            .collect();
        Declared {
            ecs: (!services.is_empty()).then(|| ecs_client(config, region, calls)),
            elbv2: (!balancers.is_empty()).then(|| elbv2_client(config, region, calls)),
            services,
            balancers,
        }
    }

    /// Reads them into `inventory`; each read is a source of its own.
    async fn read(&self, inventory: &mut RegionInventory) -> Vec<(SourceKind, Result<(), String>)> {
        let mut outcomes = Vec::new();
        if let Some(ecs) = &self.ecs {
            let services: Vec<&str> = self.services.iter().map(String::as_str).collect();
            let tasks = task_interfaces(ecs, &services).await;
            if let (Ok(tasks), Ok(interfaces)) = (&tasks, &mut inventory.interfaces) {
                for interface in interfaces {
                    interface.ecs_service = tasks.get(&interface.id).cloned();
                }
            }
            outcomes.push((SourceKind::Ecs, tasks.map(|_| ())));
        }
        if let Some(elbv2) = &self.elbv2 {
            let arns: Vec<&str> = self.balancers.iter().map(String::as_str).collect();
            let groups = load_balancer_groups(elbv2, &arns).await;
            outcomes.push((
                SourceKind::Elbv2,
                groups.map(|groups| inventory.load_balancers = groups),
            ));
        }
        outcomes
    }
}

/// Group ids per `DescribeSecurityGroupRules` call: AWS takes at most 200 values
/// in a filter.
const GROUPS_PER_RULES_CALL: usize = 200;

/// One account and region, read completely.
struct RegionInventory {
    account_id: Option<String>,
    groups: Vec<SecurityGroup>,
    rules: Vec<Rule>,
    /// The entries of the prefix lists the rules name, where read.
    prefix_lists: BTreeMap<String, Vec<ipnet::IpNet>>,
    /// The groups of the declared load balancers, where read.
    load_balancers: BTreeMap<String, Vec<String>>,
    /// Every interface of the region, or why they could not be read.
    interfaces: Result<Vec<NetworkInterface>, String>,
}

/// Credentials per account (the default chain, or an assumed role) and the regions
/// to read; accounts whose role cannot be assumed come back as failed sources.
async fn targets(
    sdk: &SdkConfig,
    plan: &Ec2Plan,
    calls: &ApiCalls,
) -> (
    Vec<(Option<String>, SdkConfig)>,
    Vec<String>,
    Vec<SourceStatus>,
) {
    let regions: Vec<String> = if plan.regions.is_empty() {
        sdk.region()
            .map(|r| vec![r.to_string()])
            .unwrap_or_default()
    } else {
        plan.regions.clone()
    };
    let mut statuses = Vec::new();
    if regions.is_empty() {
        statuses.push(SourceStatus::failed(
            SourceKind::Ec2,
            "ec2",
            "no region: pass --region, set [scan] regions, or set AWS_REGION".to_string(),
        ));
        return (Vec::new(), regions, statuses);
    }
    let mut targets = Vec::new();
    for (id, config) in account_configs(sdk, &plan.accounts, calls).await {
        match config {
            Ok(config) => targets.push((id, config)),
            Err(error) => {
                for region in &regions {
                    statuses.push(failure(id.as_deref(), region, error.clone()));
                }
            }
        }
    }
    (targets, regions, statuses)
}

pub async fn scan(
    sdk: &SdkConfig,
    plan: &Ec2Plan,
    calls: &ApiCalls,
) -> (LiveView, Vec<SourceStatus>) {
    let (targets, regions, mut statuses) = targets(sdk, plan, calls).await;
    let limit = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = JoinSet::new();
    let details = Arc::new(plan.rule_detail_groups.clone());
    for (account_id, config) in targets {
        for region in &regions {
            let client = ec2_client(&config, region, calls);
            let (account_id, region, limit) = (account_id.clone(), region.clone(), limit.clone());
            let details = details.clone();
            let declared = Declared::in_place(plan, account_id.as_deref(), &region, &config, calls);
            let resolve_prefix_lists = plan.resolve_prefix_lists;
            let span = info_span!("region", aws.region = %region, aws.account = ?account_id);
            tasks.spawn(
                async move {
                    let _permit = limit.acquire_owned().await.expect("semaphore open");
                    let step = Step::start(format!(
                        "reading EC2 {}",
                        location(account_id.as_deref(), &region)
                    ));
                    let mut result =
                        read_region(&client, account_id.clone(), details.as_ref().as_ref()).await;
                    if let (true, Ok(inventory)) = (resolve_prefix_lists, &mut result) {
                        inventory.prefix_lists = prefix_lists(&client, &inventory.rules).await;
                    }
                    let extra = match &mut result {
                        Ok(inventory) => declared.read(inventory).await,
                        Err(_) => Vec::new(),
                    };
                    match &result {
                        Ok(inventory) => step.done(format_args!(
                            "{} groups, {} rules, {}",
                            inventory.groups.len(),
                            inventory.rules.len(),
                            match &inventory.interfaces {
                                Ok(interfaces) =>
                                    format!("{} network interfaces", interfaces.len()),
                                Err(_) => "network interfaces unread".to_string(),
                            }
                        )),
                        Err(error) => step.failed(error),
                    }
                    (account_id, region, result, extra)
                }
                .instrument(span),
            );
        }
    }

    let mut live = LiveView::default();
    while let Some(joined) = tasks.join_next().await {
        let (account_id, region, result, extra) = joined.expect("region task does not panic");
        match result {
            Ok(mut inventory) => {
                for group in &mut inventory.groups {
                    group.region = Some(region.clone());
                }
                let mut status = SourceStatus::ok(
                    SourceKind::Ec2,
                    &location(inventory.account_id.as_deref(), &region),
                );
                status.account_id = inventory.account_id.clone();
                status.region = Some(region.clone());
                statuses.push(status);
                // A region read without learning its account (no `[[account]]`,
                // no group naming its `OwnerId`) proves nothing about any account:
                // it covers none, rather than every one.
                let scopes = match &inventory.account_id {
                    Some(account) => vec![Scope {
                        account_id: Some(account.clone()),
                        region: Some(region.clone()),
                    }],
                    None => {
                        warn!(aws.region = %region, "no security group names the account read: nothing in this region is reported missing");
                        Vec::new()
                    }
                };
                let location = location(inventory.account_id.as_deref(), &region);
                let (interfaces, interface_scopes, interfaces_status) = match inventory.interfaces {
                    Ok(mut interfaces) => {
                        for interface in &mut interfaces {
                            interface.region = Some(region.clone());
                        }
                        let status = SourceStatus::ok(SourceKind::NetworkInterfaces, &location);
                        (interfaces, scopes.clone(), status)
                    }
                    Err(error) => {
                        let status =
                            SourceStatus::failed(SourceKind::NetworkInterfaces, &location, error);
                        (Vec::new(), Vec::new(), status)
                    }
                };
                statuses.push(SourceStatus {
                    account_id: inventory.account_id.clone(),
                    region: Some(region.clone()),
                    ..interfaces_status
                });
                for (kind, outcome) in extra {
                    let status = match outcome {
                        Ok(()) => SourceStatus::ok(kind, &location),
                        Err(error) => SourceStatus::failed(kind, &location, error),
                    };
                    statuses.push(SourceStatus {
                        account_id: inventory.account_id.clone(),
                        region: Some(region.clone()),
                        ..status
                    });
                }
                live.extend(LiveView {
                    groups: inventory.groups,
                    rules: inventory.rules,
                    scopes,
                    interfaces,
                    interface_scopes,
                    prefix_lists: inventory.prefix_lists,
                    load_balancers: inventory.load_balancers,
                    neighbours: Default::default(),
                });
            }
            Err(error) => {
                statuses.push(failure(account_id.as_deref(), &region, error));
            }
        }
    }
    // Completion order varies; reports must not.
    statuses.sort_by(|a, b| (&a.location, a.kind as u8).cmp(&(&b.location, b.kind as u8)));
    live.groups.sort_by(|a, b| a.id.cmp(&b.id));
    live.interfaces.sort_by(|a, b| a.id.cmp(&b.id));
    live.scopes.sort();
    live.interface_scopes.sort();
    (live, statuses)
}

fn location(account: Option<&str>, region: &str) -> String {
    format!("{}/{region}", account.unwrap_or("default"))
}

fn failure(account: Option<&str>, region: &str, error: String) -> SourceStatus {
    let mut status = SourceStatus::failed(SourceKind::Ec2, &location(account, region), error);
    status.account_id = account.map(str::to_string);
    status.region = Some(region.to_string());
    status
}

fn ec2_client(config: &SdkConfig, region: &str, calls: &ApiCalls) -> aws_sdk_ec2::Client {
    let conf = aws_sdk_ec2::config::Builder::from(config)
        .region(Region::new(region.to_string()))
        .interceptor(calls.interceptor("ec2"))
        .build();
    aws_sdk_ec2::Client::from_conf(conf)
}

/// Every group, rule and network interface of one account and region, or why not.
/// The interfaces are read alongside the groups and rules: their failure is theirs.
async fn read_region(
    client: &aws_sdk_ec2::Client,
    account_id: Option<String>,
    details: Option<&BTreeSet<String>>,
) -> Result<RegionInventory, String> {
    let (groups_and_rules, interfaces) = tokio::join!(
        read_groups_and_rules(client, details),
        read_interfaces(client, None)
    );
    let (groups, rules) = groups_and_rules?;
    let account_id = account_id.or_else(|| groups.iter().find_map(|g| g.account_id.clone()));
    Ok(RegionInventory {
        account_id,
        groups,
        rules,
        interfaces,
        prefix_lists: BTreeMap::new(),
        load_balancers: BTreeMap::new(),
    })
}

/// The groups, and their rules: from `DescribeSecurityGroups`, which carries every
/// rule, and with ids and tags from `DescribeSecurityGroupRules` for the groups in
/// `details` (every group when `None`) that this region has.
async fn read_groups_and_rules(
    client: &aws_sdk_ec2::Client,
    details: Option<&BTreeSet<String>>,
) -> Result<(Vec<SecurityGroup>, Vec<Rule>), String> {
    let mut groups = Vec::new();
    let mut permission_rules = Vec::new();
    // The SDK's paginators follow NextToken until it is missing or empty.
    let mut pages = client
        .describe_security_groups()
        .max_results(PAGE_SIZE)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("DescribeSecurityGroups: {}", error_text(&e)))?;
        for group in page.security_groups() {
            let id = group.group_id().unwrap_or_default().to_string();
            let (group, rules) = group_to_model(group_doc(group)).map_err(|(field, message)| {
                format!("DescribeSecurityGroups: {id}.{field}: {message}")
            })?;
            groups.push(group);
            permission_rules.extend(rules);
        }
    }
    let detailed: Vec<Option<Vec<String>>> = match details {
        None => vec![None],
        Some(wanted) => {
            let here: Vec<String> = groups
                .iter()
                .filter(|g| wanted.contains(&g.id))
                .map(|g| g.id.clone())
                .collect();
            here.chunks(GROUPS_PER_RULES_CALL)
                .map(|chunk| Some(chunk.to_vec()))
                .collect()
        }
    };
    let mut rules = Vec::new();
    for group_ids in detailed {
        read_rules(client, group_ids, &mut rules).await?;
    }
    let rules = match details {
        None => live_rules(permission_rules, Some(rules)),
        Some(_) => {
            // Rules of the detailed groups from the rules call, the others' from
            // their permissions.
            let read: BTreeSet<String> = rules.iter().map(|r| r.group_id.to_string()).collect();
            let (detailed, plain): (Vec<Rule>, Vec<Rule>) = permission_rules
                .into_iter()
                .partition(|r| read.contains(r.group_id.as_str()));
            let mut all = live_rules(detailed, Some(rules));
            all.extend(live_rules(plain, None));
            all
        }
    };
    Ok((groups, rules))
}

/// The entries of every managed prefix list `rules` name. One that cannot be read
/// stays unresolved (a flow it could allow is then not judged), said in the log.
async fn prefix_lists(
    client: &aws_sdk_ec2::Client,
    rules: &[Rule],
) -> BTreeMap<String, Vec<ipnet::IpNet>> {
    let named: BTreeSet<&str> = rules
        .iter()
        .filter_map(|r| match &r.peer {
            crate::model::Peer::PrefixList(id) => Some(id.as_str()),
            _ => None,
        })
        .collect();
    let mut read = BTreeMap::new();
    'lists: for id in named {
        let mut cidrs = Vec::new();
        let mut pages = client
            .get_managed_prefix_list_entries()
            .prefix_list_id(id)
            .max_results(PREFIX_LIST_PAGE)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => cidrs.extend(
                    page.entries()
                        .iter()
                        .filter_map(|e| e.cidr()?.parse::<ipnet::IpNet>().ok()),
                ),
                Err(e) => {
                    warn!(prefix_list = id, error = %error_text(&e), "could not read a prefix list: flows it could allow are not judged");
                    continue 'lists;
                }
            }
        }
        read.insert(id.to_string(), cidrs);
    }
    read
}

/// `GetManagedPrefixListEntries` returns at most 100 entries a page.
const PREFIX_LIST_PAGE: i32 = 100;

/// `DescribeSecurityGroupRules`, every page, of `group_ids` (every group when `None`).
async fn read_rules(
    client: &aws_sdk_ec2::Client,
    group_ids: Option<Vec<String>>,
    rules: &mut Vec<Rule>,
) -> Result<(), String> {
    let filter = group_ids.map(|ids| {
        vec![
            ec2::Filter::builder()
                .name("group-id")
                .set_values(Some(ids))
                .build(),
        ]
    });
    let mut pages = client
        .describe_security_group_rules()
        .set_filters(filter)
        .max_results(PAGE_SIZE)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("DescribeSecurityGroupRules: {}", error_text(&e)))?;
        for rule in page.security_group_rules() {
            let id = rule
                .security_group_rule_id()
                .unwrap_or_default()
                .to_string();
            rules.push(
                rule_to_model(rule_doc(rule))
                    .map_err(|message| format!("DescribeSecurityGroupRules: {id}: {message}"))?,
            );
        }
    }
    Ok(())
}

/// Every network interface of the region (those using `group_id` when given).
async fn read_interfaces(
    client: &aws_sdk_ec2::Client,
    group_id: Option<&str>,
) -> Result<Vec<NetworkInterface>, String> {
    let mut interfaces = Vec::new();
    let filter = group_id.map(|id| ec2::Filter::builder().name("group-id").values(id).build());
    let mut pages = client
        .describe_network_interfaces()
        .set_filters(filter.map(|f| vec![f]))
        .max_results(PAGE_SIZE)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("DescribeNetworkInterfaces: {}", error_text(&e)))?;
        interfaces.extend(
            page.network_interfaces()
                .iter()
                .map(|eni| interface_to_model(interface_doc(eni))),
        );
    }
    Ok(interfaces)
}

fn tags(tags: &[ec2::Tag]) -> Option<Vec<TagDoc>> {
    Some(
        tags.iter()
            .map(|t| TagDoc {
                key: t.key().unwrap_or_default().to_string(),
                value: t.value().unwrap_or_default().to_string(),
            })
            .collect(),
    )
}

fn owned(s: Option<&str>) -> Option<String> {
    s.map(str::to_string)
}

fn group_doc(g: &ec2::SecurityGroup) -> GroupDoc {
    GroupDoc {
        group_id: g.group_id().unwrap_or_default().to_string(),
        group_name: owned(g.group_name()),
        description: owned(g.description()),
        vpc_id: owned(g.vpc_id()),
        owner_id: owned(g.owner_id()),
        tags: tags(g.tags()),
        ip_permissions: g.ip_permissions().iter().map(permission_doc).collect(),
        ip_permissions_egress: g
            .ip_permissions_egress()
            .iter()
            .map(permission_doc)
            .collect(),
    }
}

fn permission_doc(p: &ec2::IpPermission) -> PermissionDoc {
    PermissionDoc {
        ip_protocol: p.ip_protocol().unwrap_or("-1").to_string(),
        from_port: p.from_port().map(i64::from),
        to_port: p.to_port().map(i64::from),
        ip_ranges: p
            .ip_ranges()
            .iter()
            .map(|r| Ipv4RangeDoc {
                cidr_ip: r.cidr_ip().unwrap_or_default().to_string(),
                description: owned(r.description()),
            })
            .collect(),
        ipv6_ranges: p
            .ipv6_ranges()
            .iter()
            .map(|r| Ipv6RangeDoc {
                cidr_ipv6: r.cidr_ipv6().unwrap_or_default().to_string(),
                description: owned(r.description()),
            })
            .collect(),
        prefix_list_ids: p
            .prefix_list_ids()
            .iter()
            .map(|l| PrefixListDoc {
                prefix_list_id: l.prefix_list_id().unwrap_or_default().to_string(),
                description: owned(l.description()),
            })
            .collect(),
        user_id_group_pairs: p
            .user_id_group_pairs()
            .iter()
            .map(|pair| GroupPairDoc {
                group_id: owned(pair.group_id()),
                group_name: owned(pair.group_name()),
                user_id: owned(pair.user_id()),
                vpc_peering_connection_id: owned(pair.vpc_peering_connection_id()),
                description: owned(pair.description()),
            })
            .collect(),
    }
}

fn rule_doc(r: &ec2::SecurityGroupRule) -> RuleDoc {
    RuleDoc {
        security_group_rule_id: owned(r.security_group_rule_id()),
        group_id: r.group_id().unwrap_or_default().to_string(),
        group_owner_id: owned(r.group_owner_id()),
        is_egress: r.is_egress().unwrap_or(false),
        ip_protocol: r.ip_protocol().unwrap_or("-1").to_string(),
        from_port: r.from_port().map(i64::from),
        to_port: r.to_port().map(i64::from),
        cidr_ipv4: owned(r.cidr_ipv4()),
        cidr_ipv6: owned(r.cidr_ipv6()),
        prefix_list_id: owned(r.prefix_list_id()),
        referenced_group_info: r.referenced_group_info().map(|g| ReferencedGroupDoc {
            group_id: owned(g.group_id()),
            user_id: owned(g.user_id()),
            vpc_peering_connection_id: owned(g.vpc_peering_connection_id()),
        }),
        description: owned(r.description()),
        tags: tags(r.tags()),
    }
}

fn interface_doc(eni: &ec2::NetworkInterface) -> InterfaceDoc {
    InterfaceDoc {
        network_interface_id: eni.network_interface_id().unwrap_or_default().to_string(),
        interface_type: eni.interface_type().map(|t| t.as_str().to_string()),
        description: owned(eni.description()),
        requester_id: owned(eni.requester_id()),
        owner_id: owned(eni.owner_id()),
        vpc_id: owned(eni.vpc_id()),
        attachment: eni.attachment().map(|a| AttachmentDoc {
            instance_id: owned(a.instance_id()),
            device_index: a.device_index(),
        }),
        groups: eni
            .groups()
            .iter()
            .filter_map(|g| g.group_id())
            .map(|id| GroupIdentifierDoc {
                group_id: id.to_string(),
            })
            .collect(),
        private_ip_addresses: eni
            .private_ip_addresses()
            .iter()
            .filter_map(|a| a.private_ip_address())
            .map(|ip| PrivateIpDoc {
                private_ip_address: ip.to_string(),
            })
            .collect(),
        ipv6_addresses: eni
            .ipv6_addresses()
            .iter()
            .filter_map(|a| a.ipv6_address())
            .map(|ip| Ipv6AddressDoc {
                ipv6_address: ip.to_string(),
            })
            .collect(),
    }
}

/// Every network interface using `group_id`, in every account and region of the plan.
pub async fn network_interfaces_using(
    sdk: &SdkConfig,
    plan: &Ec2Plan,
    group_id: &str,
    calls: &ApiCalls,
) -> (Vec<NetworkInterface>, Vec<SourceStatus>) {
    let (targets, regions, mut statuses) = targets(sdk, plan, calls).await;
    let mut found = Vec::new();
    for (account_id, config) in &targets {
        for region in &regions {
            let client = ec2_client(config, region, calls);
            match read_interfaces(&client, Some(group_id)).await {
                Ok(list) => found.extend(list.into_iter().map(|interface| NetworkInterface {
                    account_id: interface.account_id.or_else(|| account_id.clone()),
                    region: Some(region.clone()),
                    ..interface
                })),
                Err(error) => statuses.push(failure(account_id.as_deref(), region, error)),
            }
        }
    }
    found.sort_by(|a, b| (&a.region, &a.id).cmp(&(&b.region, &b.id)));
    (found, statuses)
}
