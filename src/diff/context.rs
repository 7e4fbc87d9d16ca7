//! Indexes over intent and live data, built once per diff, and the helpers every
//! check uses to describe a group and build a finding.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::matching::{Keyed, sort_declared, sort_live};
use crate::coverage::Coverage;
use crate::model::{
    DeclaredGroup, DeclaredRule, Direction, Finding, FindingCode, FindingStatus, GroupId,
    GroupRead, Intent, LiveView, Owner, OwnerKind, ResourceRef, Rule, RuleKey, SecurityGroup,
    Severity, StackDrift,
};
use crate::sources::SourceStatus;

/// Maps keyed by AWS ids: SipHash's DoS resistance buys nothing here and costs a
/// quarter of the diff.
type IdHash = rustc_hash::FxBuildHasher;

pub struct Inventory<'a> {
    pub intent: &'a Intent,
    pub live: &'a LiveView,
    /// CloudFormation's drift results, as canonical rules.
    pub stack_drifts: &'a [StackDrift],
    /// Managed groups by id; several entries when several sources manage one group.
    pub managed: BTreeMap<&'a str, Vec<&'a DeclaredGroup>>,
    /// Declared rules by group and direction, each rule once (see `declared_index`).
    pub declared: RulesBy<'a, DeclaredRule>,
    pub reads: BTreeMap<&'a str, Vec<&'a GroupRead>>,
    pub live_groups: HashMap<&'a str, &'a SecurityGroup, IdHash>,
    pub live_rules: RulesBy<'a, Rule>,
    /// What the scan read: what may be called missing or unowned.
    pub coverage: Coverage<'a>,
    /// What carries each group that a read network interface uses.
    pub carriers: BTreeMap<&'a str, BTreeSet<String>>,
    /// Live rule ids that a stack's standalone ingress/egress resource owns.
    pub stack_rules: HashSet<&'a str>,
    /// Groups that hold a rule some stack declares (never `sg-unmanaged`).
    pub stack_rule_groups: BTreeSet<&'a str>,
    /// Rules the stacks' standalone ingress/egress resources declare, by the stacks
    /// declaring them.
    pub stack_rule_keys: HashMap<RuleKey, Vec<&'a str>>,
}

