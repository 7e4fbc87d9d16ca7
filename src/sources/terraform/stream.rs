//! A state read as a stream, one instance at a time: how each scope of a run split
//! by scope reads the states, so that a replica holds neither a state's text nor
//! the declarations of scopes it is not scanning. Planning the run streams each
//! state once and notes where each instance lies (`index`); each scope then reads
//! only its own instances (`read_indexed`). What the stream cannot read (a
//! byte-order mark, keys in an order Terraform never writes, any error) gives
//! `None`: the caller reads that state whole (`document`), which also says exactly
//! what is wrong.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufReader, Read};
use std::rc::Rc;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::address::IndexKey;
use super::flatmap::unflatten;
use super::index::{IndexBuilder, ResourceName, StateIndex};
use super::resources::{Attributes, Keep, ResourceKind, StateReader};
use crate::model::{Intent, Places, Scope};

/// What `keep` keeps of the format-4 state `input` holds, and where the
/// declarations read live; `None` where the stream cannot tell.
pub fn parse(location: &str, input: impl Read, keep: Keep) -> Option<(Intent, Places)> {
    Some(walk(location, input, keep, None)?.reader.finish())
}

/// Where the declarations of the state `input` holds live, and where each of its
/// instances lies in it; `None` where the stream cannot tell.
pub fn plan(location: &str, input: impl Read) -> Option<(Places, StateIndex)> {
    let walk = walk(
        location,
        input,
        Keep::Nothing,
        Some(IndexBuilder::default()),
    )?;
    let index = walk.index?.finish(&walk.reader);
    Some((walk.reader.finish().1, index))
}

/// The declarations living in `scope` of the state `input` holds, read from the
/// instances `index` places there; `None` where they cannot be read as indexed.
pub fn read_indexed(
    location: &str,
    input: impl Read + std::io::Seek,
    index: &StateIndex,
    scope: &Scope,
) -> Option<Intent> {
    let mut reader = StateReader::new(location, Keep::Within(scope.clone()));
    let mut input = BufReader::new(input);
    let (mut at, mut text) = (0, Vec::new());
    for span in index.spans_within(scope) {
        let ahead = i64::try_from(span.start.checked_sub(at)?).ok()?;
        input.seek_relative(ahead).ok()?;
        text.resize(usize::try_from(span.len).ok()?, 0);
        input.read_exact(&mut text).ok()?;
        at = span.start + span.len;
        // An object, as planning found it; anything else means the text moved.
        if text.first() != Some(&b'{') || text.last() != Some(&b'}') {
            return None;
        }
        let instance: Instance = serde_json::from_slice(&text).ok()?;
        add_instance(&mut reader, index.resource(&span), &instance).ok()?;
    }
    Some(reader.finish().0)
}

/// Reads the state, feeding its instances to a reader that keeps what `keep`
/// keeps, and noting where each lies when `index` is given.
fn walk(location: &str, input: impl Read, keep: Keep, index: Option<IndexBuilder>) -> Option<Walk> {
    let offset = Rc::new(Cell::new(0));
    let counted = Counted {
        inner: BufReader::new(input),
        offset: Rc::clone(&offset),
    };
    let reader = StateReader::new(location, keep);
    let mut walk = Walk {
        reader: if index.is_some() {
            reader.noting_landings()
        } else {
            reader
        },
        index,
        offset,
    };
    let mut de = serde_json::Deserializer::from_reader(counted);
    let (version, resources) = State { walk: &mut walk }.deserialize(&mut de).ok()?;
    de.end().ok()?;
    (version == Some(4) && resources).then_some(walk)
}

/// What a walk through a state gathers, and where in the text it is.
struct Walk {
    reader: StateReader,
    index: Option<IndexBuilder>,
    offset: Rc<Cell<u64>>,
}

/// A reader counting the bytes read through it in `offset`: where the parser is
/// in the text.
struct Counted<R> {
    inner: R,
    offset: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.offset.set(self.offset.get() + n as u64);
        Ok(n)
    }
}

