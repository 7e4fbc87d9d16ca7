//! `[[acknowledge]]` and `[severity]`: which findings are intended, and how severe
//! each code is.

use std::collections::BTreeMap;

use super::raw::RawAcknowledge;
use super::values::severity;
use super::{Config, Problems};
use crate::acknowledge::{Acknowledgement, Expiry};
use crate::model::{FindingCode, Severity};

pub fn acknowledgements(raw: Vec<RawAcknowledge>, config: &mut Config, problems: &mut Problems) {
    for (i, ack) in raw.into_iter().enumerate() {
        if let Some(ack) = acknowledgement(ack, &format!("acknowledge[{i}]"), problems) {
            config.acknowledgements.push(ack);
        }
    }
}

fn acknowledgement(
    raw: RawAcknowledge,
    path: &str,
    problems: &mut Problems,
) -> Option<Acknowledgement> {
    let reason = raw.reason.filter(|r| !r.trim().is_empty());
    if reason.is_none() {
        problems.add(path, "`reason` is required: say why this drift is intended");
    }
    // A place alone would hide every drift there: `account`/`region` narrow.
    if raw.code.is_none()
        && raw.group_id.is_none()
        && raw.address.is_none()
        && raw.changed_by.is_none()
    {
        problems.add(
            path,
            "give at least one of `code`, `group_id`, `address` or `changed_by` (`account` and `region` only narrow them); an acknowledgement of everything would hide all drift",
        );
    }
    if let Some(pattern) = &raw.changed_by
        && pattern.trim_matches('*').is_empty()
    {
        problems.add(
            format!("{path}.changed_by"),
            "name a principal (an IAM ARN; `*` matches any run of characters): a bare `*` would acknowledge every attributed change",
        );
    }
    let code = match raw.code {
        None => Some(None),
        Some(c) => match FindingCode::parse(&c) {
            Some(code) => Some(Some(code)),
            None => {
                problems.add(
                    format!("{path}.code"),
                    format!("unknown finding code {c:?}"),
                );
                None
            }
        },
    };
    let expires = match raw.expires {
        None => Some(None),
        Some(e) => match Expiry::parse(&e) {
            Ok(expiry) => Some(Some(expiry)),
            Err(m) => {
                problems.add(format!("{path}.expires"), m);
                None
            }
        },
    };
    Some(Acknowledgement {
        code: code?,
        group_id: raw.group_id,
        address: raw.address,
        field: raw.field,
        account: raw.account,
        region: raw.region,
        changed_by: raw.changed_by,
        reason: reason?,
        expires: expires?,
    })
}

pub fn severities(raw: BTreeMap<String, String>, config: &mut Config, problems: &mut Problems) {
    for (code, level) in raw {
        let path = format!("severity.{code}");
        let Some(parsed) = FindingCode::parse(&code) else {
            problems.add(path, "unknown finding code");
            continue;
        };
        if let Some(level) = problems.keep(severity(Some(&level), &path, Severity::Info)) {
            config.severity.insert(parsed, level);
        }
    }
}
