//! When the SLA sweeper plans to wake, shared between the sweeper (which
//! plans) and the ticket writer (which wakes it early).

use std::sync::atomic::{AtomicI64, Ordering};

use tokio::sync::Notify;

/// When the sweeper plans to wake (microseconds since the epoch), and how to
/// wake it earlier. Writes whose next threshold is later than the plan do not
/// disturb it, so intake does not make the sweeper query on every ticket.
#[derive(Debug)]
pub struct SweeperAlarm {
    wake_at_micros: AtomicI64,
    notify: Notify,
}

impl SweeperAlarm {
    pub(super) fn new() -> Self {
        Self {
            // Until the sweeper has planned, any write may matter.
            wake_at_micros: AtomicI64::new(i64::MIN),
            notify: Notify::new(),
        }
    }

    /// Called as a sweep starts: until it has planned again, any write with
    /// a threshold rings, so nothing written mid-sweep is slept through.
    pub fn replanning(&self) {
        self.wake_at_micros.store(i64::MIN, Ordering::SeqCst);
    }

    /// The sweeper's plan for its next wake-up.
    pub fn plan(&self, wake_at: chrono::DateTime<chrono::Utc>) {
        self.wake_at_micros
            .store(wake_at.timestamp_micros(), Ordering::SeqCst);
    }

    /// Wakes the sweeper if `next` comes before its plan.
    pub(super) fn ring_if_sooner(&self, next: Option<chrono::DateTime<chrono::Utc>>) {
        let planned = self.wake_at_micros.load(Ordering::SeqCst);
        if next.is_some_and(|next| planned == i64::MIN || next.timestamp_micros() < planned) {
            self.notify.notify_one();
        }
    }

    pub async fn rung(&self) {
        self.notify.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration as StdDuration;

    use chrono::{Duration, Utc};

    use super::SweeperAlarm;

    async fn rang(alarm: &SweeperAlarm) -> bool {
        tokio::time::timeout(StdDuration::from_millis(50), alarm.rung())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn the_alarm_rings_only_for_a_threshold_before_the_plan() {
        let alarm = SweeperAlarm::new();
        let now = Utc::now();
        alarm.plan(now + Duration::minutes(10));
        alarm.ring_if_sooner(Some(now + Duration::hours(1)));
        alarm.ring_if_sooner(None);
        assert!(
            !rang(&alarm).await,
            "a later threshold leaves the sweeper asleep"
        );
        alarm.ring_if_sooner(Some(now + Duration::minutes(5)));
        assert!(rang(&alarm).await, "a sooner one wakes it");
        alarm.replanning();
        alarm.ring_if_sooner(Some(now + Duration::days(3)));
        assert!(
            rang(&alarm).await,
            "while replanning, any threshold wakes it"
        );
    }
}
