//! Errors as one line a person reads: an error and its causes joined by ": ", each
//! told once. Many errors name their cause in their own message, which a plain walk
//! of the chain would print twice or more; `Debug` dumps are never shown.

use std::error::Error;

/// `err` and its causes, each told once.
pub fn one_line(err: &(dyn Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(error) = next {
        let text = error.to_string();
        if !parts.iter().any(|told| told.contains(&text)) {
            parts.push(text);
        }
        next = error.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot open x.db: {source}")]
    struct Outer {
        source: std::io::Error,
    }

    #[test]
    fn a_cause_already_told_is_not_repeated() {
        let err = Outer {
            source: std::io::Error::other("disk full"),
        };
        assert_eq!(one_line(&err), "cannot open x.db: disk full");
    }
}
