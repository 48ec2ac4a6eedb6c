//! ListTickets, ListTicketsByDeadline and ListTicketEvents: their filters
//! and page sizes.

use super::limits::{MAX_LIST_VALUES, MAX_PERIOD_DAYS};
use super::names::{optional_account, ticket_key};
use super::{Violations, page_size};
use crate::api::convert::{
    channel_from_proto, plan_from_proto, priority_from_proto, sla_state_from_proto,
    status_from_proto,
};
use crate::domain::listing::{DeadlineFilter, TicketFilter};
use crate::domain::sla::SlaState;
use crate::domain::ticket::TicketKey;
use crate::error::{Error, Result};
use crate::proto::pb;

pub struct TicketListing {
    pub filter: TicketFilter,
    pub page_size: i64,
}

pub fn list_tickets(request: &pb::ListTicketsRequest) -> Result<TicketListing> {
    let mut v = Violations::default();
    let page_size = page_size(&mut v, request.page_size);
    let account_id = optional_account(&mut v, "account", &request.account);
    let filter = TicketFilter {
        account_id,
        channel: v.filter_enum("channel", request.channel, channel_from_proto),
        priority: v.filter_enum("priority", request.priority, priority_from_proto),
        status: v.filter_enum("status", request.status, status_from_proto),
    };
    v.into_result()?;
    Ok(TicketListing { filter, page_size })
}

pub struct EventListing {
    pub key: TicketKey,
    pub page_size: i64,
}

pub fn list_ticket_events(request: &pb::ListTicketEventsRequest) -> Result<EventListing> {
    let mut v = Violations::default();
    let key = ticket_key(&mut v, &request.name);
    let page_size = page_size(&mut v, request.page_size);
    v.into_result()?;
    key.map(|key| EventListing { key, page_size })
        .ok_or_else(|| Error::Internal("validation let a bad name through".into()))
}

pub struct DeadlineListing {
    pub filter: DeadlineFilter,
    pub page_size: i64,
    /// Identifies the filters (not the moment) for page tokens.
    pub fingerprint: String,
}

pub fn list_tickets_by_deadline(
    request: &pb::ListTicketsByDeadlineRequest,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<DeadlineListing> {
    let mut v = Violations::default();
    let page_size = page_size(&mut v, request.page_size);
    let due_within = request.due_within.and_then(|d| {
        if !(0..=MAX_PERIOD_DAYS * 24 * 3600).contains(&d.seconds)
            || !(0..1_000_000_000).contains(&d.nanos)
        {
            v.add(
                "due_within",
                format!("must be a duration between 0 and {MAX_PERIOD_DAYS} days"),
            );
            None
        } else {
            Some(
                chrono::Duration::seconds(d.seconds)
                    + chrono::Duration::nanoseconds(d.nanos.into()),
            )
        }
    });
    let mut states = Vec::new();
    if request.sla_states.len() > MAX_LIST_VALUES {
        v.add(
            "sla_states",
            format!("lists at most {MAX_LIST_VALUES} values"),
        );
    } else {
        for (i, raw) in request.sla_states.iter().enumerate() {
            let field = format!("sla_states[{i}]");
            match sla_state_from_proto(*raw) {
                Some(state) if states.contains(&state) => v.add(&field, "is listed twice"),
                Some(state @ (SlaState::OnTrack | SlaState::AtRisk | SlaState::Breached)) => {
                    states.push(state)
                }
                Some(_) => v.add(
                    &field,
                    "MET and MISSED tickets have been answered; use ListTickets",
                ),
                None => v.add(
                    &field,
                    format!("{raw} is not ON_TRACK, AT_RISK or BREACHED"),
                ),
            }
        }
    }
    let filter = DeadlineFilter {
        now,
        due_within,
        states,
        plan: v.filter_enum("plan", request.plan, plan_from_proto),
        priority: v.filter_enum("priority", request.priority, priority_from_proto),
        channel: v.filter_enum("channel", request.channel, channel_from_proto),
    };
    v.into_result()?;
    let fingerprint = format!(
        "deadline {:?} {:?} {:?} {:?} {:?}",
        filter.due_within, filter.states, filter.plan, filter.priority, filter.channel
    );
    Ok(DeadlineListing {
        filter,
        page_size,
        fingerprint,
    })
}
