//! `driftd history`: what changed in live security groups between consecutive
//! scans, field by field, managed or not.
//!
//! Scans are walked in order, keeping the last known version of every group. A
//! scan whose live root equals the previous one changed nothing; otherwise only
//! the buckets and group nodes whose hashes moved are read and compared, with the
//! same matching rules as the drift diff (an edited port is one modified rule, not
//! one removed and one added). A group missing from a scan that did not read its
//! account and region is unknown, not deleted.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use serde::Serialize;
use serde_json::Value;
use sqlx::AnyConnection;

use super::snapshot::{Bucket, Hash, LiveNode, Root, bucket_of, from_hex};
use super::{StoreError, load_document};
use crate::coverage::scopes_cover;
use crate::diff::{match_rules, rule_changes};
use crate::model::{
    ChangedBy, DeclaredRule, Direction, Owner, Rule, Scope, Timestamp, format_timestamp,
    parse_timestamp,
};

#[derive(Debug, Clone, Default)]
pub struct HistoryQuery {
    /// Only this group.
    pub group: Option<String>,
    /// Only changes first seen by scans finished at or after this time.
    pub since: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HistoryKind {
    GroupCreated,
    GroupDeleted,
    GroupModified,
    RuleAdded,
    RuleRemoved,
    RuleModified,
    /// What carries the group changed (`carried_by`).
    CarriersChanged,
}

impl HistoryKind {
    pub fn label(self) -> &'static str {
        match self {
            HistoryKind::GroupCreated => "group created",
            HistoryKind::GroupDeleted => "group deleted",
            HistoryKind::GroupModified => "group modified",
            HistoryKind::RuleAdded => "rule added",
            HistoryKind::RuleRemoved => "rule removed",
            HistoryKind::RuleModified => "rule modified",
            HistoryKind::CarriersChanged => "carriers changed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Value,
    pub after: Value,
}

/// One change, seen first by scan `scan_id` (finished `at`); the scan before it,
/// `previous_scan_id` (finished `previous_at`), saw the old value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    pub at: String,
    pub scan_id: String,
    pub previous_at: String,
    pub previous_scan_id: String,
    pub group_id: String,
    pub group_name: Option<String>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub kind: HistoryKind,
    pub direction: Option<Direction>,
    pub before: Option<Rule>,
    pub after: Option<Rule>,
    pub changes: Vec<FieldChange>,
    /// Who made this change, when a finding about it was attributed (CloudTrail).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed_by: Option<ChangedBy>,
}

struct ScanRow {
    scan_id: String,
    finished_at: String,
    live_root: Hash,
}

struct Known {
    hash: String,
    node: LiveNode,
    /// The last scan (index into the walked scans) that saw this version.
    seen_in: usize,
}

pub async fn history(
    conn: &mut AnyConnection,
    backend: super::Backend,
    query: &HistoryQuery,
) -> Result<Vec<HistoryEntry>, StoreError> {
    // One read transaction: a concurrent `report` pruning old scans cannot pull
    // documents away mid-walk.
    let mut tx = super::begin_read(conn, backend).await?;
    let scans = scans_in_range(&mut tx, query).await?;
    let mut buckets: HashMap<String, Rc<Bucket>> = HashMap::new();
    let mut known: BTreeMap<String, Known> = BTreeMap::new();
    let mut entries = Vec::new();
    // The last scan walked, and the scopes it read.
    let mut previous: Option<(usize, Vec<Scope>)> = None;
    // Each scope read so far and the last scan that read it: scans of a run split
    // by scope each read one, so "the scan before" of a group is the last that
    // read its scope.
    let mut last_read: Vec<(Scope, usize)> = Vec::new();

    for (index, scan) in scans.iter().enumerate() {
        if let Some((last, _)) = &mut previous
            && scans[*last].live_root == scan.live_root
        {
            // Nothing changed: what the last scan saw, this one saw too.
            for k in known.values_mut().filter(|k| k.seen_in == *last) {
                k.seen_in = index;
            }
            *last = index;
            continue;
        }
        let root: Root = load_document(&mut tx, &scan.live_root).await?;
        let seen = groups_seen(&mut tx, &root, query.group.as_deref(), &mut buckets).await?;

        for (group_id, node_hash) in &seen {
            if let Some(k) = known.get_mut(group_id)
                && &k.hash == node_hash
            {
                k.seen_in = index;
                continue;
            }
            let node: LiveNode = load_document(&mut tx, &hash(node_hash)?).await?;
            let changes = match (known.get(group_id), &previous) {
                (Some(old), _) => Some((old.seen_in, compare(&old.node, &node))),
                // New to the walk: created only if a scan before could have seen it.
                (None, Some(_)) => last_reader(&last_read, &node)
                    .map(|last| (last, vec![Change::group(HistoryKind::GroupCreated)])),
                (None, None) => None,
            };
            if let Some((before, changes)) = changes {
                entries.extend(
                    changes
                        .into_iter()
                        .map(|c| c.entry(&scans[before], scan, group_id, &node)),
                );
            }
            known.insert(
                group_id.clone(),
                Known {
                    hash: node_hash.clone(),
                    node,
                    seen_in: index,
                },
            );
        }
        let deleted: Vec<String> = known
            .iter()
            .filter(|(id, k)| !seen.contains_key(*id) && was_read(&root.scopes, &k.node))
            .map(|(id, _)| id.clone())
            .collect();
        for group_id in deleted {
            let old = known.remove(&group_id).expect("listed above");
            entries.push(Change::group(HistoryKind::GroupDeleted).entry(
                &scans[old.seen_in],
                scan,
                &group_id,
                &old.node,
            ));
        }
        for scope in &root.scopes {
            match last_read.iter_mut().find(|(s, _)| s == scope) {
                Some((_, last)) => *last = index,
                None => last_read.push((scope.clone(), index)),
            }
        }
        previous = Some((index, root.scopes));
    }
    let findings = super::load_findings(&mut tx).await?;
    tx.commit().await?;
    for entry in &mut entries {
        entry.changed_by = who_made(entry, findings.iter().map(|k| &k.finding));
    }
    Ok(entries)
}

/// The attributed finding about the same change: the same group, an event between
/// the two scans, and for a rule the same rule (as it became, or as it was).
fn who_made<'f>(
    entry: &HistoryEntry,
    findings: impl Iterator<Item = &'f crate::model::Finding>,
) -> Option<ChangedBy> {
    // The earlier scan read AWS some time before it finished.
    let after = parse_timestamp(&entry.previous_at)? - chrono::Duration::minutes(30);
    let before = parse_timestamp(&entry.at)?;
    let entry_rule = entry.after.as_ref().or(entry.before.as_ref());
    findings
        .filter(|f| f.resource.group_id.as_deref() == Some(entry.group_id.as_str()))
        .filter_map(|f| Some((f, f.changed_by.as_ref()?.changed_by()?)))
        .filter(|(_, by)| parse_timestamp(&by.time).is_some_and(|t| t >= after && t <= before))
        .find(|(f, _)| match entry_rule {
            Some(rule) => [&f.actual, &f.expected]
                .into_iter()
                .flatten()
                .any(|r| r.key_ref() == rule.key_ref()),
            None => f.direction.is_none(),
        })
        .map(|(_, by)| by.clone())
}