/// The document: its `version`, and its `resources` walked.
struct State<'w> {
    walk: &'w mut Walk,
}

impl<'de> DeserializeSeed<'de> for State<'_> {
    /// (`version`, whether `resources` was a list)
    type Value = (Option<u64>, bool);

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for State<'_> {
    type Value = (Option<u64>, bool);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Terraform state")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut version, mut resources) = (None, false);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "version" => version = map.next_value()?,
                "resources" => {
                    map.next_value_seed(Resources {
                        walk: &mut *self.walk,
                    })?;
                    resources = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok((version, resources))
    }
}

struct Resources<'w> {
    walk: &'w mut Walk,
}

impl<'de> DeserializeSeed<'de> for Resources<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Resources<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of resources")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Resource {
                walk: &mut *self.walk,
            })?
            .is_some()
        {}
        Ok(())
    }
}

struct Resource<'w> {
    walk: &'w mut Walk,
}

impl<'de> DeserializeSeed<'de> for Resource<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Resource<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a resource")
    }

    /// Terraform writes `module`, `mode`, `type` and `name` before `instances`; a
    /// resource that does not is left to the whole-document reader.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut fields: BTreeMap<String, Option<String>> = BTreeMap::new();
        let mut instances_read = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "module" | "mode" | "type" | "name" if instances_read => {
                    return Err(de::Error::custom("a resource's name after its instances"));
                }
                "module" | "mode" | "type" | "name" => {
                    fields.insert(key, map.next_value()?);
                }
                "instances" => {
                    let field = |name: &str| fields.get(name).cloned().flatten();
                    let (Some(mode), Some(type_name), Some(name)) =
                        (field("mode"), field("type"), field("name"))
                    else {
                        return Err(de::Error::custom("instances before the resource's name"));
                    };
                    match ResourceKind::of(&mode, &type_name) {
                        Some(kind) => map.next_value_seed(Instances {
                            walk: &mut *self.walk,
                            resource: ResourceName {
                                kind,
                                module: field("module"),
                                type_name,
                                name,
                            },
                        })?,
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                    instances_read = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct Instances<'w> {
    walk: &'w mut Walk,
    resource: ResourceName,
}

/// One instance, its attributes still text until it is known to be kept.
#[derive(Deserialize)]
struct Instance {
    index_key: Option<IndexKey>,
    deposed: Option<String>,
    attributes: Option<Box<RawValue>>,
    attributes_flat: Option<Box<RawValue>>,
}

impl<'de> DeserializeSeed<'de> for Instances<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Instances<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of instances")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Walk {
            reader,
            index,
            offset,
        } = self.walk;
        if let Some(index) = index.as_mut() {
            index.next_resource();
        }
        loop {
            // When indexing, each instance is taken as text first, so that where it
            // lies is known: it ends where the parser is (serde_json reads no byte
            // past an object's closing brace) and began its length before.
            let (instance, span) = if index.is_some() {
                let Some(text) = seq.next_element::<Box<RawValue>>()? else {
                    break;
                };
                let end = offset.get();
                let instance = serde_json::from_str(text.get()).map_err(de::Error::custom)?;
                (instance, Some((end - text.get().len() as u64, end)))
            } else {
                match seq.next_element::<Instance>()? {
                    Some(instance) => (instance, None),
                    None => break,
                }
            };
            if instance.deposed.is_none()
                && reader.skips(self.resource.kind, instance.attributes.as_deref())
            {
                continue;
            }
            add_instance(reader, &self.resource, &instance).map_err(de::Error::custom)?;
            if let (Some(index), Some((start, end))) = (index.as_mut(), span) {
                index.instance(&self.resource, start, end, reader.take_landing());
            }
        }
        Ok(())
    }
}

