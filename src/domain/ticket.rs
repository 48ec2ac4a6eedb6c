//! Accounts and tickets as the domain sees them.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::policy::{Channel, Plan, Region, named_enum};
use super::priority::{Impact, PriorityDecision};

/// A customer account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub display_name: String,
    pub plan: Plan,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

/// A change to an account; `None` leaves the field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountUpdate {
    pub display_name: Option<String>,
    pub plan: Option<Plan>,
}

named_enum!(
    /// Where a ticket stands in its lifecycle.
    TicketStatus { New => "new" }
);

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
    pub policy_version: String,
    pub request_id: Option<String>,
}

impl Ticket {
    pub fn channel(&self) -> Channel {
        self.origin.channel()
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
