//! Timestamps a request carries, held to google.protobuf.Timestamp's range.

use super::Violations;
use super::limits::{MAX_TIMESTAMP_SECONDS, MIN_TIMESTAMP_SECONDS};

/// Within google.protobuf.Timestamp's range (and so every store's).
pub fn is_timestamp_in_range(at: &chrono::DateTime<chrono::Utc>) -> bool {
    (MIN_TIMESTAMP_SECONDS..=MAX_TIMESTAMP_SECONDS).contains(&at.timestamp())
}

pub(super) fn timestamp_field(
    v: &mut Violations,
    field: &str,
    ts: Option<prost_types::Timestamp>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let Some(ts) = ts else {
        v.add(field, "is required");
        return None;
    };
    let at = u32::try_from(ts.nanos)
        .ok()
        .filter(|nanos| *nanos < 1_000_000_000)
        .filter(|_| (MIN_TIMESTAMP_SECONDS..=MAX_TIMESTAMP_SECONDS).contains(&ts.seconds))
        .and_then(|nanos| chrono::DateTime::from_timestamp(ts.seconds, nanos));
    if at.is_none() {
        v.add(
            field,
            "must be a valid timestamp between 0001-01-01 and 9999-12-31",
        );
    }
    at
}
