//! Terraform resource addresses as `terraform state list` prints them.

use serde::Deserialize;

/// `index_key` of a `count` (number) or `for_each` (string) instance.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum IndexKey {
    Number(i64),
    String(String),
}

/// `module.net.aws_security_group.app["api"]`, `data.aws_security_group.shared`.
pub fn resource_address(
    module: Option<&str>,
    data: bool,
    kind: &str,
    name: &str,
    index: Option<&IndexKey>,
) -> String {
    let mut address = String::new();
    if let Some(module) = module.filter(|m| !m.is_empty()) {
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
        Some(IndexKey::Number(n)) => address.push_str(&format!("[{n}]")),
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
}
