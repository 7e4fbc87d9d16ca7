//! What history says about who changed this scan's findings: an answer kept from
//! an earlier scan (each finding is looked up once), or the window to look in,
//! from the last scan that did not have the drift to this one.

use std::collections::HashMap;

use super::{StoreError, Tx, load_findings};
use crate::attribution::{AttributionHistory, Prior};
use crate::model::{Attribution, Finding, FindingStatus};

pub async fn read(tx: &mut Tx<'_>, findings: &[Finding]) -> Result<AttributionHistory, StoreError> {
    let last_scan_started: Option<String> =
        sqlx::query_scalar("SELECT started_at FROM scans ORDER BY finished_at DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await?;
    let known: HashMap<String, Finding> = load_findings(tx)
        .await?
        .into_iter()
        .map(|k| (k.finding.id.clone(), k.finding))
        .collect();
    let mut history = AttributionHistory::default();
    for finding in findings.iter().filter(|f| f.code.is_attributed()) {
        let as_new = Prior::LookUp {
            since: last_scan_started.clone(),
            first_seen: None,
        };
        let prior = match known.get(&finding.id) {
            None => as_new,
            Some(k) if k.status == FindingStatus::Resolved || !same_drift(k, finding) => as_new,
            Some(k) => match &k.changed_by {
                Some(Attribution::Pending) | None => Prior::LookUp {
                    since: scan_before(tx, k.first_seen.as_deref()).await?,
                    first_seen: k.first_seen.clone(),
                },
                Some(answer) => Prior::Keep(answer.clone()),
            },
        };
        history.priors.insert(finding.id.clone(), prior);
        if let Some(group) = finding
            .actual
            .as_ref()
            .and_then(|r| r.peer.referenced_group())
            && !history.last_carriers.contains_key(group)
        {
            let carried_by: Option<String> =
                sqlx::query_scalar("SELECT carried_by FROM group_carriers WHERE group_id = $1")
                    .bind(group)
                    .fetch_optional(&mut **tx)
                    .await?;
            let labels = carried_by
                .and_then(|c| serde_json::from_str(&c).ok())
                .unwrap_or_default();
            history.last_carriers.insert(group.to_string(), labels);
        }
    }
    Ok(history)
}

/// The same drift as last time: a change of values is a new change to attribute.
/// Compared as stored (what serialisation keeps), since `known` was read back.
fn same_drift(known: &Finding, now: &Finding) -> bool {
    let values = |f: &Finding| serde_json::json!([f.expected, f.actual, f.changes]);
    values(known) == values(now)
}

/// When the last scan before `first_seen` started: the drift came after it.
async fn scan_before(
    tx: &mut Tx<'_>,
    first_seen: Option<&str>,
) -> Result<Option<String>, StoreError> {
    let Some(first_seen) = first_seen else {
        return Ok(None);
    };
    Ok(sqlx::query_scalar(
        "SELECT started_at FROM scans WHERE finished_at < $1 ORDER BY finished_at DESC LIMIT 1",
    )
    .bind(first_seen)
    .fetch_optional(&mut **tx)
    .await?)
}
