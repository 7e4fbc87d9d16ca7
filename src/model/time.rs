//! One spelling for every time driftd prints: RFC 3339, UTC, millisecond precision.

use chrono::{DateTime, SecondsFormat, Utc};

pub type Timestamp = DateTime<Utc>;

/// `2026-11-25T06:00:00.123Z`, as the report schema requires.
pub fn format_timestamp(t: &Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A stored RFC 3339 time read back, in UTC; `None` for text that is not one.
pub fn parse_timestamp(text: &str) -> Option<Timestamp> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}