impl<'a> Inventory<'a> {
    pub fn new(
        intent: &'a Intent,
        live: &'a LiveView,
        stack_drifts: &'a [StackDrift],
        sources: &'a [SourceStatus],
    ) -> Inventory<'a> {
        let mut managed: BTreeMap<&str, Vec<&DeclaredGroup>> = BTreeMap::new();
        for group in &intent.groups {
            managed
                .entry(group.group.id.as_str())
                .or_default()
                .push(group);
        }
        for owners in managed.values_mut() {
            owners.sort_by(|a, b| a.owner.cmp(&b.owner));
            owners.dedup_by(|a, b| a.owner == b.owner);
        }
        // The two sides are independent and each sorts 100,000s of rules on large
        // scans: build them on two cores.
        let large = intent.rules.len() + live.rules.len() >= 20_000;
        let (declared, (live_groups, live_rules)) = if large {
            std::thread::scope(|s| {
                let declared = s.spawn(|| declared_index(intent));
                let live = live_index(live);
                (
                    declared.join().expect("the declared-rule index panicked"),
                    live,
                )
            })
        } else {
            (declared_index(intent), live_index(live))
        };
        let mut reads: BTreeMap<&str, Vec<&GroupRead>> = BTreeMap::new();
        for read in &intent.reads {
            reads.entry(read.group_id.as_str()).or_default().push(read);
        }
        for readers in reads.values_mut() {
            readers.sort_by(|a, b| a.reader.cmp(&b.reader));
        }
        let stack_rules: HashSet<&str> = intent
            .stack_resources
            .iter()
            .filter(|r| r.rule_direction().is_some() && r.physical_id.starts_with("sgr-"))
            .map(|r| r.physical_id.as_str())
            .collect();
        let stack_rule_keys = super::stack_rules::standalone_rules(stack_drifts);
        let mut stack_rule_groups: BTreeSet<&str> = stack_drifts
            .iter()
            .filter_map(|d| Some(d.standalone.as_ref()?.group_id.as_str()))
            .collect();
        if !stack_rules.is_empty() {
            stack_rule_groups.extend(
                live.rules
                    .iter()
                    .filter(|r| {
                        r.rule_id
                            .as_deref()
                            .is_some_and(|id| stack_rules.contains(id))
                    })
                    .map(|r| r.group_id.as_str()),
            );
        }
        Inventory {
            intent,
            live,
            stack_drifts,
            managed,
            declared,
            reads,
            live_groups,
            live_rules,
            coverage: Coverage::new(intent, live, sources),
            carriers: live.carriers(),
            stack_rules,
            stack_rule_groups,
            stack_rule_keys,
        }
    }

    /// The live rules of a group in one direction.
    pub fn live_rules_of<'s>(
        &'s self,
        group_id: &'s str,
        direction: Direction,
    ) -> impl Iterator<Item = &'a Rule> + use<'a, 's> {
        self.live_rules
            .get(&(group_id, direction))
            .into_iter()
            .flatten()
            .map(|keyed| keyed.item)
    }

    /// Whether a stack's standalone ingress/egress resource declares this live rule:
    /// by its `sgr-` id, or by the rule its expected properties give.
    pub fn declared_by_stack(&self, live: &Rule) -> bool {
        live.rule_id
            .as_deref()
            .is_some_and(|id| self.stack_rules.contains(id))
            || self.stack_rule_keys.contains_key(&live.key())
    }

    /// Whether a CloudFormation stack owns the group: its rules are then judged by
    /// the stack's drift detection, not as rules nobody declares.
    pub fn owned_by_stack(&self, group_id: &str) -> bool {
        self.managed.get(group_id).is_some_and(|owners| {
            owners
                .iter()
                .any(|g| g.owner.kind == OwnerKind::Cloudformation)
        })
    }

    /// Managed groups compared with live data of their account and region: live
    /// there, or absent where it was read in full. (A group seen in a capture that
    /// names no account was not compared with anything that proves its place.)
    pub fn compared_groups(&self) -> usize {
        self.managed
            .iter()
            .filter(|(id, owners)| {
                let group = &owners[0].group;
                let (account, region) = (group.account_id.as_deref(), group.region.as_deref());
                match self.live_groups.contains_key(*id) {
                    true => self.coverage.live_read(account, region),
                    false => self.coverage.may_report_missing(account, region),
                }
            })
            .count()
    }

    pub fn is_managed(&self, group_id: &str) -> bool {
        self.managed.contains_key(group_id)
    }

    /// The first source that manages the group.
    pub fn group_owner(&self, group_id: &str) -> Option<&'a Owner> {
        self.managed
            .get(group_id)
            .and_then(|owners| owners.first())
            .map(|g| &g.owner)
    }

    /// Where a group lives: from AWS when it is live, else from its declaration.
    pub fn group_scope(&self, group_id: &str) -> (Option<&'a str>, Option<&'a str>) {
        if let Some(group) = self.live_groups.get(group_id) {
            return (group.account_id.as_deref(), group.region.as_deref());
        }
        if let Some(group) = self.managed.get(group_id).and_then(|g| g.first()) {
            return (
                group.group.account_id.as_deref(),
                group.group.region.as_deref(),
            );
        }
        if let Some(read) = self.reads.get(group_id).and_then(|r| r.first()) {
            return (read.account_id.as_deref(), read.region.as_deref());
        }
        (None, None)
    }

    /// A declared rule's scope: its own ARN, else its group's.
    pub fn rule_scope(&self, rule: &'a DeclaredRule) -> (Option<&'a str>, Option<&'a str>) {
        match (rule.account_id.as_deref(), rule.region.as_deref()) {
            (None, None) => self.group_scope(&rule.rule.group_id),
            scope => scope,
        }
    }

    pub fn group_name(&self, group_id: &str) -> Option<&'a str> {
        self.live_groups
            .get(group_id)
            .and_then(|g| g.name.as_deref())
            .or_else(|| {
                self.managed
                    .get(group_id)
                    .and_then(|g| g.first())
                    .and_then(|g| g.group.name.as_deref())
            })
            .or_else(|| {
                self.reads
                    .get(group_id)
                    .and_then(|r| r.first())
                    .and_then(|r| r.name.as_deref())
            })
            .or_else(|| {
                let neighbour = self.live.neighbours.group(group_id)?;
                neighbour.group.name.as_deref()
            })
    }

    /// `alb-public (sg-0123)`.
    pub fn group_label(&self, group_id: &str) -> String {
        match self.group_name(group_id) {
            Some(name) => format!("{name} ({group_id})"),
            None => group_id.to_string(),
        }
    }

    pub fn group_resource(&self, kind: &str, id: Option<String>, group_id: &str) -> ResourceRef {
        let vpc_id = self
            .live_groups
            .get(group_id)
            .and_then(|g| g.vpc_id.clone())
            .or_else(|| {
                self.managed
                    .get(group_id)
                    .and_then(|g| g.first())
                    .and_then(|g| g.group.vpc_id.clone())
            });
        ResourceRef {
            kind: kind.to_string(),
            id,
            group_id: Some(group_id.to_string()),
            group_name: self.group_name(group_id).map(str::to_string),
            vpc_id,
        }
    }

    /// The shared frame of every finding about a group or one of its rules.
    pub fn finding(&self, spec: FindingSpec) -> Finding {
        let (account, region) = self.group_scope(&spec.group_id);
        let resource_id = spec.resource_id.clone();
        let id = Finding::stable_id(
            spec.code,
            account,
            region,
            resource_id.as_deref().unwrap_or(&spec.group_id),
            &spec.key,
        );
        let is_rule = spec.direction.is_some();
        let group_owner = self.group_owner(&spec.group_id).cloned();
        Finding {
            id,
            code: spec.code,
            severity: spec.severity,
            status: FindingStatus::New,
            account_id: account.map(str::to_string),
            region: region.map(str::to_string),
            resource: self.group_resource(
                if is_rule {
                    "security_group_rule"
                } else {
                    "security_group"
                },
                if is_rule {
                    spec.rule_id
                } else {
                    Some(spec.group_id.clone())
                },
                &spec.group_id,
            ),
            owner: spec.owner,
            direction: spec.direction,
            expected: spec.expected,
            actual: spec.actual,
            changes: spec.changes,
            message: spec.message,
            first_seen: None,
            last_seen: None,
            acknowledged: None,
            recurred: false,
            group_owner,
            changed_by: None,
        }
    }
}

