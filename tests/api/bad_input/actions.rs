//! Bad input to what agents do to a ticket (acknowledge, update its status,
//! resolve, reopen, close, reprioritise) and to listing its events.

use ticketd::proto::pb;

use super::{Call, Case, Fixtures, long, with};

pub(super) fn cases(fx: &Fixtures) -> Vec<Case> {
    vec![
        Case {
            what: "an acknowledgement with NOTIFICATION_METHOD_UNSPECIFIED",
            call: Call::Acknowledge(with(acknowledge(&fx.open_ticket), |r| r.method = 0)).into(),
            fields: &["method"],
        },
        Case {
            what: "an acknowledgement by a blank responder",
            call: Call::Acknowledge(with(acknowledge(&fx.open_ticket), |r| {
                r.responder = "   ".into()
            }))
            .into(),
            fields: &["responder"],
        },
        Case {
            what: "a status update straight to RESOLVED",
            call: Call::UpdateStatus(pb::UpdateTicketStatusRequest {
                name: fx.open_ticket.clone(),
                status: pb::TicketStatus::Resolved.into(),
                actor: "ana".into(),
                note: String::new(),
            })
            .into(),
            fields: &["status"],
        },
        Case {
            what: "a status update with a 2,001-character note",
            call: Call::UpdateStatus(pb::UpdateTicketStatusRequest {
                name: fx.open_ticket.clone(),
                status: pb::TicketStatus::InProgress.into(),
                actor: "ana".into(),
                note: long(2_001),
            })
            .into(),
            fields: &["note"],
        },
        Case {
            what: "a resolution without an actor",
            call: Call::Resolve(pb::ResolveTicketRequest {
                name: fx.open_ticket.clone(),
                actor: String::new(),
                note: "fixed".into(),
            })
            .into(),
            fields: &["actor"],
        },
        Case {
            what: "a reopening whose reason holds a NUL",
            call: Call::Reopen(pb::ReopenTicketRequest {
                name: fx.resolved_ticket.clone(),
                actor: "ana".into(),
                reason: "still\0broken".into(),
            })
            .into(),
            fields: &["reason"],
        },
        Case {
            what: "closing a ticket by a negative number",
            call: Call::Close(pb::CloseTicketRequest {
                name: "tickets/-2".into(),
                actor: "ana".into(),
            })
            .into(),
            fields: &["name"],
        },
        Case {
            what: "closing a ticket by an actor of 201 characters",
            call: Call::Close(pb::CloseTicketRequest {
                name: fx.resolved_ticket.clone(),
                actor: long(201),
            })
            .into(),
            fields: &["actor"],
        },
        Case {
            what: "a reprioritisation to PRIORITY_UNSPECIFIED",
            call: Call::Reprioritize(with(reprioritize(&fx.open_ticket), |r| r.priority = 0))
                .into(),
            fields: &["priority"],
        },
        Case {
            what: "a reprioritisation without a reason",
            call: Call::Reprioritize(with(reprioritize(&fx.open_ticket), |r| r.reason.clear()))
                .into(),
            fields: &["reason"],
        },
        Case {
            what: "an event listing with a negative page size",
            call: Call::ListEvents(pb::ListTicketEventsRequest {
                name: fx.open_ticket.clone(),
                page_size: -5,
                page_token: String::new(),
            })
            .into(),
            fields: &["page_size"],
        },
    ]
}

fn acknowledge(name: &str) -> pb::AcknowledgeTicketRequest {
    pb::AcknowledgeTicketRequest {
        name: name.into(),
        responder: "ana@support".into(),
        method: pb::NotificationMethod::ChatMessage.into(),
    }
}

fn reprioritize(name: &str) -> pb::ReprioritizeTicketRequest {
    pb::ReprioritizeTicketRequest {
        name: name.into(),
        priority: pb::Priority::P3Normal.into(),
        actor: "lead".into(),
        reason: "customer found a workaround".into(),
    }
}
