//! The mapping between stored rows and the domain's types: every row
//! struct, its column lists and bindings, and its conversions, shared by
//! both backends. The schemas have the same columns with compatible types,
//! so one `FromRow` derive and one conversion serve PostgreSQL and SQLite;
//! enumerations are stored as text and read back with [`parse`].

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::parse::{parse, parse_optional};
use crate::domain::access::{Credential, Role};
use crate::domain::policy::{Channel, Plan, PolicyVersion, Priority, Region};
use crate::domain::priority::{Impact, ImpactScope, PriorityDecision, RequestKind, Workaround};
use crate::domain::service_request::{ServiceKind, ServiceRequest, ServiceRequestStatus};
use crate::domain::sla::SlaState;
use crate::domain::survey::{Rating, Survey, SurveyAnswer};
use crate::domain::ticket::{
    Account, EventKind, FirstResponse, NotificationMethod, Origin, Ticket, TicketEvent,
    TicketStatus,
};
use crate::error::{Error, Result};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub id: String,
    pub display_name: String,
    pub plan: String,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
}

macro_rules! account_columns {
    () => {
        "id, display_name, plan, create_time, update_time"
    };
}
pub(crate) use account_columns;

impl TryFrom<AccountRow> for Account {
    type Error = Error;

    fn try_from(row: AccountRow) -> Result<Self> {
        Ok(Account {
            plan: parse("plan", &row.plan, Plan::parse)?,
            id: row.id,
            display_name: row.display_name,
            create_time: row.create_time,
            update_time: row.update_time,
        })
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TicketRow {
    pub id: Uuid,
    pub number: i64,
    pub account_id: String,
    pub plan: String,
    pub channel: String,
    pub contact_email: Option<String>,
    pub contact_name: Option<String>,
    pub chat_session_id: Option<String>,
    pub transcript_uri: Option<String>,
    pub first_message: Option<String>,
    pub call_id: Option<String>,
    pub caller_number: Option<String>,
    pub dialed_number: Option<String>,
    pub region: Option<String>,
    pub subject: String,
    pub description: String,
    pub request_kind: String,
    pub impact_scope: Option<String>,
    pub workaround: Option<String>,
    pub priority: String,
    pub priority_rule_id: String,
    pub priority_rule_description: String,
    pub status: String,
    pub received_at: DateTime<Utc>,
    pub response_target_seconds: i64,
    pub response_due_at: DateTime<Utc>,
    pub policy_version: String,
    pub request_id: Option<String>,
    pub at_risk_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub first_responder: Option<String>,
    pub first_response_method: Option<String>,
    pub sla_state: String,
    pub next_sla_check_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub policy_version_number: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub ticket_id: Uuid,
    pub kind: String,
    pub actor: String,
    pub occurred_at: DateTime<Utc>,
    pub sla_state: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub from_priority: Option<String>,
    pub to_priority: Option<String>,
    pub from_due_at: Option<DateTime<Utc>>,
    pub to_due_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

/// The columns an insert writes: all but the store-assigned `number`.
macro_rules! ticket_insert_columns {
    () => {
        "id, account_id, plan, channel, contact_email, contact_name, chat_session_id, \
         transcript_uri, first_message, call_id, caller_number, dialed_number, region, subject, \
         description, request_kind, impact_scope, workaround, priority, priority_rule_id, \
         priority_rule_description, status, received_at, response_target_seconds, \
         response_due_at, policy_version, request_id, at_risk_at, first_response_at, \
         first_responder, first_response_method, sla_state, next_sla_check_at, version, \
         policy_version_number"
    };
}
pub(crate) use ticket_insert_columns;

/// Every ticket column: the select list of both backends (rows are read by
/// column name, so the order is free).
macro_rules! ticket_columns {
    () => {
        concat!(
            "number, ",
            $crate::store::sql::rows::ticket_insert_columns!()
        )
    };
}
pub(crate) use ticket_columns;

macro_rules! event_columns {
    () => {
        "id, ticket_id, kind, actor, occurred_at, sla_state, from_status, to_status, \
         from_priority, to_priority, from_due_at, to_due_at, note"
    };
}
pub(crate) use event_columns;

/// Binds a [`TicketRow`] in `ticket_insert_columns!` order. A macro rather
/// than a generic function: the query types differ per backend.
macro_rules! bind_ticket_insert {
    ($query:expr, $row:expr) => {{
        let row = $row;
        $query
            .bind(row.id)
            .bind(&row.account_id)
            .bind(&row.plan)
            .bind(&row.channel)
            .bind(&row.contact_email)
            .bind(&row.contact_name)
            .bind(&row.chat_session_id)
            .bind(&row.transcript_uri)
            .bind(&row.first_message)
            .bind(&row.call_id)
            .bind(&row.caller_number)
            .bind(&row.dialed_number)
            .bind(&row.region)
            .bind(&row.subject)
            .bind(&row.description)
            .bind(&row.request_kind)
            .bind(&row.impact_scope)
            .bind(&row.workaround)
            .bind(&row.priority)
            .bind(&row.priority_rule_id)
            .bind(&row.priority_rule_description)
            .bind(&row.status)
            .bind(row.received_at)
            .bind(row.response_target_seconds)
            .bind(row.response_due_at)
            .bind(&row.policy_version)
            .bind(&row.request_id)
            .bind(row.at_risk_at)
            .bind(row.first_response_at)
            .bind(&row.first_responder)
            .bind(&row.first_response_method)
            .bind(&row.sla_state)
            .bind(row.next_sla_check_at)
            .bind(row.version)
            .bind(row.policy_version_number)
    }};
}
pub(crate) use bind_ticket_insert;

/// What a ticket change writes: `update_ticket`'s SET list, from `$3` (`$1`
/// is the ticket's id, `$2` its expected version), in `bind_ticket_update!`
/// order. The rest of a ticket does not change once received.
macro_rules! ticket_update_assignments {
    () => {
        "status = $3, priority = $4, priority_rule_id = $5, priority_rule_description = $6, \
         response_target_seconds = $7, response_due_at = $8, at_risk_at = $9, \
         first_response_at = $10, first_responder = $11, first_response_method = $12, \
         sla_state = $13, next_sla_check_at = $14"
    };
}
pub(crate) use ticket_update_assignments;

/// Binds a [`TicketRow`]'s changeable columns in `ticket_update_assignments!`
/// order, after the caller's `$1` and `$2`.
macro_rules! bind_ticket_update {
    ($query:expr, $row:expr) => {{
        let row = $row;
        $query
            .bind(&row.status)
            .bind(&row.priority)
            .bind(&row.priority_rule_id)
            .bind(&row.priority_rule_description)
            .bind(row.response_target_seconds)
            .bind(row.response_due_at)
            .bind(row.at_risk_at)
            .bind(row.first_response_at)
            .bind(&row.first_responder)
            .bind(&row.first_response_method)
            .bind(&row.sla_state)
            .bind(row.next_sla_check_at)
    }};
}
pub(crate) use bind_ticket_update;

/// The event columns an insert writes after `ticket_id`, in
/// `bind_event_insert!` order.
macro_rules! event_insert_columns {
    () => {
        "kind, actor, occurred_at, sla_state, from_status, to_status, from_priority, \
         to_priority, from_due_at, to_due_at, note"
    };
}
pub(crate) use event_insert_columns;

/// Binds an [`EventRow`] in `event_insert_columns!` order (all but the
/// ticket id, which the caller binds or the statement supplies).
macro_rules! bind_event_insert {
    ($query:expr, $row:expr) => {{
        let row = $row;
        $query
            .bind(&row.kind)
            .bind(&row.actor)
            .bind(row.occurred_at)
            .bind(&row.sla_state)
            .bind(&row.from_status)
            .bind(&row.to_status)
            .bind(&row.from_priority)
            .bind(&row.to_priority)
            .bind(row.from_due_at)
            .bind(row.to_due_at)
            .bind(&row.note)
    }};
}
pub(crate) use bind_event_insert;

impl From<&Ticket> for TicketRow {
    fn from(ticket: &Ticket) -> Self {
        let mut row = TicketRow {
            id: ticket.id,
            number: ticket.number,
            account_id: ticket.account_id.clone(),
            plan: ticket.plan.as_str().to_owned(),
            channel: ticket.channel().as_str().to_owned(),
            contact_email: None,
            contact_name: None,
            chat_session_id: None,
            transcript_uri: None,
            first_message: None,
            call_id: None,
            caller_number: None,
            dialed_number: None,
            region: None,
            subject: ticket.subject.clone(),
            description: ticket.description.clone(),
            request_kind: ticket.impact.kind().as_str().to_owned(),
            impact_scope: ticket.impact.scope().map(|s| s.as_str().to_owned()),
            workaround: ticket.impact.workaround().map(|w| w.as_str().to_owned()),
            priority: ticket.decision.priority.as_str().to_owned(),
            priority_rule_id: ticket.decision.rule_id.clone(),
            priority_rule_description: ticket.decision.rule_description.clone(),
            status: ticket.status.as_str().to_owned(),
            received_at: ticket.received_at,
            response_target_seconds: ticket.response_target.num_seconds(),
            response_due_at: ticket.response_due_at,
            policy_version: ticket.policy_version.clone(),
            request_id: ticket.request_id.clone(),
            at_risk_at: ticket.at_risk_at,
            first_response_at: ticket.first_response.as_ref().map(|r| r.at),
            first_responder: ticket.first_response.as_ref().map(|r| r.responder.clone()),
            first_response_method: ticket
                .first_response
                .as_ref()
                .map(|r| r.method.as_str().to_owned()),
            sla_state: ticket.sla_state.as_str().to_owned(),
            next_sla_check_at: ticket.next_sla_check_at(),
            version: ticket.version,
            policy_version_number: ticket.policy_version_number,
        };
        match &ticket.origin {
            Origin::WebForm {
                contact_email,
                contact_name,
            } => {
                row.contact_email = Some(contact_email.clone());
                row.contact_name = contact_name.clone();
            }
            Origin::Chat {
                session_id,
                transcript_uri,
                first_message,
            } => {
                row.chat_session_id = Some(session_id.clone());
                row.transcript_uri = transcript_uri.clone();
                row.first_message = first_message.clone();
            }
            Origin::Phone {
                call_id,
                caller_number,
                dialed_number,
                region,
            } => {
                row.call_id = Some(call_id.clone());
                row.caller_number = Some(caller_number.clone());
                row.dialed_number = Some(dialed_number.clone());
                row.region = Some(region.as_str().to_owned());
            }
        }
        row
    }
}

impl TryFrom<TicketRow> for Ticket {
    type Error = Error;

    fn try_from(row: TicketRow) -> Result<Self> {
        let channel = parse("channel", &row.channel, Channel::parse)?;
        let required = |column: &str, value: Option<String>| {
            value.ok_or_else(|| Error::Internal(format!("{column} missing on a {channel} ticket")))
        };
        let origin = match channel {
            Channel::WebForm => Origin::WebForm {
                contact_email: required("contact_email", row.contact_email)?,
                contact_name: row.contact_name,
            },
            Channel::Chat => Origin::Chat {
                session_id: required("chat_session_id", row.chat_session_id)?,
                transcript_uri: row.transcript_uri,
                first_message: row.first_message,
            },
            Channel::Phone => Origin::Phone {
                call_id: required("call_id", row.call_id)?,
                caller_number: required("caller_number", row.caller_number)?,
                dialed_number: required("dialed_number", row.dialed_number)?,
                region: parse("region", &required("region", row.region)?, Region::parse)?,
            },
        };
        let impact = Impact::new(
            parse("request_kind", &row.request_kind, RequestKind::parse)?,
            parse_optional(
                "impact_scope",
                row.impact_scope.as_deref(),
                ImpactScope::parse,
            )?,
            parse_optional("workaround", row.workaround.as_deref(), Workaround::parse)?,
        )
        .map_err(|missing| Error::Internal(format!("stored impact incomplete: {missing:?}")))?;
        Ok(Ticket {
            id: row.id,
            number: row.number,
            account_id: row.account_id,
            plan: parse("plan", &row.plan, Plan::parse)?,
            origin,
            subject: row.subject,
            description: row.description,
            impact,
            decision: PriorityDecision {
                priority: parse("priority", &row.priority, Priority::parse)?,
                rule_id: row.priority_rule_id,
                rule_description: row.priority_rule_description,
            },
            status: parse("status", &row.status, TicketStatus::parse)?,
            received_at: row.received_at,
            response_target: Duration::seconds(row.response_target_seconds),
            response_due_at: row.response_due_at,
            policy_version: row.policy_version,
            policy_version_number: row.policy_version_number,
            request_id: row.request_id,
            at_risk_at: row.at_risk_at,
            first_response: match (
                row.first_response_at,
                row.first_responder,
                row.first_response_method,
            ) {
                (Some(at), Some(responder), Some(method)) => Some(FirstResponse {
                    at,
                    responder,
                    method: parse("first_response_method", &method, NotificationMethod::parse)?,
                }),
                (None, None, None) => None,
                _ => return Err(Error::Internal("first response stored incompletely".into())),
            },
            sla_state: parse("sla_state", &row.sla_state, SlaState::parse)?,
            version: row.version,
        })
    }
}

impl From<&TicketEvent> for EventRow {
    fn from(event: &TicketEvent) -> Self {
        let text = |v: Option<&'static str>| v.map(str::to_owned);
        EventRow {
            id: event.id,
            ticket_id: event.ticket_id,
            kind: event.kind.as_str().to_owned(),
            actor: event.actor.clone(),
            occurred_at: event.occurred_at,
            sla_state: event.sla_state.as_str().to_owned(),
            from_status: text(event.from_status.map(TicketStatus::as_str)),
            to_status: text(event.to_status.map(TicketStatus::as_str)),
            from_priority: text(event.from_priority.map(Priority::as_str)),
            to_priority: text(event.to_priority.map(Priority::as_str)),
            from_due_at: event.from_due_at,
            to_due_at: event.to_due_at,
            note: event.note.clone(),
        }
    }
}

impl TryFrom<EventRow> for TicketEvent {
    type Error = Error;

    fn try_from(row: EventRow) -> Result<Self> {
        Ok(TicketEvent {
            id: row.id,
            ticket_id: row.ticket_id,
            kind: parse("kind", &row.kind, EventKind::parse)?,
            actor: row.actor,
            occurred_at: row.occurred_at,
            sla_state: parse("sla_state", &row.sla_state, SlaState::parse)?,
            from_status: parse_optional(
                "from_status",
                row.from_status.as_deref(),
                TicketStatus::parse,
            )?,
            to_status: parse_optional("to_status", row.to_status.as_deref(), TicketStatus::parse)?,
            from_priority: parse_optional(
                "from_priority",
                row.from_priority.as_deref(),
                Priority::parse,
            )?,
            to_priority: parse_optional(
                "to_priority",
                row.to_priority.as_deref(),
                Priority::parse,
            )?,
            from_due_at: row.from_due_at,
            to_due_at: row.to_due_at,
            note: row.note,
        })
    }
}

/// An event with the transaction id that positions it in the log (0 on SQLite).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoggedEventRow {
    pub txid: i64,
    #[sqlx(flatten)]
    pub event: EventRow,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SurveyRow {
    pub id: i64,
    pub token: String,
    pub ticket_id: Uuid,
    pub issued_at: DateTime<Utc>,
    pub rating: Option<String>,
    pub comment: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
}

macro_rules! survey_columns {
    () => {
        "id, token, ticket_id, issued_at, rating, comment, answered_at"
    };
}
pub(crate) use survey_columns;

impl TryFrom<SurveyRow> for Survey {
    type Error = Error;

    fn try_from(row: SurveyRow) -> Result<Self> {
        let answer = match (row.rating, row.answered_at) {
            (Some(rating), Some(answered_at)) => Some(SurveyAnswer {
                rating: parse("rating", &rating, Rating::parse)?,
                comment: row.comment,
                answered_at,
            }),
            (None, None) => None,
            _ => return Err(Error::Internal("survey answer stored incompletely".into())),
        };
        Ok(Survey {
            id: row.id,
            token: row.token,
            ticket_id: row.ticket_id,
            issued_at: row.issued_at,
            answer,
        })
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ServiceRequestRow {
    pub id: Uuid,
    pub number: i64,
    pub account_id: String,
    pub kind: String,
    pub summary: String,
    pub details: String,
    pub contact_email: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub request_id: Option<String>,
    pub version: i64,
}

macro_rules! service_request_columns {
    () => {
        "id, number, account_id, kind, summary, details, contact_email, status, created_at, \
         updated_at, request_id, version"
    };
}
pub(crate) use service_request_columns;

impl TryFrom<ServiceRequestRow> for ServiceRequest {
    type Error = Error;

    fn try_from(row: ServiceRequestRow) -> Result<Self> {
        Ok(ServiceRequest {
            id: row.id,
            number: row.number,
            account_id: row.account_id,
            kind: parse("kind", &row.kind, ServiceKind::parse)?,
            summary: row.summary,
            details: row.details,
            contact_email: row.contact_email,
            status: parse("status", &row.status, ServiceRequestStatus::parse)?,
            created_at: row.created_at,
            updated_at: row.updated_at,
            request_id: row.request_id,
            version: row.version,
        })
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CredentialRow {
    pub id: String,
    pub name: String,
    pub role: String,
    pub channels: String,
    pub secret_hash: Vec<u8>,
    pub create_time: DateTime<Utc>,
    pub revoke_time: Option<DateTime<Utc>>,
    pub last_use_time: Option<DateTime<Utc>>,
}

impl From<&Credential> for CredentialRow {
    fn from(credential: &Credential) -> Self {
        Self {
            id: credential.id.clone(),
            name: credential.name.clone(),
            role: credential.role.as_str().to_owned(),
            channels: credential
                .channels
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(","),
            secret_hash: credential.secret_hash.clone(),
            create_time: credential.create_time,
            revoke_time: credential.revoke_time,
            last_use_time: credential.last_use_time,
        }
    }
}

impl TryFrom<CredentialRow> for Credential {
    type Error = Error;

    fn try_from(row: CredentialRow) -> Result<Self> {
        Ok(Credential {
            role: parse("role", &row.role, Role::parse)?,
            channels: row
                .channels
                .split(',')
                .filter(|c| !c.is_empty())
                .map(|c| parse("channel", c, Channel::parse))
                .collect::<Result<_>>()?,
            id: row.id,
            name: row.name,
            secret_hash: row.secret_hash,
            create_time: row.create_time,
            revoke_time: row.revoke_time,
            last_use_time: row.last_use_time,
        })
    }
}

macro_rules! credential_columns {
    () => {
        "id, name, role, channels, secret_hash, create_time, revoke_time, last_use_time"
    };
}
pub(crate) use credential_columns;

/// Binds a [`CredentialRow`] in `credential_columns!` order.
macro_rules! bind_credential_insert {
    ($query:expr, $row:expr) => {{
        let row = $row;
        $query
            .bind(&row.id)
            .bind(&row.name)
            .bind(&row.role)
            .bind(&row.channels)
            .bind(&row.secret_hash)
            .bind(row.create_time)
            .bind(row.revoke_time)
            .bind(row.last_use_time)
    }};
}
pub(crate) use bind_credential_insert;

/// A stored policy version; rows are never changed once written.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PolicyVersionRow {
    pub number: i64,
    pub document: String,
    pub label: String,
    pub activated_by: String,
    pub activated_at: DateTime<Utc>,
    pub note: String,
}

impl TryFrom<PolicyVersionRow> for PolicyVersion {
    type Error = Error;

    fn try_from(row: PolicyVersionRow) -> Result<Self> {
        Ok(PolicyVersion {
            number: row.number,
            document: row.document,
            label: row.label,
            activated_by: row.activated_by,
            activated_at: row.activated_at,
            note: row.note,
        })
    }
}

macro_rules! policy_version_columns {
    () => {
        "number, document, label, activated_by, activated_at, note"
    };
}
pub(crate) use policy_version_columns;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::intake::receive;
    use crate::domain::policy::Policy;
    use crate::domain::ticket::{Account, TicketRequest};

    #[test]
    fn every_origin_survives_the_row_round_trip() {
        let account = Account {
            id: "acme".into(),
            display_name: "Acme".into(),
            plan: Plan::Business,
            create_time: Utc::now(),
            update_time: Utc::now(),
        };
        let origins = [
            Origin::WebForm {
                contact_email: "ana@example.com".into(),
                contact_name: None,
            },
            Origin::Chat {
                session_id: "s".into(),
                transcript_uri: Some("https://x.example/t".into()),
                first_message: None,
            },
            Origin::Phone {
                call_id: "c".into(),
                caller_number: "+14155550123".into(),
                dialed_number: "+18887999666".into(),
                region: Region::Us,
            },
        ];
        for origin in origins {
            let request = TicketRequest {
                account_id: "acme".into(),
                origin,
                subject: "s".into(),
                description: "d".into(),
                impact: Impact::new(
                    RequestKind::Problem,
                    Some(ImpactScope::Degraded),
                    Some(Workaround::Partial),
                )
                .unwrap(),
                request_id: Some("r".into()),
            };
            let ticket = receive(&Policy::standard(), 1, &account, request, Utc::now()).unwrap();
            let back = Ticket::try_from(TicketRow::from(&ticket)).unwrap();
            assert_eq!(back, ticket);
        }
    }

    #[test]
    fn an_unknown_stored_value_is_an_internal_error_not_a_panic() {
        let row = AccountRow {
            id: "acme".into(),
            display_name: "Acme".into(),
            plan: "platinum".into(),
            create_time: Utc::now(),
            update_time: Utc::now(),
        };
        assert!(matches!(Account::try_from(row), Err(Error::Internal(_))));
    }
}