/// Group id → node hash, as the scan of `root` saw them (only `group`'s when
/// given). Buckets are read once per walk: consecutive scans share most of them.
async fn groups_seen(
    tx: &mut AnyConnection,
    root: &Root,
    group: Option<&str>,
    buckets: &mut HashMap<String, Rc<Bucket>>,
) -> Result<BTreeMap<String, String>, StoreError> {
    let mut seen = BTreeMap::new();
    let wanted = group.map(bucket_of);
    for (number, bucket_hash) in &root.buckets {
        if wanted.is_some_and(|w| w != *number) {
            continue;
        }
        let bucket = match buckets.get(bucket_hash) {
            Some(b) => b.clone(),
            None => {
                let b: Rc<Bucket> = Rc::new(load_document(tx, &hash(bucket_hash)?).await?);
                buckets.insert(bucket_hash.clone(), b.clone());
                b
            }
        };
        for (group_id, node) in bucket.iter() {
            if group.is_none_or(|g| g == group_id) {
                seen.insert(group_id.clone(), node.clone());
            }
        }
    }
    Ok(seen)
}

/// The scans to walk: those in range, after the last one before it (the baseline
/// the first change in range is measured from).
async fn scans_in_range(
    conn: &mut AnyConnection,
    query: &HistoryQuery,
) -> Result<Vec<ScanRow>, StoreError> {
    let since = query
        .since
        .as_ref()
        .map(format_timestamp)
        .unwrap_or_default();
    let rows: Vec<(String, String, Vec<u8>)> = sqlx::query_as(
        "SELECT scan_id, finished_at, live_root FROM scans
         WHERE finished_at >= coalesce(
             (SELECT max(finished_at) FROM scans WHERE finished_at < $1), '')
         ORDER BY finished_at, id",
    )
    .bind(&since)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(scan_id, finished_at, root)| {
            Ok(ScanRow {
                scan_id,
                finished_at,
                live_root: root
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("a live root is not 32 bytes".into()))?,
            })
        })
        .collect()
}

