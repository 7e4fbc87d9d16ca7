//! CloudFormation drift detection through the API, end to end. The local AWS
//! endpoint does not implement drift detection (docs/local-aws.md: DetectStackDrift
//! and friends answer 500), so these tests serve recorded, real-shaped
//! CloudFormation query-protocol responses from a local HTTP server (wiremock),
//! reached through `AWS_ENDPOINT_URL_CLOUDFORMATION`; EC2 comes from a captured
//! `describe-security-groups` file. Ownership against the local endpoint itself is
//! tested in `cloudformation_moto.rs`.

use crate::support::cli::*;
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

const NS: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";
const STACK: &str = "prod-network";
const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/prod-network/5b9a3c10-8f2e-11ef-a1b2-0a1b2c3d4e5f";
const DETECTION: &str = "b78ac9b0-dec1-11e8-a42a-500c28b4e461";
const ALB: &str = "sg-0a1b2c3d4e5f60001";
const FRONT: &str = "sg-0a1b2c3d4e5f60002";
const APP: &str = "sg-0a1b2c3d4e5f60003";

fn response(action: &str, result: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/xml")
        .set_body_string(format!(
            "<{action}Response xmlns=\"{NS}\">\n  <{action}Result>{result}</{action}Result>\n  \
             <ResponseMetadata><RequestId>8d3f1b2a-5c4e-4f6a-9b8c-7d6e5f4a3b21</RequestId></ResponseMetadata>\n\
             </{action}Response>"
        ))
}

fn error(code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(400)
        .insert_header("content-type", "text/xml")
        .set_body_string(format!(
            "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>{code}</Code>\
             <Message>{message}</Message></Error>\
             <RequestId>1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f</RequestId></ErrorResponse>"
        ))
}

/// Answers `action` (and, if given, only requests whose body holds `also`).
async fn on(
    server: &MockServer,
    action: &str,
    also: Option<&str>,
    answer: ResponseTemplate,
    times: Option<u64>,
) {
    let mut mock =
        Mock::given(method("POST")).and(body_string_contains(format!("Action={action}&")));
    if let Some(also) = also {
        mock = mock.and(body_string_contains(also));
    }
    // A one-off answer wins over the standing one while it lasts.
    let mut mock = mock
        .respond_with(answer)
        .with_priority(if times.is_some() { 1 } else { 5 });
    if let Some(n) = times {
        mock = mock.up_to_n_times(n);
    }
    mock.mount(server).await;
}

fn stack_xml(status: &str, drift_status: &str, last_check: &str) -> String {
    format!(
        "<Stacks><member><StackName>{STACK}</StackName><StackId>{STACK_ID}</StackId>\
         <CreationTime>2026-01-12T09:30:00.000Z</CreationTime><StackStatus>{status}</StackStatus>\
         <DriftInformation><StackDriftStatus>{drift_status}</StackDriftStatus>\
         <LastCheckTimestamp>{last_check}</LastCheckTimestamp></DriftInformation>\
         <DisableRollback>false</DisableRollback><Tags/></member></Stacks>"
    )
}

fn resource_xml(logical: &str, physical: &str, kind: &str) -> String {
    resource_in(logical, physical, kind, "CREATE_COMPLETE")
}

fn resource_in(logical: &str, physical: &str, kind: &str, status: &str) -> String {
    format!(
        "<member><LogicalResourceId>{logical}</LogicalResourceId><PhysicalResourceId>{physical}</PhysicalResourceId>\
         <ResourceType>{kind}</ResourceType><LastUpdatedTimestamp>2026-01-12T09:31:02.114Z</LastUpdatedTimestamp>\
         <ResourceStatus>{status}</ResourceStatus>\
         <DriftInformation><StackResourceDriftStatus>NOT_CHECKED</StackResourceDriftStatus></DriftInformation></member>"
    )
}

fn difference_xml(path: &str, expected: Option<&str>, actual: Option<&str>, kind: &str) -> String {
    let value =
        |tag: &str, v: Option<&str>| v.map(|v| format!("<{tag}>{v}</{tag}>")).unwrap_or_default();
    format!(
        "<member><PropertyPath>{path}</PropertyPath>{}{}<DifferenceType>{kind}</DifferenceType></member>",
        value("ExpectedValue", expected),
        value("ActualValue", actual)
    )
}

