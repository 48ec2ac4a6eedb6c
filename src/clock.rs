//! The clocks: wall time for the server, and a manual clock that tests move
//! by hand (waking anything asleep on it) so SLA deadlines can be crossed
//! without sleeping.

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::watch;

pub use crate::domain::clock::Clock;

/// Wall-clock time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(
        &self,
        deadline: DateTime<Utc>,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            // Re-check after waking: the wall clock may have been adjusted.
            loop {
                let left = deadline - Utc::now();
                let Ok(left) = left.to_std() else { return };
                if left.is_zero() {
                    return;
                }
                tokio::time::sleep(left).await;
            }
        })
    }
}

/// A clock that only moves when told to. Clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: std::sync::Arc<watch::Sender<DateTime<Utc>>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: std::sync::Arc::new(watch::Sender::new(start)),
        }
    }

    pub fn set(&self, to: DateTime<Utc>) {
        self.now.send_replace(to);
    }

    pub fn advance(&self, by: Duration) {
        self.now.send_modify(|now| *now += by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.borrow()
    }

    fn sleep_until(
        &self,
        deadline: DateTime<Utc>,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let mut changes = self.now.subscribe();
        Box::pin(async move {
            while *changes.borrow_and_update() < deadline {
                if changes.changed().await.is_err() {
                    return;
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn manual_clock_moves_only_when_told_and_clones_share_time() {
        let clock = ManualClock::new(start());
        let shared = clock.clone();
        assert_eq!(clock.now(), start());
        shared.advance(Duration::minutes(90));
        assert_eq!(clock.now(), start() + Duration::minutes(90));
        clock.set(start());
        assert_eq!(shared.now(), start());
    }

    #[tokio::test]
    async fn a_sleeper_on_the_manual_clock_wakes_when_the_deadline_is_reached() {
        let clock = ManualClock::new(start());
        let sleeper = {
            let clock = clock.clone();
            tokio::spawn(async move { clock.sleep_until(start() + Duration::hours(1)).await })
        };
        clock.advance(Duration::minutes(59));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished(), "woke before the deadline");
        clock.advance(Duration::minutes(1));
        tokio::time::timeout(std::time::Duration::from_secs(5), sleeper)
            .await
            .expect("woke at the deadline")
            .unwrap();
    }

    #[tokio::test]
    async fn a_deadline_already_passed_does_not_wait() {
        let clock = ManualClock::new(start());
        clock.sleep_until(start() - Duration::seconds(1)).await;
        SystemClock
            .sleep_until(Utc::now() - Duration::seconds(1))
            .await;
    }
}
