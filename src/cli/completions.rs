//! `driftd completions SHELL` and `driftd man`: generated from the same clap
//! definition as `--help`, so they never disagree with it.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, CommandFactory, ValueEnum};

use super::Cli;

pub const LONG_ABOUT: &str = "Print a shell completion script on stdout. For example:\n  \
    bash: driftd completions bash > /etc/bash_completion.d/driftd\n  \
    zsh:  driftd completions zsh > \"${fpath[1]}/_driftd\"\n  \
    fish: driftd completions fish > ~/.config/fish/completions/driftd.fish";

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "driftd", &mut out);
    write_stdout(&out)
}

pub fn man_page() -> anyhow::Result<ExitCode> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    write_stdout(&out)
}

fn write_stdout(bytes: &[u8]) -> anyhow::Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes)?;
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}
