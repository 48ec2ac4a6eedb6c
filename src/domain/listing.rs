//! What the list queries select and where their pages end: built by
//! validation, read by the store.

use chrono::{DateTime, Utc};

use super::policy::{Channel, Plan, Priority};
use super::service_request::{ServiceKind, ServiceRequestStatus};
use super::sla::SlaState;
use super::ticket::TicketStatus;

/// ListTickets filters; `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TicketFilter {
    pub account_id: Option<String>,
    pub channel: Option<Channel>,
    pub priority: Option<Priority>,
    pub status: Option<TicketStatus>,
}

/// Which unanswered tickets a deadline query wants, as of `now`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeadlineFilter {
    pub now: DateTime<Utc>,
    /// Deadline in `[now, now + due_within]`.
    pub due_within: Option<chrono::Duration>,
    /// Empty: every state an unanswered ticket can be in.
    pub states: Vec<SlaState>,
    pub plan: Option<Plan>,
    pub priority: Option<Priority>,
    pub channel: Option<Channel>,
}

/// Where a deadline-ordered page ends: the last ticket's deadline and number.
pub type DeadlineCursor = (DateTime<Utc>, i64);

/// ListServiceRequests filters; `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ServiceRequestFilter {
    pub account_id: Option<String>,
    pub kind: Option<ServiceKind>,
    pub status: Option<ServiceRequestStatus>,
}
