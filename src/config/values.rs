//! Checks of single values that several sections share: durations, regions,
//! severities, paths relative to the config file, secrets given inline or as a file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{MAX_DURATION_DAYS, Problem};
use crate::input::{MAX_CONFIG_BYTES, read_text};
use crate::model::Severity;
use crate::secret::Secret;

/// One grammar for every duration, flag or key: humantime's (`30s`, `10m`, `2h`,
/// `1d`, `1w`, `1h 30m`), or a bare number of seconds; at most [`MAX_DURATION_DAYS`].
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let parsed = match raw.parse::<u64>() {
        Ok(secs) => Some(Duration::from_secs(secs)),
        Err(_) => match humantime::parse_duration(raw) {
            Ok(duration) => Some(duration),
            Err(humantime::DurationError::NumberOverflow) => None,
            Err(_) => {
                return Err(format!(
                    "{raw:?} is not a duration like 30s, 10m, 2h, 1d or 1w"
                ));
            }
        },
    };
    match parsed {
        Some(duration) if duration.as_secs() <= MAX_DURATION_DAYS * 86_400 => Ok(duration),
        _ => Err(format!(
            "{raw:?} is longer than {MAX_DURATION_DAYS}d, the longest duration driftd accepts"
        )),
    }
}

/// An optional duration at `path`.
pub fn duration(raw: Option<&str>, path: &str) -> Result<Option<Duration>, Problem> {
    raw.map(|raw| parse_duration(raw).map_err(|m| Problem::at(path, m)))
        .transpose()
}

/// An optional duration at `path`, which must be longer than zero.
pub fn positive_duration(raw: Option<&str>, path: &str) -> Result<Option<Duration>, Problem> {
    match duration(raw, path)? {
        Some(zero) if zero.is_zero() => Err(Problem::at(path, "must be longer than 0s")),
        duration => Ok(duration),
    }
}

pub fn severity(raw: Option<&str>, path: &str, default: Severity) -> Result<Severity, Problem> {
    match raw {
        None => Ok(default),
        Some(s) => Severity::parse(s).ok_or_else(|| {
            Problem::at(
                path,
                format!("unknown severity {s:?} (expected critical, high, medium, low or info)"),
            )
        }),
    }
}

pub fn check_region(region: &str, path: &str) -> Result<(), Problem> {
    let parts: Vec<&str> = region.split('-').collect();
    let ok = parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(Problem::at(
            path,
            format!("{region:?} is not an AWS region name (e.g. us-east-1)"),
        ))
    }
}

/// A local state path is relative to the config file; an `s3://` URL is as given.
pub fn resolve_state(base_dir: Option<&Path>, state: &str) -> String {
    if state.starts_with("s3://") || Path::new(state).is_absolute() {
        return state.to_string();
    }
    base_dir
        .map(|d| d.join(state))
        .unwrap_or_else(|| PathBuf::from(state))
        .display()
        .to_string()
}

/// A secret at `path` given inline or as the file at `{path}_file` (read relative to
/// `base_dir`, trimmed); not both. `None` when neither is given.
pub fn secret(
    inline: Option<String>,
    file: Option<String>,
    path: &str,
    base_dir: Option<&Path>,
) -> Result<Option<Secret>, Problem> {
    let key = path.rsplit('.').next().unwrap_or(path);
    match (inline, file) {
        (None, None) => Ok(None),
        (Some(value), None) => Ok(Some(Secret::new(value))),
        (None, Some(file)) => {
            let file = base_dir
                .map(|d| d.join(&file))
                .unwrap_or_else(|| PathBuf::from(&file));
            let text = read_text(&file, MAX_CONFIG_BYTES).map_err(|e| {
                Problem::at(
                    format!("{path}_file"),
                    format!("cannot read {}: {e}", file.display()),
                )
            })?;
            Ok(Some(Secret::new(text.trim().to_string())))
        }
        (Some(_), Some(_)) => Err(Problem::at(
            path,
            format!("give {key} or {key}_file, not both"),
        )),
    }
}
