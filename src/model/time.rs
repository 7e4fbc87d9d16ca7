//! One spelling for every time driftd prints: RFC 3339, UTC, millisecond precision.

use chrono::{DateTime, SecondsFormat, Utc};

pub type Timestamp = DateTime<Utc>;

/// `2026-11-25T06:00:00.123Z`, as the report schema requires.
pub fn format_timestamp(t: &Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}
