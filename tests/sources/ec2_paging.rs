//! Paging of `DescribeSecurityGroups` / `DescribeSecurityGroupRules` /
//! `DescribeNetworkInterfaces`. The local AWS endpoint does not paginate
//! (docs/local-aws.md), so these tests serve recorded, real-shaped EC2 query-protocol
//! pages from a local HTTP server (wiremock): the 1,000-item page size is asked for,
//! `NextToken` is followed, and a page that fails makes its region a source error
//! with nothing reported missing. The interface items follow the example response of
//! the EC2 API reference (DescribeNetworkInterfaces), with the `interfaceType` and
//! `requesterId` fields AWS adds for interfaces it manages.

use crate::support::cli::*;
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

const NS: &str = "http://ec2.amazonaws.com/doc/2016-11-15/";

fn group_item(id: &str, name: &str) -> String {
    format!(
        "<item><ownerId>123456789012</ownerId><groupId>{id}</groupId><groupName>{name}</groupName>\
         <groupDescription>{name}</groupDescription><vpcId>vpc-0abc</vpcId>\
         <ipPermissions><item><ipProtocol>tcp</ipProtocol><fromPort>443</fromPort><toPort>443</toPort>\
         <groups/><ipRanges><item><cidrIp>10.0.0.0/8</cidrIp><description>https</description></item></ipRanges>\
         <ipv6Ranges/><prefixListIds/></item></ipPermissions><ipPermissionsEgress/>\
         <tagSet><item><key>Name</key><value>{name}</value></item></tagSet></item>"
    )
}

fn groups_page(items: &[String], next: Option<&str>) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeSecurityGroupsResponse xmlns=\"{NS}\">\
         <requestId>5f1c8a3e-0d2b-4c6e-9a7f-1b2c3d4e5f60</requestId><securityGroupInfo>{}</securityGroupInfo>{}\
         </DescribeSecurityGroupsResponse>",
        items.concat(),
        next.map(|t| format!("<nextToken>{t}</nextToken>"))
            .unwrap_or_default()
    )
}

fn rule_item(group: &str, rule: &str) -> String {
    format!(
        "<item><securityGroupRuleId>{rule}</securityGroupRuleId><groupId>{group}</groupId>\
         <groupOwnerId>123456789012</groupOwnerId><isEgress>false</isEgress><ipProtocol>tcp</ipProtocol>\
         <fromPort>443</fromPort><toPort>443</toPort><cidrIpv4>10.0.0.0/8</cidrIpv4>\
         <description>https</description><tagSet/></item>"
    )
}

fn rules_page(items: &[String], next: Option<&str>) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeSecurityGroupRulesResponse xmlns=\"{NS}\">\
         <requestId>6a2d9b4f-1e3c-4d7f-8b9a-2c3d4e5f6a71</requestId><securityGroupRuleSet>{}</securityGroupRuleSet>{}\
         </DescribeSecurityGroupRulesResponse>",
        items.concat(),
        next.map(|t| format!("<nextToken>{t}</nextToken>"))
            .unwrap_or_default()
    )
}