fn drift_xml(
    logical: &str,
    physical: &str,
    kind: &str,
    status: &str,
    expected: &Value,
    actual: &Value,
    differences: &[String],
) -> String {
    format!(
        "<member><StackId>{STACK_ID}</StackId><LogicalResourceId>{logical}</LogicalResourceId>\
         <PhysicalResourceId>{physical}</PhysicalResourceId><ResourceType>{kind}</ResourceType>\
         <ExpectedProperties>{expected}</ExpectedProperties><ActualProperties>{actual}</ActualProperties>\
         <PropertyDifferences>{}</PropertyDifferences><StackResourceDriftStatus>{status}</StackResourceDriftStatus>\
         <Timestamp>2026-11-25T06:00:41.500Z</Timestamp></member>",
        differences.concat()
    )
}

fn alb_expected() -> Value {
    json!({"GroupDescription": "alb-public", "VpcId": "vpc-0abc",
           "SecurityGroupIngress": [{"CidrIp": "0.0.0.0/0", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}],
           "SecurityGroupEgress": [{"DestinationSecurityGroupId": FRONT, "FromPort": 80, "IpProtocol": "tcp", "ToPort": 80}]})
}

/// The drift results of the ALB incident: the ALB group's egress port edited in
/// the console (80 → 8080), the app group deleted, everything else in sync.
fn incident_drifts() -> String {
    let mut alb_actual = alb_expected();
    alb_actual["SecurityGroupEgress"][0]["FromPort"] = json!(8080);
    alb_actual["SecurityGroupEgress"][0]["ToPort"] = json!(8080);
    let front = json!({"GroupDescription": "ecs-front", "VpcId": "vpc-0abc",
        "SecurityGroupIngress": [{"FromPort": 80, "IpProtocol": "tcp", "SourceSecurityGroupId": ALB, "ToPort": 80}]});
    let app = json!({"GroupDescription": "app", "VpcId": "vpc-0abc"});
    let listener = json!({"Port": 443, "Protocol": "HTTPS"});
    format!(
        "<StackResourceDrifts>{}{}{}{}</StackResourceDrifts>",
        drift_xml(
            "AlbSecurityGroup",
            ALB,
            "AWS::EC2::SecurityGroup",
            "MODIFIED",
            &alb_expected(),
            &alb_actual,
            &[
                difference_xml(
                    "/SecurityGroupEgress/0/FromPort",
                    Some("80"),
                    Some("8080"),
                    "NOT_EQUAL"
                ),
                difference_xml(
                    "/SecurityGroupEgress/0/ToPort",
                    Some("80"),
                    Some("8080"),
                    "NOT_EQUAL"
                ),
            ]
        ),
        drift_xml(
            "FrontSecurityGroup",
            FRONT,
            "AWS::EC2::SecurityGroup",
            "IN_SYNC",
            &front,
            &front,
            &[]
        ),
        drift_xml(
            "AppSecurityGroup",
            APP,
            "AWS::EC2::SecurityGroup",
            "DELETED",
            &app,
            &Value::Null,
            &[]
        ),
        drift_xml(
            "HttpsListener",
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/alb/50dc6c495c0c9188/f2f7dc8efc522ab2",
            "AWS::ElasticLoadBalancingV2::Listener",
            "IN_SYNC",
            &listener,
            &listener,
            &[]
        ),
    )
}

/// Everything but drift detection's status, answered as for a healthy stack.
async fn healthy_stack(server: &MockServer, stack_status: &str) {
    on(
        server,
        "DescribeStacks",
        None,
        response(
            "DescribeStacks",
            &stack_xml(stack_status, "IN_SYNC", "2026-11-20T06:00:00.000Z"),
        ),
        None,
    )
    .await;
    // Two pages of resources, the second asked for by token.
    let first = format!(
        "<StackResourceSummaries>{}{}</StackResourceSummaries><NextToken>page-2</NextToken>",
        resource_xml("AlbSecurityGroup", ALB, "AWS::EC2::SecurityGroup"),
        resource_xml("FrontSecurityGroup", FRONT, "AWS::EC2::SecurityGroup"),
    );
    // The group a rolled-back update replaced is listed, deleted: it is not the
    // stack's any more, so its absence is not sg-missing.
    let second = format!(
        "<StackResourceSummaries>{}{}{}</StackResourceSummaries>",
        resource_xml("AppSecurityGroup", APP, "AWS::EC2::SecurityGroup"),
        resource_in(
            "OldSecurityGroup",
            "sg-0a1b2c3d4e5f60009",
            "AWS::EC2::SecurityGroup",
            "DELETE_COMPLETE"
        ),
        resource_xml(
            "HttpsListener",
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/alb/50dc6c495c0c9188/f2f7dc8efc522ab2",
            "AWS::ElasticLoadBalancingV2::Listener"
        ),
    );
    on(
        server,
        "ListStackResources",
        Some("NextToken=page-2"),
        response("ListStackResources", &second),
        None,
    )
    .await;
    Mock::given(method("POST"))
        .and(body_string_contains("Action=ListStackResources&"))
        .respond_with(response("ListStackResources", &first))
        .with_priority(10)
        .mount(server)
        .await;
    on(
        server,
        "DetectStackDrift",
        None,
        response(
            "DetectStackDrift",
            &format!("<StackDriftDetectionId>{DETECTION}</StackDriftDetectionId>"),
        ),
        None,
    )
    .await;
    on(
        server,
        "DescribeStackResourceDrifts",
        None,
        response("DescribeStackResourceDrifts", &incident_drifts()),
        None,
    )
    .await;
}

