//! The security-group resources of a state, normalised into the canonical model.
//!
//! | resource | yields |
//! |---|---|
//! | `aws_security_group`, `aws_default_security_group` | a managed group and its inline rules |
//! | `aws_security_group_rule` | one rule per peer |
//! | `aws_vpc_security_group_ingress_rule` / `_egress_rule` | exactly one rule |
//! | `data "aws_security_group"` | a group the state only reads |
//! | `aws_lb`/`aws_alb` `security_groups`, `aws_instance` `vpc_security_group_ids`, `aws_network_interface` `security_groups`, `aws_lambda_function` `vpc_config.security_group_ids` | the groups declared for what carries them |
//! | `aws_network_interface_sg_attachment` | one group added to an interface |
//! | `aws_ecs_service` `network_configuration.security_groups` | the groups of its tasks |

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::lenient;
use crate::model::{
    CarrierRef, DeclaredAttachment, DeclaredGroup, DeclaredRule, Direction, GroupId, GroupRead,
    Intent, Owner, Peer, Places, Protocol, Rule, Scope, SecurityGroup, Tags, comparable_tags,
    share_group_ids,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    Group,
    DefaultGroup,
    GroupRule,
    VpcIngressRule,
    VpcEgressRule,
    GroupData,
    /// A resource that declares the groups something carries.
    Carrier(CarrierKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CarrierKind {
    LoadBalancer,
    Instance,
    NetworkInterface,
    InterfaceGroupAttachment,
    LambdaFunction,
    EcsService,
}

impl ResourceKind {
    pub fn of(mode: &str, kind: &str) -> Option<ResourceKind> {
        Some(match (mode, kind) {
            ("managed", "aws_security_group") => ResourceKind::Group,
            ("managed", "aws_default_security_group") => ResourceKind::DefaultGroup,
            ("managed", "aws_security_group_rule") => ResourceKind::GroupRule,
            ("managed", "aws_vpc_security_group_ingress_rule") => ResourceKind::VpcIngressRule,
            ("managed", "aws_vpc_security_group_egress_rule") => ResourceKind::VpcEgressRule,
            ("data", "aws_security_group") => ResourceKind::GroupData,
            ("managed", "aws_lb" | "aws_alb") => ResourceKind::Carrier(CarrierKind::LoadBalancer),
            ("managed", "aws_instance") => ResourceKind::Carrier(CarrierKind::Instance),
            ("managed", "aws_network_interface") => {
                ResourceKind::Carrier(CarrierKind::NetworkInterface)
            }
            ("managed", "aws_network_interface_sg_attachment") => {
                ResourceKind::Carrier(CarrierKind::InterfaceGroupAttachment)
            }
            ("managed", "aws_lambda_function") => {
                ResourceKind::Carrier(CarrierKind::LambdaFunction)
            }
            ("managed", "aws_ecs_service") => ResourceKind::Carrier(CarrierKind::EcsService),
            _ => return None,
        })
    }

    pub fn is_data(self) -> bool {
        self == ResourceKind::GroupData
    }
}

/// The attributes of every resource kind above, as the AWS provider writes them.
/// Field names follow the provider's schema; unknown attributes are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct Attributes {
    id: Option<String>,
    arn: Option<String>,
    name: Option<String>,
    description: Option<String>,
    vpc_id: Option<String>,
    owner_id: Option<String>,
    tags: Option<Tags>,
    tags_all: Option<Tags>,
    ingress: Option<Vec<InlineRule>>,
    egress: Option<Vec<InlineRule>>,
    // aws_security_group_rule
    #[serde(rename = "type")]
    direction: Option<String>,
    security_group_id: Option<String>,
    #[serde(default, deserialize_with = "opt_protocol")]
    protocol: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    from_port: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    to_port: Option<i64>,
    cidr_blocks: Option<Vec<String>>,
    ipv6_cidr_blocks: Option<Vec<String>>,
    prefix_list_ids: Option<Vec<String>>,
    source_security_group_id: Option<String>,
    #[serde(rename = "self", default, deserialize_with = "lenient::opt_bool")]
    self_peer: Option<bool>,
    security_group_rule_id: Option<String>,
    // aws_vpc_security_group_*_rule
    #[serde(default, deserialize_with = "opt_protocol")]
    ip_protocol: Option<String>,
    cidr_ipv4: Option<String>,
    cidr_ipv6: Option<String>,
    prefix_list_id: Option<String>,
    referenced_security_group_id: Option<String>,
    // what carries groups
    security_groups: Option<Vec<String>>,
    vpc_security_group_ids: Option<Vec<String>>,
    network_interface_id: Option<String>,
    function_name: Option<String>,
    vpc_config: Option<Vec<VpcConfig>>,
    cluster: Option<String>,
    network_configuration: Option<Vec<NetworkConfiguration>>,
}

/// `aws_ecs_service.network_configuration[0]`.
#[derive(Debug, Default, Deserialize)]
struct NetworkConfiguration {
    security_groups: Option<Vec<String>>,
}

/// `aws_lambda_function.vpc_config[0]`.
#[derive(Debug, Default, Deserialize)]
struct VpcConfig {
    security_group_ids: Option<Vec<String>>,
}

impl Attributes {
    /// The rule a rule resource declares towards one of its peers.
    fn rule(
        &self,
        group_id: GroupId,
        direction: Direction,
        protocol: Protocol,
        peer: Peer,
    ) -> Result<Rule, String> {
        Rule::new(
            group_id,
            direction,
            protocol,
            self.from_port,
            self.to_port,
            peer,
            self.description.as_deref(),
        )
        .map_err(|e| e.to_string())
    }
}

/// One block of an `ingress`/`egress` list; several peers each.
#[derive(Debug, Deserialize)]
struct InlineRule {
    #[serde(deserialize_with = "lenient::protocol")]
    protocol: String,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    from_port: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    to_port: Option<i64>,
    cidr_blocks: Option<Vec<String>>,
    ipv6_cidr_blocks: Option<Vec<String>>,
    prefix_list_ids: Option<Vec<String>>,
    security_groups: Option<Vec<String>>,
    #[serde(rename = "self", default, deserialize_with = "lenient::opt_bool")]
    self_peer: Option<bool>,
    description: Option<String>,
}

fn opt_protocol<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct Wrapped(#[serde(deserialize_with = "lenient::protocol")] String);
    Ok(Option::<Wrapped>::deserialize(d)?.map(|w| w.0))
}

/// The peers a rule block names, deduplicated: `self = true` also fills the computed
/// `source_security_group_id` with the group's own id, and that is one peer, not two.
struct PeerLists<'a> {
    ipv4: &'a [String],
    ipv6: &'a [String],
    prefix_lists: &'a [String],
    groups: Vec<&'a str>,
    self_peer: bool,
}

