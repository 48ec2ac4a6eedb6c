//! Domain → protobuf conversions, and the enum mappings both directions use.
//! Protobuf → domain goes through `validate`, because it can fail per field.

use chrono::{DateTime, Duration, Utc};

use crate::domain::compliance::ComplianceRow;
use crate::domain::policy::{Channel, Plan, Policy, Priority, Region};
use crate::domain::priority::{Impact, ImpactScope, PriorityDecision, RequestKind, Workaround};
use crate::domain::service_request::{ServiceKind, ServiceRequest, ServiceRequestStatus};
use crate::domain::sla::SlaState;
use crate::domain::survey::{Rating, Survey};
use crate::domain::ticket::{
    Account, EventKind, NotificationMethod, Origin, Ticket, TicketEvent, TicketStatus,
};
use crate::proto::pb;
use crate::watch::{Update, UpdateBody, cursor};

/// Maps a domain enum to its protobuf twin and back. The way back yields
/// `None` for `*_UNSPECIFIED` and for numbers this build does not know.
macro_rules! enum_mapping {
    ($to:ident, $from:ident, $domain:ident => $proto:ident { $($d:ident <=> $p:ident),+ $(,)? }) => {
        pub fn $to(value: $domain) -> pb::$proto {
            match value { $($domain::$d => pb::$proto::$p),+ }
        }

        pub fn $from(raw: i32) -> Option<$domain> {
            match pb::$proto::try_from(raw).ok()? {
                $(pb::$proto::$p => Some($domain::$d),)+
                #[allow(unreachable_patterns)]
                _ => None,
            }
        }
    };
}

enum_mapping!(plan_to_proto, plan_from_proto, Plan => Plan {
    Free <=> Free, Pro <=> Pro, Business <=> Business, Education <=> Education, Api <=> Api,
});
enum_mapping!(channel_to_proto, channel_from_proto, Channel => Channel {
    WebForm <=> WebForm, Chat <=> Chat, Phone <=> Phone,
});
enum_mapping!(priority_to_proto, priority_from_proto, Priority => Priority {
    P1 <=> P1Urgent, P2 <=> P2High, P3 <=> P3Normal, P4 <=> P4Low,
});
enum_mapping!(region_to_proto, region_from_proto, Region => Region {
    Us <=> Us, Au <=> Au, Uk <=> Uk,
});
enum_mapping!(kind_to_proto, kind_from_proto, RequestKind => RequestKind {
    Problem <=> Problem, Information <=> Information, Assistance <=> Assistance,
    Feature <=> Feature, Change <=> Change, PrereleaseAccess <=> PrereleaseAccess,
});
enum_mapping!(scope_to_proto, scope_from_proto, ImpactScope => ImpactScope {
    ServiceDown <=> ServiceDown, Degraded <=> Degraded,
    FunctionImpaired <=> FunctionImpaired, Minimal <=> Minimal,
});
enum_mapping!(workaround_to_proto, workaround_from_proto, Workaround => Workaround {
    None <=> None, Partial <=> Partial, Full <=> Full,
});
enum_mapping!(status_to_proto, status_from_proto, TicketStatus => TicketStatus {
    New <=> New, Acknowledged <=> Acknowledged, InProgress <=> InProgress,
    WaitingOnCustomer <=> WaitingOnCustomer, Resolved <=> Resolved, Closed <=> Closed,
});
enum_mapping!(sla_state_to_proto, sla_state_from_proto, SlaState => SlaState {
    OnTrack <=> OnTrack, AtRisk <=> AtRisk, Breached <=> Breached, Met <=> Met, Missed <=> Missed,
});
enum_mapping!(method_to_proto, method_from_proto, NotificationMethod => NotificationMethod {
    Email <=> Email, ChatMessage <=> ChatMessage, PhoneCall <=> PhoneCall, WebPortal <=> WebPortal,
});
enum_mapping!(service_kind_to_proto, service_kind_from_proto, ServiceKind => ServiceKind {
    Training <=> Training, Consulting <=> Consulting, Branding <=> Branding,
    Implementation <=> Implementation, CustomSolution <=> CustomSolution,
    Development <=> Development,
});
enum_mapping!(service_status_to_proto, service_status_from_proto, ServiceRequestStatus => ServiceRequestStatus {
    Submitted <=> Submitted, InReview <=> InReview, Scheduled <=> Scheduled,
    Completed <=> Completed, Declined <=> Declined,
});
enum_mapping!(rating_to_proto, rating_from_proto, Rating => SatisfactionRating {
    Good <=> Good, Bad <=> Bad,
});
enum_mapping!(event_kind_to_proto, event_kind_from_proto, EventKind => TicketEventKind {
    Received <=> Received, StatusChanged <=> StatusChanged, PriorityChanged <=> PriorityChanged,
    DeadlineRecalculated <=> DeadlineRecalculated, AtRisk <=> AtRisk, Breached <=> Breached,
    FirstResponse <=> FirstResponse,
});

