//! Terraform state from an S3 backend: `s3://bucket/key`, including workspace keys
//! (`env:/NAME/key`), with the same clear errors as local files.

use aws_config::SdkConfig;
use aws_sdk_s3::error::ProvideErrorMetadata;

use super::StateError;
use crate::aws::{ApiCalls, endpoint_overridden, error_text};
use crate::input::{MAX_DOCUMENT_BYTES, ReadError};

/// `s3://bucket/key` → (bucket, key).
pub fn parse_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then_some((bucket, key))
}

/// The bytes of the state object at `url`.
pub async fn fetch(sdk: &SdkConfig, url: &str, calls: &ApiCalls) -> Result<Vec<u8>, StateError> {
    let mut bytes = Vec::new();
    fetch_into(sdk, url, calls, &mut bytes).await?;
    Ok(bytes)
}

/// Writes the state object at `url` into `sink` as it arrives (a file, for a run
/// split by scope: the object is never whole in memory).
pub async fn fetch_into(
    sdk: &SdkConfig,
    url: &str,
    calls: &ApiCalls,
    sink: &mut impl std::io::Write,
) -> Result<(), StateError> {
    let fail = |message: String| StateError::NotAState {
        location: url.to_string(),
        reason: message,
    };
    let (bucket, key) = parse_url(url).ok_or_else(|| {
        fail("expected s3://BUCKET/KEY (workspace states: s3://BUCKET/env:/NAME/KEY)".into())
    })?;
    let conf = aws_sdk_s3::config::Builder::from(sdk)
        // Local endpoints serve buckets by path, not by virtual host.
        .force_path_style(endpoint_overridden("s3"))
        .interceptor(calls.interceptor("s3"))
        .build();
    let client = aws_sdk_s3::Client::from_conf(conf);
    let object = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| {
            let reason = match e.code() {
                Some("NoSuchKey") => format!("no object {key:?} in bucket {bucket:?}"),
                Some("NoSuchBucket") => format!("no bucket {bucket:?}"),
                Some("AccessDenied") => {
                    format!("access denied reading {key:?} from {bucket:?} (needs s3:GetObject)")
                }
                _ => error_text(&e),
            };
            io_error(url, ReadError::Io(std::io::Error::other(reason)))
        })?;
    let too_large = |size: u64| {
        io_error(
            url,
            ReadError::TooLarge {
                size,
                limit: MAX_DOCUMENT_BYTES,
            },
        )
    };
    if let Some(size) = object.content_length().and_then(|n| u64::try_from(n).ok())
        && size > MAX_DOCUMENT_BYTES
    {
        return Err(too_large(size));
    }
    let mut body = object.body;
    let mut written: u64 = 0;
    while let Some(chunk) = body
        .try_next()
        .await
        .map_err(|e| io_error(url, ReadError::Io(std::io::Error::other(e.to_string()))))?
    {
        written += chunk.len() as u64;
        if written > MAX_DOCUMENT_BYTES {
            return Err(too_large(written));
        }
        sink.write_all(&chunk)
            .map_err(|e| io_error(url, ReadError::Io(e)))?;
    }
    sink.flush().map_err(|e| io_error(url, ReadError::Io(e)))
}

fn io_error(url: &str, source: ReadError) -> StateError {
    StateError::Io {
        location: url.to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_url;

    #[test]
    fn urls() {
        assert_eq!(parse_url("s3://b/k.tfstate"), Some(("b", "k.tfstate")));
        assert_eq!(
            parse_url("s3://b/env:/prod/net/terraform.tfstate"),
            Some(("b", "env:/prod/net/terraform.tfstate"))
        );
        assert_eq!(parse_url("s3://b"), None);
        assert_eq!(parse_url("s3:///k"), None);
        assert_eq!(parse_url("/tmp/x"), None);
    }
}