impl PeerLists<'_> {
    fn peers(&self, own_group: &str) -> Result<Vec<Peer>, String> {
        let count = self.ipv4.len()
            + self.ipv6.len()
            + self.prefix_lists.len()
            + self.groups.len()
            + usize::from(self.self_peer);
        let mut peers = Vec::with_capacity(count);
        for cidr in self.ipv4 {
            peers.push(Peer::ipv4(cidr).map_err(|e| e.to_string())?);
        }
        for cidr in self.ipv6 {
            peers.push(Peer::ipv6(cidr).map_err(|e| e.to_string())?);
        }
        for id in self.prefix_lists {
            peers.push(Peer::PrefixList(id.trim().to_string()));
        }
        for id in &self.groups {
            peers.push(Peer::group(id));
        }
        if self.self_peer {
            peers.push(Peer::group(own_group));
        }
        peers.sort_unstable();
        peers.dedup();
        Ok(peers)
    }
}

fn list(v: &Option<Vec<String>>) -> &[String] {
    v.as_deref().unwrap_or(&[])
}

/// `arn:aws:ec2:REGION:ACCOUNT:security-group/sg-…` → (account, region).
fn arn_scope(arn: Option<&str>) -> (Option<String>, Option<String>) {
    let Some(arn) = arn else {
        return (None, None);
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let nonempty = |s: &str| (!s.is_empty()).then(|| s.to_string());
    match parts.as_slice() {
        ["arn", _, _, region, account, _] => (nonempty(account), nonempty(region)),
        _ => (None, None),
    }
}

fn declared_tags(attrs: &Attributes) -> Tags {
    comparable_tags(
        attrs
            .tags_all
            .as_ref()
            .or(attrs.tags.as_ref())
            .unwrap_or(&Tags::new()),
    )
}

fn required<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str, String> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("missing field \"{field}\""))
}

