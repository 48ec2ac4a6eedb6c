//! Accounts and tickets as the domain sees them.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::policy::{Channel, Plan, Priority, Region, named_enum};
use super::priority::{Impact, PriorityDecision};
use super::sla::{SlaClock, SlaState};

/// How a ticket is looked up: by resource id or by its human-friendly number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketKey {
    Id(Uuid),
    Number(i64),
}

/// A customer account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub display_name: String,
    pub plan: Plan,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

/// What an account needs on creation; timestamps come from the clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    pub id: String,
    pub display_name: String,
    pub plan: Plan,
}

/// A change to an account; `None` leaves the field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountUpdate {
    pub display_name: Option<String>,
    pub plan: Option<Plan>,
}

named_enum!(
    /// Where a ticket stands in its lifecycle.
    TicketStatus {
        New => "new",
        Acknowledged => "acknowledged",
        InProgress => "in_progress",
        WaitingOnCustomer => "waiting_on_customer",
        Resolved => "resolved",
        Closed => "closed",
    }
);

named_enum!(
    /// How the customer was told that their ticket is registered.
    NotificationMethod {
        Email => "email",
        ChatMessage => "chat_message",
        PhoneCall => "phone_call",
        WebPortal => "web_portal",
    }
);

/// The first response: the moment the customer was notified that the ticket
/// is registered. It stops the response clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstResponse {
    pub at: DateTime<Utc>,
    pub responder: String,
    pub method: NotificationMethod,
}

named_enum!(
    /// What happened to a ticket.
    EventKind {
        Received => "received",
        StatusChanged => "status_changed",
        PriorityChanged => "priority_changed",
        DeadlineRecalculated => "deadline_recalculated",
        AtRisk => "at_risk",
        Breached => "breached",
        FirstResponse => "first_response",
    }
);

/// One entry of a ticket's durable, ordered history. Fields that do not
/// apply to the kind are `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketEvent {
    /// Assigned by the store; increases in commit order per ticket.
    pub id: i64,
    pub ticket_id: Uuid,
    pub kind: EventKind,
    /// Who acted; `system` for time-driven events.
    pub actor: String,
    pub occurred_at: DateTime<Utc>,
    /// The ticket's SLA state after the event.
    pub sla_state: SlaState,
    pub from_status: Option<TicketStatus>,
    pub to_status: Option<TicketStatus>,
    pub from_priority: Option<Priority>,
    pub to_priority: Option<Priority>,
    pub from_due_at: Option<DateTime<Utc>>,
    pub to_due_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

impl TicketEvent {
    pub fn new(ticket: &Ticket, kind: EventKind, actor: &str, occurred_at: DateTime<Utc>) -> Self {
        Self {
            id: 0,
            ticket_id: ticket.id,
            kind,
            actor: actor.to_owned(),
            occurred_at,
            sla_state: ticket.sla_state,
            from_status: None,
            to_status: None,
            from_priority: None,
            to_priority: None,
            from_due_at: None,
            to_due_at: None,
            note: None,
        }
    }
}

/// The actor recorded for events no person caused.
pub const SYSTEM_ACTOR: &str = "system";

/// Where a ticket came from; each channel carries what identifies it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    WebForm {
        contact_email: String,
        contact_name: Option<String>,
    },
    Chat {
        session_id: String,
        transcript_uri: Option<String>,
        first_message: Option<String>,
    },
    Phone {
        call_id: String,
        caller_number: String,
        dialed_number: String,
        region: Region,
    },
}

impl Origin {
    pub fn channel(&self) -> Channel {
        match self {
            Origin::WebForm { .. } => Channel::WebForm,
            Origin::Chat { .. } => Channel::Chat,
            Origin::Phone { .. } => Channel::Phone,
        }
    }
}

/// A complete, validated submission: what a caller asked for, before the
/// policy has looked at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketRequest {
    pub account_id: String,
    pub origin: Origin,
    pub subject: String,
    pub description: String,
    pub impact: Impact,
    pub request_id: Option<String>,
}

/// A received ticket. `number` is assigned by the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub id: Uuid,
    pub number: i64,
    pub account_id: String,
    pub plan: Plan,
    pub origin: Origin,
    pub subject: String,
    pub description: String,
    pub impact: Impact,
    pub decision: PriorityDecision,
    pub status: TicketStatus,
    pub received_at: DateTime<Utc>,
    pub response_target: Duration,
    pub response_due_at: DateTime<Utc>,
    /// The label of the policy version the ticket was received under.
    pub policy_version: String,
    /// That version's number: every later decision about the ticket
    /// (reprioritisation, a recomputed deadline) uses it.
    pub policy_version_number: i64,
    pub request_id: Option<String>,
    /// When the ticket turns AT_RISK without a first response.
    pub at_risk_at: DateTime<Utc>,
    pub first_response: Option<FirstResponse>,
    /// The SLA state last recorded (by an action or the breach sweeper).
    pub sla_state: SlaState,
    /// Increases with every change; writes are conditional on it, so two
    /// replicas cannot both record the same transition.
    pub version: i64,
}

impl Ticket {
    pub fn channel(&self) -> Channel {
        self.origin.channel()
    }

    pub fn sla_clock(&self) -> SlaClock {
        SlaClock {
            at_risk_at: self.at_risk_at,
            due_at: self.response_due_at,
            first_response_at: self.first_response.as_ref().map(|r| r.at),
        }
    }

    /// When the recorded SLA state will next change by time alone: the
    /// at-risk moment, then just past the deadline; never once responded.
    pub fn next_sla_check_at(&self) -> Option<DateTime<Utc>> {
        if self.first_response.is_some() {
            return None;
        }
        match self.sla_state {
            SlaState::OnTrack => Some(self.at_risk_at),
            SlaState::AtRisk => Some(self.response_due_at + chrono::Duration::microseconds(1)),
            SlaState::Breached | SlaState::Met | SlaState::Missed => None,
        }
    }

    /// True when `request` asks for this very ticket: an idempotent retry
    /// rather than a reuse of the request id for something else.
    pub fn was_requested_by(&self, request: &TicketRequest) -> bool {
        self.account_id == request.account_id
            && self.origin == request.origin
            && self.subject == request.subject
            && self.description == request.description
            && self.impact == request.impact
            && self.request_id == request.request_id
    }
}
