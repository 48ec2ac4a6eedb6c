//! Bad input to listing tickets by deadline.

use ticketd::proto::pb;

use super::{Call, Case};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case {
            what: "a deadline listing with a negative window",
            call: Call::ListByDeadline(pb::ListTicketsByDeadlineRequest {
                due_within: Some(prost_types::Duration {
                    seconds: -60,
                    nanos: 0,
                }),
                ..Default::default()
            }),
            fields: &["due_within"],
        },
        Case {
            what: "a deadline listing whose window has two seconds of nanos",
            call: Call::ListByDeadline(pb::ListTicketsByDeadlineRequest {
                due_within: Some(prost_types::Duration {
                    seconds: 60,
                    nanos: 2_000_000_000,
                }),
                ..Default::default()
            }),
            fields: &["due_within"],
        },
        Case {
            what: "a deadline listing of MET tickets",
            call: Call::ListByDeadline(pb::ListTicketsByDeadlineRequest {
                sla_states: vec![pb::SlaState::Met.into()],
                ..Default::default()
            }),
            fields: &["sla_states[0]"],
        },
        Case {
            what: "a deadline listing that names a state twice",
            call: Call::ListByDeadline(pb::ListTicketsByDeadlineRequest {
                sla_states: vec![pb::SlaState::AtRisk.into(), pb::SlaState::AtRisk.into()],
                ..Default::default()
            }),
            fields: &["sla_states[1]"],
        },
        Case {
            what: "a deadline listing that repeats a state 10,000 times",
            call: Call::ListByDeadline(pb::ListTicketsByDeadlineRequest {
                sla_states: vec![pb::SlaState::AtRisk.into(); 10_000],
                ..Default::default()
            }),
            fields: &["sla_states"],
        },
        Case {
            what: "a deadline listing with an unknown priority number",
            call: Call::ListByDeadline(pb::ListTicketsByDeadlineRequest {
                priority: 5,
                ..Default::default()
            }),
            fields: &["priority"],
        },
    ]
}
