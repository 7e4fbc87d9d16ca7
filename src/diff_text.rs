//! How change values read in messages, tables and alerts.

use serde_json::Value;

/// A change value as people read it: `8080`, `0.0.0.0/0`, `"web"`, `none`.
pub fn show_value(value: &Value) -> String {
    match value {
        Value::Null => "none".to_string(),
        Value::String(s) => s.clone(),
        Value::Object(map) if map.contains_key("kind") && map.contains_key("value") => {
            map["value"].as_str().unwrap_or_default().to_string()
        }
        other => other.to_string(),
    }
}

/// `to_port 80 → 8080, description none → "x"`.
pub fn describe_changes(changes: &[crate::model::Change]) -> String {
    changes
        .iter()
        .map(|c| describe_change(&c.field, &c.expected, &c.actual))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `to_port 80 → 8080`.
pub fn describe_change(field: &str, from: &Value, to: &Value) -> String {
    format!("{field} {} → {}", show_value(from), show_value(to))
}
