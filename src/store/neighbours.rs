//! The groups a scope's rules reference in other scopes, read from the latest
//! stored scan of each (`model::Neighbours`): a run split by scope judges those
//! references from them rather than from their absence in the scope it reads.

use std::collections::{BTreeMap, BTreeSet};

use super::history::hash;
use super::snapshot::{Bucket, LiveNode, Root, bucket_of};
use super::{Store, StoreError, Tx, begin_read, load_document};
use crate::model::{LookedScope, Neighbour, Neighbours, Scope};

impl Store {
    /// `wanted` (group ids by the scope they live in) as the latest stored scan
    /// reading each scope saw them.
    pub async fn neighbours(
        &self,
        wanted: &BTreeMap<Scope, BTreeSet<String>>,
    ) -> Result<Neighbours, StoreError> {
        let mut neighbours = Neighbours::default();
        if wanted.is_empty() {
            return Ok(neighbours);
        }
        let mut conn = self.pool.acquire().await?;
        // One read transaction: retention pruning a scan cannot pull its documents
        // away mid-read.
        let mut tx = begin_read(&mut conn, self.backend).await?;
        for (scope, ids) in wanted {
            let Some((scan_id, root, complete)) = latest_reading(&mut tx, scope).await? else {
                neighbours.looked.push(LookedScope {
                    scope: scope.clone(),
                    scan_id: None,
                    complete: false,
                });
                continue;
            };
            for (id, node) in nodes(&mut tx, &root, ids).await? {
                if let Some(group) = node.group {
                    let carried_by = node.carried_by;
                    neighbours
                        .groups
                        .insert(id, Neighbour { group, carried_by });
                }
            }
            neighbours.looked.push(LookedScope {
                scope: scope.clone(),
                scan_id: Some(scan_id),
                complete,
            });
        }
        tx.commit().await?;
        Ok(neighbours)
    }
}

/// How many of a scope's latest scans are looked through for one that read it
/// completely (a failed read, or a whole scan of other places, may come between).
const LOOK_BACK: i64 = 10;

/// The latest scan that read `scope` completely (a scan of that scope, or a whole
/// scan), else the latest scan of that scope, which read it in part: its id, its
/// live root, and whether it read the scope completely. A whole scan that did not
/// read the scope completely may not have read it at all.
async fn latest_reading(
    tx: &mut Tx<'_>,
    scope: &Scope,
) -> Result<Option<(String, Root, bool)>, StoreError> {
    let recent: Vec<(String, Vec<u8>, Option<String>)> = sqlx::query_as(
        "SELECT scan_id, live_root, scope FROM scans WHERE scope = $1 OR scope IS NULL
         ORDER BY finished_at DESC, id DESC LIMIT $2",
    )
    .bind(scope.label())
    .bind(LOOK_BACK)
    .fetch_all(&mut **tx)
    .await?;
    let (account, region) = (scope.account_id.as_deref(), scope.region.as_deref());
    let mut latest = None;
    for (scan_id, root, scanned) in recent {
        let root = root
            .try_into()
            .map_err(|_| StoreError::Corrupt("a live root is not 32 bytes".into()))?;
        let root: Root = load_document(tx, &root).await?;
        if root.scopes.iter().any(|s| s.covers(account, region)) {
            return Ok(Some((scan_id, root, true)));
        }
        if scanned.is_some() {
            latest.get_or_insert((scan_id, root, false));
        }
    }
    Ok(latest)
}

/// The nodes of `ids` that `root` holds, each bucket loaded once.
async fn nodes(
    tx: &mut Tx<'_>,
    root: &Root,
    ids: &BTreeSet<String>,
) -> Result<Vec<(String, LiveNode)>, StoreError> {
    let mut by_bucket: BTreeMap<u8, Vec<&String>> = BTreeMap::new();
    for id in ids {
        by_bucket.entry(bucket_of(id)).or_default().push(id);
    }
    let mut found = Vec::new();
    for (number, bucket_hash) in &root.buckets {
        let Some(ids) = by_bucket.get(number) else {
            continue;
        };
        let bucket: Bucket = load_document(tx, &hash(bucket_hash)?).await?;
        for id in ids {
            let Ok(at) = bucket.binary_search_by(|(group_id, _)| group_id.cmp(id)) else {
                continue;
            };
            let node: LiveNode = load_document(tx, &hash(&bucket[at].1)?).await?;
            found.push(((*id).clone(), node));
        }
    }
    Ok(found)
}
