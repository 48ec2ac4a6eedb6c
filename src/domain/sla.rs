//! The response SLA clock: where a ticket stands against its first-response
//! deadline at a given instant, and when that will next change by time alone.

use chrono::{DateTime, Duration, Utc};

use super::policy::named_enum;

named_enum!(
    /// The response SLA of one ticket.
    SlaState {
        OnTrack => "on_track",
        AtRisk => "at_risk",
        Breached => "breached",
        Met => "met",
        Missed => "missed",
    }
);

impl SlaState {
    /// MET and MISSED are final: the first response fixed the outcome.
    pub fn is_final(self) -> bool {
        matches!(self, SlaState::Met | SlaState::Missed)
    }
}

/// When a ticket turns AT_RISK: `percent` of its target after receipt, to
/// the microsecond.
pub fn at_risk_at(received_at: DateTime<Utc>, due_at: DateTime<Utc>, percent: u8) -> DateTime<Utc> {
    let target = (due_at - received_at)
        .num_microseconds()
        .unwrap_or(i64::MAX);
    let share = target / 100 * i64::from(percent) + target % 100 * i64::from(percent) / 100;
    received_at + Duration::microseconds(share)
}

/// The moments that decide a ticket's response SLA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaClock {
    pub at_risk_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
}

impl SlaClock {
    pub fn at_risk_at(&self) -> DateTime<Utc> {
        self.at_risk_at
    }

    /// The state at `now`. A response exactly at the deadline is in time;
    /// without one, the ticket is breached once the deadline has passed.
    pub fn state_at(&self, now: DateTime<Utc>) -> SlaState {
        match self.first_response_at {
            Some(responded) if responded <= self.due_at => SlaState::Met,
            Some(_) => SlaState::Missed,
            None if now > self.due_at => SlaState::Breached,
            None if now >= self.at_risk_at() => SlaState::AtRisk,
            None => SlaState::OnTrack,
        }
    }

    /// The next instant after which [`state_at`](Self::state_at) changes
    /// with no one acting, or `None` when only a response can change it.
    pub fn next_change_after(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self.state_at(now) {
            SlaState::OnTrack => Some(self.at_risk_at()),
            // Breached strictly after the deadline: the first microsecond past it.
            SlaState::AtRisk => Some(self.due_at + Duration::microseconds(1)),
            SlaState::Breached | SlaState::Met | SlaState::Missed => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    /// A 4 h target received at 10:00: at risk from 13:00, due 14:00.
    fn clock() -> SlaClock {
        let received = at("2026-11-28T10:00:00Z");
        let due = at("2026-11-28T14:00:00Z");
        SlaClock {
            at_risk_at: at_risk_at(received, due, 75),
            due_at: due,
            first_response_at: None,
        }
    }

    #[test]
    fn on_track_until_exactly_75_percent_then_at_risk() {
        let c = clock();
        assert_eq!(c.at_risk_at(), at("2026-11-28T13:00:00Z"));
        assert_eq!(c.state_at(at("2026-11-28T10:00:00Z")), SlaState::OnTrack);
        assert_eq!(
            c.state_at(at("2026-11-28T12:59:59.999999Z")),
            SlaState::OnTrack
        );
        assert_eq!(c.state_at(at("2026-11-28T13:00:00Z")), SlaState::AtRisk);
    }

    #[test]
    fn at_risk_at_the_deadline_itself_and_breached_just_after() {
        let c = clock();
        assert_eq!(c.state_at(at("2026-11-28T14:00:00Z")), SlaState::AtRisk);
        assert_eq!(
            c.state_at(at("2026-11-28T14:00:00.000001Z")),
            SlaState::Breached
        );
        assert_eq!(c.state_at(at("2026-11-29T14:00:00Z")), SlaState::Breached);
    }

    #[test]
    fn a_response_one_second_before_the_deadline_is_met_one_second_after_is_missed() {
        let before = SlaClock {
            first_response_at: Some(at("2026-11-28T13:59:59Z")),
            ..clock()
        };
        let exactly = SlaClock {
            first_response_at: Some(at("2026-11-28T14:00:00Z")),
            ..clock()
        };
        let after = SlaClock {
            first_response_at: Some(at("2026-11-28T14:00:01Z")),
            ..clock()
        };
        // The outcome does not depend on when it is looked at.
        for now in [at("2026-11-28T14:00:00Z"), at("2026-12-30T00:00:00Z")] {
            assert_eq!(before.state_at(now), SlaState::Met);
            assert_eq!(exactly.state_at(now), SlaState::Met);
            assert_eq!(after.state_at(now), SlaState::Missed);
        }
    }

    #[test]
    fn next_change_is_the_at_risk_moment_then_just_past_the_deadline_then_none() {
        let c = clock();
        assert_eq!(
            c.next_change_after(at("2026-11-28T10:30:00Z")),
            Some(at("2026-11-28T13:00:00Z"))
        );
        assert_eq!(
            c.next_change_after(at("2026-11-28T13:30:00Z")),
            Some(at("2026-11-28T14:00:00.000001Z"))
        );
        assert_eq!(c.next_change_after(at("2026-11-28T15:00:00Z")), None);
        let responded = SlaClock {
            first_response_at: Some(at("2026-11-28T11:00:00Z")),
            ..c
        };
        assert_eq!(
            responded.next_change_after(at("2026-11-28T10:30:00Z")),
            None
        );
    }

    #[test]
    fn the_at_risk_share_applies_to_one_hour_and_24_hour_targets() {
        let received = at("2026-11-28T10:00:00Z");
        assert_eq!(
            at_risk_at(received, at("2026-11-28T11:00:00Z"), 75),
            at("2026-11-28T10:45:00Z")
        );
        assert_eq!(
            at_risk_at(received, at("2026-11-29T10:00:00Z"), 75),
            at("2026-11-29T04:00:00Z")
        );
        assert_eq!(
            at_risk_at(received, at("2026-11-28T14:00:00Z"), 50),
            at("2026-11-28T12:00:00Z")
        );
        // Sub-second targets keep microsecond precision.
        assert_eq!(
            at_risk_at(received, received + Duration::microseconds(1_000_003), 75),
            received + Duration::microseconds(750_002)
        );
    }

    #[test]
    fn only_met_and_missed_are_final() {
        let finals: Vec<SlaState> = SlaState::ALL
            .iter()
            .copied()
            .filter(|s| s.is_final())
            .collect();
        assert_eq!(finals, [SlaState::Met, SlaState::Missed]);
    }
}
