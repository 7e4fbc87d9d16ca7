//! The marks `terraform plan` readers know, for findings and their changes: `+`
//! added outside IaC, `-` removed, `~` changed in place; green, red and yellow.

use anstyle::{AnsiColor, Style};
use serde_json::Value;

use crate::model::{Change, Finding, FindingCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mark {
    Added,
    Removed,
    Changed,
}

impl Mark {
    /// What a finding did to the live state; `None` for what is no change of it
    /// (a dangling reference, a hidden dependency, conflicting owners, a source
    /// or scope left unread).
    pub(super) fn of_finding(finding: &Finding) -> Option<Mark> {
        match finding.code {
            FindingCode::RuleAdded | FindingCode::SgUnmanaged => Some(Mark::Added),
            FindingCode::RuleRemoved | FindingCode::SgMissing => Some(Mark::Removed),
            FindingCode::RuleModified
            | FindingCode::SgModified
            | FindingCode::AttachmentModified => Some(Mark::Changed),
            // One code for every kind of stack drift: its rules tell which.
            FindingCode::CfnDrift => Some(
                match (finding.expected.is_some(), finding.actual.is_some()) {
                    (false, true) => Mark::Added,
                    (true, false) => Mark::Removed,
                    _ => Mark::Changed,
                },
            ),
            FindingCode::ReferenceDangling
            | FindingCode::ReferenceEmpty
            | FindingCode::FlowBroken
            | FindingCode::DependencyHidden
            | FindingCode::OwnerConflict
            | FindingCode::SourceError
            | FindingCode::ScopeUnscanned => None,
        }
    }

    /// A value only live (expected null) was added, one only declared was
    /// removed, and one on both sides changed.
    pub(super) fn of_change(change: &Change) -> Mark {
        match (&change.expected, &change.actual) {
            (Value::Null, actual) if !actual.is_null() => Mark::Added,
            (expected, Value::Null) if !expected.is_null() => Mark::Removed,
            _ => Mark::Changed,
        }
    }

    pub(super) fn symbol(self) -> &'static str {
        match self {
            Mark::Added => "+",
            Mark::Removed => "-",
            Mark::Changed => "~",
        }
    }

    pub(super) fn look(self) -> Style {
        let colour = match self {
            Mark::Added => AnsiColor::Green,
            Mark::Removed => AnsiColor::Red,
            Mark::Changed => AnsiColor::Yellow,
        };
        Style::new().fg_color(Some(colour.into()))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::{Direction, Peer, Protocol, Rule, Subject};

    fn finding(code: FindingCode) -> Finding {
        let subject = Subject {
            code,
            account_id: None,
            region: None,
            kind: "security_group".to_string(),
            id: "sg-1".to_string(),
            key: String::new(),
        };
        Finding::about(subject, String::new())
    }

    fn rule() -> Rule {
        let peer = Peer::ipv4("0.0.0.0/0").unwrap();
        Rule::new(
            "sg-1",
            Direction::Ingress,
            Protocol::Tcp,
            Some(22),
            Some(22),
            peer,
            None,
        )
        .unwrap()
    }

    #[test]
    fn findings_are_marked_by_what_they_did_to_the_live_state() {
        for (code, mark) in [
            (FindingCode::RuleAdded, Some(Mark::Added)),
            (FindingCode::SgUnmanaged, Some(Mark::Added)),
            (FindingCode::RuleRemoved, Some(Mark::Removed)),
            (FindingCode::SgMissing, Some(Mark::Removed)),
            (FindingCode::RuleModified, Some(Mark::Changed)),
            (FindingCode::SgModified, Some(Mark::Changed)),
            (FindingCode::ReferenceDangling, None),
            (FindingCode::OwnerConflict, None),
        ] {
            assert_eq!(Mark::of_finding(&finding(code)), mark, "{code}");
        }
    }

    #[test]
    fn stack_drift_is_marked_by_its_rules() {
        let with = |expected: Option<Rule>, actual: Option<Rule>| Finding {
            expected,
            actual,
            ..finding(FindingCode::CfnDrift)
        };
        assert_eq!(
            Mark::of_finding(&with(None, Some(rule()))),
            Some(Mark::Added)
        );
        assert_eq!(
            Mark::of_finding(&with(Some(rule()), None)),
            Some(Mark::Removed)
        );
        let both = with(Some(rule()), Some(rule()));
        assert_eq!(Mark::of_finding(&both), Some(Mark::Changed));
    }

    #[test]
    fn changes_are_marked_by_which_side_has_a_value() {
        let mark = |expected, actual| Mark::of_change(&Change::new("f", expected, actual));
        assert_eq!(mark(Value::Null, json!("web")), Mark::Added);
        assert_eq!(mark(json!(80), Value::Null), Mark::Removed);
        assert_eq!(mark(json!(80), json!(8080)), Mark::Changed);
    }
}
