//! A rule's security-group id, shared by every rule of the group.
//!
//! A diff of 100,000s of rules spends most of its time waiting for memory, and
//! reading each rule's own heap copy of its group's id was its largest single wait.
//! Sources therefore give all rules of one group one allocation
//! ([`share_group_ids`]); two rules of one group then compare equal by pointer,
//! without reading the id. Ids that are not shared still compare by content, so
//! sharing is only ever an optimisation.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone)]
pub struct GroupId(Arc<str>);

impl GroupId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Makes every id of one group point at one allocation: the first met.
pub fn share_group_ids<'a>(ids: impl Iterator<Item = &'a mut GroupId>) {
    let mut seen: HashSet<GroupId, rustc_hash::FxBuildHasher> = HashSet::default();
    let mut last: Option<GroupId> = None;
    for id in ids {
        // Sources list a group's rules together: most ids are the previous one.
        if let Some(previous) = &last
            && previous.as_str() == id.as_str()
        {
            *id = previous.clone();
            continue;
        }
        match seen.get(id.as_str()) {
            Some(shared) => *id = shared.clone(),
            None => {
                seen.insert(id.clone());
            }
        }
        last = Some(id.clone());
    }
}

impl PartialEq for GroupId {
    fn eq(&self, other: &GroupId) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl Eq for GroupId {}

impl PartialEq<str> for GroupId {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for GroupId {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialOrd for GroupId {
    fn partial_cmp(&self, other: &GroupId) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for GroupId {
    fn cmp(&self, other: &GroupId) -> std::cmp::Ordering {
        if Arc::ptr_eq(&self.0, &other.0) {
            return std::cmp::Ordering::Equal;
        }
        self.0.cmp(&other.0)
    }
}

/// Hashes as the `str` it holds, so that maps keyed by `GroupId` answer `&str`.
impl Hash for GroupId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl Borrow<str> for GroupId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl Deref for GroupId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for GroupId {
    fn from(id: &str) -> GroupId {
        GroupId(Arc::from(id))
    }
}

impl From<&String> for GroupId {
    fn from(id: &String) -> GroupId {
        GroupId(Arc::from(id.as_str()))
    }
}

impl From<String> for GroupId {
    fn from(id: String) -> GroupId {
        GroupId(Arc::from(id))
    }
}

impl fmt::Debug for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl Serialize for GroupId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for GroupId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(GroupId::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_and_unshared_ids_compare_by_content() {
        let a = GroupId::from("sg-1");
        let b = GroupId::from("sg-1".to_string());
        assert!(!Arc::ptr_eq(&a.0, &b.0));
        assert_eq!(a, b);
        assert_eq!(a.cmp(&b), std::cmp::Ordering::Equal);
        let (one, two) = (GroupId::from("sg-1"), GroupId::from("sg-2"));
        assert!(one < two);
        assert_eq!(a, "sg-1");
        assert_eq!(a.to_string(), "sg-1");
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"sg-1\"");
        let back: GroupId = serde_json::from_str("\"sg-1\"").unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn sharing_points_each_group_at_one_allocation() {
        let mut ids: Vec<GroupId> = ["sg-1", "sg-1", "sg-2", "sg-1", "sg-2", "sg-3"]
            .into_iter()
            .map(GroupId::from)
            .collect();
        share_group_ids(ids.iter_mut());
        let same = |i: usize, j: usize| Arc::ptr_eq(&ids[i].0, &ids[j].0);
        assert!(same(0, 1) && same(0, 3));
        assert!(same(2, 4));
        assert!(!same(0, 2) && !same(2, 5));
        let text: Vec<&str> = ids.iter().map(GroupId::as_str).collect();
        assert_eq!(text, ["sg-1", "sg-1", "sg-2", "sg-1", "sg-2", "sg-3"]);
    }
}
