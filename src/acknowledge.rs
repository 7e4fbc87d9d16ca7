//! Intentional drift, acknowledged per field with a reason and an optional expiry.
//! Acknowledged findings are still reported, but neither alert nor fail `report`;
//! once an acknowledgement expires its findings count again.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};

use crate::model::{Acknowledged, Change, Finding, FindingCode, Timestamp};

#[derive(Debug, Clone, PartialEq)]
pub struct Acknowledgement {
    pub code: Option<FindingCode>,
    pub group_id: Option<String>,
    /// A Terraform address or CloudFormation logical id: of the finding's owner, or
    /// of its group's owner (a `rule-added` has no owner of its own).
    pub address: Option<String>,
    /// Only this changed field (`tags` also covers every `tags.<key>`).
    pub field: Option<String>,
    /// Only findings in this account / region (a `scope-unscanned` that another
    /// deployment covers, say).
    pub account: Option<String>,
    pub region: Option<String>,
    /// Only changes CloudTrail says this principal made: an IAM ARN, `*` matching any
    /// run of characters, compared with the caller's ARN and, for an assumed role,
    /// the role's (`arn:aws:iam::1:role/terraform-ci*` covers its sessions).
    pub changed_by: Option<String>,
    pub reason: String,
    pub expires: Option<Expiry>,
}

/// When an acknowledgement stops applying, as written and as an instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Expiry {
    pub text: String,
    /// First instant at which it no longer applies.
    pub at: Timestamp,
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Expiry {
    /// `2027-01-31` (valid through that day, UTC) or an RFC 3339 time.
    pub fn parse(text: &str) -> Result<Expiry, String> {
        let at = if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            date.succ_opt()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
                .ok_or_else(|| format!("{text:?} is out of range"))?
        } else {
            DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    format!("{text:?} is neither a date (2027-01-31) nor an RFC 3339 time (2027-01-31T12:00:00Z)")
                })?
        };
        Ok(Expiry {
            text: text.to_string(),
            at,
        })
    }
}

impl Acknowledgement {
    fn is_active(&self, now: Timestamp) -> bool {
        self.expires.as_ref().is_none_or(|e| now < e.at)
    }

    /// Whether every key this acknowledgement gives (but `field`) matches.
    fn matches(&self, finding: &Finding) -> bool {
        let code_ok = self.code.is_none_or(|c| c == finding.code);
        let group_ok = self
            .group_id
            .as_ref()
            .is_none_or(|g| finding.resource.group_id.as_ref() == Some(g));
        let address_ok = self.address.as_ref().is_none_or(|a| {
            finding.owner.address.as_ref() == Some(a)
                || finding
                    .group_owner
                    .as_ref()
                    .is_some_and(|o| o.address.as_ref() == Some(a))
        });
        let place_ok = self
            .account
            .as_ref()
            .is_none_or(|a| finding.account_id.as_ref() == Some(a))
            && self
                .region
                .as_ref()
                .is_none_or(|r| finding.region.as_ref() == Some(r));
        let principal_ok = self.changed_by.as_ref().is_none_or(|pattern| {
            let pattern = wildmatch::WildMatch::new(pattern);
            finding
                .changed_by
                .as_ref()
                .and_then(|a| a.changed_by())
                .is_some_and(|by| {
                    pattern.matches(&by.principal)
                        || by.role_arn().is_some_and(|role| pattern.matches(&role))
                })
        });
        code_ok && group_ok && address_ok && place_ok && principal_ok
    }

    /// A change is covered by its field (`tags` covers `tags.Name`) or, for
    /// `cfn-drift`, by the CloudFormation property path it comes from.
    fn covers_field(&self, change: &Change) -> bool {
        match &self.field {
            None => true,
            Some(f) => {
                change.field == *f
                    || change
                        .field
                        .strip_prefix(f.as_str())
                        .is_some_and(|rest| rest.starts_with('.'))
                    || change.property_path.as_ref() == Some(f)
            }
        }
    }
}

/// Marks the findings that unexpired acknowledgements cover. A finding is covered
/// only if all its changed fields are: acknowledging one field never hides a change
/// to another. Findings without changes need an acknowledgement without `field`.
pub fn apply(findings: &mut [Finding], acknowledgements: &[Acknowledgement], now: Timestamp) {
    for finding in findings.iter_mut() {
        let active: Vec<&Acknowledgement> = acknowledgements
            .iter()
            .filter(|a| a.is_active(now) && a.matches(finding))
            .collect();
        let used: Vec<&Acknowledgement> =
            if let Some(whole) = active.iter().find(|a| a.field.is_none()) {
                vec![*whole]
            } else if !finding.changes.is_empty()
                && finding
                    .changes
                    .iter()
                    .all(|c| active.iter().any(|a| a.covers_field(c)))
            {
                active
                    .into_iter()
                    .filter(|a| finding.changes.iter().any(|c| a.covers_field(c)))
                    .collect()
            } else {
                Vec::new()
            };
        if used.is_empty() {
            continue;
        }
        let mut reasons: Vec<&str> = used.iter().map(|a| a.reason.as_str()).collect();
        reasons.dedup();
        let expires = used
            .iter()
            .filter_map(|a| a.expires.as_ref())
            .min_by_key(|e| e.at)
            .map(|e| e.text.clone());
        finding.acknowledged = Some(Acknowledged {
            reason: reasons.join("; "),
            expires,
        });
    }
}