pub use ticketd_client::convert::timestamp;

pub fn duration(span: Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: span.num_seconds(),
        nanos: span.subsec_nanos(),
    }
}

pub fn account_name(id: &str) -> String {
    format!("accounts/{id}")
}

impl From<Account> for pb::Account {
    fn from(account: Account) -> Self {
        Self {
            name: account_name(&account.id),
            display_name: account.display_name,
            plan: plan_to_proto(account.plan).into(),
            create_time: Some(timestamp(account.create_time)),
            update_time: Some(timestamp(account.update_time)),
        }
    }
}

impl From<Impact> for pb::Impact {
    fn from(impact: Impact) -> Self {
        Self {
            kind: kind_to_proto(impact.kind()).into(),
            scope: impact.scope().map_or(0, |s| scope_to_proto(s).into()),
            workaround: impact
                .workaround()
                .map_or(0, |w| workaround_to_proto(w).into()),
        }
    }
}

impl From<PriorityDecision> for pb::PriorityDecision {
    fn from(decision: PriorityDecision) -> Self {
        Self {
            priority: priority_to_proto(decision.priority).into(),
            rule_id: decision.rule_id,
            rule_description: decision.rule_description,
        }
    }
}

impl From<Origin> for pb::ticket::Origin {
    fn from(origin: Origin) -> Self {
        match origin {
            Origin::WebForm {
                contact_email,
                contact_name,
            } => Self::WebForm(pb::WebFormSubmission {
                contact_email,
                contact_name: contact_name.unwrap_or_default(),
            }),
            Origin::Chat {
                session_id,
                transcript_uri,
                first_message,
            } => Self::Chat(pb::ChatSession {
                chat_session_id: session_id,
                transcript_uri: transcript_uri.unwrap_or_default(),
                first_message: first_message.unwrap_or_default(),
            }),
            Origin::Phone {
                call_id,
                caller_number,
                dialed_number,
                region,
            } => Self::PhoneCall(pb::PhoneCall {
                call_id,
                caller_number,
                dialed_number,
                region: region_to_proto(region).into(),
            }),
        }
    }
}

impl From<Ticket> for pb::Ticket {
    fn from(ticket: Ticket) -> Self {
        Self {
            name: format!("tickets/{}", ticket.id),
            number: ticket.number,
            account: account_name(&ticket.account_id),
            plan: plan_to_proto(ticket.plan).into(),
            channel: channel_to_proto(ticket.channel()).into(),
            origin: Some(ticket.origin.into()),
            subject: ticket.subject,
            description: ticket.description,
            impact: Some(ticket.impact.into()),
            priority_decision: Some(ticket.decision.into()),
            status: status_to_proto(ticket.status).into(),
            received_at: Some(timestamp(ticket.received_at)),
            response_target: Some(duration(ticket.response_target)),
            response_due_at: Some(timestamp(ticket.response_due_at)),
            policy_version: ticket.policy_version,
            request_id: ticket.request_id.unwrap_or_default(),
            sla_state: sla_state_to_proto(ticket.sla_state).into(),
            at_risk_at: Some(timestamp(ticket.at_risk_at)),
            first_response: ticket.first_response.map(|r| pb::FirstResponse {
                responded_at: Some(timestamp(r.at)),
                responder: r.responder,
                method: method_to_proto(r.method).into(),
            }),
        }
    }
}

impl From<ServiceRequest> for pb::ServiceRequest {
    fn from(request: ServiceRequest) -> Self {
        Self {
            name: format!("serviceRequests/{}", request.number),
            account: account_name(&request.account_id),
            kind: service_kind_to_proto(request.kind).into(),
            summary: request.summary,
            details: request.details,
            contact_email: request.contact_email,
            status: service_status_to_proto(request.status).into(),
            create_time: Some(timestamp(request.created_at)),
            update_time: Some(timestamp(request.updated_at)),
        }
    }
}