pub(super) fn hash(text: &str) -> Result<Hash, StoreError> {
    from_hex(text).ok_or_else(|| StoreError::Corrupt(format!("bad snapshot reference {text:?}")))
}

/// Whether a scan with these scopes read the place `node`'s group lives in.
/// The last scan walked whose scopes cover where `node`'s group lives.
fn last_reader(last_read: &[(Scope, usize)], node: &LiveNode) -> Option<usize> {
    last_read
        .iter()
        .filter(|(scope, _)| was_read(std::slice::from_ref(scope), node))
        .map(|(_, last)| *last)
        .max()
}

fn was_read(scopes: &[Scope], node: &LiveNode) -> bool {
    let group = node.group.as_ref();
    let account = group.and_then(|g| g.account_id.as_deref());
    let region = group.and_then(|g| g.region.as_deref());
    scopes_cover(scopes, account, region)
}

/// One change to one group, before it is placed in time.
#[derive(Debug)]
struct Change {
    kind: HistoryKind,
    direction: Option<Direction>,
    before: Option<Rule>,
    after: Option<Rule>,
    changes: Vec<FieldChange>,
}

impl Change {
    fn group(kind: HistoryKind) -> Change {
        Change {
            kind,
            direction: None,
            before: None,
            after: None,
            changes: Vec::new(),
        }
    }

    fn entry(
        self,
        previous: &ScanRow,
        scan: &ScanRow,
        group_id: &str,
        node: &LiveNode,
    ) -> HistoryEntry {
        let group = node.group.as_ref();
        HistoryEntry {
            at: scan.finished_at.clone(),
            scan_id: scan.scan_id.clone(),
            previous_at: previous.finished_at.clone(),
            previous_scan_id: previous.scan_id.clone(),
            group_id: group_id.to_string(),
            group_name: group.and_then(|g| g.name.clone()),
            account_id: group.and_then(|g| g.account_id.clone()),
            region: group.and_then(|g| g.region.clone()),
            kind: self.kind,
            direction: self.direction,
            before: self.before,
            after: self.after,
            changes: self.changes,
            changed_by: None,
        }
    }
}

/// Everything that differs between two versions of one group.
fn compare(before: &LiveNode, after: &LiveNode) -> Vec<Change> {
    let mut changes = Vec::new();
    if let (Some(b), Some(a)) = (&before.group, &after.group) {
        let fields = crate::diff::group_changes(b, a);
        if !fields.is_empty() {
            changes.push(Change {
                changes: fields.into_iter().map(field_change).collect(),
                ..Change::group(HistoryKind::GroupModified)
            });
        }
    }
    // Only where both scans read what carries it.
    if let (Some(b), Some(a)) = (&before.carried_by, &after.carried_by)
        && b != a
    {
        changes.push(Change {
            changes: vec![FieldChange {
                field: "carried_by".to_string(),
                before: serde_json::json!(b),
                after: serde_json::json!(a),
            }],
            ..Change::group(HistoryKind::CarriersChanged)
        });
    }
    for direction in [Direction::Ingress, Direction::Egress] {
        // The earlier rules stand in for "declared" so that the diff's matching
        // rules pair them with the later ones.
        let earlier: Vec<DeclaredRule> = before
            .rules
            .iter()
            .filter(|r| r.direction == direction)
            .map(|rule| DeclaredRule {
                rule: rule.clone(),
                owner: Owner::none(),
                inline: false,
                account_id: None,
                region: None,
            })
            .collect();
        let later: Vec<&Rule> = after
            .rules
            .iter()
            .filter(|r| r.direction == direction)
            .collect();
        let matching = match_rules(earlier.iter().collect(), later);
        let rule_change = |kind, before: Option<&Rule>, after: Option<&Rule>, fields| Change {
            kind,
            direction: Some(direction),
            before: before.cloned(),
            after: after.cloned(),
            changes: fields,
        };
        for (old, new) in matching.pairs {
            let fields = rule_changes(&old.rule, new);
            if !fields.is_empty() {
                changes.push(rule_change(
                    HistoryKind::RuleModified,
                    Some(&old.rule),
                    Some(new),
                    fields.into_iter().map(field_change).collect(),
                ));
            }
        }
        for old in matching.removed {
            changes.push(rule_change(
                HistoryKind::RuleRemoved,
                Some(&old.rule),
                None,
                vec![],
            ));
        }
        for new in matching.added {
            changes.push(rule_change(HistoryKind::RuleAdded, None, Some(new), vec![]));
        }
    }
    changes
}

