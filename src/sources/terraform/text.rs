//! A state's text through a run split by scope, where each scope reads its own
//! part of it. It is copied once per run to a temporary file (a local state, or an
//! S3 object as it downloads), so that every scope reads the same text whatever
//! happens to the original meanwhile, and streamed from there (`stream`), so that
//! a replica never holds it. Planning the run notes where each instance lies in
//! the copy (`index`), and each scope reads only its own. It is held in memory only
//! where no temporary file can be made or the stream cannot read it.

use std::io::Write;
use std::path::Path;

use aws_config::SdkConfig;
use tempfile::NamedTempFile;
use tracing::warn;

use super::index::StateIndex;
use super::resources::Keep;
use super::{StateError, document, read_state_file, s3, stream};
use crate::aws::ApiCalls;
use crate::input::{MAX_DOCUMENT_BYTES, ReadError, open_regular};
use crate::model::{Intent, Places, Scope};

pub enum StateText {
    /// A temporary copy, with where each instance lies in it once planned.
    OnDisk {
        file: NamedTempFile,
        index: Option<StateIndex>,
    },
    Held(Vec<u8>),
}

impl StateText {
    /// The state at `location`: a path, or an `s3://` URL read with `sdk`.
    pub async fn fetch(
        location: &str,
        sdk: Option<&SdkConfig>,
        calls: &ApiCalls,
    ) -> Result<StateText, StateError> {
        let Some(sdk) = sdk.filter(|_| location.starts_with("s3://")) else {
            return StateText::copy_of(Path::new(location));
        };
        match temporary_file(location) {
            Some(mut file) => {
                s3::fetch_into(sdk, location, calls, file.as_file_mut()).await?;
                Ok(StateText::OnDisk { file, index: None })
            }
            None => Ok(StateText::Held(s3::fetch(sdk, location, calls).await?)),
        }
    }

    /// A local state, copied.
    pub fn copy_of(path: &Path) -> Result<StateText, StateError> {
        let location = path.display().to_string();
        let io = |source: ReadError| StateError::Io {
            location: location.clone(),
            source,
        };
        let mut source = open_regular(path).map_err(io)?;
        let size = source.metadata().map_err(|e| io(e.into()))?.len();
        if size > MAX_DOCUMENT_BYTES {
            return Err(io(ReadError::TooLarge {
                size,
                limit: MAX_DOCUMENT_BYTES,
            }));
        }
        let Some(mut file) = temporary_file(&location) else {
            return read_state_file(path).map(StateText::Held);
        };
        std::io::copy(&mut source, file.as_file_mut()).map_err(|e| io(e.into()))?;
        file.as_file_mut().flush().map_err(|e| io(e.into()))?;
        Ok(StateText::OnDisk { file, index: None })
    }

    /// Where the state's declarations live, none of them kept, and where each
    /// instance lies in a text on disk. A text on disk that the stream cannot read
    /// is read whole, and held from then on.
    pub fn places(self, location: &str) -> Result<(StateText, Places), StateError> {
        let bytes = match self {
            StateText::OnDisk { file, .. } => match plan(location, &file) {
                Some((places, index)) => {
                    let index = Some(index);
                    return Ok((StateText::OnDisk { file, index }, places));
                }
                None => read(location, &file)?,
            },
            StateText::Held(bytes) => bytes,
        };
        let (_, places) = document::parse(location, &bytes, Keep::Nothing)?;
        Ok((StateText::Held(bytes), places))
    }

    /// The state's declarations that live in `scope`.
    pub fn within(&self, location: &str, scope: &Scope) -> Result<Intent, StateError> {
        let keep = Keep::Within(scope.clone());
        let parsed = match self {
            StateText::OnDisk { file, index } => {
                if let Some(index) = index {
                    match read_indexed(location, file, index, scope) {
                        Some(intent) => return Ok(intent),
                        // Planning read this very text: its copy changed under us.
                        None => warn!(state = %location, scope = %scope.label(),
                            "the state's instances are not where planning found them: read whole"),
                    }
                }
                if let Some((intent, _)) = stream(location, file, keep.clone()) {
                    return Ok(intent);
                }
                document::parse(location, &read(location, file)?, keep)
            }
            StateText::Held(bytes) => document::parse(location, bytes, keep),
        };
        parsed.map(|(intent, _)| intent)
    }
}

/// Where the declarations of the text on disk live, and where each instance lies
/// in it; `None` where the stream cannot tell.
fn plan(location: &str, file: &NamedTempFile) -> Option<(Places, StateIndex)> {
    stream::plan(location, file.reopen().ok()?)
}

/// The declarations in `scope` of the text on disk, read where `index` says.
fn read_indexed(
    location: &str,
    file: &NamedTempFile,
    index: &StateIndex,
    scope: &Scope,
) -> Option<Intent> {
    stream::read_indexed(location, file.reopen().ok()?, index, scope)
}

/// The stream's reading of the text on disk; `None` where it cannot tell (then
/// the whole text is read, which also names what is wrong).
fn stream(location: &str, file: &NamedTempFile, keep: Keep) -> Option<(Intent, Places)> {
    stream::parse(location, file.reopen().ok()?, keep)
}

fn read(location: &str, file: &NamedTempFile) -> Result<Vec<u8>, StateError> {
    std::fs::read(file.path()).map_err(|e| StateError::Io {
        location: location.to_string(),
        source: e.into(),
    })
}

/// A temporary file for the state at `location`, or `None` (said once per run)
/// where none can be made: its text is then held in memory.
fn temporary_file(location: &str) -> Option<NamedTempFile> {
    NamedTempFile::new()
        .inspect_err(|e| {
            warn!(state = %location, error = %e, "no temporary file for the state: its text is held in memory through the run");
        })
        .ok()
}
