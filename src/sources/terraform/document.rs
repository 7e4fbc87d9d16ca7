//! The outer shape of a state file. Attributes stay raw slices of the input until a
//! resource is known to be one driftd reads, so a 100 MB state is parsed once and
//! never copied into a tree of values.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::StateError;
use super::address::IndexKey;
use super::flatmap::unflatten;
use super::resources::{Keep, ResourceKind, StateReader};
use crate::model::{Intent, Places};
use crate::sources::json_error::{self, JsonError};

#[derive(Deserialize)]
struct StateDocument<'a> {
    version: Option<u64>,
    terraform_version: Option<String>,
    #[serde(borrow)]
    resources: Option<Vec<ResourceDocument<'a>>>,
}

#[derive(Deserialize)]
struct ResourceDocument<'a> {
    module: Option<String>,
    mode: String,
    #[serde(rename = "type")]
    kind: String,
    name: String,
    #[serde(borrow, default)]
    instances: Vec<InstanceDocument<'a>>,
}

#[derive(Deserialize)]
struct InstanceDocument<'a> {
    index_key: Option<IndexKey>,
    /// Set on objects kept for create-before-destroy: not what the config declares.
    deposed: Option<String>,
    #[serde(borrow)]
    attributes: Option<&'a RawValue>,
    #[serde(borrow)]
    attributes_flat: Option<&'a RawValue>,
}

/// Just enough to explain why a document is not a format-4 state.
#[derive(Deserialize)]
struct Header {
    version: Option<serde_json::Value>,
    terraform_version: Option<serde_json::Value>,
}

/// The declarations `keep` keeps, and, when planning (`Keep::Nothing`), where
/// all of them live.
pub fn parse(location: &str, bytes: &[u8], keep: Keep) -> Result<(Intent, Places), StateError> {
    let bytes = crate::input::document_bytes(bytes).map_err(|error| StateError::Encoding {
        location: location.to_string(),
        error,
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(StateError::Empty {
            location: location.to_string(),
        });
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b == b'[' || b.is_ascii_digit() || *b == b'"') {
        return Err(StateError::NotAState {
            location: location.to_string(),
            reason: "the document is not a JSON object".to_string(),
        });
    }
    let doc: StateDocument = match json_error::parse_document(bytes) {
        Ok(doc) => doc,
        // A document of another format may fail on shapes format 4 does not have:
        // name the version rather than the shape.
        Err(error) => return Err(explain_failure(location, bytes, error)),
    };
    let version = doc.version.ok_or_else(|| StateError::NotAState {
        location: location.to_string(),
        reason: "no top-level \"version\" field".to_string(),
    })?;
    if version != 4 {
        return Err(version_error(
            location,
            version,
            doc.terraform_version.as_deref(),
        ));
    }
    let resources = doc.resources.ok_or_else(|| StateError::NotAState {
        location: location.to_string(),
        reason: "format 4 but no top-level \"resources\" list".to_string(),
    })?;

    let mut reader = StateReader::new(location, keep);
    for (r, resource) in resources.iter().enumerate() {
        let Some(kind) = ResourceKind::of(&resource.mode, &resource.kind) else {
            continue;
        };
        for (i, instance) in resource.instances.iter().enumerate() {
            if instance.deposed.is_some() {
                continue;
            }
            if reader.skips(kind, instance.attributes) {
                continue;
            }
            let json_path = format!("$.resources[{r}].instances[{i}]");
            let address = super::resource_address(
                resource.module.as_deref(),
                kind.is_data(),
                &resource.kind,
                &resource.name,
                instance.index_key.as_ref(),
            );
            let attributes = read_attributes(location, bytes, instance, &json_path)?;
            reader
                .add(kind, address, attributes)
                .map_err(|message| StateError::Invalid {
                    location: location.to_string(),
                    json_path: format!("{json_path}.attributes"),
                    message,
                })?;
        }
    }
    Ok(reader.finish())
}

/// The instance's attributes, from `attributes` or the legacy flat map.
fn read_attributes(
    location: &str,
    whole: &[u8],
    instance: &InstanceDocument,
    json_path: &str,
) -> Result<super::resources::Attributes, StateError> {
    let wrap = |error: JsonError| StateError::Json {
        location: location.to_string(),
        error,
    };
    let offset_of = |raw: &RawValue| raw.get().as_ptr() as usize - whole.as_ptr() as usize;
    if let Some(raw) = instance.attributes {
        let slice = raw.get().as_bytes();
        return json_error::parse_at(
            slice,
            &format!("{json_path}.attributes"),
            whole,
            offset_of(raw),
        )
        .map_err(wrap);
    }
    if let Some(raw) = instance.attributes_flat {
        let json_path = format!("{json_path}.attributes_flat");
        let offset = offset_of(raw);
        let flat: BTreeMap<String, String> =
            json_error::parse_at(raw.get().as_bytes(), &json_path, whole, offset).map_err(wrap)?;
        let value = unflatten(&flat).map_err(|message| StateError::Invalid {
            location: location.to_string(),
            json_path: json_path.clone(),
            message,
        })?;
        // Errors point at the flat map: its rebuilt paths are not in the file.
        return json_error::from_value(value, &json_path, whole, offset).map_err(wrap);
    }
    Err(StateError::Invalid {
        location: location.to_string(),
        json_path: json_path.to_string(),
        message: "instance has neither \"attributes\" nor \"attributes_flat\"".to_string(),
    })
}

fn explain_failure(location: &str, bytes: &[u8], error: JsonError) -> StateError {
    if !error.syntax
        && let Ok(header) = serde_json::from_slice::<Header>(bytes)
        && let Some(version) = header.version.as_ref().and_then(|v| v.as_u64())
        && version != 4
    {
        let written_by = header.terraform_version.as_ref().and_then(|v| v.as_str());
        return version_error(location, version, written_by);
    }
    StateError::Json {
        location: location.to_string(),
        error,
    }
}

fn version_error(location: &str, version: u64, terraform_version: Option<&str>) -> StateError {
    StateError::Version {
        location: location.to_string(),
        version,
        written_by: terraform_version
            .map(|v| format!(" (written by Terraform {v})"))
            .unwrap_or_default(),
    }
}