fn field_change(change: crate::model::Change) -> FieldChange {
    FieldChange {
        field: change.field,
        before: change.expected,
        after: change.actual,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Peer, Protocol, SecurityGroup};

    fn rule(direction: Direction, port: i64, peer: &str) -> Rule {
        Rule::new(
            "sg-1",
            direction,
            Protocol::Tcp,
            Some(port),
            Some(port),
            Peer::ipv4(peer).unwrap(),
            None,
        )
        .unwrap()
    }

    fn node(rules: Vec<Rule>) -> LiveNode {
        let mut group = SecurityGroup::new("sg-1");
        group.name = Some("alb-public".into());
        LiveNode {
            group: Some(group),
            rules,
            carried_by: None,
        }
    }

    #[test]
    fn an_edited_port_is_one_modified_rule() {
        let before = node(vec![rule(Direction::Egress, 80, "10.0.0.0/16")]);
        let after = node(vec![rule(Direction::Egress, 8080, "10.0.0.0/16")]);
        let changes = compare(&before, &after);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].kind, HistoryKind::RuleModified);
        assert_eq!(changes[0].direction, Some(Direction::Egress));
        let fields: Vec<(&str, &Value, &Value)> = changes[0]
            .changes
            .iter()
            .map(|c| (c.field.as_str(), &c.before, &c.after))
            .collect();
        let (port, new_port) = (Value::from(80), Value::from(8080));
        assert_eq!(
            fields,
            vec![
                ("from_port", &port, &new_port),
                ("to_port", &port, &new_port)
            ]
        );
    }

    #[test]
    fn added_removed_and_group_fields() {
        let mut before = node(vec![rule(Direction::Ingress, 22, "10.0.0.0/8")]);
        let mut after = node(vec![rule(Direction::Ingress, 443, "0.0.0.0/0")]);
        before.group.as_mut().unwrap().description = Some("y".into());
        after.group.as_mut().unwrap().description = Some("x".into());
        let kinds: Vec<HistoryKind> = compare(&before, &after).iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            vec![
                HistoryKind::GroupModified,
                HistoryKind::RuleRemoved,
                HistoryKind::RuleAdded
            ]
        );
    }

    #[test]
    fn unchanged_is_silent() {
        let n = node(vec![rule(Direction::Ingress, 22, "10.0.0.0/8")]);
        assert!(compare(&n, &n.clone()).is_empty());
    }

    #[test]
    fn a_change_of_carriers_is_told_only_where_both_scans_read_them() {
        let carried = |by: Option<&[&str]>| LiveNode {
            carried_by: by.map(|b| b.iter().map(|c| c.to_string()).collect()),
            ..node(vec![])
        };
        let detached = compare(&carried(Some(&["ELB app/web"])), &carried(Some(&[])));
        assert_eq!(detached.len(), 1);
        assert_eq!(detached[0].kind, HistoryKind::CarriersChanged);
        assert_eq!(
            detached[0].changes,
            [FieldChange {
                field: "carried_by".into(),
                before: serde_json::json!(["ELB app/web"]),
                after: serde_json::json!([]),
            }]
        );
        // Unread on one side: unknown, not a change.
        assert!(compare(&carried(None), &carried(Some(&[]))).is_empty());
        assert!(compare(&carried(Some(&["x"])), &carried(None)).is_empty());
    }
}
