//! Where each instance of a state lies in its text, and where its declarations
//! live. Built while a run split by scope is planned (the one pass that reads the
//! whole state), it lets each scope read only its own instances from the state's
//! temporary copy, so that reading a state for every scope of a run costs about
//! one reading of it, not one per scope. It holds no declaration: a few numbers
//! per instance, and each resource's name once.

use std::collections::HashMap;

use super::address::{IndexKey, resource_address};
use super::resources::{Landing, Place, ResourceKind, StateReader};
use crate::model::Scope;

/// What names a resource's instances: its kind, module, type and name.
#[derive(Debug, Clone)]
pub struct ResourceName {
    pub kind: ResourceKind,
    pub module: Option<String>,
    pub type_name: String,
    pub name: String,
}

impl ResourceName {
    /// The address of one of its instances, as findings name it.
    pub fn address(&self, index_key: Option<&IndexKey>) -> String {
        resource_address(
            self.module.as_deref(),
            self.kind.is_data(),
            &self.type_name,
            &self.name,
            index_key,
        )
    }
}

/// One instance's text: `len` bytes from `start`, declaring things in `place`
/// (of `StateIndex::places`), an instance of `resource` (of its `resources`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    pub start: u64,
    pub len: u64,
    resource: usize,
    place: usize,
}

#[derive(Debug, Default)]
pub struct StateIndex {
    resources: Vec<ResourceName>,
    places: Vec<Place>,
    /// In the order of the text; an instance declaring things in two places has
    /// two spans.
    spans: Vec<Span>,
}

impl StateIndex {
    pub fn resource(&self, span: &Span) -> &ResourceName {
        &self.resources[span.resource]
    }

    /// The instances that declare something `scope` covers, in the order of the
    /// text, each once.
    pub fn spans_within(&self, scope: &Scope) -> Vec<Span> {
        let covered: Vec<bool> = self
            .places
            .iter()
            .map(|(account, region)| scope.covers(account.as_deref(), region.as_deref()))
            .collect();
        let mut spans: Vec<Span> = self
            .spans
            .iter()
            .filter(|span| covered[span.place])
            .copied()
            .collect();
        spans.dedup_by_key(|span| span.start);
        spans
    }
}

/// Builds the index as the planning pass reads the state.
#[derive(Debug, Default)]
pub struct IndexBuilder {
    index: StateIndex,
    place_ids: HashMap<Place, usize>,
    /// Spans (with no place yet) whose place is their group's, told once the
    /// state is read.
    waiting: Vec<(Span, String)>,
    /// The resource being read, once one of its instances is noted.
    current: Option<usize>,
}

impl IndexBuilder {
    /// A new resource begins.
    pub fn next_resource(&mut self) {
        self.current = None;
    }

    /// Notes the instance read from `start` to `end`, with where what it declares
    /// lives; an instance declaring nothing is never read again.
    pub fn instance(&mut self, resource: &ResourceName, start: u64, end: u64, landing: Landing) {
        if landing.places.is_empty() && landing.waiting_on.is_empty() {
            return;
        }
        let resource = *self.current.get_or_insert_with(|| {
            self.index.resources.push(resource.clone());
            self.index.resources.len() - 1
        });
        let span = |place| Span {
            start,
            len: end - start,
            resource,
            place,
        };
        for place in landing.places {
            let place = self.place_id(place);
            self.index.spans.push(span(place));
        }
        for group in landing.waiting_on {
            self.waiting.push((span(0), group));
        }
    }

    /// The index, once `reader` has read the whole state: each span that waited
    /// for its group takes the place that group has, as `StateReader::finish`
    /// places the rules.
    pub fn finish(mut self, reader: &StateReader) -> StateIndex {
        for (mut span, group) in std::mem::take(&mut self.waiting) {
            span.place = self.place_id(reader.group_place(&group));
            self.index.spans.push(span);
        }
        // Back in the order of the text (stable: an instance's spans stay together).
        self.index.spans.sort_by_key(|span| span.start);
        self.index
    }

    fn place_id(&mut self, place: Place) -> usize {
        let places = &mut self.index.places;
        *self.place_ids.entry(place).or_insert_with_key(|place| {
            places.push(place.clone());
            places.len() - 1
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::terraform::resources::Keep;

    fn place(account: &str, region: &str) -> Place {
        (Some(account.to_string()), Some(region.to_string()))
    }

    /// A scope reads the instances of the places it covers, each once and in the
    /// order of the text; a rule waiting for its group goes where the group lives.
    #[test]
    fn a_scope_reads_the_instances_of_its_places() {
        let name = ResourceName {
            kind: ResourceKind::Group,
            module: None,
            type_name: "aws_security_group".into(),
            name: "g".into(),
        };
        let landing = |places: Vec<Place>, waiting_on: &[&str]| Landing {
            places,
            waiting_on: waiting_on.iter().map(|g| g.to_string()).collect(),
        };
        let mut builder = IndexBuilder::default();
        builder.next_resource();
        builder.instance(&name, 10, 20, landing(vec![place("1", "a")], &[]));
        builder.instance(&name, 21, 30, landing(vec![], &[]));
        builder.instance(&name, 31, 40, landing(vec![place("2", "a")], &[]));
        builder.instance(
            &name,
            41,
            50,
            landing(vec![place("1", "a"), place("2", "a")], &[]),
        );
        builder.next_resource();
        builder.instance(&name, 51, 60, landing(vec![], &["sg-2"]));
        builder.instance(&name, 61, 70, landing(vec![], &["sg-unknown"]));
        let mut reader = StateReader::new("s", Keep::Nothing);
        let group = serde_json::json!({
            "id": "sg-2", "arn": "arn:aws:ec2:b:3:security-group/sg-2", "name": "two"
        });
        let attributes = serde_json::from_value(group).unwrap();
        reader
            .add(
                ResourceKind::Group,
                "aws_security_group.g".into(),
                attributes,
            )
            .unwrap();
        let index = builder.finish(&reader);
        let starts = |account: Option<&str>, region: Option<&str>| -> Vec<u64> {
            let scope = Scope {
                account_id: account.map(str::to_string),
                region: region.map(str::to_string),
            };
            index.spans_within(&scope).iter().map(|s| s.start).collect()
        };
        // `sg-2` lives in 3/b; no group of the state is `sg-unknown`: its rules
        // are unplaced, so every scope reads them, as the whole state keeps them.
        assert_eq!(starts(Some("1"), Some("a")), [10, 41, 61]);
        assert_eq!(starts(Some("2"), Some("a")), [31, 41, 61]);
        assert_eq!(starts(None, Some("a")), [10, 31, 41, 61]);
        assert_eq!(starts(Some("3"), Some("b")), [51, 61]);
        assert_eq!(starts(None, None), [10, 31, 41, 51, 61]);
        assert_eq!(index.resources.len(), 2);
        let all = Scope {
            account_id: None,
            region: None,
        };
        let span = index.spans_within(&all)[0];
        assert_eq!((span.len, index.resource(&span).name.as_str()), (10, "g"));
    }
}