fn detection_status(status: &str, reason: Option<&str>) -> ResponseTemplate {
    response(
        "DescribeStackDriftDetectionStatus",
        &format!(
            "<StackId>{STACK_ID}</StackId><StackDriftDetectionId>{DETECTION}</StackDriftDetectionId>\
             <StackDriftStatus>DRIFTED</StackDriftStatus><DetectionStatus>{status}</DetectionStatus>{}\
             <DriftedStackResourceCount>2</DriftedStackResourceCount><Timestamp>2026-11-25T06:00:40.000Z</Timestamp>",
            reason
                .map(|r| format!("<DetectionStatusReason>{r}</DetectionStatusReason>"))
                .unwrap_or_default()
        ),
    )
}

/// The ALB, front and an unrelated group live, as `describe-security-groups` gives them.
fn live_capture(dir: &std::path::Path) -> String {
    let group = |id: &str, name: &str, ingress: Value, egress: Value| {
        json!({
        "GroupId": id, "GroupName": name, "Description": name, "VpcId": "vpc-0abc", "OwnerId": "123456789012",
        "IpPermissions": ingress, "IpPermissionsEgress": egress,
        "Tags": [{"Key": "aws:cloudformation:stack-name", "Value": STACK}]})
    };
    let capture = json!({"SecurityGroups": [
        group(ALB, "alb-public",
            json!([{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []}]),
            json!([{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [], "Ipv6Ranges": [], "PrefixListIds": [],
                    "UserIdGroupPairs": [{"GroupId": FRONT, "UserId": "123456789012"}]}])),
        group(FRONT, "ecs-front",
            json!([{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [], "Ipv6Ranges": [], "PrefixListIds": [],
                    "UserIdGroupPairs": [{"GroupId": ALB, "UserId": "123456789012"}]}]),
            json!([{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []}])),
    ]});
    write_json(dir, "live.json", &capture).display().to_string()
}

struct Outcome {
    code: i32,
    report: Value,
    stderr: String,
}

/// `driftd report` with one `[[cloudformation]]` entry for the stack (plus `extra`
/// keys), against the live capture of `live_capture`.
async fn report(server: &MockServer, extra: &str) -> Outcome {
    let entry = format!("stacks = [\"{STACK}\"]\n{extra}");
    report_with(server, &entry, live_capture).await
}

