//! Content-addressed snapshots of a scan's live and intent views.
//!
//! A view is cut into one canonical JSON document ("node") per security group,
//! nodes are listed in one of [`BUCKETS`] buckets by a hash of the group id, and a
//! root lists the buckets. Every document is stored under the SHA-256 of its bytes,
//! so an unchanged view is the same root (nothing new to store) and one changed
//! rule yields one new node, one new bucket and one new root: growth follows the
//! change, not the size of the account.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::{Intent, LiveView, Rule, Scope, SecurityGroup};

/// The node part that says the group's carriers were read (its `carried_by` list
/// may be empty).
const CARRIERS_READ: &str = "carriers_read";

/// Fixed, so that a group always lands in the same bucket.
pub const BUCKETS: u8 = 64;

pub type Hash = [u8; 32];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub hash: Hash,
    pub body: Vec<u8>,
}

impl Blob {
    pub fn new(body: Vec<u8>) -> Blob {
        Blob {
            hash: Sha256::digest(&body).into(),
            body,
        }
    }
}

/// A view ready to store: the root, then each bucket with the nodes it lists, so
/// that a writer can skip a bucket (and its nodes) already stored.
#[derive(Debug, Clone)]
pub struct Tree {
    pub root: Blob,
    pub buckets: Vec<(Blob, Vec<Blob>)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Root {
    /// The (account, region) pairs read completely; a group absent from a scope
    /// that was not read is unknown, not deleted.
    pub scopes: Vec<Scope>,
    /// Non-empty buckets as (bucket number, hex hash), by number.
    pub buckets: Vec<(u8, String)>,
}

/// A bucket: (group id, hex hash of its node), by group id.
pub type Bucket = Vec<(String, String)>;

/// One security group as a live source saw it. `group` is `None` when only its
/// rules were read (a rules-only capture).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveNode {
    pub group: Option<SecurityGroup>,
    pub rules: Vec<Rule>,
    /// What carries the group (`ELB app/web`, sorted), where the interfaces of its
    /// place were read; absent elsewhere, and in snapshots from before they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carried_by: Option<Vec<String>>,
}

pub fn bucket_of(group_id: &str) -> u8 {
    Sha256::digest(group_id.as_bytes())[0] % BUCKETS
}

pub fn to_hex(hash: &Hash) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn from_hex(text: &str) -> Option<Hash> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut hash = [0u8; 32];
    for (i, byte) in hash.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(hash)
}

/// The live view, one node per group id (groups, their rules, and what carries
/// them where that is known: `carriers`, the diff's `DiffOutcome::carriers`).
pub fn live_tree(live: &LiveView, carriers: &BTreeMap<String, Vec<String>>) -> Tree {
    let mut nodes: BTreeMap<&str, NodeParts> = BTreeMap::new();
    for group in &live.groups {
        nodes
            .entry(&group.id)
            .or_default()
            .push("group", json(group));
    }
    for rule in &live.rules {
        nodes
            .entry(&rule.group_id)
            .or_default()
            .push("rules", json(rule));
    }
    // What carries each group, where that is known (an empty list: nothing).
    for (group, carried_by) in carriers {
        let parts = nodes.entry(group).or_default();
        parts.push(CARRIERS_READ, String::new());
        for carrier in carried_by {
            parts.push("carried_by", json(carrier));
        }
    }
    let mut scopes = live.scopes.clone();
    scopes.sort();
    scopes.dedup();
    build(nodes, scopes, |parts| {
        // `group` is a single document, or null for a rules-only group.
        let group = parts.items.remove("group").and_then(|mut g| g.pop());
        let rules = parts.items.remove("rules").unwrap_or_default();
        // Left out where unknown: a node from before carriers were read is the same.
        let carried_by = match parts.items.remove(CARRIERS_READ) {
            Some(_) => {
                let carriers = parts.items.remove("carried_by").unwrap_or_default();
                format!(",\"carried_by\":[{}]", carriers.join(","))
            }
            None => String::new(),
        };
        format!(
            "{{\"group\":{},\"rules\":[{}]{carried_by}}}",
            group.as_deref().unwrap_or("null"),
            rules.join(",")
        )
    })
}

