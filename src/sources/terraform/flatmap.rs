//! The legacy flat attribute map (`attributes_flat`, written by terraformer and by
//! states upgraded from Terraform 0.11) rebuilt as nested JSON.
//!
//! `ingress.#` holds a list's length and `tags.%` a map's; elements follow as
//! `ingress.0.from_port` (or a hash in place of the index, for old sets).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// The most dot-separated segments a key may have. Rebuilding nests one level per
/// segment, recursively (as does everything that later reads or drops the value), so
/// a crafted key of thousands of segments would exhaust the stack; real keys have
/// fewer than ten (`ingress.1234.cidr_blocks.0`).
pub const MAX_KEY_SEGMENTS: usize = 64;

/// Rebuilds the nested attributes, or says which key nests too deeply.
pub fn unflatten(flat: &BTreeMap<String, String>) -> Result<Value, String> {
    if let Some(key) = flat
        .keys()
        .find(|key| key.split('.').nth(MAX_KEY_SEGMENTS).is_some())
    {
        let segments = key.split('.').count();
        let shown: String = key.chars().take(60).collect();
        return Err(format!(
            "key \"{shown}…\" has {segments} dot-separated segments; driftd reads at most {MAX_KEY_SEGMENTS}"
        ));
    }
    let entries: Vec<(&str, &str)> = flat.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Ok(object(&entries))
}

fn object(entries: &[(&str, &str)]) -> Value {
    let mut groups: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    let mut scalars: BTreeMap<&str, &str> = BTreeMap::new();
    for (key, value) in entries {
        match key.split_once('.') {
            Some((head, rest)) => groups.entry(head).or_default().push((rest, value)),
            None => {
                scalars.insert(key, value);
            }
        }
    }
    let mut out = Map::new();
    for (key, value) in scalars {
        out.insert(key.to_string(), Value::String(value.to_string()));
    }
    for (key, children) in groups {
        out.insert(key.to_string(), nested(&children));
    }
    Value::Object(out)
}

/// A map (`%` marker: keys may contain dots) or a list (`#` marker).
fn nested(children: &[(&str, &str)]) -> Value {
    if children.iter().any(|(k, _)| *k == "%") {
        let map = children
            .iter()
            .filter(|(k, _)| *k != "%")
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect();
        return Value::Object(map);
    }
    let mut elements: BTreeMap<ElementIndex, Vec<(&str, &str)>> = BTreeMap::new();
    for (key, value) in children.iter().filter(|(k, _)| *k != "#") {
        let (index, rest) = match key.split_once('.') {
            Some((index, rest)) => (index, rest),
            None => (*key, ""),
        };
        elements
            .entry(ElementIndex::from(index))
            .or_default()
            .push((rest, value));
    }
    let list = elements
        .into_values()
        .map(|fields| match fields.as_slice() {
            [("", scalar)] => Value::String(scalar.to_string()),
            _ => object(&fields),
        })
        .collect();
    Value::Array(list)
}

/// List positions sort numerically; set hashes (also numbers) keep a stable order.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum ElementIndex {
    Number(u64),
    Text(String),
}

impl From<&str> for ElementIndex {
    fn from(raw: &str) -> Self {
        raw.parse()
            .map(ElementIndex::Number)
            .unwrap_or_else(|_| ElementIndex::Text(raw.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rebuilds_lists_maps_and_scalars() {
        let flat: BTreeMap<String, String> = [
            ("id", "sg-1"),
            ("ingress.#", "2"),
            ("ingress.10.from_port", "443"),
            ("ingress.10.cidr_blocks.#", "1"),
            ("ingress.10.cidr_blocks.0", "10.0.0.0/8"),
            ("ingress.2.from_port", "22"),
            ("ingress.2.cidr_blocks.#", "0"),
            ("tags.%", "1"),
            ("tags.kubernetes.io/cluster/x", "owned"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            unflatten(&flat).unwrap(),
            json!({
                "id": "sg-1",
                "ingress": [
                    {"from_port": "22", "cidr_blocks": []},
                    {"from_port": "443", "cidr_blocks": ["10.0.0.0/8"]}
                ],
                "tags": {"kubernetes.io/cluster/x": "owned"}
            })
        );
    }

    /// Just under the bound a key rebuilds, on a thread with a small stack (as a
    /// scan in `serve` runs); one segment more is refused, naming the limit.
    #[test]
    fn key_depth_is_bounded() {
        let key = |segments: usize| vec!["a"; segments].join(".");
        let at_bound: BTreeMap<String, String> = [(key(MAX_KEY_SEGMENTS), "x".to_string())].into();
        let past: BTreeMap<String, String> = [(key(MAX_KEY_SEGMENTS + 1), "x".to_string())].into();
        let rebuilt = std::thread::Builder::new()
            .stack_size(512 * 1024)
            .spawn(move || unflatten(&at_bound).map(|value| value.to_string().len()))
            .unwrap()
            .join()
            .expect("no stack overflow at the bound");
        assert!(rebuilt.is_ok(), "{rebuilt:?}");
        let error = unflatten(&past).unwrap_err();
        assert!(error.contains("65 dot-separated segments"), "{error}");
        assert!(error.contains("at most 64"), "{error}");
    }
}
