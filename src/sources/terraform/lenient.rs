//! Values that the legacy flat map (`attributes_flat`) stores as strings: numbers
//! and booleans are accepted in either spelling.

use std::fmt;

use serde::Deserializer;
use serde::de::{self, Visitor};

// Each value is read by a visitor that takes whichever spelling comes: an untagged
// enum would buffer every port and flag of a state before trying each spelling (on
// a 100 MB state, one allocation in eight).

/// `80`, `"80"`; null and `""` are none.
struct Port;

impl Visitor<'_> for Port {
    type Value = Option<i64>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a port number")
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
        Ok(Some(n))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
        i64::try_from(n)
            .map(Some)
            .map_err(|_| E::custom(format!("expected a port number, found {n}")))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        if text.is_empty() {
            return Ok(None);
        }
        text.parse()
            .map(Some)
            .map_err(|_| E::custom(format!("expected a port number, found {text:?}")))
    }

    /// `deserialize_any` gives null as unit.
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// `true`, `"true"`; `"false"` and `""` are false; null is none.
struct Flag;

impl Visitor<'_> for Flag {
    type Value = Option<bool>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("true or false")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
        Ok(Some(b))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        match text {
            "true" => Ok(Some(true)),
            "false" | "" => Ok(Some(false)),
            other => Err(E::custom(format!(
                "expected true or false, found {other:?}"
            ))),
        }
    }

    /// `deserialize_any` gives null as unit.
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// `"tcp"`, `"-1"`, or a bare number such as `6`, as text (`Protocol::parse` judges it).
struct ProtocolText;

impl Visitor<'_> for ProtocolText {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a protocol name or number")
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
        Ok(n.to_string())
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
        Ok(n.to_string())
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(text.to_string())
    }
}

pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    d.deserialize_any(Port)
}

pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    d.deserialize_any(Flag)
}

/// A protocol is a string in state, but an unquoted number in some writers.
pub fn protocol<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(ProtocolText)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Fields {
        #[serde(default, deserialize_with = "opt_i64")]
        port: Option<i64>,
        #[serde(default, deserialize_with = "opt_bool")]
        flag: Option<bool>,
        #[serde(default = "none", deserialize_with = "protocol")]
        protocol: String,
    }

    fn none() -> String {
        "none".into()
    }

    fn read(value: serde_json::Value) -> Result<Fields, String> {
        // Both ways a state reaches these: from its text, and from a `Value` (what
        // a legacy flat map is rebuilt into).
        let text = value.to_string();
        let from_text = serde_json::from_str::<Fields>(&text).map_err(|e| e.to_string());
        let from_value = serde_json::from_value::<Fields>(value).map_err(|e| e.to_string());
        assert_eq!(
            from_text
                .as_ref()
                .map_err(|e| e.split(" at line").next().unwrap().to_string()),
            from_value.as_ref().map_err(|e| e.clone()),
            "{text}"
        );
        from_text
    }

    fn fields(port: Option<i64>, flag: Option<bool>, protocol: &str) -> Fields {
        Fields {
            port,
            flag,
            protocol: protocol.to_string(),
        }
    }

    #[test]
    fn every_spelling_of_ports_flags_and_protocols() {
        let cases = [
            (json!({}), fields(None, None, "none")),
            (
                json!({"port": 80, "flag": true, "protocol": "tcp"}),
                fields(Some(80), Some(true), "tcp"),
            ),
            (
                json!({"port": "8080", "flag": "true", "protocol": 6}),
                fields(Some(8080), Some(true), "6"),
            ),
            (
                json!({"port": -1, "flag": "false", "protocol": "-1"}),
                fields(Some(-1), Some(false), "-1"),
            ),
            (
                json!({"port": "", "flag": "", "protocol": -1}),
                fields(None, Some(false), "-1"),
            ),
            (
                json!({"port": null, "flag": null}),
                fields(None, None, "none"),
            ),
            // Any number is a protocol's text here; `Protocol::parse` refuses 300.
            (json!({"protocol": 300}), fields(None, None, "300")),
            (
                json!({"protocol": u64::MAX}),
                fields(None, None, "18446744073709551615"),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(read(input.clone()), Ok(want), "{input}");
        }
    }

    #[test]
    fn wrong_spellings_say_what_was_expected() {
        let cases = [
            (
                json!({"port": "http"}),
                "expected a port number, found \"http\"",
            ),
            (
                json!({"port": u64::MAX}),
                "expected a port number, found 18446744073709551615",
            ),
            (
                json!({"port": 80.5}),
                "invalid type: floating point `80.5`, expected a port number",
            ),
            (
                json!({"port": true}),
                "invalid type: boolean `true`, expected a port number",
            ),
            (
                json!({"flag": "yes"}),
                "expected true or false, found \"yes\"",
            ),
            (
                json!({"flag": 1}),
                "invalid type: integer `1`, expected true or false",
            ),
            (
                json!({"protocol": null}),
                "invalid type: null, expected a protocol name or number",
            ),
            (
                json!({"protocol": ["tcp"]}),
                "invalid type: sequence, expected a protocol name or number",
            ),
        ];
        for (input, want) in cases {
            let err = read(input.clone()).unwrap_err();
            assert!(err.starts_with(want), "{input}: {err}");
        }
    }
}
