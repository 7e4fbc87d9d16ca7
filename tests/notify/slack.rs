//! Slack Block Kit messages: the exact payload for incident 1 of DESIGN.md (the
//! ALB egress port edited in the console), and Slack's limits with many findings.
//! `docs/slack-example.json` is that payload, kept true by this test
//! (`UPDATE_DOCS=1 cargo test --test notify slack::` rewrites it).

use chrono::{TimeZone, Utc};
use driftd::diff::DiffOptions;
use driftd::model::{Attribution, ChangedBy, Finding, FindingCode, Via};
use driftd::notify::slack::{MAX_BLOCKS, MAX_HEADER, MAX_TEXT, Notice, messages};
use driftd::scan::{LiveSource, ScanPlan, run};
use driftd::store::Event;
use serde_json::Value;

fn example_findings() -> Vec<Finding> {
    let plan = ScanPlan {
        cloudformation: None,
        states: vec!["examples/ecs-chain.tfstate".into()],
        live: LiveSource::Files {
            paths: vec![
                "examples/live/describe-security-groups.json".into(),
                "examples/live/describe-security-group-rules.json".into(),
            ],
            regions: vec!["us-east-1".into()],
        },
        options: DiffOptions::default(),
        acknowledgements: vec![],
        limits: Default::default(),
        cloudtrail: false,
    };
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 6, 0, 0).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(run(&plan, || now)).report.findings
}

fn texts(message: &Value) -> Vec<String> {
    let mut out = vec![message["text"].as_str().unwrap().to_string()];
    for block in message["blocks"].as_array().unwrap() {
        if let Some(t) = block["text"]["text"].as_str() {
            out.push(t.to_string());
        }
        for element in block["elements"].as_array().into_iter().flatten() {
            out.push(element["text"].as_str().unwrap().to_string());
        }
    }
    out
}

fn assert_within_limits(message: &Value) {
    let blocks = message["blocks"].as_array().unwrap();
    assert!(blocks.len() <= MAX_BLOCKS, "{} blocks", blocks.len());
    assert_eq!(blocks[0]["type"], "header");
    assert!(blocks[0]["text"]["text"].as_str().unwrap().chars().count() <= MAX_HEADER);
    for text in texts(message) {
        assert!(
            text.chars().count() <= MAX_TEXT,
            "{} characters",
            text.len()
        );
    }
}

#[test]
fn incident_1_the_alb_egress_port_exact_payload() {
    let findings = example_findings();
    let port = findings
        .iter()
        .find(|f| f.code == FindingCode::RuleModified)
        .expect("the example's edited ALB egress port");
    let sent = messages(
        "scan-20261125T060000000Z-0001",
        &[Notice {
            finding: port,
            event: Event::New,
            // The blast radius: what carries alb-public.
            affects: vec!["ELB app/alb-public".to_string()],
        }],
    );
    assert_eq!(sent.len(), 1);
    let message = &sent[0];
    assert_within_limits(message);
    let all = texts(message).join("\n");
    for needle in [
        "`to_port`: `80` → `8080`",
        "alb-public (sg-0a1b2c3d4e5f60001)",
        "module.net.aws_vpc_security_group_egress_rule.alb_to_front",
        "group_id = \"sg-0a1b2c3d4e5f60001\"",
        "Affects: ELB app/alb-public",
    ] {
        assert!(all.contains(needle), "{needle} in\n{all}");
    }
    let pretty = serde_json::to_string_pretty(message).unwrap() + "\n";
    insta::assert_snapshot!("slack_incident_1", pretty);

    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/slack-example.json");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&docs, &pretty).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(&docs).unwrap(),
        pretty,
        "docs/slack-example.json is stale: UPDATE_DOCS=1 cargo test --test notify slack::"
    );
}

/// The message says who changed it, or that CloudTrail has not said yet.
#[test]
fn who_changed_it_is_said_under_the_finding() {
    let findings = example_findings();
    let port = findings
        .iter()
        .find(|f| f.code == FindingCode::RuleModified)
        .expect("the example's edited ALB egress port");
    let console = ChangedBy {
        principal:
            "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_admin_1a2b/jane.doe@example.com"
                .into(),
        event: "ModifySecurityGroupRules".into(),
        time: "2026-11-25T05:46:02.000Z".into(),
        source_ip: Some("198.51.100.7".into()),
        user_agent: Some("Mozilla/5.0".into()),
        via: Some(Via::Console),
        event_id: Some("6c1d4e0a-8f3b-4f7e-9b1a-2d5c6e7f8a90".into()),
    };
    for (attribution, line) in [
        (
            Attribution::Found(console),
            "Changed by jane.doe@example.com via console from 198.51.100.7 at 2026-11-25 05:46 \
             UTC (ModifySecurityGroupRules)",
        ),
        (
            Attribution::Pending,
            "Changed by: pending (CloudTrail has not delivered the event yet)",
        ),
    ] {
        let finding = Finding {
            changed_by: Some(attribution),
            ..port.clone()
        };
        let sent = messages(
            "scan-20261125T060000000Z-0001",
            &[Notice {
                finding: &finding,
                event: Event::New,
                affects: vec![],
            }],
        );
        let all = texts(&sent[0]).join("\n");
        assert!(all.contains(line), "{line} in\n{all}");
    }
}

#[test]
fn sixty_findings_make_valid_messages_and_none_is_lost() {
    let base = example_findings();
    let mut many = Vec::new();
    for i in 0..60 {
        let mut f = base[i % base.len()].clone();
        f.id = format!("{}-{i}", f.id);
        let group = format!("sg-{:017x}", i / 4);
        f.resource.group_id = Some(group.clone());
        f.resource.group_name = Some(format!("service-{}", i / 4));
        f.message = format!("finding number {i}: {}", f.message);
        many.push(f);
    }
    let notices: Vec<Notice> = many
        .iter()
        .map(|finding| Notice {
            finding,
            event: Event::New,
            affects: Vec::new(),
        })
        .collect();
    let sent = messages("scan-big", &notices);
    assert!(sent.len() >= 3, "60 findings need 2 blocks each: split");
    let mut hints = 0;
    for (i, message) in sent.iter().enumerate() {
        assert_within_limits(message);
        let header = message["blocks"][0]["text"]["text"].as_str().unwrap();
        assert!(
            header.ends_with(&format!("(part {} of {})", i + 1, sent.len())),
            "{header}"
        );
        hints += message["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b.to_string().contains("[[acknowledge]]"))
            .count();
        // A continued group repeats its heading at the top of the next message.
        assert_eq!(message["blocks"][1]["type"], "section");
    }
    assert_eq!(hints, 60, "every finding is in exactly one message");
    // The fallback text of every part names the whole scan's count.
    assert!(
        sent[0]["text"]
            .as_str()
            .unwrap()
            .starts_with("driftd: 60 new findings")
    );
}

#[test]
fn an_overlong_text_is_cut_and_says_so() {
    let mut f = example_findings()
        .into_iter()
        .find(|f| f.changes.is_empty())
        .unwrap();
    f.message = "x".repeat(10_000);
    let sent = messages(
        "scan-long",
        &[Notice {
            finding: &f,
            event: Event::Recurred,
            affects: Vec::new(),
        }],
    );
    assert_within_limits(&sent[0]);
    let section = sent[0]["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b.to_string().contains("xxxx"))
        .unwrap()
        .to_string();
    assert!(section.contains("more characters)"), "{section}");
    assert!(section.contains("(back)"));
}