impl From<ComplianceRow> for pb::ComplianceRow {
    fn from(row: ComplianceRow) -> Self {
        let (plan, priority, channel) = row.group;
        Self {
            plan: plan_to_proto(plan).into(),
            priority: priority_to_proto(priority).into(),
            channel: channel_to_proto(channel).into(),
            received: row.received,
            met: row.met,
            missed: row.missed,
            breached: row.breached,
            awaiting_response: row.awaiting_response,
            median_time_to_first_response: row.median_time_to_first_response.map(duration),
            p90_time_to_first_response: row.p90_time_to_first_response.map(duration),
            surveys_answered: row.surveys_answered,
            satisfaction_good_percent: row.good_percent.unwrap_or(0.0),
        }
    }
}

impl From<Survey> for pb::Survey {
    fn from(survey: Survey) -> Self {
        Self {
            name: format!("surveys/{}", survey.id),
            ticket: format!("tickets/{}", survey.ticket_id),
            issue_time: Some(timestamp(survey.issued_at)),
            rating: survey
                .answer
                .as_ref()
                .map_or(0, |a| rating_to_proto(a.rating).into()),
            comment: survey
                .answer
                .as_ref()
                .and_then(|a| a.comment.clone())
                .unwrap_or_default(),
            answer_time: survey.answer.map(|a| timestamp(a.answered_at)),
        }
    }
}

impl From<TicketEvent> for pb::TicketEvent {
    fn from(event: TicketEvent) -> Self {
        Self {
            event_id: event.id,
            ticket: format!("tickets/{}", event.ticket_id),
            kind: event_kind_to_proto(event.kind).into(),
            actor: event.actor,
            occur_time: Some(timestamp(event.occurred_at)),
            sla_state: sla_state_to_proto(event.sla_state).into(),
            from_status: event.from_status.map_or(0, |s| status_to_proto(s).into()),
            to_status: event.to_status.map_or(0, |s| status_to_proto(s).into()),
            from_priority: event
                .from_priority
                .map_or(0, |p| priority_to_proto(p).into()),
            to_priority: event.to_priority.map_or(0, |p| priority_to_proto(p).into()),
            from_due_at: event.from_due_at.map(timestamp),
            to_due_at: event.to_due_at.map(timestamp),
            note: event.note.unwrap_or_default(),
        }
    }
}

/// A ticket as an SLA dashboard shows it, with its state at `now`.
pub fn ticket_sla_status(ticket: &Ticket, now: DateTime<Utc>) -> pb::TicketSlaStatus {
    let clock = ticket.sla_clock();
    pb::TicketSlaStatus {
        name: format!("tickets/{}", ticket.id),
        number: ticket.number,
        account: account_name(&ticket.account_id),
        plan: plan_to_proto(ticket.plan).into(),
        channel: channel_to_proto(ticket.channel()).into(),
        priority: priority_to_proto(ticket.decision.priority).into(),
        status: status_to_proto(ticket.status).into(),
        subject: ticket.subject.clone(),
        sla_state: sla_state_to_proto(clock.state_at(now)).into(),
        received_at: Some(timestamp(ticket.received_at)),
        at_risk_at: Some(timestamp(ticket.at_risk_at)),
        response_due_at: Some(timestamp(ticket.response_due_at)),
        time_remaining: clock
            .first_response_at
            .is_none()
            .then(|| duration(ticket.response_due_at - now)),
        first_response_at: clock.first_response_at.map(timestamp),
        observe_time: Some(timestamp(now)),
    }
}

impl From<Update> for pb::WatchSlaStatusResponse {
    fn from(update: Update) -> Self {
        use pb::watch_sla_status_response::Update as Body;
        let now = update.observed_at;
        let body = match update.body {
            UpdateBody::Ticket(ticket) => Body::Ticket(ticket_sla_status(&ticket, now)),
            UpdateBody::SnapshotEnd { ticket_count } => Body::SnapshotEnd(pb::SnapshotEnd {
                ticket_count: i32::try_from(ticket_count).unwrap_or(i32::MAX),
            }),
            UpdateBody::Event(logged) => Body::Event(pb::SlaEvent {
                event: Some(logged.event.clone().into()),
                ticket: Some(ticket_sla_status(&logged.ticket, now)),
            }),
            UpdateBody::Heartbeat => Body::Heartbeat(pb::Heartbeat {
                server_time: Some(timestamp(now)),
            }),
        };
        Self {
            cursor: update.cursor.map(cursor::encode).unwrap_or_default(),
            update: Some(body),
        }
    }
}

