//! What is wrong with a config file: every problem found, each with its key path and
//! what was expected, so that one `check-config` run lists them all.

use std::fmt;

/// Everything wrong with one config file (at least one problem). Shown as
/// `FILE: at KEY: MESSAGE` when there is one, else a count and one line each.
#[derive(Debug, thiserror::Error)]
pub struct ConfigError {
    pub file: String,
    pub problems: Vec<Problem>,
}

/// One problem: where, as a key path (`schedule[1].cron`, `account[0].role_arn`;
/// empty for the file as a whole), and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    pub message: String,
}

impl Problem {
    pub fn at(key: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            key: key.into(),
            message: message.into(),
        }
    }

    /// A problem of the whole file (unreadable, not TOML).
    pub fn file(message: impl Into<String>) -> Problem {
        Problem::at("", message)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "at {}: {}", self.key, self.message)
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.as_slice() {
            [one] => write!(f, "{}: {one}", self.file),
            all => {
                write!(f, "{}: {} problems:", self.file, all.len())?;
                for problem in all {
                    write!(f, "\n  {problem}")?;
                }
                Ok(())
            }
        }
    }
}

/// The problems found so far: each section's validation adds its own and goes on.
#[derive(Debug, Default)]
pub struct Problems(Vec<Problem>);

impl Problems {
    pub fn add(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem::at(key, message));
    }

    pub fn push(&mut self, problem: Problem) {
        self.0.push(problem);
    }

    /// The value of `result`, or `None` with its problem kept.
    pub fn keep<T>(&mut self, result: Result<T, Problem>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(problem) => {
                self.0.push(problem);
                None
            }
        }
    }

    /// Whether a problem was found at `key`.
    pub fn at(&self, key: &str) -> bool {
        self.0.iter().any(|p| p.key == key)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn extend(&mut self, problems: impl IntoIterator<Item = Problem>) {
        self.0.extend(problems);
    }

    pub fn into_vec(self) -> Vec<Problem> {
        self.0
    }
}

/// A TOML syntax error by line and column, without toml's excerpt of the line: the
/// line may hold a secret (a URL whose closing quote is missing).
pub fn toml_error(text: &str, error: &toml::de::Error) -> Problem {
    let message = error.message().trim_end();
    Problem::file(match error.span() {
        Some(span) => {
            let before = &text.as_bytes()[..span.start.min(text.len())];
            let line = before.iter().filter(|b| **b == b'\n').count() + 1;
            let column = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
            format!("invalid TOML at line {line}, column {column}: {message}")
        }
        None => format!("invalid TOML: {message}"),
    })
}
