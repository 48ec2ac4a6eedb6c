//! Bad input to the filters of WatchSlaStatus.

use ticketd::proto::pb;

use super::{Call, Case, with};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case {
            what: "a watch filtered by PLAN_UNSPECIFIED",
            call: watch(|r| r.plans = vec![0]).into(),
            fields: &["plans[0]"],
        },
        Case {
            what: "a watch that lists a channel twice",
            call: watch(|r| r.channels = vec![pb::Channel::Chat.into(), pb::Channel::Chat.into()])
                .into(),
            fields: &["channels[1]"],
        },
        Case {
            what: "a watch that lists nine plans",
            call: watch(|r| r.plans = all_plans()).into(),
            fields: &["plans"],
        },
        Case {
            what: "a watch resumed from a cursor the server never sent",
            call: watch(|r| r.resume_cursor = "v1.-1.x".into()).into(),
            fields: &["resume_cursor"],
        },
        Case {
            what: "a watch of an account name with a slash in it",
            call: watch(|r| r.account = "accounts/acme/tickets".into()).into(),
            fields: &["account"],
        },
    ]
}

/// Nine plans, four of them twice.
fn all_plans() -> Vec<i32> {
    (1..=5).chain([1, 2, 3, 4]).collect()
}

/// A WatchSlaStatus request with every field at its default but what `change` sets.
fn watch(change: impl FnOnce(&mut pb::WatchSlaStatusRequest)) -> Call {
    Call::Watch(with(Default::default(), change))
}