/// Adds what an instance of `resource` declares to `reader`; a deposed instance
/// (an old object `create_before_destroy` keeps) declares nothing.
fn add_instance(
    reader: &mut StateReader,
    resource: &ResourceName,
    instance: &Instance,
) -> Result<(), String> {
    if instance.deposed.is_some() {
        return Ok(());
    }
    let address = resource.address(instance.index_key.as_ref());
    reader.add(resource.kind, address, attributes(instance)?)
}

/// The instance's attributes, from `attributes` or the legacy flat map.
fn attributes(instance: &Instance) -> Result<Attributes, String> {
    if let Some(raw) = &instance.attributes {
        return serde_json::from_str(raw.get()).map_err(|e| e.to_string());
    }
    let flat = instance
        .attributes_flat
        .as_ref()
        .ok_or("an instance without attributes")?;
    let flat: BTreeMap<String, String> =
        serde_json::from_str(flat.get()).map_err(|e| e.to_string())?;
    serde_json::from_value(unflatten(&flat)?).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::super::document;
    use super::*;

    /// Each scope's reading through the index equals the whole state filtered,
    /// in every place the state declares something; how many places it compared.
    fn indexed_reading_is_the_whole_filtered(location: &str, bytes: &[u8]) -> usize {
        let (whole, _) = document::parse(location, bytes, Keep::All).unwrap();
        let (places, index) = plan(location, bytes).expect("the stream reads it");
        assert_eq!(places, Places::of(&whole), "{location}");
        let here: std::collections::BTreeSet<Scope> = whole
            .places()
            .map(|(account, region)| Scope {
                account_id: account.map(str::to_string),
                region: region.map(str::to_string),
            })
            .collect();
        for scope in &here {
            let part = read_indexed(location, Cursor::new(bytes), &index, scope)
                .unwrap_or_else(|| panic!("{location} in {}: not read as indexed", scope.label()));
            assert_eq!(part, whole.within(scope), "{location} in {}", scope.label());
        }
        here.len()
    }

    /// Where each instance lies is exact whatever surrounds it or is inside it:
    /// odd whitespace between instances, escaped quotes and brackets in strings,
    /// text of several bytes a character.
    #[test]
    fn instances_are_found_where_they_lie() {
        let group = |id: &str, account: &str, region: &str, description: &str| {
            format!(
                r#"{{"index_key": "{id}", "attributes": {{"id": "{id}", "name": "n{id}",
                "arn": "arn:aws:ec2:{region}:{account}:security-group/{id}",
                "description": "{description}", "vpc_id": "vpc-1", "egress": [],
                "ingress": [{{"cidr_blocks": ["10.0.0.0/8"], "description": "{description}",
                "from_port": 443, "to_port": 443, "protocol": "tcp", "self": false}}]}}}}"#
            )
        };
        let state = format!(
            "{{\"version\":4,\"resources\":[ \r\n\t{{\"mode\":\"managed\",\"type\":\"aws_security_group\",\"name\":\"g\",\"instances\":[\n\t {} ,\n\n  {}\t,{}  ]}}\n]}}\n",
            group("sg-1", "111", "eu-west-1", r#"caf\u00e9 \"}]{[\" été 🚀"#),
            group("sg-2", "222", "eu-west-1", r#"\\\" ]} "#),
            group("sg-3", "111", "us-east-1", "日本"),
        );
        assert_eq!(
            indexed_reading_is_the_whole_filtered("odd.tfstate", state.as_bytes()),
            3
        );
    }

    #[test]
    fn every_corpus_state_is_read_as_indexed() {
        let corpus =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/tfstate");
        let (mut states, mut places) = (0, 0);
        for entry in std::fs::read_dir(corpus).unwrap() {
            let path = entry.unwrap().path();
            let location = path.display().to_string();
            let bytes = std::fs::read(&path).unwrap();
            if document::parse(&location, &bytes, Keep::All).is_err() {
                continue;
            }
            places += indexed_reading_is_the_whole_filtered(&location, &bytes);
            states += 1;
        }
        assert!(
            states >= 20 && places >= 20,
            "{states} states, {places} places"
        );
    }
}