/// Which declarations a reader keeps: all of them (a whole scan), those of one
/// scope (a scope of a run split by scope), or none (planning that run, which
/// needs only where they live).
#[derive(Debug, Clone, PartialEq)]
pub enum Keep {
    All,
    Within(Scope),
    Nothing,
}

impl Keep {
    fn apply(&self, mut intent: Intent) -> Intent {
        match self {
            Keep::All => intent,
            Keep::Within(scope) => {
                intent.retain_within(scope);
                intent
            }
            Keep::Nothing => Intent::default(),
        }
    }
}

/// The attributes that say where an instance lives, read without the rest.
#[derive(Debug, Deserialize)]
struct PlaceHint {
    id: Option<String>,
    arn: Option<String>,
    owner_id: Option<String>,
    security_group_id: Option<String>,
}

/// Collects one state's resources; `finish` gives what it keeps of the state's
/// intent.
pub struct StateReader {
    location: String,
    /// What the instance being read declares, until `settle` keeps what `keep` keeps.
    intent: Intent,
    keep: Keep,
    kept: Intent,
    /// Where everything read lives, when planning (`Keep::Nothing`).
    places: Places,
    /// Rules of a rule resource (no ARN) whose group is not read yet: placed by
    /// `finish`.
    unplaced_rules: Vec<DeclaredRule>,
    /// Where each group of this state lives, for rules that carry no ARN.
    group_scopes: HashMap<String, Place>,
    /// Where the declarations of the instances added since the last
    /// `take_landing` went, when noted (`noting_landings`).
    landing: Option<Landing>,
}

/// (account, region), each `None` where unsaid.
pub type Place = (Option<String>, Option<String>);

/// Where one instance's declarations live: the places they name, and the groups
/// whose place its rules take once that group is read (a rule resource read
/// before its group).
#[derive(Debug, Default)]
pub struct Landing {
    pub places: Vec<Place>,
    pub waiting_on: Vec<String>,
}

impl StateReader {
    pub fn new(location: &str, keep: Keep) -> StateReader {
        StateReader {
            location: location.to_string(),
            intent: Intent::default(),
            keep,
            kept: Intent::default(),
            places: Places::default(),
            unplaced_rules: Vec::new(),
            group_scopes: HashMap::new(),
            landing: None,
        }
    }

    /// The same reader, noting where the declarations of each instance live.
    pub fn noting_landings(mut self) -> StateReader {
        self.landing = Some(Landing::default());
        self
    }