/// An interface carrying `group`: a load balancer's (as ELB creates them, requester
/// `amazon-elb`) for even `n`, an instance's for odd `n`.
fn interface_item(n: usize, group: &str) -> String {
    let (description, requester, attachment) = if n.is_multiple_of(2) {
        (
            format!("ELB app/web-{n}/50dc6c495c0c9188"),
            "<requesterId>amazon-elb</requesterId><requesterManaged>true</requesterManaged>",
            String::new(),
        )
    } else {
        (
            String::new(),
            "<requesterManaged>false</requesterManaged>",
            format!(
                "<attachment><attachmentId>eni-attach-{n:017x}</attachmentId>\
                 <instanceId>i-{n:017x}</instanceId><instanceOwnerId>123456789012</instanceOwnerId>\
                 <deviceIndex>0</deviceIndex><status>attached</status>\
                 <attachTime>2026-11-18T16:32:39.000Z</attachTime><deleteOnTermination>true</deleteOnTermination></attachment>"
            ),
        )
    };
    let ip = format!("10.0.{}.{}", n / 250, n % 250 + 4);
    format!(
        "<item><networkInterfaceId>eni-{n:017x}</networkInterfaceId><subnetId>subnet-0c9e8ba8</subnetId>\
         <vpcId>vpc-0abc</vpcId><availabilityZone>us-east-1b</availabilityZone>\
         <description>{description}</description><ownerId>123456789012</ownerId>{requester}\
         <status>in-use</status><macAddress>02:74:b0:72:79:61</macAddress>\
         <privateIpAddress>{ip}</privateIpAddress><privateDnsName>ip-{ip}.ec2.internal</privateDnsName>\
         <sourceDestCheck>true</sourceDestCheck>\
         <groupSet><item><groupId>{group}</groupId><groupName>g{n}</groupName></item></groupSet>\
         {attachment}<tagSet/>\
         <privateIpAddressesSet><item><privateIpAddress>{ip}</privateIpAddress>\
         <privateDnsName>ip-{ip}.ec2.internal</privateDnsName><primary>true</primary></item></privateIpAddressesSet>\
         <ipv6AddressesSet/><interfaceType>interface</interfaceType></item>"
    )
}

fn interfaces_page(items: &[String], next: Option<&str>) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DescribeNetworkInterfacesResponse xmlns=\"{NS}\">\
         <requestId>fc45294c-006b-457b-bab9-012f5b3b0e40</requestId><networkInterfaceSet>{}</networkInterfaceSet>{}\
         </DescribeNetworkInterfacesResponse>",
        items.concat(),
        next.map(|t| format!("<nextToken>{t}</nextToken>"))
            .unwrap_or_default()
    )
}

/// One interface per group id.
fn interfaces_of(ids: &[String]) -> Vec<String> {
    ids.iter()
        .enumerate()
        .map(|(n, id)| interface_item(n, id))
        .collect()
}

/// A region without interfaces.
async fn mount_no_interfaces(server: &MockServer) {
    mount(
        server,
        "DescribeNetworkInterfaces",
        None,
        xml(interfaces_page(&[], None)),
    )
    .await;
}

fn xml(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/xml;charset=UTF-8")
        .set_body_string(body)
}

async fn mount(server: &MockServer, action: &str, token: Option<&str>, response: ResponseTemplate) {
    let mut mock = Mock::given(method("POST"))
        .and(body_string_contains(format!("Action={action}&")))
        .and(body_string_contains("MaxResults=1000"));
    // A page asked for by token wins over the first page's catch-all.
    let priority = match token {
        Some(t) => {
            mock = mock.and(body_string_contains(format!("NextToken={t}")));
            1
        }
        None => 5,
    };
    mock.respond_with(response)
        .with_priority(priority)
        .mount(server)
        .await;
}