/// What a check decides about one finding; `Inventory::finding` adds the rest.
pub struct FindingSpec {
    pub code: FindingCode,
    pub severity: Severity,
    pub group_id: String,
    /// The rule's id for rule findings (`None` when unknown).
    pub rule_id: Option<String>,
    pub resource_id: Option<String>,
    /// What identifies the drift within its group (a rule key, a field).
    pub key: String,
    pub owner: Owner,
    pub direction: Option<Direction>,
    pub expected: Option<Rule>,
    pub actual: Option<Rule>,
    pub changes: Vec<crate::model::Change>,
    pub message: String,
}

/// The frame of a finding about one rule (`expected` or `actual` must be set).
pub fn rule_spec(
    code: FindingCode,
    owner: Owner,
    expected: Option<&Rule>,
    actual: Option<&Rule>,
    message: String,
) -> FindingSpec {
    let subject = expected.or(actual).expect("a rule finding has a rule");
    FindingSpec {
        code,
        severity: code.default_severity(),
        group_id: subject.group_id.to_string(),
        rule_id: actual
            .and_then(|r| r.rule_id.clone())
            .or_else(|| expected.and_then(|r| r.rule_id.clone())),
        resource_id: None,
        key: subject.key().to_string(),
        owner,
        direction: Some(subject.direction),
        expected: expected.cloned(),
        actual: actual.cloned(),
        changes: Vec::new(),
        message,
    }
}