    /// Where the declarations of the instances added since the last call live,
    /// when noted.
    pub fn take_landing(&mut self) -> Landing {
        self.landing
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Where the group `id` lives, as far as this state says.
    pub fn group_place(&self, id: &str) -> Place {
        self.group_scopes.get(id).cloned().unwrap_or_default()
    }

    pub fn add(
        &mut self,
        kind: ResourceKind,
        address: String,
        attrs: Attributes,
    ) -> Result<(), String> {
        let owner = Owner::terraform(&self.location, address);
        match kind {
            ResourceKind::Group | ResourceKind::DefaultGroup => self.add_group(owner, attrs),
            ResourceKind::GroupRule => self.add_group_rule(owner, attrs),
            ResourceKind::VpcIngressRule => self.add_vpc_rule(owner, attrs, Direction::Ingress),
            ResourceKind::VpcEgressRule => self.add_vpc_rule(owner, attrs, Direction::Egress),
            ResourceKind::GroupData => self.add_read(owner, attrs),
            ResourceKind::Carrier(kind) => self.add_attachment(kind, owner, attrs),
        }?;
        self.settle(false);
        Ok(())
    }

    /// Whether an instance of `kind` with these attributes is left unread: it lives
    /// outside the one scope this reader keeps, as its attributes say (`outside`).
    pub fn skips(&mut self, kind: ResourceKind, attributes: Option<&RawValue>) -> bool {
        if !matches!(self.keep, Keep::Within(_)) {
            return false;
        }
        let hint = attributes.and_then(|raw| serde_json::from_str::<PlaceHint>(raw.get()).ok());
        hint.is_some_and(|hint| self.outside(kind, hint))
    }

    /// Whether an instance lives outside the scope this reader keeps, told from
    /// `hint` as `add` and `settle` would place it; when unsure, it is not. This
    /// keeps a scope's reading of a state cheap where it streams the whole state
    /// (one not indexed when the run was planned). A group's place is noted either
    /// way, for its rule resources.
    fn outside(&mut self, kind: ResourceKind, hint: PlaceHint) -> bool {
        let Keep::Within(scope) = &self.keep else {
            return false;
        };
        let (account, region) = match kind {
            ResourceKind::Group | ResourceKind::DefaultGroup => {
                let (account, region) = arn_scope(hint.arn.as_deref());
                let place = (account.or(hint.owner_id), region);
                match hint.id {
                    Some(id) => {
                        self.group_scopes.insert(id, place.clone());
                        place
                    }
                    None => return false,
                }
            }
            ResourceKind::GroupRule
            | ResourceKind::VpcIngressRule
            | ResourceKind::VpcEgressRule => {
                let own = match kind {
                    ResourceKind::GroupRule => (None, None),
                    _ => arn_scope(hint.arn.as_deref()),
                };
                if own != (None, None) {
                    own
                } else {
                    let group = hint.security_group_id.as_deref().unwrap_or_default();
                    match self.group_scopes.get(group) {
                        Some(place) => place.clone(),
                        None => return false,
                    }
                }
            }
            ResourceKind::GroupData => arn_scope(hint.arn.as_deref()),
            ResourceKind::Carrier(CarrierKind::EcsService) => arn_scope(hint.id.as_deref()),
            ResourceKind::Carrier(_) => arn_scope(hint.arn.as_deref()),
        };
        !scope.covers(account.as_deref(), region.as_deref())
    }

    /// Notes where what the last instance declared lives, and keeps what `keep`
    /// keeps, so that a reader of one scope never holds another's declarations. A
    /// rule resource's rules live where their group does: until that group is read
    /// (`last`: never), they wait in `unplaced_rules`.
    fn settle(&mut self, last: bool) {
        let mut part = std::mem::take(&mut self.intent);
        for mut rule in std::mem::take(&mut part.rules) {
            if rule.account_id.is_none() && rule.region.is_none() {
                match self.group_scopes.get(rule.rule.group_id.as_str()) {
                    Some((account, region)) => {
                        rule.account_id = account.clone();
                        rule.region = region.clone();
                    }
                    None if !last => {
                        if let Some(landing) = &mut self.landing {
                            let group = rule.rule.group_id.as_str();
                            if !landing.waiting_on.iter().any(|g| g == group) {
                                landing.waiting_on.push(group.to_string());
                            }
                        }
                        self.unplaced_rules.push(rule);
                        continue;
                    }
                    None => {}
                }
            }
            part.rules.push(rule);
        }
        if let Some(landing) = &mut self.landing {
            for (account, region) in part.places() {
                let place = (account.map(str::to_string), region.map(str::to_string));
                if !landing.places.contains(&place) {
                    landing.places.push(place);
                }
            }
        }
        if self.keep == Keep::Nothing {
            self.places.extend(Places::of(&part));
        }
        self.kept.extend(self.keep.apply(part));
    }

    /// The groups a resource declares for what carries them. A load balancer
    /// without groups (a Network Load Balancer before it had any) and a function
    /// outside a VPC declare none: nothing to compare.
    fn add_attachment(
        &mut self,
        kind: CarrierKind,
        owner: Owner,
        attrs: Attributes,
    ) -> Result<(), String> {
        // A service's id is its ARN; the other resources have an `arn`.
        let arn = match kind {
            CarrierKind::EcsService => attrs.id.as_deref(),
            _ => attrs.arn.as_deref(),
        };
        let (account_id, region) = arn_scope(arn);
        let (carrier, groups, adds_only) = match kind {
            CarrierKind::LoadBalancer => {
                let arn = required(&attrs.arn, "arn")?;
                let carrier = CarrierRef::load_balancer(arn)
                    .ok_or_else(|| format!("arn: not a load balancer's ARN: {arn:?}"))?;
                (carrier, attrs.security_groups, false)
            }
            CarrierKind::Instance => {
                let id = required(&attrs.id, "id")?;
                (
                    CarrierRef::Instance(id.to_string()),
                    attrs.vpc_security_group_ids,
                    false,
                )
            }
            CarrierKind::NetworkInterface => {
                let id = required(&attrs.id, "id")?;
                (
                    CarrierRef::Interface(id.to_string()),
                    attrs.security_groups,
                    false,
                )
            }
            CarrierKind::InterfaceGroupAttachment => {
                let id = required(&attrs.network_interface_id, "network_interface_id")?;
                let group = required(&attrs.security_group_id, "security_group_id")?;
                (
                    CarrierRef::Interface(id.to_string()),
                    Some(vec![group.to_string()]),
                    true,
                )
            }
            CarrierKind::LambdaFunction => {
                let name = required(&attrs.function_name, "function_name")?;
                let groups = attrs
                    .vpc_config
                    .into_iter()
                    .flatten()
                    .flat_map(|c| c.security_group_ids.unwrap_or_default())
                    .collect();
                (CarrierRef::Lambda(name.to_string()), Some(groups), false)
            }
            CarrierKind::EcsService => {
                let name = required(&attrs.name, "name")?;
                // `cluster` is the cluster's ARN (`…:cluster/prod`) or its name.
                let cluster = required(&attrs.cluster, "cluster")?;
                let cluster = cluster.rsplit('/').next().unwrap_or(cluster);
                let groups = attrs
                    .network_configuration
                    .into_iter()
                    .flatten()
                    .flat_map(|c| c.security_groups.unwrap_or_default())
                    .collect();
                (
                    CarrierRef::EcsService(format!("{cluster}/{name}")),
                    Some(groups),
                    false,
                )
            }
        };
        let mut groups: Vec<String> = groups
            .unwrap_or_default()
            .into_iter()
            .filter(|g| !g.is_empty())
            .collect();
        groups.sort();
        groups.dedup();
        if groups.is_empty() {
            return Ok(());
        }
        self.intent.attachments.push(DeclaredAttachment {
            carrier,
            groups,
            adds_only,
            owner,
            account_id,
            region,
        });
        Ok(())
    }

    /// What was kept, and where everything read lives when planning.
    pub fn finish(mut self) -> (Intent, Places) {
        self.landing = None;
        self.intent.rules = std::mem::take(&mut self.unplaced_rules);
        self.settle(true);
        share_group_ids(self.kept.rules.iter_mut().map(|r| &mut r.rule.group_id));
        (self.kept, self.places)
    }

    fn add_group(&mut self, owner: Owner, attrs: Attributes) -> Result<(), String> {
        let id = required(&attrs.id, "id")?.to_string();
        let (account_id, region) = arn_scope(attrs.arn.as_deref());
        let account_id = account_id.or_else(|| attrs.owner_id.clone());
        self.group_scopes
            .insert(id.clone(), (account_id.clone(), region.clone()));
        // One id for all the group's rules (`finish` shares it across resources).
        let group_id = GroupId::from(id.as_str());
        for (direction, blocks, field) in [
            (Direction::Ingress, &attrs.ingress, "ingress"),
            (Direction::Egress, &attrs.egress, "egress"),
        ] {
            for (i, block) in blocks.iter().flatten().enumerate() {
                let in_block = |e: String| format!("{field}[{i}]: {e}");
                let protocol =
                    Protocol::parse(&block.protocol).map_err(|e| in_block(e.to_string()))?;
                let peers = PeerLists {
                    ipv4: list(&block.cidr_blocks),
                    ipv6: list(&block.ipv6_cidr_blocks),
                    prefix_lists: list(&block.prefix_list_ids),
                    groups: list(&block.security_groups)
                        .iter()
                        .map(String::as_str)
                        .collect(),
                    self_peer: block.self_peer.unwrap_or(false),
                }
                .peers(&id)
                .map_err(in_block)?;
                for peer in peers {
                    let rule = Rule::new(
                        group_id.clone(),
                        direction,
                        protocol,
                        block.from_port,
                        block.to_port,
                        peer,
                        block.description.as_deref(),
                    )
                    .map_err(|e| in_block(e.to_string()))?;
                    self.intent.rules.push(DeclaredRule {
                        rule,
                        owner: owner.clone(),
                        inline: true,
                        account_id: account_id.clone(),
                        region: region.clone(),
                    });
                }
            }
        }
        let tags = declared_tags(&attrs);
        self.intent.groups.push(DeclaredGroup {
            group: SecurityGroup {
                id,
                name: attrs.name,
                description: attrs.description,
                vpc_id: attrs.vpc_id.filter(|v| !v.is_empty()),
                tags: Some(tags),
                account_id,
                region,
            },
            owner,
        });
        Ok(())
    }

    fn add_group_rule(&mut self, owner: Owner, attrs: Attributes) -> Result<(), String> {
        let group_id = required(&attrs.security_group_id, "security_group_id")?;
        let direction = match required(&attrs.direction, "type")? {
            "ingress" => Direction::Ingress,
            "egress" => Direction::Egress,
            other => {
                return Err(format!(
                    "type: expected \"ingress\" or \"egress\", found {other:?}"
                ));
            }
        };
        let protocol =
            Protocol::parse(required(&attrs.protocol, "protocol")?).map_err(|e| e.to_string())?;
        let peers = PeerLists {
            ipv4: list(&attrs.cidr_blocks),
            ipv6: list(&attrs.ipv6_cidr_blocks),
            prefix_lists: list(&attrs.prefix_list_ids),
            groups: attrs
                .source_security_group_id
                .as_deref()
                .filter(|id| !id.is_empty())
                .into_iter()
                .collect(),
            self_peer: attrs.self_peer.unwrap_or(false),
        }
        .peers(group_id)?;
        let group_id = GroupId::from(group_id);
        if peers.is_empty() {
            return Err("rule names no peer (cidr_blocks, ipv6_cidr_blocks, prefix_list_ids, source_security_group_id or self)".into());
        }
        // The provider records one rule id even when the resource expands to several
        // API rules; it identifies a rule only when there is exactly one.
        let rule_id = (peers.len() == 1)
            .then_some(attrs.security_group_rule_id.as_deref())
            .flatten();
        for peer in peers {
            let rule = attrs
                .rule(group_id.clone(), direction, protocol, peer)?
                .with_rule_id(rule_id);
            self.intent.rules.push(DeclaredRule {
                rule,
                owner: owner.clone(),
                inline: false,
                account_id: None,
                region: None,
            });
        }
        Ok(())
    }

    fn add_vpc_rule(
        &mut self,
        owner: Owner,
        attrs: Attributes,
        direction: Direction,
    ) -> Result<(), String> {
        let group_id = required(&attrs.security_group_id, "security_group_id")?;
        let protocol = Protocol::parse(required(&attrs.ip_protocol, "ip_protocol")?)
            .map_err(|e| e.to_string())?;
        let nonempty =
            |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_string);
        let mut peers = Vec::new();
        if let Some(cidr) = nonempty(&attrs.cidr_ipv4) {
            peers.push(Peer::ipv4(&cidr).map_err(|e| e.to_string())?);
        }
        if let Some(cidr) = nonempty(&attrs.cidr_ipv6) {
            peers.push(Peer::ipv6(&cidr).map_err(|e| e.to_string())?);
        }
        if let Some(id) = nonempty(&attrs.prefix_list_id) {
            peers.push(Peer::PrefixList(id));
        }
        if let Some(id) = nonempty(&attrs.referenced_security_group_id) {
            peers.push(Peer::group(&id));
        }
        let [peer] = <[Peer; 1]>::try_from(peers).map_err(|found| {
            format!(
                "expected exactly one of cidr_ipv4, cidr_ipv6, prefix_list_id, referenced_security_group_id; found {}",
                found.len()
            )
        })?;
        let rule_id = attrs
            .security_group_rule_id
            .as_deref()
            .or(attrs.id.as_deref());
        let rule = attrs
            .rule(GroupId::from(group_id), direction, protocol, peer)?
            .with_rule_id(rule_id)
            .with_tags(Some(declared_tags(&attrs)));
        let (account_id, region) = arn_scope(attrs.arn.as_deref());
        self.intent.rules.push(DeclaredRule {
            rule,
            owner,
            inline: false,
            account_id,
            region,
        });
        Ok(())
    }

