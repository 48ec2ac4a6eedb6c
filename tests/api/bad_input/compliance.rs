//! Bad input to the compliance report.

use ticketd::proto::pb;

use super::{Call, Case, with};
use crate::helpers::*;

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case {
            what: "a compliance report that ends before it starts",
            call: Call::ComplianceReport(pb::GetComplianceReportRequest {
                start_time: compliance().end_time,
                end_time: compliance().start_time,
            })
            .into(),
            fields: &["end_time"],
        },
        Case {
            what: "a compliance report without a start",
            call: Call::ComplianceReport(with(compliance(), |r| r.start_time = None)).into(),
            fields: &["start_time"],
        },
        Case {
            what: "a compliance report whose start has negative nanos",
            call: Call::ComplianceReport(with(compliance(), |r| {
                r.start_time.as_mut().unwrap().nanos = -1
            }))
            .into(),
            fields: &["start_time"],
        },
        Case {
            what: "a compliance report over two years",
            call: Call::ComplianceReport(with(compliance(), |r| {
                r.start_time.as_mut().unwrap().seconds -= 2 * 366 * 24 * 3600
            }))
            .into(),
            fields: &["end_time"],
        },
    ]
}

fn compliance() -> pb::GetComplianceReportRequest {
    let start = start_time() - chrono::Duration::days(7);
    pb::GetComplianceReportRequest {
        start_time: Some(ts(start)),
        end_time: Some(ts(start_time())),
    }
}
