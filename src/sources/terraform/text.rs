//! A state's text through a run split by scope, where each scope reads its own
//! part of it: on disk and streamed (`stream`), a local file as it is or an S3
//! object downloaded once per run into a temporary file, so that a replica never
//! holds the text; in memory only where the stream cannot read it.

use std::path::{Path, PathBuf};

use aws_config::SdkConfig;

use super::resources::Keep;
use super::{StateError, document, read_state_file, s3, stream};
use crate::aws::ApiCalls;
use crate::input::{MAX_DOCUMENT_BYTES, ReadError, open_regular};
use crate::model::{Intent, Places, Scope};

pub enum StateText {
    File(PathBuf),
    Downloaded(tempfile::NamedTempFile),
    /// A text the stream could not read (a byte-order mark, say).
    Held(Vec<u8>),
}

impl StateText {
    /// The state at `location` (a path, or an `s3://` URL read with `sdk`), where
    /// each scope can read it.
    pub async fn fetch(
        location: &str,
        sdk: Option<&SdkConfig>,
        calls: &ApiCalls,
    ) -> Result<StateText, StateError> {
        let Some(sdk) = sdk.filter(|_| location.starts_with("s3://")) else {
            return Ok(StateText::File(PathBuf::from(location)));
        };
        let io = |e: std::io::Error| StateError::Io {
            location: location.to_string(),
            source: ReadError::Io(e),
        };
        let mut file = tempfile::NamedTempFile::new().map_err(io)?;
        s3::fetch_into(sdk, location, calls, file.as_file_mut()).await?;
        Ok(StateText::Downloaded(file))
    }

    /// Where the state's declarations live, none of them kept.
    pub fn places(self, location: &str) -> Result<(StateText, Places), StateError> {
        if let Some((_, places)) = self.stream(location, Keep::Nothing)? {
            return Ok((self, places));
        }
        let bytes = self.bytes(location)?;
        let (_, places) = document::parse(location, &bytes, Keep::Nothing)?;
        Ok((StateText::Held(bytes), places))
    }

    /// The state's declarations that live in `scope`.
    pub fn within(&self, location: &str, scope: &Scope) -> Result<Intent, StateError> {
        let keep = Keep::Within(scope.clone());
        if let Some((intent, _)) = self.stream(location, keep.clone())? {
            return Ok(intent);
        }
        let bytes = self.bytes(location)?;
        document::parse(location, &bytes, keep).map(|(intent, _)| intent)
    }

    /// The stream's reading, `None` where it cannot tell (then the whole text is
    /// read, which also names what is wrong).
    fn stream(&self, location: &str, keep: Keep) -> Result<Option<(Intent, Places)>, StateError> {
        let path = match self {
            StateText::File(path) => path.as_path(),
            StateText::Downloaded(file) => file.path(),
            StateText::Held(bytes) => return document::parse(location, bytes, keep).map(Some),
        };
        let Some(file) = open_within_limit(path) else {
            return Ok(None);
        };
        Ok(stream::parse(location, file, keep))
    }

    fn bytes(&self, location: &str) -> Result<Vec<u8>, StateError> {
        let read = |path: &Path| {
            read_state_file(path).map_err(|e| match e {
                StateError::Io { source, .. } => StateError::Io {
                    location: location.to_string(),
                    source,
                },
                other => other,
            })
        };
        match self {
            StateText::File(path) => read(path),
            StateText::Downloaded(file) => read(file.path()),
            StateText::Held(bytes) => Ok(bytes.clone()),
        }
    }
}

/// The file, if it can be opened and is no larger than a state may be (otherwise
/// reading it whole says why not).
fn open_within_limit(path: &Path) -> Option<std::fs::File> {
    let file = open_regular(path).ok()?;
    let size = file.metadata().ok()?.len();
    (size <= MAX_DOCUMENT_BYTES).then_some(file)
}
