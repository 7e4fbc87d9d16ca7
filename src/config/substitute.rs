//! `${NAME}` in any string value is replaced by the environment variable NAME; every
//! unset variable is a problem naming its key, and every value produced is hidden.

use super::Problems;
use super::hidden::Hidden;

/// Replaces `${NAME}` in every string under `value` (at key path `path`).
pub fn substitute(
    value: &mut toml::Value,
    path: &str,
    env: &impl Fn(&str) -> Option<String>,
    hidden: &mut Hidden,
    problems: &mut Problems,
) {
    match value {
        toml::Value::String(s) => {
            if let Some(out) = substitute_str(s, path, env, hidden, problems) {
                hidden.push(out.clone());
                *s = out;
            }
        }
        toml::Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                substitute(item, &format!("{path}[{i}]"), env, hidden, problems);
            }
        }
        toml::Value::Table(table) => {
            for (key, item) in table.iter_mut() {
                substitute(item, &format!("{path}.{key}"), env, hidden, problems);
            }
        }
        _ => {}
    }
}

/// `s` with its references replaced; `None` when it has none, or one fails.
fn substitute_str(
    s: &str,
    path: &str,
    env: &impl Fn(&str) -> Option<String>,
    hidden: &mut Hidden,
    problems: &mut Problems,
) -> Option<String> {
    if !s.contains("${") {
        return None;
    }
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            problems.add(path, "unterminated ${ in a string");
            return None;
        };
        let name = &after[..end];
        let Some(resolved) = env(name) else {
            problems.add(
                path,
                format!("environment variable {name} is not set (referenced as ${{{name}}})"),
            );
            return None;
        };
        out.push_str(&resolved);
        hidden.push(resolved);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}
