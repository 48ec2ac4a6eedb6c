//! What agents and time do to a received ticket: first response, status
//! changes, reprioritisation, and the SLA thresholds crossed as time passes.
//! Each operation returns the changed ticket and the events that record it;
//! the store writes both in one transaction.

use chrono::{DateTime, Utc};

use super::intake::receipt_time;
use super::policy::{Policy, Priority};
use super::sla::{SlaState, at_risk_at};
use super::survey::Survey;
use super::ticket::{
    EventKind, FirstResponse, NotificationMethod, SYSTEM_ACTOR, Ticket, TicketEvent, TicketStatus,
};

/// What an agent does to a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Acknowledge {
        responder: String,
        method: NotificationMethod,
    },
    SetStatus {
        to: TicketStatus,
        actor: String,
        note: Option<String>,
    },
    Resolve {
        actor: String,
        note: Option<String>,
    },
    Reopen {
        actor: String,
        reason: Option<String>,
    },
    Close {
        actor: String,
    },
    Reprioritize {
        priority: Priority,
        actor: String,
        reason: String,
    },
}

/// An action the ticket's status does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IllegalTransition {
    pub action: &'static str,
    pub from: TicketStatus,
}

/// The result of an action: the ticket as it now is, and what happened.
/// No events means nothing changed (a repeated acknowledgement, say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub ticket: Ticket,
    pub events: Vec<TicketEvent>,
    /// A survey issued by this change (a resolution).
    pub survey: Option<Survey>,
}

impl Change {
    fn unchanged(ticket: &Ticket) -> Self {
        Self {
            ticket: ticket.clone(),
            events: Vec::new(),
            survey: None,
        }
    }

    pub fn is_noop(&self) -> bool {
        self.events.is_empty()
    }
}

/// The statuses each status may move to by an agent's status change.
fn may_move(from: TicketStatus, to: TicketStatus) -> bool {
    use TicketStatus::*;
    matches!(
        (from, to),
        (New, Acknowledged)
            | (Acknowledged | WaitingOnCustomer, InProgress)
            | (Acknowledged | InProgress, WaitingOnCustomer)
            | (Acknowledged | InProgress | WaitingOnCustomer, Resolved)
            | (Resolved, InProgress)
            | (Resolved, Closed)
    )
}

fn status_event(
    ticket: &Ticket,
    from: TicketStatus,
    actor: &str,
    now: DateTime<Utc>,
    note: Option<String>,
) -> TicketEvent {
    TicketEvent {
        from_status: Some(from),
        to_status: Some(ticket.status),
        note,
        ..TicketEvent::new(ticket, EventKind::StatusChanged, actor, now)
    }
}