/// The intent view, one node per group id: the declarations of every source
/// (groups, rules, data-source reads), each with its owner.
pub fn intent_tree(intent: &Intent) -> Tree {
    let mut nodes: BTreeMap<&str, NodeParts> = BTreeMap::new();
    for declared in &intent.groups {
        nodes
            .entry(&declared.group.id)
            .or_default()
            .push("groups", json(declared));
    }
    for declared in &intent.rules {
        nodes
            .entry(&declared.rule.group_id)
            .or_default()
            .push("rules", json(declared));
    }
    for read in &intent.reads {
        nodes
            .entry(&read.group_id)
            .or_default()
            .push("reads", json(read));
    }
    build(nodes, Vec::new(), |parts| {
        let list = |key: &str| {
            parts
                .items
                .get(key)
                .map(|v| v.join(","))
                .unwrap_or_default()
        };
        format!(
            "{{\"groups\":[{}],\"rules\":[{}],\"reads\":[{}]}}",
            list("groups"),
            list("rules"),
            list("reads")
        )
    })
}

/// The JSON documents of one node, by field; sorted before encoding so that the
/// order sources listed things in does not change the hash.
#[derive(Default)]
struct NodeParts {
    items: BTreeMap<&'static str, Vec<String>>,
}

impl NodeParts {
    fn push(&mut self, field: &'static str, document: String) {
        self.items.entry(field).or_default().push(document);
    }
}

fn json(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("model types always serialize")
}

