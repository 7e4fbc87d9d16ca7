//! Terraform resource addresses as `terraform state list` prints them.

use std::fmt::{self, Write};

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// `index_key` of a `count` (number) or `for_each` (string) instance.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexKey {
    Number(i64),
    String(String),
}

/// Either spelling read as it comes (an untagged enum would buffer each key first).
impl<'de> Deserialize<'de> for IndexKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<IndexKey, D::Error> {
        struct Key;
        impl Visitor<'_> for Key {
            type Value = IndexKey;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a count index (number) or a for_each key (string)")
            }

            fn visit_i64<E: de::Error>(self, n: i64) -> Result<IndexKey, E> {
                Ok(IndexKey::Number(n))
            }

            fn visit_u64<E: de::Error>(self, n: u64) -> Result<IndexKey, E> {
                i64::try_from(n)
                    .map(IndexKey::Number)
                    .map_err(|_| E::custom(format!("count index {n} is out of range")))
            }

            fn visit_str<E: de::Error>(self, key: &str) -> Result<IndexKey, E> {
                Ok(IndexKey::String(key.to_string()))
            }
        }
        d.deserialize_any(Key)
    }
}

/// `module.net.aws_security_group.app["api"]`, `data.aws_security_group.shared`.
pub fn resource_address(
    module: Option<&str>,
    data: bool,
    kind: &str,
    name: &str,
    index: Option<&IndexKey>,
) -> String {
    let module = module.filter(|m| !m.is_empty());
    // Room for a short index key too, so that appending does not reallocate.
    let mut address = String::with_capacity(
        module.map_or(0, |m| m.len() + 1) + "data.".len() + kind.len() + 1 + name.len() + 24,
    );
    if let Some(module) = module {
        address.push_str(module);
        address.push('.');
    }
    if data {
        address.push_str("data.");
    }
    address.push_str(kind);
    address.push('.');
    address.push_str(name);
    match index {
        Some(IndexKey::Number(n)) => {
            write!(address, "[{n}]").expect("writing to a String cannot fail")
        }
        // Terraform prints string keys as JSON strings.
        Some(IndexKey::String(s)) => {
            address.push('[');
            address.push_str(&serde_json::to_string(s).unwrap_or_default());
            address.push(']');
        }
        None => {}
    }
    address
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let cases = [
            (None, false, None, "aws_security_group.app"),
            (
                Some("module.net"),
                false,
                Some(IndexKey::String("api".into())),
                "module.net.aws_security_group.app[\"api\"]",
            ),
            (
                Some("module.a.module.b[\"x\"]"),
                false,
                Some(IndexKey::Number(0)),
                "module.a.module.b[\"x\"].aws_security_group.app[0]",
            ),
            (None, true, None, "data.aws_security_group.app"),
            (
                Some("module.eks"),
                true,
                None,
                "module.eks.data.aws_security_group.app",
            ),
        ];
        for (module, data, index, want) in cases {
            assert_eq!(
                resource_address(module, data, "aws_security_group", "app", index.as_ref()),
                want
            );
        }
    }

    #[test]
    fn index_keys() {
        let key = |text: &str| serde_json::from_str::<IndexKey>(text).map_err(|e| e.to_string());
        assert_eq!(key("3"), Ok(IndexKey::Number(3)));
        assert_eq!(key("\"api\""), Ok(IndexKey::String("api".into())));
        assert_eq!(key("\"\""), Ok(IndexKey::String(String::new())));
        assert_eq!(key("-1"), Ok(IndexKey::Number(-1)));
        let expected = "expected a count index (number) or a for_each key (string)";
        for (bad, error) in [
            (
                "1.5",
                format!("invalid type: floating point `1.5`, {expected}"),
            ),
            ("true", format!("invalid type: boolean `true`, {expected}")),
            ("null", format!("invalid type: null, {expected}")),
            ("[0]", format!("invalid type: sequence, {expected}")),
            (
                "18446744073709551615",
                "count index 18446744073709551615 is out of range".to_string(),
            ),
        ] {
            let err = key(bad).unwrap_err();
            assert!(err.starts_with(&error), "{bad}: {err}");
        }
    }
}
