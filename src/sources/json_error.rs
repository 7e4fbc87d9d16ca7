//! Turns serde errors into messages a user can act on: the file, the JSON path, and
//! the line and column.

use serde::Deserialize;
use serde::de::DeserializeOwned;

/// A JSON document that could not be read as the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct JsonError {
    /// `$.resources[3].instances[0].attributes.from_port`, or `$` for the document.
    pub json_path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub syntax: bool,
}

impl JsonError {
    fn describe(&self) -> String {
        if self.syntax {
            format!(
                "invalid JSON at line {}, column {}: {}",
                self.line, self.column, self.message
            )
        } else {
            format!(
                "at {} (line {}, column {}): {}",
                self.json_path, self.line, self.column, self.message
            )
        }
    }
}

/// Deserializes `bytes` as `T`, recording the JSON path of any error.
/// `base` is the path of `bytes` inside a larger document, `offset` its byte offset
/// there, and `whole` that document, so that line and column point into the file.
pub fn parse_at<'de, T: Deserialize<'de>>(
    bytes: &'de [u8],
    base: &str,
    whole: &[u8],
    offset: usize,
) -> Result<T, JsonError> {
    // Tracking the path costs ~20% of a large parse: parse plainly, and only when
    // that fails parse again to find where.
    if let Ok(value) = serde_json::from_slice(bytes) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    let value = result.map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let (line, column) = absolute_position(whole, offset, inner.line(), inner.column());
        JsonError {
            json_path: join_path(base, &path),
            line,
            column,
            message: strip_position(&inner.to_string()),
            syntax: inner.is_syntax() || inner.is_eof(),
        }
    })?;
    de.end().map_err(|inner| {
        let (line, column) = absolute_position(whole, offset, inner.line(), inner.column());
        JsonError {
            json_path: base.to_string(),
            line,
            column,
            message: strip_position(&inner.to_string()),
            syntax: true,
        }
    })?;
    Ok(value)
}

/// Like [`parse_at`] for a whole document.
pub fn parse_document<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, JsonError> {
    parse_at(bytes, "$", bytes, 0)
}

/// Deserializes a value rebuilt from the part of `whole` at byte `offset` (an
/// unflattened legacy map); errors give the line and column of that part.
pub fn from_value<T: DeserializeOwned>(
    value: serde_json::Value,
    base: &str,
    whole: &[u8],
    offset: usize,
) -> Result<T, JsonError> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let (line, column) = absolute_position(whole, offset, 1, 1);
        JsonError {
            json_path: join_path(base, &path),
            line,
            column,
            message: err.into_inner().to_string(),
            syntax: false,
        }
    })
}

fn join_path(base: &str, inner: &str) -> String {
    match inner {
        "" | "." => base.to_string(),
        p if p.starts_with('[') => format!("{base}{p}"),
        p => format!("{base}.{p}"),
    }
}

/// serde_json appends " at line L column C"; we print positions ourselves.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Converts a (line, column) inside `whole[offset..]` into one inside `whole`.
fn absolute_position(whole: &[u8], offset: usize, line: usize, column: usize) -> (usize, usize) {
    if offset == 0 {
        return (line, column);
    }
    let before = &whole[..offset.min(whole.len())];
    let lines_before = before.iter().filter(|b| **b == b'\n').count();
    let col_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    if line <= 1 {
        (lines_before + 1, offset - col_start + column)
    } else {
        (lines_before + line, column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Doc {
        items: Vec<Item>,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Item {
        port: u16,
    }

    #[test]
    fn shape_errors_name_the_path_and_line() {
        let err = parse_document::<Doc>(b"{\"items\": [\n {\"port\": 1},\n {\"port\": \"x\"}]}")
            .unwrap_err();
        assert_eq!(err.json_path, "$.items[1].port");
        assert_eq!(err.line, 3);
        assert!(!err.syntax);
        assert!(
            err.to_string().contains("invalid type: string \"x\""),
            "{err}"
        );
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let err = parse_document::<Doc>(b"{\"items\": [\n  {\"port\": 1,]}").unwrap_err();
        assert!(err.syntax);
        assert_eq!(err.line, 2);
        assert!(
            err.to_string().starts_with("invalid JSON at line 2"),
            "{err}"
        );
    }

    #[test]
    fn nested_positions_are_absolute() {
        let whole = b"{\n\"a\": {\"port\": true}}";
        let start = 6;
        let err =
            parse_at::<Item>(&whole[start..whole.len() - 1], "$.a", whole, start).unwrap_err();
        assert_eq!(err.json_path, "$.a.port");
        assert_eq!(err.line, 2);
    }
}
