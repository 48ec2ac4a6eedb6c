//! Bad input to the filters of WatchSlaStatus.

use ticketd::proto::pb;

use super::{Call, Case};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case {
            what: "a watch filtered by PLAN_UNSPECIFIED",
            call: Call::Watch(pb::WatchSlaStatusRequest {
                plans: vec![0],
                ..Default::default()
            }),
            fields: &["plans[0]"],
        },
        Case {
            what: "a watch that lists a channel twice",
            call: Call::Watch(pb::WatchSlaStatusRequest {
                channels: vec![pb::Channel::Chat.into(), pb::Channel::Chat.into()],
                ..Default::default()
            }),
            fields: &["channels[1]"],
        },
        Case {
            what: "a watch that lists nine plans",
            call: Call::Watch(pb::WatchSlaStatusRequest {
                plans: all_plans(),
                ..Default::default()
            }),
            fields: &["plans"],
        },
        Case {
            what: "a watch resumed from a cursor the server never sent",
            call: Call::Watch(pb::WatchSlaStatusRequest {
                resume_cursor: "v1.-1.x".into(),
                ..Default::default()
            }),
            fields: &["resume_cursor"],
        },
        Case {
            what: "a watch of an account name with a slash in it",
            call: Call::Watch(pb::WatchSlaStatusRequest {
                account: "accounts/acme/tickets".into(),
                ..Default::default()
            }),
            fields: &["account"],
        },
    ]
}

/// Nine plans, four of them twice.
fn all_plans() -> Vec<i32> {
    (1..=5).chain([1, 2, 3, 4]).collect()
}
