//! What last carried each group (`group_carriers`): a `reference-empty` finding
//! says what carried the group that nothing carries now, and until when.

use std::collections::BTreeMap;

use super::lifecycle::Update;
use super::{StoreError, Tx};
use crate::model::FindingCode;

/// Remembers what carries each group this scan saw carried (finished `now`).
pub async fn remember(
    tx: &mut Tx<'_>,
    carriers: &BTreeMap<String, Vec<String>>,
    now: &str,
) -> Result<(), StoreError> {
    for (group, carried_by) in carriers.iter().filter(|(_, c)| !c.is_empty()) {
        let carried_by = serde_json::to_string(carried_by).expect("labels serialize");
        sqlx::query(
            "INSERT INTO group_carriers (group_id, carried_by, last_seen) VALUES ($1, $2, $3)
             ON CONFLICT (group_id) DO UPDATE SET carried_by = $2, last_seen = $3
             WHERE excluded.last_seen >= group_carriers.last_seen",
        )
        .bind(group)
        .bind(&carried_by)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Adds to each `reference-empty` message what last carried the group it allows,
/// where history knows: `; alb-public (sg-1) was carried by ELB app/web until …`.
pub async fn tell_last_carriers(tx: &mut Tx<'_>, updates: &mut [Update]) -> Result<(), StoreError> {
    for update in updates
        .iter_mut()
        // A resolved finding keeps the message it had.
        .filter(|u| u.finding.code == FindingCode::ReferenceEmpty && u.resolved_at.is_none())
    {
        let finding = &mut update.finding;
        let Some(group) = finding
            .actual
            .as_ref()
            .and_then(|rule| rule.peer.referenced_group())
            .map(str::to_string)
        else {
            continue;
        };
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT carried_by, last_seen FROM group_carriers WHERE group_id = $1")
                .bind(&group)
                .fetch_optional(&mut **tx)
                .await?;
        let Some((carried_by, last_seen)) = row else {
            continue;
        };
        let carriers: Vec<String> = serde_json::from_str(&carried_by).unwrap_or_default();
        if !carriers.is_empty() {
            finding.message.push_str(&format!(
                "; {group} was carried by {} until {last_seen}",
                carriers.join(", ")
            ));
        }
    }
    Ok(())
}
