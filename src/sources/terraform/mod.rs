//! Terraform state (format 4) → declared groups, rules and data-source reads.
//!
//! `document` reads the file's outer shape without copying attributes; `resources`
//! turns the security-group resources into the canonical model.

mod address;
mod document;
mod flatmap;
mod index;
mod lenient;
mod resources;
pub mod s3;
mod stream;
mod text;

use std::path::Path;

use crate::input::{MAX_DOCUMENT_BYTES, ReadError, read_file};
use crate::model::Intent;
use crate::sources::json_error::JsonError;
use resources::Keep;

pub use address::resource_address;
pub use text::StateText;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{location}: cannot read the state: {source}")]
    Io { location: String, source: ReadError },
    #[error("{location}: the file is empty; expected a Terraform state (JSON, format version 4)")]
    Empty { location: String },
    #[error("{location}: {error}")]
    Json { location: String, error: JsonError },
    #[error("{location}: {error}")]
    Encoding {
        location: String,
        error: crate::input::EncodingError,
    },
    #[error(
        "{location}: unsupported state format version {version}{written_by}; driftd reads format 4 \
         (Terraform 0.12 and later). Run `terraform init` and `terraform apply -refresh-only` with \
         Terraform 0.12+ to upgrade the state"
    )]
    Version {
        location: String,
        version: u64,
        written_by: String,
    },
    #[error("{location}: not a Terraform state: {reason}")]
    NotAState { location: String, reason: String },
    #[error("{location}: at {json_path}: {message}")]
    Invalid {
        location: String,
        json_path: String,
        message: String,
    },
}

/// Reads a local state file. `location` is how the file is named in findings.
pub fn load_file(path: &Path) -> Result<Intent, StateError> {
    let bytes = read_state_file(path)?;
    parse_state(&path.display().to_string(), &bytes)
}

/// The bytes of a local state file.
pub fn read_state_file(path: &Path) -> Result<Vec<u8>, StateError> {
    read_file(path, MAX_DOCUMENT_BYTES).map_err(|source| StateError::Io {
        location: path.display().to_string(),
        source,
    })
}

/// Parses a state document held in memory (a file or an S3 object).
pub fn parse_state(location: &str, bytes: &[u8]) -> Result<Intent, StateError> {
    document::parse(location, bytes, Keep::All).map(|(intent, _)| intent)
}
