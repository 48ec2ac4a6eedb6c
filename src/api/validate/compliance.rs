//! GetComplianceReport's period.

use super::Violations;
use super::limits::MAX_PERIOD_DAYS;
use super::timestamps::timestamp_field;
use crate::error::{Error, Result};
use crate::proto::pb;

pub fn compliance_period(
    request: &pb::GetComplianceReportRequest,
) -> Result<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)> {
    let mut v = Violations::default();
    let start = timestamp_field(&mut v, "start_time", request.start_time);
    let end = timestamp_field(&mut v, "end_time", request.end_time);
    if let (Some(start), Some(end)) = (start, end) {
        if end <= start {
            v.add("end_time", "must be after start_time");
        } else if end - start > chrono::Duration::days(MAX_PERIOD_DAYS) {
            v.add(
                "end_time",
                format!("the period may be at most {MAX_PERIOD_DAYS} days"),
            );
        }
    }
    v.into_result()?;
    start
        .zip(end)
        .ok_or_else(|| Error::Internal("validation let a bad period through".into()))
}