/// `driftd report` with one `[[cloudformation]]` entry (`entry`: its keys but
/// `regions`) in us-east-1, EC2 read from the capture `live` writes.
async fn report_with(
    server: &MockServer,
    entry: &str,
    live: impl FnOnce(&std::path::Path) -> String,
) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let live = live(dir.path());
    let config = dir.path().join("driftd.toml");
    std::fs::write(
        &config,
        format!("[[cloudformation]]\nregions = [\"us-east-1\"]\n{entry}\n"),
    )
    .unwrap();
    let env: Vec<(String, String)> = [
        ("AWS_ENDPOINT_URL_CLOUDFORMATION", server.uri()),
        ("AWS_ACCESS_KEY_ID", "testing".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let config = config.display().to_string();
    let run = tokio::task::spawn_blocking(move || {
        driftd_with_env(
            &[
                "report",
                "--config",
                &config,
                "--live",
                &live,
                "--region",
                "us-east-1",
                "--format",
                "json",
                "--no-store",
            ],
            &env,
        )
    })
    .await
    .unwrap();
    let report = run.json();
    assert_valid_report(&report);
    Outcome {
        code: run.code,
        report,
        stderr: run.stderr,
    }
}

/// From now on, the detection's status is complete.
async fn detection_completes(server: &MockServer) {
    let complete = detection_status("DETECTION_COMPLETE", None);
    on(
        server,
        "DescribeStackDriftDetectionStatus",
        None,
        complete,
        None,
    )
    .await;
}

fn codes(report: &Value) -> Vec<&str> {
    findings(report)
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect()
}

fn findings(report: &Value) -> Vec<&Value> {
    report["findings"].as_array().unwrap().iter().collect()
}

fn calls(report: &Value, action: &str) -> u64 {
    report["scan"]["api_calls"][format!("cloudformation:{action}")]
        .as_u64()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alb_egress_edit_is_one_field_once_the_detection_completes() {
    let server = MockServer::start().await;
    healthy_stack(&server, "UPDATE_COMPLETE").await;
    on(
        &server,
        "DescribeStackDriftDetectionStatus",
        None,
        detection_status("DETECTION_IN_PROGRESS", None),
        Some(1),
    )
    .await;
    detection_completes(&server).await;
    let out = report(&server, "").await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    let found = findings(&out.report);
    let summary: Vec<(&str, &str)> = found
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap(),
                f["resource"]["group_id"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [("cfn-drift", ALB), ("sg-missing", APP)],
        "{:#?}",
        out.report["findings"]
    );
    let alb = found[0];
    assert_eq!(alb["severity"], "high");
    assert_eq!(alb["direction"], "egress");
    // No [[account]]: the stack's ARN names the account its groups live in.
    let stack_source = &out.report["scan"]["sources"][0];
    assert_eq!(stack_source["kind"], "cloudformation");
    assert_eq!(stack_source["account_id"], "123456789012");
    assert_eq!(found[1]["account_id"], "123456789012");
    assert_eq!(
        alb["owner"],
        json!({"kind": "cloudformation", "location": STACK, "address": "AlbSecurityGroup"})
    );
    assert_eq!(alb["resource"]["group_name"], "alb-public");
    assert_eq!(
        alb["changes"],
        json!([
            {"field": "from_port", "expected": 80, "actual": 8080,
             "property_path": "/SecurityGroupEgress/0/FromPort", "difference_type": "NOT_EQUAL"},
            {"field": "to_port", "expected": 80, "actual": 8080,
             "property_path": "/SecurityGroupEgress/0/ToPort", "difference_type": "NOT_EQUAL"},
        ])
    );
    assert_eq!(
        alb["expected"]["peer"],
        json!({"kind": "security_group", "value": FRONT})
    );
    assert_eq!(found[1]["owner"]["address"], "AppSecurityGroup");
    // One detection, its status polled until complete, both resource pages read.
    assert_eq!(calls(&out.report, "DetectStackDrift"), 1);
    assert_eq!(calls(&out.report, "DescribeStackDriftDetectionStatus"), 2);
    assert_eq!(calls(&out.report, "ListStackResources"), 2);
    assert_eq!(calls(&out.report, "DescribeStackResourceDrifts"), 1);
    let source = &out.report["scan"]["sources"][0];
    assert_eq!(
        (
            source["kind"].as_str(),
            source["location"].as_str(),
            source["ok"].as_bool()
        ),
        (Some("cloudformation"), Some(STACK), Some(true))
    );
    assert_eq!(out.report["summary"]["managed_security_groups"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_detection_is_a_source_error_never_in_sync() {
    let server = MockServer::start().await;
    healthy_stack(&server, "UPDATE_COMPLETE").await;
    on(
        &server,
        "DescribeStackDriftDetectionStatus",
        None,
        detection_status(
            "DETECTION_FAILED",
            Some("Failed to detect drift on resource [AlbSecurityGroup]: Rate exceeded"),
        ),
        None,
    )
    .await;
    let out = report(&server, "").await;
    assert_eq!(out.code, 1, "a partial scan exits 1: {}", out.stderr);
    let found = findings(&out.report);
    let codes: Vec<&str> = found.iter().map(|f| f["code"].as_str().unwrap()).collect();
    // Ownership was read: the stack's groups are neither unmanaged nor drifted.
    assert_eq!(
        codes,
        ["source-error", "sg-missing"],
        "{:#?}",
        out.report["findings"]
    );
    assert_eq!(
        found[0]["resource"],
        json!({"type": "cloudformation_stack", "id": STACK, "group_id": null, "group_name": null, "vpc_id": null})
    );
    let message = found[0]["message"].as_str().unwrap();
    assert!(
        message.contains(
            "drift detection failed: Failed to detect drift on resource [AlbSecurityGroup]"
        ),
        "{message}"
    );
    assert_eq!(calls(&out.report, "DescribeStackResourceDrifts"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_detection_that_does_not_finish_in_time_is_a_source_error() {
    let server = MockServer::start().await;
    healthy_stack(&server, "UPDATE_COMPLETE").await;
    on(
        &server,
        "DescribeStackDriftDetectionStatus",
        None,
        detection_status("DETECTION_IN_PROGRESS", None),
        None,
    )
    .await;
    let out = report(&server, "drift_timeout = \"2s\"").await;
    assert_eq!(out.code, 1);
    let error = findings(&out.report)
        .into_iter()
        .find(|f| f["code"] == "source-error")
        .unwrap();
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "drift detection {DETECTION} did not finish within 2s"
        )),
        "{message}"
    );
    assert!(
        findings(&out.report)
            .iter()
            .all(|f| f["code"] != "cfn-drift")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_detection_already_in_progress_is_waited_for_and_throttling_retried() {
    let server = MockServer::start().await;
    on(
        &server,
        "DetectStackDrift",
        None,
        error(
            "ValidationError",
            &format!("Drift detection is already in progress for stack {STACK_ID}"),
        ),
        Some(1),
    )
    .await;
    on(
        &server,
        "DescribeStackResourceDrifts",
        None,
        error("Throttling", "Rate exceeded"),
        Some(1),
    )
    .await;
    healthy_stack(&server, "UPDATE_COMPLETE").await;
    detection_completes(&server).await;
    let out = report(&server, "").await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    let codes = codes(&out.report);
    assert_eq!(codes, ["cfn-drift", "sg-missing"]);
    // Refused once while the other detection ran, then started; the throttled
    // read was retried by the SDK.
    assert_eq!(calls(&out.report, "DetectStackDrift"), 2);
    assert_eq!(calls(&out.report, "DescribeStackResourceDrifts"), 2);
    // The retry is said as one (the SDK's classifiers call throttling retryable);
    // the refusal, which the SDK does not retry and driftd expects, is not.
    let retries: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("AWS call attempt"))
        .collect();
    assert_eq!(retries.len(), 1, "{}", out.stderr);
    assert!(
        retries[0].contains("attempt 1 of up to") && retries[0].contains("Rate exceeded"),
        "{}",
        retries[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recent_detection_is_read_instead_of_starting_another() {
    let server = MockServer::start().await;
    let recent = (chrono::Utc::now() - chrono::Duration::minutes(5))
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    on(
        &server,
        "DescribeStacks",
        None,
        response(
            "DescribeStacks",
            &stack_xml("UPDATE_COMPLETE", "DRIFTED", &recent),
        ),
        Some(100),
    )
    .await;
    healthy_stack(&server, "UPDATE_COMPLETE").await;
    let out = report(&server, "reuse_drift_younger_than = \"30m\"").await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(calls(&out.report, "DetectStackDrift"), 0);
    assert_eq!(calls(&out.report, "DescribeStackDriftDetectionStatus"), 0);
    let codes = codes(&out.report);
    assert_eq!(codes, ["cfn-drift", "sg-missing"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stack_mid_update_cannot_be_checked_but_still_owns_its_groups() {
    let server = MockServer::start().await;
    healthy_stack(&server, "UPDATE_IN_PROGRESS").await;
    let out = report(&server, "").await;
    assert_eq!(out.code, 1);
    let found = findings(&out.report);
    let codes: Vec<&str> = found.iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert_eq!(
        codes,
        ["source-error", "sg-missing"],
        "{:#?}",
        out.report["findings"]
    );
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("the stack is UPDATE_IN_PROGRESS")
    );
    assert_eq!(calls(&out.report, "DetectStackDrift"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stack_that_does_not_exist_hides_ownership_and_says_so() {
    let server = MockServer::start().await;
    on(
        &server,
        "DescribeStacks",
        None,
        error(
            "ValidationError",
            &format!("Stack with id {STACK} does not exist"),
        ),
        None,
    )
    .await;
    let out = report(&server, "").await;
    assert_eq!(out.code, 1);
    let found = findings(&out.report);
    let codes: Vec<&str> = found.iter().map(|f| f["code"].as_str().unwrap()).collect();
    // What the stack would own is unknown: nothing is called unmanaged meanwhile.
    assert_eq!(codes, ["source-error"], "{:#?}", out.report["findings"]);
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("does not exist")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_stack_with_none_left_is_a_complete_listing() {
    let server = MockServer::start().await;
    on(
        &server,
        "DescribeStacks",
        None,
        response("DescribeStacks", "<Stacks/>"),
        None,
    )
    .await;
    let out = report_with(&server, "stacks = [\"*\"]", |dir| {
        write_json(dir, "live.json", &json!({"SecurityGroups": []}))
            .display()
            .to_string()
    })
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    // The listing itself is a source: the stacks it no longer holds are gone.
    assert_eq!(
        out.report["scan"]["sources"][0],
        json!({"kind": "cloudformation", "location": "*", "ok": true, "error": null,
               "account_id": null, "region": "us-east-1"})
    );
}
