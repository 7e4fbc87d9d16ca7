//! Snapshots of the table and markdown renderings of the bundled example (the
//! three incidents of DESIGN.md), with a fixed clock and scan id.

use anstream::adapter::strip_str;
use anstyle::{AnsiColor, Style};
use chrono::{TimeZone, Utc};
use driftd::config::Config;
use driftd::diff::DiffOptions;
use driftd::model::{Attribution, Change, ChangedBy, FindingCode, OwnerKind, Severity, Via};
use driftd::report::{Report, TableStyle, render_markdown, render_table};
use driftd::scan::{LiveSource, ScanPlan, run};
use serde_json::{Value, json};
use textwrap::core::display_width;

fn example_report() -> Report {
    let config = Config::load("examples/driftd.toml".as_ref()).unwrap();
    let plan = ScanPlan {
        cloudformation: None,
        // Relative, so that snapshots do not depend on where the checkout lives.
        states: vec!["examples/ecs-chain.tfstate".into()],
        live: LiveSource::Files {
            paths: vec![
                "examples/live/describe-security-groups.json".into(),
                "examples/live/describe-security-group-rules.json".into(),
            ],
            regions: config.regions.clone(),
        },
        options: DiffOptions::default(),
        acknowledgements: config.acknowledgements.clone(),
        limits: Default::default(),
        cloudtrail: false,
    };
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 6, 0, 0).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut report = runtime.block_on(run(&plan, || now)).report;
    report.scan.id = "scan-fixed".into();
    report
}

/// The widths the table is checked at: a narrow terminal, the classic 80, the
/// default when piped (100), and wide ones.
const WIDTHS: [usize; 6] = [40, 60, 80, 100, 120, 200];

#[test]
fn table_at_80_columns() {
    insta::assert_snapshot!(render_table(&example_report(), TableStyle::Plain, 80));
}

#[test]
fn table_at_120_columns() {
    insta::assert_snapshot!(render_table(&example_report(), TableStyle::Plain, 120));
}

#[test]
fn every_line_fits_the_width() {
    let report = example_report();
    for width in WIDTHS {
        for style in [TableStyle::Plain, TableStyle::Colour] {
            let table = render_table(&report, style, width);
            let plain = strip_str(&table).to_string();
            for line in plain.lines() {
                assert!(
                    display_width(line) <= width,
                    "{style:?} at {width}: {} columns in\n{line}",
                    display_width(line)
                );
            }
        }
    }
}

/// Wrapping moves text to other lines, never drops it: at every width each
/// finding's message is there word for word (or, where its changes say the same,
/// each change's field and values), and so is who should act. Compared without
/// the spaces and line breaks that wrapping adds, since a long name may break
/// after a `.` or `_`.
#[test]
fn nothing_is_lost_to_wrapping() {
    let report = example_report();
    for width in WIDTHS {
        let text = squeezed(&render_table(&report, TableStyle::Plain, width));
        for finding in &report.findings {
            let mut words: Vec<String> = match finding.changes.is_empty() {
                true => finding.message.split(' ').map(str::to_string).collect(),
                false => finding
                    .changes
                    .iter()
                    .flat_map(|c| {
                        [
                            c.field.clone(),
                            c.expected.to_string(),
                            c.actual.to_string(),
                        ]
                    })
                    .collect(),
            };
            // Who should act: the finding's owner, else (nobody declares it) its group's.
            let owner = match (&finding.owner.kind, &finding.group_owner) {
                (OwnerKind::None, Some(group_owner)) => group_owner,
                _ => &finding.owner,
            };
            words.push(owner.label());
            for word in words {
                assert!(
                    text.contains(&squeezed(&word)),
                    "at {width}: {word} of {}",
                    finding.message
                );
            }
        }
    }
}

/// Only what is long wraps: the severity, code and subject columns start at the
/// same place on every finding's row, at every width.
#[test]
fn the_columns_align_at_every_width() {
    let report = example_report();
    for width in WIDTHS {
        let table = render_table(&report, TableStyle::Plain, width);
        let rows = finding_rows(&table);
        assert_eq!(rows.len(), report.findings.len(), "at {width}:\n{table}");
        let code_columns: Vec<usize> = rows.iter().map(|(_, code)| *code).collect();
        assert!(
            code_columns.windows(2).all(|w| w[0] == w[1]),
            "at {width}: codes start at {code_columns:?}\n{table}"
        );
    }
}

/// Where each finding's row has its code: `(row, column)` of the lines that
/// start with a severity followed by a finding code.
fn finding_rows(table: &str) -> Vec<(&str, usize)> {
    table
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let severity = Severity::parse(words.next()?)?;
            let code = FindingCode::parse(words.next()?)?;
            let after_severity = line.find(severity.as_str())? + severity.as_str().len();
            Some((
                line,
                after_severity + line[after_severity..].find(code.as_str())?,
            ))
        })
        .collect()
}

/// A width too narrow for the columns overflows rather than panics or loops.
#[test]
fn a_narrow_terminal_degrades_without_panicking() {
    let report = example_report();
    for width in [0, 1, 10, 20, 30] {
        let table = render_table(&report, TableStyle::Plain, width);
        assert_eq!(
            finding_rows(&table).len(),
            report.findings.len(),
            "at {width}"
        );
    }
}

