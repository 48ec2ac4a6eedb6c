//! What agents do to a ticket: acknowledge, set its status, resolve,
//! reopen, close and reprioritize.

use super::Violations;
use super::limits::{MAX_NAME_CHARS, MAX_NOTE_CHARS};
use super::names::ticket_key;
use crate::api::convert::{method_from_proto, priority_from_proto, status_from_proto};
use crate::domain::lifecycle::Action;
use crate::domain::ticket::{TicketKey, TicketStatus};
use crate::error::{Error, Result};
use crate::proto::pb;

/// Builds an agent action from its request, reporting every bad field.
fn action(
    name: &str,
    build: impl FnOnce(&mut Violations) -> Option<Action>,
) -> Result<(TicketKey, Action)> {
    let mut v = Violations::default();
    let key = ticket_key(&mut v, name);
    let action = build(&mut v);
    v.into_result()?;
    match (key, action) {
        (Some(key), Some(action)) => Ok((key, action)),
        _ => Err(Error::Internal(
            "validation let an incomplete action through".into(),
        )),
    }
}

pub fn acknowledge(request: pb::AcknowledgeTicketRequest) -> Result<(TicketKey, Action)> {
    action(&request.name, |v| {
        let responder = v.required("responder", request.responder, MAX_NAME_CHARS);
        let method = v.required_enum("method", request.method, method_from_proto);
        method.map(|method| Action::Acknowledge { responder, method })
    })
}

pub fn update_status(request: pb::UpdateTicketStatusRequest) -> Result<(TicketKey, Action)> {
    action(&request.name, |v| {
        let to = v.required_enum("status", request.status, status_from_proto);
        let to = to.filter(|to| {
            let allowed = matches!(to, TicketStatus::InProgress | TicketStatus::WaitingOnCustomer);
            if !allowed {
                v.add(
                    "status",
                    "must be TICKET_STATUS_IN_PROGRESS or TICKET_STATUS_WAITING_ON_CUSTOMER; \
                     use AcknowledgeTicket, ResolveTicket, ReopenTicket or CloseTicket for the others",
                );
            }
            allowed
        });
        let actor = v.required("actor", request.actor, MAX_NAME_CHARS);
        let note = v.optional("note", request.note, MAX_NOTE_CHARS);
        to.map(|to| Action::SetStatus { to, actor, note })
    })
}

pub fn resolve(request: pb::ResolveTicketRequest) -> Result<(TicketKey, Action)> {
    action(&request.name, |v| {
        let actor = v.required("actor", request.actor, MAX_NAME_CHARS);
        let note = v.optional("note", request.note, MAX_NOTE_CHARS);
        Some(Action::Resolve { actor, note })
    })
}

pub fn reopen(request: pb::ReopenTicketRequest) -> Result<(TicketKey, Action)> {
    action(&request.name, |v| {
        let actor = v.required("actor", request.actor, MAX_NAME_CHARS);
        let reason = v.optional("reason", request.reason, MAX_NOTE_CHARS);
        Some(Action::Reopen { actor, reason })
    })
}

pub fn close(request: pb::CloseTicketRequest) -> Result<(TicketKey, Action)> {
    action(&request.name, |v| {
        let actor = v.required("actor", request.actor, MAX_NAME_CHARS);
        Some(Action::Close { actor })
    })
}

pub fn reprioritize(request: pb::ReprioritizeTicketRequest) -> Result<(TicketKey, Action)> {
    action(&request.name, |v| {
        let priority = v.required_enum("priority", request.priority, priority_from_proto);
        let actor = v.required("actor", request.actor, MAX_NAME_CHARS);
        let reason = v.required("reason", request.reason, MAX_NOTE_CHARS);
        priority.map(|priority| Action::Reprioritize {
            priority,
            actor,
            reason,
        })
    })
}
