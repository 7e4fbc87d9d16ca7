//! What a new user reads first: every subcommand's long help, the exit codes, the
//! environment, shell completions and the man page, all from one definition.

use crate::support::cli::{database_env, driftd, driftd_with_env};

#[test]
fn each_subcommand_shows_its_long_help() {
    let cases = [
        ("serve", "Scans never overlap"),
        ("serve", "crontab(5)"),
        ("serve", "scan_on_start"),
        ("history", "consecutive stored scans"),
        ("report", "Works without a config"),
        ("healthcheck", "HEALTHCHECK"),
        ("completions", "bash_completion.d"),
    ];
    for (subcommand, text) in cases {
        let help = driftd(&[subcommand, "--help"]);
        assert_eq!(help.code, 0, "{subcommand}: {}", help.stderr);
        assert!(
            help.stdout.contains(text),
            "{subcommand} --help lacks {text:?}:\n{}",
            help.stdout
        );
    }
}

#[test]
fn report_help_lists_the_exit_codes_and_the_database_variable() {
    let help = driftd(&["report", "--help"]);
    for text in [
        "Exit codes",
        "0  no unacknowledged finding at or above --fail-on",
        "2  such findings exist",
        "1  error, or a partial scan",
        "[env: DRIFTD_DATABASE_URL",
    ] {
        assert!(help.stdout.contains(text), "{text:?} in:\n{}", help.stdout);
    }
    // The short help stays short.
    let short = driftd(&["report", "-h"]);
    assert!(
        !short.stdout.contains("2  such findings exist"),
        "{}",
        short.stdout
    );
}

#[test]
fn the_database_variable_is_never_echoed_by_help() {
    let secret = "postgres://driftd:hunter2@db.internal/driftd";
    let help = driftd_with_env(
        &["history", "--help"],
        &[("DRIFTD_DATABASE_URL".into(), secret.into())],
    );
    assert!(
        help.stdout.contains("DRIFTD_DATABASE_URL"),
        "{}",
        help.stdout
    );
    assert!(!help.stdout.contains("hunter2"), "{}", help.stdout);
}

#[test]
fn history_reads_only_the_database_of_the_config() {
    // The webhook's secret is for `serve` and `report --notify`: reading history
    // must not need it set.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("history.db");
    let config = dir.path().join("driftd.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\nurl = \"sqlite://{}\"\n\n[notify.webhook]\nurl = \"https://hooks.example.com/x\"\nsecret = \"${{DRIFTD_TEST_UNSET_SECRET}}\"\n",
            db.display()
        ),
    )
    .unwrap();
    let first = driftd_with_env(
        &[
            "report",
            "--live",
            "tests/fixtures/ecs-chain/clean-groups.json",
            "--state",
            "examples/ecs-chain.tfstate",
            "--region",
            "us-east-1",
        ],
        &[database_env(&db)],
    );
    assert!(first.code == 0 || first.code == 2, "{}", first.stderr);
    // The config's database, not the scratch one the test harness points at.
    let history = driftd_with_env(
        &["history", "--config", config.to_str().unwrap()],
        &[("DRIFTD_DATABASE_URL".into(), String::new())],
    );
    assert_eq!(history.code, 0, "{}", history.stderr);
    assert!(history.stdout.contains("No changes"), "{}", history.stdout);
    // What does use the notifiers still needs it, and says which.
    let check = driftd(&["check-config", "--config", config.to_str().unwrap()]);
    assert_eq!(check.code, 1);
    assert!(
        check.stderr.contains("DRIFTD_TEST_UNSET_SECRET"),
        "{}",
        check.stderr
    );
}

#[test]
fn completions_for_each_shell_and_a_man_page() {
    for shell in ["bash", "zsh", "fish"] {
        let run = driftd(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        for subcommand in ["report", "serve", "history", "check-config", "healthcheck"] {
            assert!(
                run.stdout.contains(subcommand),
                "{shell} completes {subcommand}"
            );
        }
    }
    // bash itself judges its script.
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("driftd.bash");
    std::fs::write(&script, driftd(&["completions", "bash"]).stdout).unwrap();
    let syntax = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        syntax.status.success(),
        "{}",
        String::from_utf8_lossy(&syntax.stderr)
    );

    let unknown = driftd(&["completions", "tcsh"]);
    assert_eq!(unknown.code, 1);

    let man = driftd(&["man"]);
    assert_eq!(man.code, 0, "{}", man.stderr);
    assert!(man.stdout.contains(".TH driftd 1"), "{}", man.stdout);
    assert!(man.stdout.contains("check\\-config"), "{}", man.stdout);
}