fn move_to(
    ticket: &Ticket,
    to: TicketStatus,
    action: &'static str,
    actor: &str,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<Change, IllegalTransition> {
    if !may_move(ticket.status, to) {
        return Err(IllegalTransition {
            action,
            from: ticket.status,
        });
    }
    let now = receipt_time(now);
    let mut changed = ticket.clone();
    changed.status = to;
    let mut events = catch_up_sla(&mut changed, now);
    events.push(status_event(&changed, ticket.status, actor, now, note));
    Ok(Change {
        ticket: changed,
        events,
        survey: None,
    })
}

/// Records the first response. It stops the clock once: acknowledging an
/// acknowledged ticket changes nothing and returns it as it is.
pub fn acknowledge(
    ticket: &Ticket,
    responder: &str,
    method: NotificationMethod,
    now: DateTime<Utc>,
) -> Result<Change, IllegalTransition> {
    if ticket.first_response.is_some() {
        return Ok(Change::unchanged(ticket));
    }
    let now = receipt_time(now);
    let mut changed = ticket.clone();
    // Thresholds crossed before the response are history worth keeping.
    let mut events = catch_up_sla(&mut changed, now);
    changed.first_response = Some(FirstResponse {
        at: now,
        responder: responder.to_owned(),
        method,
    });
    changed.sla_state = changed.sla_clock().state_at(now);
    let mut moved = move_to(
        &changed,
        TicketStatus::Acknowledged,
        "acknowledge",
        responder,
        None,
        now,
    )?;
    events.push(TicketEvent::new(
        &moved.ticket,
        EventKind::FirstResponse,
        responder,
        now,
    ));
    events.append(&mut moved.events);
    Ok(Change {
        ticket: moved.ticket,
        events,
        survey: None,
    })
}

/// IN_PROGRESS or WAITING_ON_CUSTOMER, as the agent works the ticket.
pub fn set_work_status(
    ticket: &Ticket,
    to: TicketStatus,
    actor: &str,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<Change, IllegalTransition> {
    if ticket.status == to {
        return Ok(Change::unchanged(ticket));
    }
    move_to(ticket, to, "set status", actor, note, now)
}

/// Resolves the ticket and issues its satisfaction survey.
pub fn resolve(
    ticket: &Ticket,
    actor: &str,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<Change, IllegalTransition> {
    let mut change = move_to(ticket, TicketStatus::Resolved, "resolve", actor, note, now)?;
    change.survey = Some(Survey::issue(ticket.id, receipt_time(now)));
    Ok(change)
}

pub fn reopen(
    ticket: &Ticket,
    actor: &str,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<Change, IllegalTransition> {
    if ticket.status != TicketStatus::Resolved {
        return Err(IllegalTransition {
            action: "reopen",
            from: ticket.status,
        });
    }
    move_to(
        ticket,
        TicketStatus::InProgress,
        "reopen",
        actor,
        reason,
        now,
    )
}

pub fn close(
    ticket: &Ticket,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Change, IllegalTransition> {
    move_to(ticket, TicketStatus::Closed, "close", actor, None, now)
}

/// Changes the priority. Before the first response the deadline is
/// recomputed from the original receipt with the new target; after it, the
/// SLA outcome stands. Receipt time never moves. Closed tickets are final.
pub fn reprioritize(
    ticket: &Ticket,
    policy: &Policy,
    priority: Priority,
    actor: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Change, IllegalTransition> {
    if ticket.status == TicketStatus::Closed {
        return Err(IllegalTransition {
            action: "reprioritize",
            from: ticket.status,
        });
    }
    if ticket.decision.priority == priority {
        return Ok(Change::unchanged(ticket));
    }
    let now = receipt_time(now);
    let mut changed = ticket.clone();
    // Record thresholds already crossed under the old deadline first, so the
    // comparison below starts from the true state.
    let mut events = catch_up_sla(&mut changed, now);
    let caught_up = changed.sla_state;
    changed.decision.priority = priority;
    changed.decision.rule_id = "agent-reprioritized".into();
    changed.decision.rule_description = format!("Set to {priority} by {actor}: {reason}");
    events.push(TicketEvent {
        from_priority: Some(ticket.decision.priority),
        to_priority: Some(priority),
        note: Some(reason.to_owned()),
        ..TicketEvent::new(&changed, EventKind::PriorityChanged, actor, now)
    });
    // The deadline moves only while the outcome is open: not after the first
    // response, and not after a breach (a recorded breach is never withdrawn,
    // so a ticket is breached at most once).
    if changed.first_response.is_none() && caught_up != SlaState::Breached {
        changed.response_target = policy.response_target(changed.plan, priority);
        changed.response_due_at = changed.received_at + changed.response_target;
        changed.at_risk_at = at_risk_at(
            changed.received_at,
            changed.response_due_at,
            policy.at_risk_percent(),
        );
        // The state follows the new deadline: a longer target can take an
        // at-risk ticket back on track, a shorter one can breach it now.
        changed.sla_state = changed.sla_clock().state_at(now);
        events.push(TicketEvent {
            from_due_at: Some(ticket.response_due_at),
            to_due_at: Some(changed.response_due_at),
            ..TicketEvent::new(&changed, EventKind::DeadlineRecalculated, actor, now)
        });
        if changed.sla_state != caught_up {
            events.extend(threshold_event(&changed, now));
        }
    }
    Ok(Change {
        ticket: changed,
        events,
        survey: None,
    })
}

/// The AT_RISK or BREACHED event for a state just entered, stamped at `at`.
fn threshold_event(ticket: &Ticket, at: DateTime<Utc>) -> Option<TicketEvent> {
    let kind = match ticket.sla_state {
        SlaState::AtRisk => EventKind::AtRisk,
        SlaState::Breached => EventKind::Breached,
        _ => return None,
    };
    Some(TicketEvent::new(ticket, kind, SYSTEM_ACTOR, at))
}

/// Records the SLA thresholds `ticket` crossed by `now` since its recorded
/// state, each event stamped with the moment it happened (not when it was
/// noticed). Used by the breach sweeper and before every action.
pub fn catch_up_sla(ticket: &mut Ticket, now: DateTime<Utc>) -> Vec<TicketEvent> {
    let mut events = Vec::new();
    while let Some(at) = ticket.next_sla_check_at() {
        if at > now {
            break;
        }
        let next = ticket.sla_clock().state_at(at);
        if next == ticket.sla_state {
            break;
        }
        ticket.sla_state = next;
        // Stamp breaches at the deadline itself, the moment it passed.
        let stamp = if next == SlaState::Breached {
            ticket.response_due_at
        } else {
            at
        };
        events.extend(threshold_event(ticket, stamp));
    }
    events
}

/// What the sweeper does to one ticket: catch up, or nothing.
pub fn sweep(ticket: &Ticket, now: DateTime<Utc>) -> Change {
    let mut changed = ticket.clone();
    let events = catch_up_sla(&mut changed, now);
    Change {
        ticket: changed,
        events,
        survey: None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::Duration;

    use super::*;
    use crate::domain::intake::receive;
    use crate::domain::policy::{Plan, Region};
    use crate::domain::priority::{Impact, ImpactScope, RequestKind, Workaround};
    use crate::domain::ticket::{Account, Origin, TicketRequest};

    pub(crate) fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    /// A Business P2 (4 h target): at risk at 13:00, due at 14:00.
    pub(crate) fn ticket() -> Ticket {
        let account = Account {
            id: "acme".into(),
            display_name: "Acme".into(),
            plan: Plan::Business,
            create_time: t0(),
            update_time: t0(),
        };
        let request = TicketRequest {
            account_id: "acme".into(),
            origin: Origin::Phone {
                call_id: "c".into(),
                caller_number: "+14155550123".into(),
                dialed_number: "+18887999666".into(),
                region: Region::Us,
            },
            subject: "Video degraded".into(),
            description: String::new(),
            impact: Impact::new(
                RequestKind::Problem,
                Some(ImpactScope::Degraded),
                Some(Workaround::None),
            )
            .unwrap(),
            request_id: None,
        };
        receive(&Policy::standard(), 1, &account, request, t0()).unwrap()
    }

    /// A lead moves `ticket` to `priority` at `at` under the published policy.
    fn lead_sets(ticket: &Ticket, priority: Priority, reason: &str, at: DateTime<Utc>) -> Change {
        reprioritize(ticket, &Policy::standard(), priority, "lead", reason, at).unwrap()
    }

    fn kinds(change: &Change) -> Vec<EventKind> {
        change.events.iter().map(|e| e.kind).collect()
    }

    fn ack(t: &Ticket, at: DateTime<Utc>) -> Change {
        acknowledge(t, "ana", NotificationMethod::Email, at).unwrap()
    }

    #[test]
    fn a_received_ticket_is_on_track_and_due_by_its_target() {
        let t = ticket();
        assert_eq!(t.sla_state, SlaState::OnTrack);
        assert_eq!(t.response_due_at, t0() + Duration::hours(4));
        assert_eq!(t.at_risk_at, t0() + Duration::hours(3));
        assert_eq!(t.next_sla_check_at(), Some(t.at_risk_at));
    }

    #[test]
    fn the_sweeper_records_at_risk_then_breach_each_once_at_the_moment_they_happened() {
        let t = ticket();
        assert!(sweep(&t, t0() + Duration::minutes(179)).is_noop());
        let at_risk = sweep(&t, t0() + Duration::minutes(200));
        assert_eq!(kinds(&at_risk), [EventKind::AtRisk]);
        assert_eq!(at_risk.events[0].occurred_at, t0() + Duration::hours(3));
        assert!(sweep(&at_risk.ticket, t0() + Duration::minutes(210)).is_noop());
        // Exactly at the deadline it is not yet breached.
        assert!(sweep(&at_risk.ticket, t0() + Duration::hours(4)).is_noop());
        let breached = sweep(
            &at_risk.ticket,
            t0() + Duration::hours(4) + Duration::seconds(1),
        );
        assert_eq!(kinds(&breached), [EventKind::Breached]);
        assert_eq!(breached.events[0].occurred_at, t0() + Duration::hours(4));
        assert_eq!(breached.ticket.sla_state, SlaState::Breached);
        assert_eq!(breached.ticket.next_sla_check_at(), None);
        assert!(sweep(&breached.ticket, t0() + Duration::days(3)).is_noop());
    }

    #[test]
    fn a_sweep_after_a_long_outage_records_both_thresholds_in_order() {
        let change = sweep(&ticket(), t0() + Duration::days(1));
        assert_eq!(kinds(&change), [EventKind::AtRisk, EventKind::Breached]);
    }

    #[test]
    fn a_response_one_second_before_the_deadline_is_met_and_after_is_missed() {
        let met = ack(&ticket(), t0() + Duration::hours(4) - Duration::seconds(1));
        assert_eq!(met.ticket.sla_state, SlaState::Met);
        assert_eq!(met.ticket.status, TicketStatus::Acknowledged);
        assert_eq!(
            kinds(&met),
            [
                EventKind::AtRisk,
                EventKind::FirstResponse,
                EventKind::StatusChanged
            ]
        );
        let missed = ack(&ticket(), t0() + Duration::hours(4) + Duration::seconds(1));
        assert_eq!(missed.ticket.sla_state, SlaState::Missed);
        assert_eq!(
            kinds(&missed),
            [
                EventKind::AtRisk,
                EventKind::Breached,
                EventKind::FirstResponse,
                EventKind::StatusChanged
            ]
        );
        assert_eq!(missed.ticket.next_sla_check_at(), None);
    }

    #[test]
    fn a_second_acknowledgement_changes_nothing() {
        let first = ack(&ticket(), t0() + Duration::minutes(5));
        let second = ack(&first.ticket, t0() + Duration::minutes(9));
        assert!(second.is_noop());
        assert_eq!(second.ticket, first.ticket);
        assert_eq!(
            second.ticket.first_response.unwrap().at,
            t0() + Duration::minutes(5)
        );
    }

    #[test]
    fn the_status_machine_allows_exactly_the_documented_moves() {
        use TicketStatus::*;
        let allowed = [
            (New, Acknowledged),
            (Acknowledged, InProgress),
            (Acknowledged, WaitingOnCustomer),
            (Acknowledged, Resolved),
            (InProgress, WaitingOnCustomer),
            (InProgress, Resolved),
            (WaitingOnCustomer, InProgress),
            (WaitingOnCustomer, Resolved),
            (Resolved, InProgress),
            (Resolved, Closed),
        ];
        for from in TicketStatus::ALL {
            for to in TicketStatus::ALL {
                assert_eq!(
                    may_move(*from, *to),
                    allowed.contains(&(*from, *to)),
                    "{from} → {to}"
                );
            }
        }
    }

    #[test]
    fn illegal_actions_name_the_current_status() {
        let t = ticket();
        let err = resolve(&t, "ana", None, t0()).unwrap_err();
        assert_eq!((err.action, err.from), ("resolve", TicketStatus::New));
        assert_eq!(
            reopen(&t, "ana", None, t0()).unwrap_err().from,
            TicketStatus::New
        );
        assert_eq!(close(&t, "ana", t0()).unwrap_err().from, TicketStatus::New);
        assert_eq!(
            set_work_status(&t, TicketStatus::InProgress, "ana", None, t0())
                .unwrap_err()
                .from,
            TicketStatus::New
        );
    }

    #[test]
    fn resolve_reopen_close_walk_the_lifecycle() {
        let acked = ack(&ticket(), t0() + Duration::minutes(5)).ticket;
        let working = set_work_status(&acked, TicketStatus::InProgress, "ana", None, t0()).unwrap();
        let waiting = set_work_status(
            &working.ticket,
            TicketStatus::WaitingOnCustomer,
            "ana",
            None,
            t0(),
        )
        .unwrap();
        let resolved = resolve(&waiting.ticket, "ana", Some("fixed".into()), t0()).unwrap();
        let first_survey = resolved.survey.clone().expect("resolving issues a survey");
        assert_eq!(
            resolved.events[0].from_status,
            Some(TicketStatus::WaitingOnCustomer)
        );
        let reopened = reopen(&resolved.ticket, "bo", Some("still broken".into()), t0()).unwrap();
        assert_eq!(reopened.ticket.status, TicketStatus::InProgress);
        let resolved = resolve(&reopened.ticket, "ana", None, t0()).unwrap();
        let second_survey = resolved
            .survey
            .clone()
            .expect("a new resolution, a new survey");
        assert_ne!(first_survey.token, second_survey.token);
        let closed = close(&resolved.ticket, "ana", t0()).unwrap();
        assert_eq!(closed.ticket.status, TicketStatus::Closed);
        assert!(reopen(&closed.ticket, "bo", None, t0()).is_err());
        assert!(
            reprioritize(
                &closed.ticket,
                &Policy::standard(),
                Priority::P1,
                "bo",
                "x",
                t0()
            )
            .is_err()
        );
        // The SLA outcome survives the whole walk.
        assert_eq!(closed.ticket.sla_state, SlaState::Met);
    }

    #[test]
    fn raising_priority_before_the_response_moves_the_deadline_from_the_original_receipt() {
        let t = ticket();
        let now = t0() + Duration::minutes(30);
        let up = lead_sets(&t, Priority::P1, "whole org down", now);
        assert_eq!(up.ticket.received_at, t0(), "receipt never moves");
        assert_eq!(up.ticket.response_due_at, t0() + Duration::hours(1));
        assert_eq!(up.ticket.at_risk_at, t0() + Duration::minutes(45));
        assert_eq!(up.ticket.sla_state, SlaState::OnTrack);
        assert_eq!(
            kinds(&up),
            [EventKind::PriorityChanged, EventKind::DeadlineRecalculated]
        );
        let recalculated = &up.events[1];
        assert_eq!(recalculated.from_due_at, Some(t0() + Duration::hours(4)));
        assert_eq!(recalculated.to_due_at, Some(t0() + Duration::hours(1)));
    }

    #[test]
    fn raising_priority_past_the_new_deadline_breaches_at_once_and_lowering_relieves() {
        let t = ticket();
        let late = t0() + Duration::minutes(90);
        let up = lead_sets(&t, Priority::P1, "urgent", late);
        assert_eq!(up.ticket.sla_state, SlaState::Breached);
        assert_eq!(kinds(&up).last(), Some(&EventKind::Breached));
        let at_risk = sweep(&t, t0() + Duration::minutes(190)).ticket;
        let down = lead_sets(
            &at_risk,
            Priority::P4,
            "how-to",
            t0() + Duration::minutes(195),
        );
        assert_eq!(down.ticket.response_due_at, t0() + Duration::hours(24));
        assert_eq!(down.ticket.sla_state, SlaState::OnTrack);
    }

    #[test]
    fn after_the_first_response_priority_changes_but_the_outcome_stands() {
        let acked = ack(&ticket(), t0() + Duration::minutes(30)).ticket;
        let up = lead_sets(&acked, Priority::P1, "urgent", t0() + Duration::hours(2));
        assert_eq!(up.ticket.decision.priority, Priority::P1);
        assert_eq!(up.ticket.response_due_at, acked.response_due_at);
        assert_eq!(up.ticket.sla_state, SlaState::Met);
        assert_eq!(kinds(&up), [EventKind::PriorityChanged]);
        assert!(lead_sets(&up.ticket, Priority::P1, "same", t0()).is_noop());
    }

    #[test]
    fn a_breach_is_never_withdrawn_by_lowering_the_priority() {
        let breached = sweep(&ticket(), t0() + Duration::hours(5)).ticket;
        assert_eq!(breached.sla_state, SlaState::Breached);
        let down = lead_sets(&breached, Priority::P4, "how-to", t0() + Duration::hours(5));
        assert_eq!(down.ticket.sla_state, SlaState::Breached);
        assert_eq!(down.ticket.response_due_at, breached.response_due_at);
        assert_eq!(kinds(&down), [EventKind::PriorityChanged]);
        assert!(
            sweep(&down.ticket, t0() + Duration::days(2)).is_noop(),
            "no second breach"
        );
    }

    #[test]
    fn reprioritising_a_lagging_ticket_records_the_missed_thresholds_first() {
        // Recorded ON_TRACK, but really past its deadline (the sweeper is behind).
        let lagging = ticket();
        let down = lead_sets(&lagging, Priority::P4, "how-to", t0() + Duration::hours(5));
        assert_eq!(
            kinds(&down),
            [
                EventKind::AtRisk,
                EventKind::Breached,
                EventKind::PriorityChanged
            ]
        );
        assert_eq!(down.events[1].occurred_at, t0() + Duration::hours(4));
        assert_eq!(down.ticket.sla_state, SlaState::Breached);
    }

    #[test]
    fn a_free_ticket_keeps_24_hours_whatever_its_priority() {
        let mut t = ticket();
        t.plan = Plan::Free;
        let up = lead_sets(&t, Priority::P1, "urgent", t0());
        assert_eq!(up.ticket.response_due_at, t0() + Duration::hours(24));
    }
}