#[test]
fn changes_are_marked_as_terraform_plan_marks_them() {
    let table = render_table(&example_report(), TableStyle::Plain, 120);
    let subject_of = |code: &str| -> String {
        let (row, at) = *finding_rows(&table)
            .iter()
            .find(|(row, _)| row.contains(code))
            .unwrap();
        row[at + code.len()..].trim_start().to_string()
    };
    assert!(
        subject_of("rule-modified").starts_with("~ egress tcp 80 to sg-0a1b2c3d4e5f60002"),
        "{table}"
    );
    assert!(
        subject_of("rule-added").starts_with("+ ingress tcp 22 from 0.0.0.0/0"),
        "{table}"
    );
    assert!(table.contains("~ to_port    80 → 8080"), "{table}");

    // A rule removed outside IaC, and values added and removed beside a change.
    let mut report = example_report();
    let mut findings = report.findings.clone();
    let added = findings
        .iter_mut()
        .find(|f| f.code == FindingCode::RuleAdded)
        .unwrap();
    added.code = FindingCode::RuleRemoved;
    added.expected = added.actual.take();
    let modified = findings
        .iter_mut()
        .find(|f| f.code == FindingCode::RuleModified)
        .unwrap();
    modified
        .changes
        .push(Change::new("description", Value::Null, json!("web")));
    modified
        .changes
        .push(Change::new("tags.team", json!("payments"), Value::Null));
    report.set_findings(findings);
    let table = render_table(&report, TableStyle::Plain, 120);
    assert!(table.contains("- ingress tcp 22 from 0.0.0.0/0"), "{table}");
    assert!(table.contains("+ description  web\n"), "{table}");
    assert!(
        table.contains("- tags.team    payments → none\n"),
        "{table}"
    );
}

#[test]
fn the_last_line_says_what_was_found_and_what_was_compared() {
    let table = render_table(&example_report(), TableStyle::Plain, 200);
    assert_eq!(
        table.lines().last().unwrap(),
        "5 findings (2 critical, 2 high, 1 info; 1 acknowledged) · \
         compared 5 of 5 managed groups (12 rules) in 123456789012/us-east-1"
    );
}

#[test]
fn an_all_clear_still_says_what_was_compared() {
    let mut report = example_report();
    report.set_findings(Vec::new());
    let table = render_table(&report, TableStyle::Plain, 80);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[lines.len() - 2..],
        [
            "No drift: live security groups match their declarations.",
            "0 findings · compared 5 of 5 managed groups (12 rules) in 123456789012/us-east-1"
        ],
        "{table}"
    );
}

#[test]
fn colour_marks_severities_and_changes_only() {
    let report = example_report();
    let text = render_table(&report, TableStyle::Colour, 100);
    let painted =
        |style: Style, text: &str| format!("{}{text}{}", style.render(), style.render_reset());
    let red = Style::new().fg_color(Some(AnsiColor::Red.into()));
    let yellow = Style::new().fg_color(Some(AnsiColor::Yellow.into()));
    let green = Style::new().fg_color(Some(AnsiColor::Green.into()));
    assert!(text.contains(&painted(red.bold(), "critical")), "{text}");
    assert!(text.contains(&painted(red, "high")), "{text}");
    assert!(text.contains(&painted(yellow, "~")), "{text}");
    assert!(text.contains(&painted(green, "+")), "{text}");
    assert_eq!(
        strip_str(&text).to_string(),
        render_table(&report, TableStyle::Plain, 100),
        "colour changes nothing but the look of severities and marks"
    );
}

#[test]
fn markdown() {
    insta::assert_snapshot!(render_markdown(&example_report()));
}

/// Who changed it, under the finding, in the table and in markdown.
#[test]
fn who_changed_it_is_under_the_finding() {
    let mut report = example_report();
    let port = report
        .findings
        .iter_mut()
        .find(|f| f.code == FindingCode::RuleModified)
        .expect("the example's edited ALB egress port");
    port.changed_by = Some(Attribution::Found(ChangedBy {
        principal:
            "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_admin_1a2b/alice@example.com"
                .into(),
        event: "ModifySecurityGroupRules".into(),
        time: "2026-11-25T05:46:02.000Z".into(),
        source_ip: Some("198.51.100.7".into()),
        user_agent: None,
        via: Some(Via::Console),
        event_id: None,
    }));
    let line = "changed by alice@example.com via console from 198.51.100.7 at 2026-11-25 05:46 \
                UTC (ModifySecurityGroupRules)";
    let table = render_table(&report, TableStyle::Plain, 200);
    assert!(table.contains(line), "{table}");
    let markdown = render_markdown(&report);
    assert!(markdown.contains(&format!("_{line}_")), "{markdown}");
}

#[test]
fn json_is_deterministic() {
    assert_eq!(example_report().to_json(), example_report().to_json());
}

fn squeezed(text: &str) -> String {
    text.split_whitespace().collect()
}
