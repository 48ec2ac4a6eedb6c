//! Bad input to listing tickets by deadline.

use ticketd::proto::pb;

use super::{Call, Case, with};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case {
            what: "a deadline listing with a negative window",
            call: by_deadline(|r| {
                r.due_within = Some(prost_types::Duration {
                    seconds: -60,
                    nanos: 0,
                })
            })
            .into(),
            fields: &["due_within"],
        },
        Case {
            what: "a deadline listing whose window has two seconds of nanos",
            call: by_deadline(|r| {
                r.due_within = Some(prost_types::Duration {
                    seconds: 60,
                    nanos: 2_000_000_000,
                })
            })
            .into(),
            fields: &["due_within"],
        },
        Case {
            what: "a deadline listing of MET tickets",
            call: by_deadline(|r| r.sla_states = vec![pb::SlaState::Met.into()]).into(),
            fields: &["sla_states[0]"],
        },
        Case {
            what: "a deadline listing that names a state twice",
            call: by_deadline(|r| {
                r.sla_states = vec![pb::SlaState::AtRisk.into(), pb::SlaState::AtRisk.into()]
            })
            .into(),
            fields: &["sla_states[1]"],
        },
        Case {
            what: "a deadline listing that repeats a state 10,000 times",
            call: by_deadline(|r| r.sla_states = vec![pb::SlaState::AtRisk.into(); 10_000]).into(),
            fields: &["sla_states"],
        },
        Case {
            what: "a deadline listing with an unknown priority number",
            call: by_deadline(|r| r.priority = 5).into(),
            fields: &["priority"],
        },
    ]
}

/// A ListTicketsByDeadline request with every field at its default but what `change` sets.
fn by_deadline(change: impl FnOnce(&mut pb::ListTicketsByDeadlineRequest)) -> Call {
    Call::ListByDeadline(with(Default::default(), change))
}
