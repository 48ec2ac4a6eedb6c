//! Which tickets and events an SLA watcher is sent. Pure: the hub applies it
//! to every event it reads from the log, and the store to the snapshot.

use chrono::{DateTime, Utc};

use super::policy::{Channel, Plan, Priority};
use super::sla::SlaState;
use super::ticket::{EventKind, Ticket, TicketStatus};

/// A position in the ticket event log. The log is read in position order,
/// and a reader is only handed positions before which nothing can still
/// commit, so resuming after a position misses nothing and repeats nothing.
/// On PostgreSQL it is (writing transaction id, event id), read below the
/// oldest running transaction; on SQLite, whose writers commit one at a time
/// in id order, it is (0, event id).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogPosition {
    pub txid: i64,
    pub id: i64,
}

/// What a watcher asked to see. Criteria combine with AND; an empty list
/// matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchFilter {
    pub plans: Vec<Plan>,
    pub channels: Vec<Channel>,
    pub priorities: Vec<Priority>,
    pub account_id: Option<String>,
    pub states: Vec<SlaState>,
}

/// Statuses a ticket is on the wall in: not yet resolved or closed.
pub const OPEN_STATUSES: [TicketStatus; 4] = [
    TicketStatus::New,
    TicketStatus::Acknowledged,
    TicketStatus::InProgress,
    TicketStatus::WaitingOnCustomer,
];

/// Events that can move a ticket out of an SLA state, whatever the state
/// after: a watcher of some states is sent them so it can drop the ticket.
const MOVES_SLA_STATE: [EventKind; 5] = [
    EventKind::AtRisk,
    EventKind::Breached,
    EventKind::FirstResponse,
    EventKind::PriorityChanged,
    EventKind::DeadlineRecalculated,
];

impl WatchFilter {
    /// Whether the snapshot includes `ticket`: open, and matching every
    /// criterion with its SLA state computed at `now`.
    pub fn includes_in_snapshot(&self, ticket: &Ticket, now: DateTime<Utc>) -> bool {
        OPEN_STATUSES.contains(&ticket.status)
            && self.matches_fixed(ticket)
            && listed(&self.priorities, &ticket.decision.priority)
            && listed(&self.states, &ticket.sla_clock().state_at(now))
    }

    /// Whether a watcher is sent an event, given the ticket as it stands
    /// now. Plan, channel and account never change, so they decide alone.
    /// Priority and SLA state do change: an event is also sent when it moves
    /// the ticket in or out of the watched ones, so no wall keeps a ticket
    /// that left it.
    pub fn matches_event(
        &self,
        kind: EventKind,
        event_sla_state: SlaState,
        from_priority: Option<Priority>,
        ticket: &Ticket,
        now: DateTime<Utc>,
    ) -> bool {
        if !self.matches_fixed(ticket) {
            return false;
        }
        let priority_ok = listed(&self.priorities, &ticket.decision.priority)
            || from_priority.is_some_and(|from| self.priorities.contains(&from));
        let state_ok = listed(&self.states, &event_sla_state)
            || listed(&self.states, &ticket.sla_clock().state_at(now))
            || MOVES_SLA_STATE.contains(&kind);
        priority_ok && state_ok
    }

    fn matches_fixed(&self, ticket: &Ticket) -> bool {
        listed(&self.plans, &ticket.plan)
            && listed(&self.channels, &ticket.channel())
            && self
                .account_id
                .as_ref()
                .is_none_or(|account| *account == ticket.account_id)
    }
}