fn env(server: &MockServer) -> Vec<(String, String)> {
    [
        ("AWS_ENDPOINT_URL", server.uri()),
        ("AWS_ACCESS_KEY_ID", "testing".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
        ("AWS_MAX_ATTEMPTS", "2".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// A state managing `ids` in us-east-1, with the inline https rule of the pages.
fn state_for(dir: &std::path::Path, ids: &[String]) -> String {
    let instances: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| json!({"index_key": i, "schema_version": 1, "attributes": {
            "arn": format!("arn:aws:ec2:us-east-1:123456789012:security-group/{id}"),
            "id": id, "name": format!("g{i}"), "description": format!("g{i}"), "vpc_id": "vpc-0abc",
            "tags": {"Name": format!("g{i}")}, "tags_all": {"Name": format!("g{i}")},
            "ingress": [{"cidr_blocks": ["10.0.0.0/8"], "description": "https", "from_port": 443, "to_port": 443,
                         "protocol": "tcp", "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": false}],
            "egress": []}, "sensitive_attributes": []}))
        .collect();
    let state = json!({"version": 4, "terraform_version": "1.9.8", "serial": 1, "lineage": "x", "outputs": {},
        "resources": [{"mode": "managed", "type": "aws_security_group", "name": "g",
                       "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]", "instances": instances}]});
    write_json(dir, "paged.tfstate", &state)
        .display()
        .to_string()
}

/// `driftd report` on a state managing `ids`, against the server's pages.
async fn report_against(server: &MockServer, ids: &[String]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    report_on(server, state_for(dir.path(), ids)).await
}

/// `driftd report` on the state at `state`, against the server's pages.
async fn report_on(server: &MockServer, state: String) -> Run {
    let env = env(server);
    tokio::task::spawn_blocking(move || {
        driftd_with_env(
            &[
                "report",
                "--state",
                &state,
                "--region",
                "us-east-1",
                "--format",
                "json",
            ],
            &env,
        )
    })
    .await
    .unwrap()
}

fn ids(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("sg-{i:017x}")).collect()
}

/// One `describe-security-groups` item per group id.
fn groups_of(ids: &[String]) -> Vec<String> {
    ids.iter()
        .enumerate()
        .map(|(i, id)| group_item(id, &format!("g{i}")))
        .collect()
}

/// One `describe-security-group-rules` item per group id.
fn rules_of(ids: &[String]) -> Vec<String> {
    ids.iter()
        .enumerate()
        .map(|(i, id)| rule_item(id, &format!("sgr-{i:017x}")))
        .collect()
}

/// Mounts the first `mounted` pages of `items`, 1,000 to a page, chained by
/// `NextToken`s `{prefix}-p2`, `{prefix}-p3`, …; a page is told there is more while
/// `items` has more, mounted or not.
async fn mount_pages(
    server: &MockServer,
    action: &str,
    prefix: &str,
    items: &[String],
    page: fn(&[String], Option<&str>) -> String,
    mounted: usize,
) {
    let chunks: Vec<&[String]> = items.chunks(1000).collect();
    for (k, chunk) in chunks.iter().enumerate().take(mounted) {
        let token = (k > 0).then(|| format!("{prefix}-p{}", k + 1));
        let next = (k + 1 < chunks.len()).then(|| format!("{prefix}-p{}", k + 2));
        mount(
            server,
            action,
            token.as_deref(),
            xml(page(chunk, next.as_deref())),
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_is_read_at_the_maximum_page_size() {
    let server = MockServer::start().await;
    let all = ids(0..2500);
    let (groups, rules) = (groups_of(&all), rules_of(&all));
    mount_pages(
        &server,
        "DescribeSecurityGroups",
        "g",
        &groups,
        groups_page,
        3,
    )
    .await;
    mount_pages(
        &server,
        "DescribeSecurityGroupRules",
        "r",
        &rules,
        rules_page,
        3,
    )
    .await;
    // 1,500 interfaces, on two pages, carry the first 1,500 groups.
    mount_pages(
        &server,
        "DescribeNetworkInterfaces",
        "i",
        &interfaces_of(&all[..1500]),
        interfaces_page,
        2,
    )
    .await;

    let run = report_against(&server, &all).await;
    assert_eq!(
        run.code,
        0,
        "{}\n{}",
        run.stderr,
        &run.stdout[..run.stdout.len().min(2000)]
    );
    let report = run.json();
    assert_eq!(report["summary"]["live_security_groups"], 2500);
    assert_eq!(report["summary"]["live_rules"], 2500);
    assert_eq!(report["findings"], json!([]));
    // ceil(2500/1000) + ceil(1500/1000): the floor. The state's rules are inline
    // (no rule ids, no tags): DescribeSecurityGroups carries all of them, and the
    // rules call is not made.
    assert_eq!(
        report["scan"]["api_calls"],
        json!({"ec2:DescribeNetworkInterfaces": 2, "ec2:DescribeSecurityGroups": 3})
    );
    let interfaces = report["scan"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "network-interfaces")
        .expect("a network-interfaces source");
    assert_eq!(interfaces["ok"], true);
    assert_eq!(interfaces["location"], "123456789012/us-east-1");
}

/// Interfaces that cannot be read (a policy without `ec2:DescribeNetworkInterfaces`)
/// are a source error of their own: the groups are still compared and the scan is
/// partial (that nothing is then judged carried by nothing is the diff's test,
/// `reference_empty_is_judged_only_where_it_can_be`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_interfaces_are_a_source_error_and_the_groups_are_still_compared() {
    let server = MockServer::start().await;
    let all = ids(0..3);
    mount(
        &server,
        "DescribeSecurityGroups",
        None,
        xml(groups_page(&groups_of(&all), None)),
    )
    .await;
    mount(
        &server,
        "DescribeSecurityGroupRules",
        None,
        xml(rules_page(&rules_of(&all), None)),
    )
    .await;
    let denied = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>UnauthorizedOperation</Code>\
                  <Message>You are not authorized to perform this operation. User: arn:aws:sts::123456789012:assumed-role/driftd/scan \
                  is not authorized to perform: ec2:DescribeNetworkInterfaces</Message></Error></Errors>\
                  <RequestID>3</RequestID></Response>";
    mount(
        &server,
        "DescribeNetworkInterfaces",
        None,
        ResponseTemplate::new(403).set_body_string(denied),
    )
    .await;

    let run = report_against(&server, &all).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["scan"]["complete"], false);
    assert_eq!(report["summary"]["compared_security_groups"], 3);
    let found = drift(&report);
    assert_eq!(codes(&found), ["source-error"], "{found:#?}");
    assert_eq!(found[0]["resource"]["type"], "network_interfaces");
    let message = found[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("could not read the network interfaces of 123456789012/us-east-1: ")
            && message.contains("UnauthorizedOperation")
            && message.contains("no group there is said to be carried by nothing"),
        "{message}"
    );
    // An authorisation error is not retried.
    assert_eq!(
        report["scan"]["api_calls"]["ec2:DescribeNetworkInterfaces"],
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_third_page_fails_the_region_without_false_deletions() {
    let server = MockServer::start().await;
    let all = ids(0..2500);
    // Pages 1 and 2 answer; page 3 fails.
    mount_pages(
        &server,
        "DescribeSecurityGroups",
        "g",
        &groups_of(&all),
        groups_page,
        2,
    )
    .await;
    let error = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>InternalError</Code>\
                 <Message>An internal error has occurred</Message></Error></Errors><RequestID>1</RequestID></Response>";
    mount(
        &server,
        "DescribeSecurityGroups",
        Some("g-p3"),
        ResponseTemplate::new(500).set_body_string(error),
    )
    .await;

    let run = report_against(&server, &all).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["scan"]["complete"], false);
    let codes = codes(report["findings"].as_array().unwrap());
    assert_eq!(
        codes,
        ["source-error"],
        "the 500 groups of page 3 are not missing"
    );
    assert!(
        report["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("InternalError"),
        "{}",
        report["findings"][0]["message"]
    );
    // Pages 1 and 2 once, page 3 twice (AWS_MAX_ATTEMPTS=2): 5xx is retried.
    assert_eq!(report["scan"]["api_calls"]["ec2:DescribeSecurityGroups"], 4);
}

/// Throttling (`RequestLimitExceeded`, HTTP 503 as EC2 sends it) is retried with
/// backoff, and the retried call counts in `scan.api_calls`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_retried() {
    let server = MockServer::start().await;
    let all = ids(0..3);
    let (groups, rules) = (groups_of(&all), rules_of(&all));
    let throttled = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code>\
                     <Message>Request limit exceeded.</Message></Error></Errors><RequestID>2</RequestID></Response>";
    Mock::given(method("POST"))
        .and(body_string_contains("Action=DescribeSecurityGroups&"))
        .respond_with(ResponseTemplate::new(503).set_body_string(throttled))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    mount(
        &server,
        "DescribeSecurityGroups",
        None,
        xml(groups_page(&groups, None)),
    )
    .await;
    mount(
        &server,
        "DescribeSecurityGroupRules",
        None,
        xml(rules_page(&rules, None)),
    )
    .await;
    mount_no_interfaces(&server).await;

    let run = report_against(&server, &all).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["scan"]["complete"], true);
    assert_eq!(report["summary"]["live_security_groups"], 3);
    assert_eq!(
        report["scan"]["api_calls"],
        json!({"ec2:DescribeNetworkInterfaces": 1, "ec2:DescribeSecurityGroups": 2})
    );
}

/// A region that answers with no groups at all (the account has no VPC there, or
/// the credentials are another account's) names no account: it proves nothing
/// missing in the state's account, and the scan says nothing was compared.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_with_no_groups_proves_nothing_missing() {
    let server = MockServer::start().await;
    mount(
        &server,
        "DescribeSecurityGroups",
        None,
        xml(groups_page(&[], None)),
    )
    .await;
    mount(
        &server,
        "DescribeSecurityGroupRules",
        None,
        xml(rules_page(&[], None)),
    )
    .await;
    mount_no_interfaces(&server).await;
    let run = report_against(&server, &ids(0..3)).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    assert_valid_report(&report);
    let found = drift(&report);
    assert_eq!(codes(&found), ["scope-unscanned"], "{found:#?}");
    assert_eq!(found[0]["resource"]["id"], "123456789012/us-east-1");
    assert_eq!(report["summary"]["compared_security_groups"], 0);
    assert!(
        run.stderr
            .contains("none of the 3 declared groups was compared"),
        "{}",
        run.stderr
    );
}

/// A state declaring each group's rule as an `aws_vpc_security_group_ingress_rule`
/// (matched by rule id, with tags) beside the group itself.
fn state_with_rule_resources(dir: &std::path::Path, ids: &[String]) -> String {
    let path = state_for(dir, ids);
    let mut state: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for instance in state["resources"][0]["instances"].as_array_mut().unwrap() {
        instance["attributes"]["ingress"] = json!([]);
    }
    let rules: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let rule = format!("sgr-{i:017x}");
            json!({"index_key": i, "schema_version": 0, "attributes": {
                "arn": format!("arn:aws:ec2:us-east-1:123456789012:security-group-rule/{rule}"),
                "id": rule, "security_group_rule_id": rule, "security_group_id": id,
                "ip_protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_ipv4": "10.0.0.0/8",
                "cidr_ipv6": null, "prefix_list_id": null, "referenced_security_group_id": null,
                "description": "https", "tags": null, "tags_all": {}}, "sensitive_attributes": []})
        })
        .collect();
    state["resources"].as_array_mut().unwrap().push(json!({
        "mode": "managed", "type": "aws_vpc_security_group_ingress_rule", "name": "https",
        "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]", "instances": rules}));
    std::fs::write(&path, state.to_string()).unwrap();
    path
}

