//! A state read as a stream, one instance at a time: how each scope of a run split
//! by scope reads the states, so that a replica holds neither a state's text nor
//! the declarations of scopes it is not scanning. What the stream cannot read (a
//! byte-order mark, keys in an order Terraform never writes, any error) gives
//! `None`: the caller reads that state whole (`document`), which also says exactly
//! what is wrong.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::address::{IndexKey, resource_address};
use super::flatmap::unflatten;
use super::resources::{Attributes, Keep, ResourceKind, StateReader};
use crate::model::{Intent, Places};

/// What `keep` keeps of the format-4 state `input` holds, and where the
/// declarations read live; `None` where the stream cannot tell.
pub fn parse(location: &str, input: impl Read, keep: Keep) -> Option<(Intent, Places)> {
    let mut reader = StateReader::new(location, keep);
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::new(input));
    let (version, resources) = State {
        reader: &mut reader,
    }
    .deserialize(&mut de)
    .ok()?;
    de.end().ok()?;
    (version == Some(4) && resources).then(|| reader.finish())
}

/// The document: its `version`, and its `resources` fed to the reader.
struct State<'r> {
    reader: &'r mut StateReader,
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
                        reader: &mut *self.reader,
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

struct Resources<'r> {
    reader: &'r mut StateReader,
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
                reader: &mut *self.reader,
            })?
            .is_some()
        {}
        Ok(())
    }
}

struct Resource<'r> {
    reader: &'r mut StateReader,
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
                            reader: &mut *self.reader,
                            kind,
                            module: field("module"),
                            type_name,
                            name,
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

struct Instances<'r> {
    reader: &'r mut StateReader,
    kind: ResourceKind,
    module: Option<String>,
    type_name: String,
    name: String,
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
        while let Some(instance) = seq.next_element::<Instance>()? {
            if instance.deposed.is_some()
                || self.reader.skips(self.kind, instance.attributes.as_deref())
            {
                continue;
            }
            let address = resource_address(
                self.module.as_deref(),
                self.kind.is_data(),
                &self.type_name,
                &self.name,
                instance.index_key.as_ref(),
            );
            let attributes = attributes(&instance).map_err(de::Error::custom)?;
            self.reader
                .add(self.kind, address, attributes)
                .map_err(de::Error::custom)?;
        }
        Ok(())
    }
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
