//! Receiving a ticket: the policy decides whether the account's plan includes
//! the channel, which priority the stated impact gets, and when the first
//! response is due. Nothing here touches storage.

use chrono::{DateTime, SubsecRound, Utc};
use uuid::Uuid;

use super::policy::{ChannelNotInPlan, Policy};
use super::sla::{SlaState, at_risk_at};
use super::ticket::{Account, Ticket, TicketRequest, TicketStatus};

/// Times are recorded to the microsecond, the precision the contract (and
/// PostgreSQL) keeps, so a ticket reads back exactly as it was returned.
pub fn receipt_time(now: DateTime<Utc>) -> DateTime<Utc> {
    now.trunc_subsecs(6)
}

/// Turns a valid request into a received ticket, stamped at `now` with the
/// plan the account has at this moment, decided wholly under `policy`, which
/// is version `policy_number` (recorded, so later decisions use it too).
/// `number` is left at 0 for the store.
pub fn receive(
    policy: &Policy,
    policy_number: i64,
    account: &Account,
    request: TicketRequest,
    now: DateTime<Utc>,
) -> Result<Ticket, ChannelNotInPlan> {
    policy.check_channel(account.plan, request.origin.channel())?;
    let now = receipt_time(now);
    let decision = policy.classify(&request.impact);
    let response_target = policy.response_target(account.plan, decision.priority);
    let response_due_at = policy.response_due_at(account.plan, decision.priority, now);
    Ok(Ticket {
        id: Uuid::new_v4(),
        number: 0,
        account_id: account.id.clone(),
        plan: account.plan,
        origin: request.origin,
        subject: request.subject,
        description: request.description,
        impact: request.impact,
        status: TicketStatus::New,
        received_at: now,
        response_target,
        response_due_at,
        at_risk_at: at_risk_at(now, response_due_at, policy.at_risk_percent()),
        decision,
        policy_version: policy.version().to_owned(),
        policy_version_number: policy_number,
        request_id: request.request_id,
        first_response: None,
        sla_state: SlaState::OnTrack,
        version: 1,
    })
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::domain::policy::{Channel, Plan, Priority, Region};
    use crate::domain::priority::{Impact, ImpactScope, RequestKind, Workaround};
    use crate::domain::ticket::Origin;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-28T09:15:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn account(plan: Plan) -> Account {
        Account {
            id: "acme".into(),
            display_name: "Acme".into(),
            plan,
            create_time: now() - Duration::days(3),
            update_time: now() - Duration::days(3),
        }
    }

    fn phone_request(impact: Impact) -> TicketRequest {
        TicketRequest {
            account_id: "acme".into(),
            origin: Origin::Phone {
                call_id: "call-1".into(),
                caller_number: "+14155550123".into(),
                dialed_number: "+18887999666".into(),
                region: Region::Us,
            },
            subject: "Meetings drop".into(),
            description: String::new(),
            impact,
            request_id: Some("r-1".into()),
        }
    }

    fn outage() -> Impact {
        Impact::new(
            RequestKind::Problem,
            Some(ImpactScope::ServiceDown),
            Some(Workaround::None),
        )
        .unwrap()
    }

    #[test]
    fn a_business_outage_by_phone_is_p1_due_in_one_hour_from_receipt() {
        let ticket = receive(
            &Policy::standard(),
            1,
            &account(Plan::Business),
            phone_request(outage()),
            now(),
        )
        .unwrap();
        assert_eq!(ticket.decision.priority, Priority::P1);
        assert_eq!(ticket.decision.rule_id, "service-down-no-workaround");
        assert_eq!(ticket.received_at, now());
        assert_eq!(ticket.response_target, Duration::hours(1));
        assert_eq!(ticket.response_due_at, now() + Duration::hours(1));
        assert_eq!(ticket.plan, Plan::Business);
        assert_eq!(ticket.status, TicketStatus::New);
        assert_eq!(ticket.policy_version, Policy::standard().version());
    }

    #[test]
    fn a_free_phone_call_is_refused_naming_chat_and_web_form() {
        let refusal = receive(
            &Policy::standard(),
            1,
            &account(Plan::Free),
            phone_request(outage()),
            now(),
        )
        .unwrap_err();
        assert_eq!(refusal.channel, Channel::Phone);
        assert_eq!(refusal.allowed, vec![Channel::WebForm, Channel::Chat]);
    }

    impl TicketRequest {
        fn with_chat_origin(mut self) -> Self {
            self.origin = Origin::Chat {
                session_id: "s-1".into(),
                transcript_uri: None,
                first_message: Some("help".into()),
            };
            self
        }
    }

    #[test]
    fn a_free_outage_keeps_p1_but_gets_the_free_24_hour_target() {
        let request = phone_request(outage()).with_chat_origin();
        let ticket = receive(&Policy::standard(), 1, &account(Plan::Free), request, now()).unwrap();
        assert_eq!(ticket.decision.priority, Priority::P1);
        assert_eq!(ticket.response_due_at, now() + Duration::hours(24));
    }

    #[test]
    fn receipt_is_recorded_to_the_microsecond() {
        let ticket = receive(
            &Policy::standard(),
            1,
            &account(Plan::Pro),
            phone_request(outage()).with_chat_origin(),
            now() + Duration::nanoseconds(1_234_567),
        )
        .unwrap();
        assert_eq!(ticket.received_at, now() + Duration::microseconds(1_234));
    }

    #[test]
    fn a_retry_is_recognised_and_a_different_request_is_not() {
        let request = phone_request(outage());
        let ticket = receive(
            &Policy::standard(),
            1,
            &account(Plan::Api),
            request.clone(),
            now(),
        )
        .unwrap();
        assert!(ticket.was_requested_by(&request));
        let mut other = request;
        other.subject = "Something else".into();
        assert!(!ticket.was_requested_by(&other));
    }
}