fn build(
    nodes: BTreeMap<&str, NodeParts>,
    scopes: Vec<Scope>,
    encode: impl Fn(&mut NodeParts) -> String,
) -> Tree {
    let mut buckets: BTreeMap<u8, (Bucket, Vec<Blob>)> = BTreeMap::new();
    for (group_id, mut parts) in nodes {
        for documents in parts.items.values_mut() {
            documents.sort_unstable();
            documents.dedup();
        }
        let node = Blob::new(encode(&mut parts).into_bytes());
        let (listing, blobs) = buckets.entry(bucket_of(group_id)).or_default();
        listing.push((group_id.to_string(), to_hex(&node.hash)));
        blobs.push(node);
    }
    let mut root = Root {
        scopes,
        buckets: Vec::new(),
    };
    let mut stored = Vec::new();
    for (number, (listing, nodes)) in buckets {
        // Nodes were added in group-id order (BTreeMap), so the listing is sorted.
        let bucket = Blob::new(json(&listing).into_bytes());
        root.buckets.push((number, to_hex(&bucket.hash)));
        stored.push((bucket, nodes));
    }
    Tree {
        root: Blob::new(json(&root).into_bytes()),
        buckets: stored,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Direction, Peer, Protocol};

    fn rule(group: &str, port: i64) -> Rule {
        Rule::new(
            group,
            Direction::Ingress,
            Protocol::Tcp,
            Some(port),
            Some(port),
            Peer::ipv4("10.0.0.0/8").unwrap(),
            None,
        )
        .unwrap()
    }

    fn view(ports: &[i64]) -> LiveView {
        let groups = (0..20)
            .map(|i| SecurityGroup::new(format!("sg-{i}")))
            .collect();
        let rules = (0..20)
            .flat_map(|i| ports.iter().map(move |p| rule(&format!("sg-{i}"), *p)))
            .collect();
        LiveView {
            groups,
            rules,
            ..LiveView::default()
        }
    }

    #[test]
    fn same_view_same_root_whatever_the_order() {
        let a = view(&[80, 443]);
        let mut b = a.clone();
        b.rules.reverse();
        b.groups.reverse();
        assert_eq!(
            live_tree(&a, &BTreeMap::new()).root,
            live_tree(&b, &BTreeMap::new()).root
        );
    }

    #[test]
    fn one_changed_rule_changes_one_node_and_one_bucket() {
        let a = view(&[80, 443]);
        let mut b = a.clone();
        b.rules[7].to_port = Some(8443);
        let (ta, tb) = (
            live_tree(&a, &BTreeMap::new()),
            live_tree(&b, &BTreeMap::new()),
        );
        assert_ne!(ta.root, tb.root);
        let nodes = |t: &Tree| -> Vec<Hash> {
            t.buckets
                .iter()
                .flat_map(|(_, n)| n.iter().map(|b| b.hash))
                .collect()
        };
        let (na, nb) = (nodes(&ta), nodes(&tb));
        assert_eq!(nb.iter().filter(|h| !na.contains(h)).count(), 1);
        let buckets = |t: &Tree| -> Vec<Hash> { t.buckets.iter().map(|(b, _)| b.hash).collect() };
        let (ba, bb) = (buckets(&ta), buckets(&tb));
        assert_eq!(bb.iter().filter(|h| !ba.contains(h)).count(), 1);
    }

    #[test]
    fn nodes_read_back_as_the_model() {
        let live = view(&[22]);
        let tree = live_tree(&live, &BTreeMap::new());
        let node: LiveNode = serde_json::from_slice(&tree.buckets[0].1[0].body).unwrap();
        let group = node.group.expect("the group document is kept");
        assert_eq!(node.rules, vec![rule(&group.id, 22)]);
    }

    /// What the diff says carries each group, all interfaces read.
    fn carriers_of(live: &LiveView) -> BTreeMap<String, Vec<String>> {
        let carried = live.carriers();
        live.groups
            .iter()
            .map(|g| {
                let by = carried.get(g.id.as_str()).into_iter().flatten().cloned();
                (g.id.clone(), by.collect())
            })
            .collect()
    }

    #[test]
    fn carriers_are_kept_where_read_and_a_detach_changes_the_groups_involved() {
        use crate::model::{NetworkInterface, Scope};
        let mut live = view(&[22]);
        for group in &mut live.groups {
            group.account_id = Some("123456789012".into());
            group.region = Some("us-east-1".into());
        }
        // Not read: the node is what it was before carriers were read.
        let unread = live_tree(&live, &BTreeMap::new());
        live.interface_scopes = vec![Scope {
            account_id: Some("123456789012".into()),
            region: Some("us-east-1".into()),
        }];
        live.interfaces = vec![NetworkInterface {
            id: "eni-1".into(),
            description: Some("ELB app/web/50dc6c495c0c9188".into()),
            groups: vec!["sg-3".into()],
            ..NetworkInterface::default()
        }];
        let carried = live_tree(&live, &carriers_of(&live));
        let node_of = |tree: &Tree, group: &str| -> LiveNode {
            let bucket = tree
                .buckets
                .iter()
                .find_map(|(bucket, nodes)| {
                    let listing: Bucket = serde_json::from_slice(&bucket.body).unwrap();
                    let at = listing.iter().position(|(id, _)| id == group)?;
                    Some(nodes[at].clone())
                })
                .expect("the group's node");
            serde_json::from_slice(&bucket.body).unwrap()
        };
        assert_eq!(node_of(&unread, "sg-3").carried_by, None);
        assert_eq!(
            node_of(&carried, "sg-3").carried_by,
            Some(vec!["ELB app/web".to_string()])
        );
        assert_eq!(node_of(&carried, "sg-4").carried_by, Some(vec![]));
        // The load balancer loses the group: one node changes.
        live.interfaces[0].groups = vec!["sg-4".into()];
        let detached = live_tree(&live, &carriers_of(&live));
        let nodes = |t: &Tree| -> Vec<Hash> {
            t.buckets
                .iter()
                .flat_map(|(_, n)| n.iter().map(|b| b.hash))
                .collect()
        };
        let (before, after) = (nodes(&carried), nodes(&detached));
        assert_eq!(
            after.iter().filter(|h| !before.contains(h)).count(),
            2,
            "sg-3 and sg-4"
        );
        assert_eq!(
            live_tree(&live, &carriers_of(&live)).root,
            detached.root,
            "the same view, the same root"
        );
    }

    #[test]
    fn hex_round_trips() {
        let hash = Blob::new(b"x".to_vec()).hash;
        assert_eq!(from_hex(&to_hex(&hash)), Some(hash));
        assert_eq!(from_hex("zz"), None);
    }
}
