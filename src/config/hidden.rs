//! The values no config error may show: secret keys' values wherever they come from,
//! and every value `${NAME}` substitution produced.

use super::Problem;
use crate::notify::Channel;

/// Keys whose values are secrets, besides each notifier's own (`Notifier::SECRET_KEYS`).
const SECRET_KEYS: &[&[&str]] = &[
    // A PostgreSQL URL may carry a password.
    &["store", "url"],
];

#[derive(Default)]
pub struct Hidden {
    values: Vec<String>,
}

impl Hidden {
    /// Hides `value` (a value substitution produced).
    pub fn push(&mut self, value: String) {
        self.values.push(value);
    }

    /// Hides the values of the secret keys in `table`.
    pub fn add_secrets(&mut self, table: &toml::Table) {
        let notifier_keys = Channel::ALL.into_iter().flat_map(|channel| {
            channel
                .secret_keys()
                .iter()
                .map(move |key| vec!["notify", channel.as_str(), key])
        });
        let keys = SECRET_KEYS.iter().map(|path| path.to_vec());
        for path in keys.chain(notifier_keys) {
            let mut value = path.first().and_then(|first| table.get(*first));
            for key in &path[1..] {
                value = value.and_then(|v| v.get(*key));
            }
            match value {
                Some(toml::Value::String(s)) => self.values.push(s.clone()),
                Some(other) => self.values.push(other.to_string()),
                None => {}
            }
        }
    }

    /// `problem` without any hidden value in its key or message.
    pub fn scrub_problem(&self, problem: Problem) -> Problem {
        Problem {
            key: self.scrub(problem.key),
            message: self.scrub(problem.message),
        }
    }

    /// Replaces each hidden value where a message quotes it (`"v"`, `` `v` ``, as
    /// serde and driftd quote values) and, when long enough not to be a common word,
    /// wherever it appears.
    fn scrub(&self, mut message: String) -> String {
        for value in self.values.iter().filter(|v| !v.is_empty()) {
            for quoted in [format!("{value:?}"), format!("`{value}`")] {
                message = message.replace(&quoted, "\"***\"");
            }
            if value.len() >= 6 {
                message = message.replace(value.as_str(), "***");
            }
        }
        message
    }
}