/// An empty list puts no restriction.
fn listed<T: PartialEq>(list: &[T], value: &T) -> bool {
    list.is_empty() || list.contains(value)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::domain::lifecycle::tests::{t0, ticket};
    use crate::domain::ticket::{FirstResponse, NotificationMethod};

    fn at(hours: i64) -> DateTime<Utc> {
        t0() + Duration::hours(hours)
    }

    #[test]
    fn an_empty_filter_takes_every_open_ticket_and_every_event() {
        let filter = WatchFilter::default();
        let mut ticket = ticket();
        assert!(filter.includes_in_snapshot(&ticket, at(0)));
        assert!(filter.matches_event(
            EventKind::StatusChanged,
            SlaState::OnTrack,
            None,
            &ticket,
            at(0)
        ));
        for status in [TicketStatus::Resolved, TicketStatus::Closed] {
            ticket.status = status;
            assert!(!filter.includes_in_snapshot(&ticket, at(0)), "{status}");
        }
    }

    #[test]
    fn plan_channel_and_account_each_exclude_on_their_own() {
        let ticket = ticket();
        let cases = [
            WatchFilter {
                plans: vec![Plan::Pro, Plan::Free],
                ..Default::default()
            },
            WatchFilter {
                channels: vec![Channel::Chat],
                ..Default::default()
            },
            WatchFilter {
                account_id: Some("globex".into()),
                ..Default::default()
            },
        ];
        for filter in cases {
            assert!(!filter.includes_in_snapshot(&ticket, at(0)), "{filter:?}");
            // Even an event that moves the SLA state: these never change.
            assert!(
                !filter.matches_event(
                    EventKind::Breached,
                    SlaState::Breached,
                    None,
                    &ticket,
                    at(5)
                ),
                "{filter:?}"
            );
        }
        let all_three = WatchFilter {
            plans: vec![Plan::Business],
            channels: vec![Channel::Phone],
            account_id: Some("acme".into()),
            ..Default::default()
        };
        assert!(all_three.includes_in_snapshot(&ticket, at(0)));
    }

    #[test]
    fn the_snapshot_uses_the_state_computed_at_now() {
        let ticket = ticket();
        let at_risk = WatchFilter {
            states: vec![SlaState::AtRisk],
            ..Default::default()
        };
        assert!(!at_risk.includes_in_snapshot(&ticket, at(2)));
        // 13:00 is 75% of the 4 h target: at risk from that instant.
        assert!(at_risk.includes_in_snapshot(&ticket, at(3)));
        assert!(at_risk.includes_in_snapshot(&ticket, at(4)));
        assert!(!at_risk.includes_in_snapshot(&ticket, at(4) + Duration::seconds(1)));
    }

    #[test]
    fn an_event_that_moves_a_ticket_out_of_the_watched_states_is_sent() {
        let mut ticket = ticket();
        let breached_wall = WatchFilter {
            states: vec![SlaState::AtRisk, SlaState::Breached],
            ..Default::default()
        };
        ticket.first_response = Some(FirstResponse {
            at: at(5),
            responder: "ana".into(),
            method: NotificationMethod::Email,
        });
        ticket.sla_state = SlaState::Missed;
        // MISSED is not watched, but the wall must learn the ticket left it.
        assert!(breached_wall.matches_event(
            EventKind::FirstResponse,
            SlaState::Missed,
            None,
            &ticket,
            at(5)
        ));
        // Later changes of an answered ticket are not for this wall.
        assert!(!breached_wall.matches_event(
            EventKind::StatusChanged,
            SlaState::Missed,
            None,
            &ticket,
            at(6)
        ));
    }

    #[test]
    fn an_event_that_moves_a_ticket_out_of_the_watched_priorities_is_sent() {
        let mut ticket = ticket();
        let p2_wall = WatchFilter {
            priorities: vec![Priority::P2],
            ..Default::default()
        };
        ticket.decision.priority = Priority::P3;
        assert!(p2_wall.matches_event(
            EventKind::PriorityChanged,
            SlaState::OnTrack,
            Some(Priority::P2),
            &ticket,
            at(1)
        ));
        assert!(!p2_wall.matches_event(
            EventKind::StatusChanged,
            SlaState::OnTrack,
            None,
            &ticket,
            at(1)
        ));
        assert!(!p2_wall.includes_in_snapshot(&ticket, at(1)));
    }
}
