//! A security group's own fields, and where (account, region) something was read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub type Tags = BTreeMap<String, String>;

/// A security group as one source sees it. Optional fields are `None` where the
/// source does not know them (a rules-only capture has no names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityGroup {
    pub id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub vpc_id: Option<String>,
    pub tags: Option<Tags>,
    pub account_id: Option<String>,
    pub region: Option<String>,
}

impl SecurityGroup {
    pub fn new(id: impl Into<String>) -> Self {
        SecurityGroup {
            id: id.into(),
            name: None,
            description: None,
            vpc_id: None,
            tags: None,
            account_id: None,
            region: None,
        }
    }

    /// `alb-public (sg-0123)`, or just the id when the name is unknown.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("{name} ({})", self.id),
            None => self.id.clone(),
        }
    }
}

/// Tags as compared: AWS-reserved `aws:*` tags are never drift.
pub fn comparable_tags(tags: &Tags) -> Tags {
    comparable_tag_entries(tags)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The entries of `comparable_tags`, borrowed.
pub fn comparable_tag_entries(tags: &Tags) -> impl Iterator<Item = (&String, &String)> {
    tags.iter().filter(|(k, _)| !k.starts_with("aws:"))
}

/// An (account, region) a live source read. `None` stands for "any": a captured
/// file given without `--region` covers its accounts in every region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Scope {
    pub account_id: Option<String>,
    pub region: Option<String>,
}

impl Scope {
    /// `123456789012/us-east-1`, `*` for what is unknown.
    pub fn label(&self) -> String {
        format!(
            "{}/{}",
            self.account_id.as_deref().unwrap_or("*"),
            self.region.as_deref().unwrap_or("*")
        )
    }

    /// Whether something that lives in `account`/`region` (each `None` when unknown)
    /// was read by this scope. Unknown on either side matches: a group whose ARN is
    /// unknown is compared in every region read.
    pub fn covers(&self, account: Option<&str>, region: Option<&str>) -> bool {
        overlaps(self.account_id.as_deref(), account) && overlaps(self.region.as_deref(), region)
    }
}

/// Whether two accounts (or two regions) may be the same: unknown on either side
/// may be anything.
pub fn overlaps(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_coverage() {
        let scope = Scope {
            account_id: Some("111".into()),
            region: None,
        };
        assert!(scope.covers(Some("111"), Some("eu-west-1")));
        assert!(scope.covers(None, None));
        assert!(!scope.covers(Some("222"), Some("eu-west-1")));
        let regional = Scope {
            account_id: None,
            region: Some("us-east-1".into()),
        };
        assert!(regional.covers(Some("222"), Some("us-east-1")));
        assert!(!regional.covers(Some("222"), Some("eu-west-1")));
    }

    #[test]
    fn reserved_tags_are_not_compared() {
        let tags: Tags = [
            ("aws:cloudformation:stack-name".to_string(), "x".to_string()),
            ("Name".to_string(), "alb".to_string()),
        ]
        .into();
        assert_eq!(comparable_tags(&tags).len(), 1);
    }
}
