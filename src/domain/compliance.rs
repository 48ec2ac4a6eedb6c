//! The compliance report over a period: per plan × priority × channel, how
//! many tickets were received, how their first responses went against the
//! targets, how long first responses took, and what customers said.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::policy::{Channel, Plan, Priority};

/// What the report needs of one ticket received in the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseRecord {
    pub plan: Plan,
    pub priority: Priority,
    pub channel: Channel,
    pub received_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
}

/// Survey answers for the tickets of one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyTally {
    pub plan: Plan,
    pub priority: Priority,
    pub channel: Channel,
    pub answered: i64,
    pub good: i64,
}

pub type Group = (Plan, Priority, Channel);

#[derive(Debug, Clone, PartialEq)]
pub struct ComplianceRow {
    pub group: Group,
    pub received: i64,
    /// First response at or before the deadline.
    pub met: i64,
    /// First response after the deadline.
    pub missed: i64,
    /// No first response and the deadline has passed.
    pub breached: i64,
    /// No first response, deadline still ahead.
    pub awaiting_response: i64,
    /// Nearest-rank percentiles of time to first response, over the
    /// tickets that have one.
    pub median_time_to_first_response: Option<Duration>,
    pub p90_time_to_first_response: Option<Duration>,
    pub surveys_answered: i64,
    /// Share of answered surveys rated good, 0–100; `None` without answers.
    pub good_percent: Option<f64>,
}

/// Nearest-rank percentile of sorted values: the smallest value with at
/// least `percent`% of the values at or below it.
fn percentile(sorted: &[Duration], percent: i64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len() as i64;
    let rank = (percent * n + 99) / 100; // ceil(percent/100 × n)
    let index = usize::try_from(rank.clamp(1, n) - 1).unwrap_or(0);
    sorted.get(index).copied()
}

/// Builds the report as of `now` (which decides what is breached yet).
pub fn report(
    records: &[ResponseRecord],
    tallies: &[SurveyTally],
    now: DateTime<Utc>,
) -> Vec<ComplianceRow> {
    let mut rows: BTreeMap<Group, (ComplianceRow, Vec<Duration>)> = BTreeMap::new();
    let empty = |group: Group| {
        (
            ComplianceRow {
                group,
                received: 0,
                met: 0,
                missed: 0,
                breached: 0,
                awaiting_response: 0,
                median_time_to_first_response: None,
                p90_time_to_first_response: None,
                surveys_answered: 0,
                good_percent: None,
            },
            Vec::new(),
        )
    };
    for record in records {
        let group = (record.plan, record.priority, record.channel);
        let (row, times) = rows.entry(group).or_insert_with(|| empty(group));
        row.received += 1;
        match record.first_response_at {
            Some(responded) => {
                times.push(responded - record.received_at);
                if responded <= record.due_at {
                    row.met += 1;
                } else {
                    row.missed += 1;
                }
            }
            None if now > record.due_at => row.breached += 1,
            None => row.awaiting_response += 1,
        }
    }
    let mut good: BTreeMap<Group, i64> = BTreeMap::new();
    for tally in tallies {
        let group = (tally.plan, tally.priority, tally.channel);
        let (row, _) = rows.entry(group).or_insert_with(|| empty(group));
        row.surveys_answered += tally.answered;
        *good.entry(group).or_default() += tally.good;
    }
    for (group, good) in good {
        if let Some((row, _)) = rows.get_mut(&group)
            && row.surveys_answered > 0
        {
            row.good_percent = Some(100.0 * good as f64 / row.surveys_answered as f64);
        }
    }
    rows.into_values()
        .map(|(mut row, mut times)| {
            times.sort();
            row.median_time_to_first_response = percentile(&times, 50);
            row.p90_time_to_first_response = percentile(&times, 90);
            row
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn record(response_minutes: Option<i64>, target_hours: i64) -> ResponseRecord {
        ResponseRecord {
            plan: Plan::Pro,
            priority: Priority::P1,
            channel: Channel::Chat,
            received_at: t0(),
            due_at: t0() + Duration::hours(target_hours),
            first_response_at: response_minutes.map(|m| t0() + Duration::minutes(m)),
        }
    }

    #[test]
    fn outcomes_are_counted_against_each_tickets_deadline() {
        let records = [
            record(Some(30), 1),
            record(Some(60), 1), // exactly at the deadline: met
            record(Some(61), 1),
            record(None, 1),
            record(None, 48),
        ];
        let rows = report(&records, &[], t0() + Duration::hours(2));
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!(
            (
                row.received,
                row.met,
                row.missed,
                row.breached,
                row.awaiting_response
            ),
            (5, 2, 1, 1, 1)
        );
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let records: Vec<_> = (1..=10).map(|m| record(Some(m * 10), 24)).collect();
        let row = &report(&records, &[], t0())[0];
        assert_eq!(
            row.median_time_to_first_response,
            Some(Duration::minutes(50))
        );
        assert_eq!(row.p90_time_to_first_response, Some(Duration::minutes(90)));
        let one = &report(&[record(Some(7), 1)], &[], t0())[0];
        assert_eq!(
            one.median_time_to_first_response,
            Some(Duration::minutes(7))
        );
        assert_eq!(one.p90_time_to_first_response, Some(Duration::minutes(7)));
        let none = &report(&[record(None, 1)], &[], t0())[0];
        assert_eq!(none.median_time_to_first_response, None);
    }

    #[test]
    fn satisfaction_is_the_share_of_answers_rated_good() {
        let tally = SurveyTally {
            plan: Plan::Pro,
            priority: Priority::P1,
            channel: Channel::Chat,
            answered: 4,
            good: 3,
        };
        let row = &report(&[record(Some(5), 1)], &[tally], t0())[0];
        assert_eq!(row.surveys_answered, 4);
        assert_eq!(row.good_percent, Some(75.0));
        assert_eq!(
            report(&[record(Some(5), 1)], &[], t0())[0].good_percent,
            None
        );
    }

    #[test]
    fn groups_are_separate_and_ordered() {
        let mut web = record(Some(5), 1);
        web.channel = Channel::WebForm;
        let mut free = record(Some(5), 24);
        free.plan = Plan::Free;
        let rows = report(&[record(Some(5), 1), web, free], &[], t0());
        let groups: Vec<Group> = rows.iter().map(|r| r.group).collect();
        assert_eq!(
            groups,
            [
                (Plan::Free, Priority::P1, Channel::Chat),
                (Plan::Pro, Priority::P1, Channel::WebForm),
                (Plan::Pro, Priority::P1, Channel::Chat),
            ]
        );
    }
}
