//! Snapshots of the table and markdown renderings of the bundled example (the
//! three incidents of DESIGN.md), with a fixed clock and scan id.

use chrono::{TimeZone, Utc};
use driftd::config::Config;
use driftd::diff::DiffOptions;
use driftd::report::{Report, TableStyle, render_markdown, render_table};
use driftd::scan::{LiveSource, ScanPlan, run};

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
    };
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 6, 0, 0).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut report = runtime.block_on(run(&plan, || now)).report;
    report.scan.id = "scan-fixed".into();
    report
}

#[test]
fn table() {
    insta::assert_snapshot!(render_table(&example_report(), TableStyle::Plain));
}

#[test]
fn table_colour_marks_severities_only() {
    let text = render_table(&example_report(), TableStyle::Colour);
    assert!(text.contains("\x1b[1;31mcritical\x1b[0m"));
    let plain = render_table(&example_report(), TableStyle::Plain);
    let stripped = text
        .replace("\x1b[1;31m", "")
        .replace("\x1b[31m", "")
        .replace("\x1b[2m", "")
        .replace("\x1b[0m", "");
    assert_eq!(
        stripped, plain,
        "colour changes nothing but the severity's look"
    );
}

#[test]
fn markdown() {
    insta::assert_snapshot!(render_markdown(&example_report()));
}

#[test]
fn json_is_deterministic() {
    assert_eq!(example_report().to_json(), example_report().to_json());
}
