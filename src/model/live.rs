//! What live sources (AWS, captured files) say exists, and what they covered.

use super::group::{Scope, SecurityGroup};
use super::rule::Rule;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveView {
    pub groups: Vec<SecurityGroup>,
    pub rules: Vec<Rule>,
    /// The (account, region) pairs that were read completely. Nothing outside them
    /// may be reported missing.
    pub scopes: Vec<Scope>,
}

impl LiveView {
    pub fn extend(&mut self, other: LiveView) {
        self.groups.extend(other.groups);
        self.rules.extend(other.rules);
        for scope in other.scopes {
            if !self.scopes.contains(&scope) {
                self.scopes.push(scope);
            }
        }
    }
}
