//! The `driftd` binary: parse arguments, set up logging, call the library.

use std::process::ExitCode;

use clap::Parser;
use driftd::cli::{Cli, run};

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
    // A service logs its scans and schedule; a one-shot command only what is wrong.
    let default_level = match cli.command {
        driftd::cli::Command::Serve(_) => "info",
        _ => "warn",
    };
    init_logging(default_level);
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("driftd: error: {}", driftd::errors::one_line(err.as_ref()));
            ExitCode::from(1)
        }
    }
}

/// Logs go to stderr, never stdout (stdout carries the report). `RUST_LOG` filters;
/// `DRIFTD_LOG_FORMAT=json` gives one JSON object per line.
fn init_logging(default_level: &str) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("DRIFTD_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder
            .with_ansi(
                std::io::IsTerminal::is_terminal(&std::io::stderr())
                    && std::env::var_os("NO_COLOR").is_none(),
            )
            .init();
    }
}