/// Declared rules by group and direction, after "who declares a rule": an inline
/// rule that a rule resource of any loaded source also declares belongs to that
/// resource, since the provider refreshes every live rule of a group into its
/// inline lists. One rule declared by several sources is compared once, for its
/// first owner. Each bucket is in the order `match_sorted` wants.
fn declared_index(intent: &Intent) -> RulesBy<'_, DeclaredRule> {
    let by_group = bucket_by_group(
        intent
            .rules
            .iter()
            .map(|r| (&r.rule.group_id, Keyed::declared(r))),
        |bucket: &mut Vec<Keyed<DeclaredRule>>| {
            // Within one identity rule resources (inline = false) sort first, then
            // by owner: keeping the first of each identity drops both an inline rule
            // that a rule resource declares and the later owners' copies.
            sort_declared(bucket);
            bucket.dedup_by(|a, b| a.key == b.key);
        },
    );
    by_direction(by_group)
}

/// Live groups by id, and live rules by group and direction, in the order
/// `match_sorted` wants.
fn live_index(live: &LiveView) -> (HashMap<&str, &SecurityGroup, IdHash>, RulesBy<'_, Rule>) {
    let live_groups = live.groups.iter().map(|g| (g.id.as_str(), g)).collect();
    let by_group = bucket_by_group(
        live.rules.iter().map(|r| (&r.group_id, Keyed::live(r))),
        |bucket: &mut Vec<Keyed<Rule>>| sort_live(bucket),
    );
    (live_groups, by_direction(by_group))
}

/// Items by group id, each group's items passed through `prepare` (a sort, and for
/// declared rules the choice among copies) while they are still in the cache: a
/// second pass over 100,000s of scattered rules costs as much as the first.
/// Sources list a group's rules together (a state's resources, EC2's pages), so a
/// run of one group goes into its bucket without hashing and probing for its id
/// once per item; sources share one id allocation among a group's rules, so that
/// seeing that a run goes on is a pointer comparison. A group met in several runs
/// is prepared once more, as a whole, at the end: `prepare` must give the same
/// result on `prepare(a) ++ b` as on `a ++ b`.
fn bucket_by_group<'a, T>(
    items: impl Iterator<Item = (&'a GroupId, T)>,
    prepare: impl Fn(&mut Vec<T>),
) -> Vec<(&'a str, Vec<T>)> {
    // Each bucket with whether it grew after it was prepared.
    let mut buckets: HashMap<&str, (Vec<T>, bool), IdHash> = HashMap::default();
    let mut flush = |group: &'a GroupId, mut run: Vec<T>| match buckets.entry(group.as_str()) {
        Entry::Vacant(entry) => {
            prepare(&mut run);
            entry.insert((run, false));
        }
        Entry::Occupied(mut entry) => {
            let (bucket, grew) = entry.get_mut();
            bucket.append(&mut run);
            *grew = true;
        }
    };
    // One scratch vector collects every run; each run then moves out in a vector
    // of exactly its size (a new bucket, or appended to its group's bucket),
    // instead of growing (and copying) a vector per run.
    let mut run: Vec<T> = Vec::new();
    let exact = |run: &mut Vec<T>| {
        let mut bucket = Vec::with_capacity(run.len());
        bucket.append(run);
        bucket
    };
    let mut current: Option<&GroupId> = None;
    for (group, item) in items {
        if let Some(previous) = current
            && previous != group
        {
            flush(previous, exact(&mut run));
        }
        current = Some(group);
        run.push(item);
    }
    if let Some(group) = current {
        flush(group, exact(&mut run));
    }
    buckets
        .into_iter()
        .map(|(group, (mut bucket, grew))| {
            if grew {
                prepare(&mut bucket);
            }
            (group, bucket)
        })
        .collect()
}

/// Each group's sorted bucket split into its ingress and egress parts (rules sort
/// by direction first, ingress before egress).
fn by_direction<'a, T>(buckets: Vec<(&'a str, Vec<Keyed<'a, T>>)>) -> RulesBy<'a, T> {
    let mut by = BTreeMap::new();
    for (group_id, mut ingress) in buckets {
        let egress =
            ingress.split_off(ingress.partition_point(|r| r.key.direction() == Direction::Ingress));
        for (side, rules) in [(Direction::Ingress, ingress), (Direction::Egress, egress)] {
            if !rules.is_empty() {
                by.insert((group_id, side), rules);
            }
        }
    }
    by
}

/// Rules (declared or live) by group and direction, each beside its key.
pub type RulesBy<'a, T> = BTreeMap<(&'a str, Direction), Vec<Keyed<'a, T>>>;
