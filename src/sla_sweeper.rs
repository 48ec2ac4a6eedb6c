//! Records SLA thresholds (AT_RISK, BREACHED) when they happen, not only when
//! someone looks. Every replica runs one sweeper; writes are conditional on
//! the ticket's version, so a threshold is recorded exactly once however
//! many replicas race for it. The sweeper sleeps until the earliest known
//! threshold, and wakes early when a local write may have brought it forward.

use std::sync::Arc;
use std::time::Duration;

use crate::domain::clock::Clock;
use crate::domain::lifecycle;
use crate::error::Error;
use crate::service::TicketWriter;
use crate::store::TicketStore;

/// Tickets handled per query while catching up.
const BATCH: i64 = 200;
/// Longest sleep with nothing due, so thresholds of tickets written by
/// other replicas are picked up even if this one hears of nothing.
const MAX_IDLE: chrono::Duration = chrono::Duration::seconds(30);
/// Pause after a storage error before trying again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Reads due tickets from `store`; records thresholds through `writer`, like
/// every other ticket write, so the watch hub hears of them.
pub async fn run(store: Arc<dyn TicketStore>, writer: TicketWriter, clock: Arc<dyn Clock>) {
    let alarm = writer.sla_changed().clone();
    loop {
        alarm.replanning();
        // Stored times have microsecond precision; compare at the same precision.
        let now = crate::domain::intake::receipt_time(clock.now());
        let next = match sweep_due(&*store, &writer, now).await {
            Ok(()) => store.next_sla_check_at().await,
            Err(err) => Err(err),
        };
        let wake_at = match next {
            Ok(Some(next)) => next.min(now + MAX_IDLE),
            Ok(None) => now + MAX_IDLE,
            Err(err) => {
                tracing::warn!(error = %err, "SLA sweep failed; retrying");
                tokio::time::sleep(RETRY_AFTER).await;
                continue;
            }
        };
        alarm.plan(wake_at);
        tokio::select! {
            () = clock.sleep_until(wake_at) => {}
            () = alarm.rung() => {}
        }
    }
}

/// Records every threshold passed by `now`.
async fn sweep_due(
    store: &dyn TicketStore,
    writer: &TicketWriter,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Error> {
    loop {
        let due = store.tickets_due_for_sla_check(now, BATCH).await?;
        let mut progressed = false;
        for ticket in &due {
            let change = lifecycle::sweep(ticket, now);
            if change.is_noop() {
                continue;
            }
            match writer
                .update(&change.ticket, ticket.version, &change.events, None)
                .await
            {
                Ok(_) => {
                    progressed = true;
                    for event in &change.events {
                        tracing::info!(
                            ticket = ticket.number,
                            event = %event.kind,
                            at = %event.occurred_at,
                            "SLA threshold recorded"
                        );
                    }
                }
                // Another replica (or an agent) got there first; the next
                // query sees the ticket as it now is.
                Err(Error::Conflict) => progressed = true,
                Err(err) => return Err(err),
            }
        }
        if (due.len() as i64) < BATCH || !progressed {
            return Ok(());
        }
    }
}