    fn add_read(&mut self, reader: Owner, attrs: Attributes) -> Result<(), String> {
        let group_id = required(&attrs.id, "id")?.to_string();
        let (account_id, region) = arn_scope(attrs.arn.as_deref());
        self.intent.reads.push(GroupRead {
            group_id,
            name: attrs.name,
            reader,
            account_id,
            region,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_scopes() {
        assert_eq!(
            arn_scope(Some(
                "arn:aws:ec2:eu-west-1:871794273757:security-group/sg-1"
            )),
            (Some("871794273757".into()), Some("eu-west-1".into()))
        );
        assert_eq!(arn_scope(Some("garbage")), (None, None));
        assert_eq!(arn_scope(None), (None, None));
    }

    /// A rule resource's protocol may be missing, null, text or a bare number.
    #[test]
    fn rule_protocols() {
        use serde_json::json;
        let protocol = |value: serde_json::Value| {
            serde_json::from_value::<Attributes>(value)
                .map(|a| (a.protocol, a.ip_protocol))
                .map_err(|e| e.to_string())
        };
        assert_eq!(protocol(json!({})), Ok((None, None)));
        assert_eq!(protocol(json!({"protocol": null})), Ok((None, None)));
        assert_eq!(
            protocol(json!({"protocol": "tcp", "ip_protocol": 6})),
            Ok((Some("tcp".into()), Some("6".into())))
        );
        let err = protocol(json!({"ip_protocol": true})).unwrap_err();
        assert!(
            err.starts_with("invalid type: boolean `true`, expected a protocol name or number"),
            "{err}"
        );
    }

    /// `self`, the computed `source_security_group_id` that repeats it, and CIDRs
    /// written two ways each give one peer; the result is in `Peer` order.
    #[test]
    fn peers_of_a_rule_block() {
        const OWN: &str = "sg-0a0000000000000aa";
        /// A rule block's peer attributes, as written in the state.
        #[derive(Debug, Default, Clone, Copy)]
        struct Block {
            ipv4: &'static [&'static str],
            ipv6: &'static [&'static str],
            lists: &'static [&'static str],
            groups: &'static [&'static str],
            self_peer: bool,
        }
        let peers = |b: Block| -> Result<Vec<String>, String> {
            let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
            let (ipv4, ipv6, lists) = (strings(b.ipv4), strings(b.ipv6), strings(b.lists));
            let block = PeerLists {
                ipv4: &ipv4,
                ipv6: &ipv6,
                prefix_lists: &lists,
                groups: b.groups.to_vec(),
                self_peer: b.self_peer,
            };
            Ok(block
                .peers(OWN)?
                .iter()
                .map(|p| format!("{}:{}", p.kind(), p.value()))
                .collect())
        };
        let own = "security_group:sg-0a0000000000000aa";
        let none = Block::default();
        let cases: [(Block, &[&str]); 8] = [
            (none, &[]),
            (
                Block {
                    self_peer: true,
                    ..none
                },
                &[own],
            ),
            // `self = true` also fills source_security_group_id with the own id.
            (
                Block {
                    groups: &[OWN],
                    self_peer: true,
                    ..none
                },
                &[own],
            ),
            // Some modules write a self rule only as the own group's id.
            (
                Block {
                    groups: &[OWN],
                    ..none
                },
                &[own],
            ),
            (
                Block {
                    groups: &["sg-0b0000000000000bb"],
                    self_peer: true,
                    ..none
                },
                &[own, "security_group:sg-0b0000000000000bb"],
            ),
            // A cross-account reference keeps only the group id.
            (
                Block {
                    groups: &["123456789012/sg-0c0000000000000cc"],
                    ..none
                },
                &["security_group:sg-0c0000000000000cc"],
            ),
            // Host bits set, written twice, padded: one network each.
            (
                Block {
                    ipv4: &["10.0.0.1/8", "10.0.0.0/8", " 0.0.0.0/0 "],
                    ipv6: &["2001:db8::1/32"],
                    lists: &[" pl-63a5400a"],
                    ..none
                },
                &[
                    "cidr_ipv4:0.0.0.0/0",
                    "cidr_ipv4:10.0.0.0/8",
                    "cidr_ipv6:2001:db8::/32",
                    "prefix_list:pl-63a5400a",
                ],
            ),
            (
                Block {
                    ipv4: &["10.0.0.0/8"],
                    self_peer: true,
                    ..none
                },
                &["cidr_ipv4:10.0.0.0/8", own],
            ),
        ];
        for (block, want) in cases {
            assert_eq!(peers(block).unwrap(), want, "{block:?}");
        }
        let bad = Block {
            ipv4: &["10.0.0.0/33"],
            ..none
        };
        assert_eq!(peers(bad).unwrap_err(), "invalid IPv4 CIDR \"10.0.0.0/33\"");
    }
}