impl From<&Policy> for pb::Policy {
    fn from(policy: &Policy) -> Self {
        Self {
            version: policy.version().to_owned(),
            plan_channels: Plan::ALL
                .iter()
                .map(|plan| pb::PlanChannels {
                    plan: plan_to_proto(*plan).into(),
                    channels: policy
                        .channels_for(*plan)
                        .iter()
                        .map(|c| channel_to_proto(*c).into())
                        .collect(),
                })
                .collect(),
            phone_lines: policy
                .phone_lines()
                .iter()
                .map(|line| pb::PhoneLine {
                    region: region_to_proto(line.region).into(),
                    number: line.number.clone(),
                    display_number: line.display_number.clone(),
                    support_extension: line.support_extension.clone(),
                })
                .collect(),
            priorities: policy
                .priorities()
                .iter()
                .map(|d| pb::PriorityDefinition {
                    priority: priority_to_proto(d.priority).into(),
                    name: d.name.clone(),
                    meaning: d.meaning.clone(),
                    workaround: d.workaround.clone(),
                    effort: d.effort.clone(),
                })
                .collect(),
            response_targets: Plan::ALL
                .iter()
                .flat_map(|plan| {
                    Priority::ALL
                        .iter()
                        .map(move |priority| pb::ResponseTarget {
                            plan: plan_to_proto(*plan).into(),
                            priority: priority_to_proto(*priority).into(),
                            target: Some(duration(policy.response_target(*plan, *priority))),
                        })
                })
                .collect(),
            priority_rules: policy
                .rules()
                .iter()
                .map(|rule| pb::PriorityRule {
                    rule_id: rule.id.clone(),
                    description: rule.description.clone(),
                    priority: priority_to_proto(rule.priority).into(),
                    kinds: rule
                        .kinds
                        .iter()
                        .map(|k| kind_to_proto(*k).into())
                        .collect(),
                    scopes: rule
                        .scopes
                        .iter()
                        .map(|s| scope_to_proto(*s).into())
                        .collect(),
                    workarounds: rule
                        .workarounds
                        .iter()
                        .map(|w| workaround_to_proto(*w).into())
                        .collect(),
                })
                .collect(),
            at_risk_percent: i32::from(policy.at_risk_percent()),
            professional_services: policy
                .professional_services()
                .iter()
                .map(|k| service_kind_to_proto(*k).into())
                .collect(),
            support_hours: Some(pb::SupportHours {
                always_open: policy.support_hours().always_open,
                description: policy.support_hours().description.clone(),
                response_clock: policy.support_hours().response_clock.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_domain_enum_value_round_trips_through_its_proto_number() {
        for plan in Plan::ALL {
            assert_eq!(plan_from_proto(plan_to_proto(*plan).into()), Some(*plan));
        }
        for channel in Channel::ALL {
            assert_eq!(
                channel_from_proto(channel_to_proto(*channel).into()),
                Some(*channel)
            );
        }
        for priority in Priority::ALL {
            assert_eq!(
                priority_from_proto(priority_to_proto(*priority).into()),
                Some(*priority)
            );
        }
        for region in Region::ALL {
            assert_eq!(
                region_from_proto(region_to_proto(*region).into()),
                Some(*region)
            );
        }
        for kind in RequestKind::ALL {
            assert_eq!(kind_from_proto(kind_to_proto(*kind).into()), Some(*kind));
        }
        for scope in ImpactScope::ALL {
            assert_eq!(
                scope_from_proto(scope_to_proto(*scope).into()),
                Some(*scope)
            );
        }
        for workaround in Workaround::ALL {
            assert_eq!(
                workaround_from_proto(workaround_to_proto(*workaround).into()),
                Some(*workaround)
            );
        }
    }

    #[test]
    fn unspecified_and_unknown_numbers_map_to_none() {
        assert_eq!(plan_from_proto(0), None);
        assert_eq!(plan_from_proto(99), None);
        assert_eq!(channel_from_proto(-1), None);
    }

    #[test]
    fn timestamps_keep_microseconds() {
        let at = DateTime::parse_from_rfc3339("2026-11-28T10:00:00.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        let ts = timestamp(at);
        assert_eq!((ts.seconds, ts.nanos), (at.timestamp(), 123_456_000));
    }
}
