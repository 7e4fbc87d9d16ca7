//! A scan says what it is doing: in logs (stderr not a terminal), one line per
//! source read and per phase, with counts and duration, at the default level; on
//! a terminal, status lines (indicatif) that never reach stdout's report.

use crate::support::cli::*;

const LIVE: &str = "examples/live/describe-security-groups.json";

#[test]
fn logs_have_one_line_per_source_and_phase_with_counts_and_duration() {
    let args = [
        "report",
        "--no-store",
        "--state",
        CHAIN_STATE,
        "--live",
        LIVE,
    ];
    let run = driftd(&args);
    assert_eq!(run.code, 2, "{}", run.stderr);
    for line in [
        "reading Terraform state examples/ecs-chain.tfstate: 5 groups, 12 rules (",
        "reading captured live data: 1 files, 6 groups, 14 rules (",
        "comparing: 5 of 5 managed groups, 5 findings (",
    ] {
        assert!(run.stderr.contains(line), "{line:?} in:\n{}", run.stderr);
    }
    // Quiet when asked: the progress is ordinary log lines under one target.
    let quiet = driftd_with_env(&args, &[("RUST_LOG".into(), "warn".into())]);
    assert!(!quiet.stderr.contains("reading"), "{}", quiet.stderr);
}

#[test]
fn a_terminal_shows_status_lines_and_the_report_stays_clean() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.txt");
    // util-linux's `script` gives the command a terminal on stderr.
    let command = format!(
        "{} report --no-store --state {CHAIN_STATE} --live {LIVE} > {}",
        env!("CARGO_BIN_EXE_driftd"),
        report.display()
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("RUST_LOG", "")
        .output()
        .expect("script runs");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let terminal = String::from_utf8_lossy(&out.stdout);
    assert!(
        terminal.contains("reading Terraform state examples/ecs-chain.tfstate"),
        "{terminal}"
    );
    assert!(
        terminal.contains("comparing: 5 of 5 managed groups, 5 findings"),
        "{terminal}"
    );
    assert!(
        !terminal.contains("INFO"),
        "progress is not logged twice:\n{terminal}"
    );
    let report = std::fs::read_to_string(report).unwrap();
    assert!(report.contains("rule-modified"), "{report}");
    assert!(!report.contains("reading"), "{report}");
}
