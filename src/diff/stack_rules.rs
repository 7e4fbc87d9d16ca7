//! The rules a stack's standalone `AWS::EC2::SecurityGroupIngress`/`Egress`
//! resources declare: the index (`context`) needs them to know who declares a rule,
//! and the `cfn-drift` check to explain differences.

use std::collections::HashMap;

use crate::model::{RuleKey, StackDrift};

/// The rules the stacks' standalone ingress/egress resources declare, with the
/// stacks that declare them: such a rule is the stack's, wherever its group lives,
/// and a group of the same stack reporting it as added is not drifted.
pub(super) fn standalone_rules(drifts: &[StackDrift]) -> HashMap<RuleKey, Vec<&str>> {
    let mut rules: HashMap<RuleKey, Vec<&str>> = HashMap::new();
    // Deleted ones too: re-created by hand, the rule is still the stack's.
    for drift in drifts {
        if let Some(rule) = drift.standalone.as_ref().and_then(|s| s.rule.as_ref()) {
            rules
                .entry(rule.key())
                .or_default()
                .push(drift.resource.stack());
        }
    }
    rules
}
