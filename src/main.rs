//! The `driftd` binary: parse arguments, set up logging, call the library.

use std::process::ExitCode;

use clap::Parser;
use driftd::cli::progress::{AboveStatusLines, StatusLines};
use driftd::cli::{Cli, ColorWhen, Command, run};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // Help and version are not errors; every other usage error exits 1.
            let code = if err.use_stderr() { 1 } else { 0 };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    // A service logs its scans and schedule; a scan on demand what is wrong and
    // its progress (a line per state, stack and region read); the rest only what
    // is wrong.
    let (default_level, scans) = match cli.command {
        Command::Serve(_) => ("info", false),
        Command::Report(_) | Command::Refs(_) => ("warn,driftd::progress=info", true),
        _ => ("warn", false),
    };
    init_logging(default_level, scans, cli.color);
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("driftd: error: {}", driftd::errors::one_line(err.as_ref()));
            ExitCode::from(1)
        }
    }
}

/// Logs go to stderr, never stdout (stdout carries the report). `RUST_LOG` filters;
/// `DRIFTD_LOG_FORMAT=json` gives one JSON object per line. A scan on a terminal
/// shows its progress as status lines instead of progress log lines.
fn init_logging(default_level: &str, scans: bool, color: ColorWhen) {
    use std::io::IsTerminal;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{EnvFilter, Layer, filter};

    let filter =
        || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let json = std::env::var("DRIFTD_LOG_FORMAT").as_deref() == Ok("json");
    let terminal = std::io::stderr().is_terminal();
    let ansi = color.colours(&std::io::stderr());
    let registry = tracing_subscriber::registry();
    if json {
        let logs = tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr);
        registry.with(logs.with_filter(filter())).init();
    } else if scans && terminal {
        let status = StatusLines::new();
        // Progress goes to the status lines; everything else is logged above them.
        let not_progress = filter::filter_fn(|meta| meta.target() != driftd::progress::TARGET);
        let logs = tracing_subscriber::fmt::layer()
            .with_ansi(ansi)
            .with_writer(AboveStatusLines(status.clone()));
        let progress =
            filter::Targets::new().with_target(driftd::progress::TARGET, tracing::Level::DEBUG);
        registry
            .with(logs.with_filter(filter()).with_filter(not_progress))
            .with(status.with_filter(progress))
            .init();
    } else {
        let logs = tracing_subscriber::fmt::layer()
            .with_ansi(ansi)
            .with_writer(std::io::stderr);
        registry.with(logs.with_filter(filter())).init();
    }
}