/// Where the state matches rules by id (or compares their tags), their groups'
/// rules are read with `DescribeSecurityGroupRules`, filtered by group id, at most
/// 200 ids a call as AWS allows; each call is answered here with the rules of the
/// groups it names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_ids_are_read_only_for_the_groups_that_need_them() {
    let server = MockServer::start().await;
    let all = ids(0..450);
    mount_pages(
        &server,
        "DescribeSecurityGroups",
        "g",
        &groups_of(&all),
        groups_page,
        1,
    )
    .await;
    mount_no_interfaces(&server).await;
    let rules = rules_of(&all);
    for (chunk, (ids, items)) in all.chunks(200).zip(rules.chunks(200)).enumerate() {
        Mock::given(method("POST"))
            .and(body_string_contains("Action=DescribeSecurityGroupRules&"))
            .and(body_string_contains("MaxResults=1000"))
            .and(body_string_contains("Filter.1.Name=group-id"))
            .and(body_string_contains(format!(
                "Filter.1.Value.1={}&",
                ids[0]
            )))
            .and(body_string_contains(format!(
                "Filter.1.Value.{}={}",
                ids.len(),
                ids[ids.len() - 1]
            )))
            .respond_with(xml(rules_page(items, None)))
            .named(format!("rules of chunk {chunk}"))
            .expect(1)
            .mount(&server)
            .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let run = report_on(&server, state_with_rule_resources(dir.path(), &all)).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["findings"], json!([]));
    assert_eq!(report["summary"]["declared_rules"], 450);
    // 200 + 200 + 50 group ids.
    assert_eq!(
        report["scan"]["api_calls"],
        json!({"ec2:DescribeNetworkInterfaces": 1, "ec2:DescribeSecurityGroupRules": 3,
               "ec2:DescribeSecurityGroups": 1})
    );
    server.verify().await;
}
