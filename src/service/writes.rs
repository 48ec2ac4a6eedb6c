//! The one owner of ticket writes. Every ticket and every event reaches the
//! store through [`TicketWriter`], and only after a write has committed does
//! it ring what follows: this replica's watch hub (a new log entry) and the
//! SLA sweeper (a threshold that may come before its plan). Keeping both in
//! one place is what lets the webhook outbox and metrics added later hang off
//! a single "written" point instead of every caller remembering to ring.
//!
//! Events are appended only together with the ticket they belong to: the
//! store's `update_ticket` writes the ticket row conditionally on its version
//! before it inserts the events, so two writers never interleave events of
//! one ticket. There is no way to append an event on its own.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::domain::survey::Survey;
use crate::domain::ticket::{Ticket, TicketEvent};
use crate::error::Result;
use crate::store::{Inserted, TicketStore};

use super::sweeper_alarm::SweeperAlarm;

/// Writes tickets with their events and rings what follows a write.
#[derive(Clone)]
pub struct TicketWriter {
    store: Arc<dyn TicketStore>,
    log_written: Arc<Notify>,
    sla_changed: Arc<SweeperAlarm>,
}

impl TicketWriter {
    pub fn new(store: Arc<dyn TicketStore>) -> Self {
        Self {
            store,
            log_written: Arc::new(Notify::new()),
            sla_changed: Arc::new(SweeperAlarm::new()),
        }
    }

    /// Inserts a received ticket with its first events. A retry that the
    /// store matched to an earlier insert (same request id) rings nothing:
    /// nothing new was written.
    pub async fn insert(&self, ticket: &Ticket, events: &[TicketEvent]) -> Result<Inserted> {
        let inserted = self.store.insert_ticket(ticket, events).await?;
        if let Inserted::New(stored) = &inserted {
            self.written(stored);
        }
        Ok(inserted)
    }

    /// Writes `ticket` and appends `events` if the stored ticket is still at
    /// `expected_version`; `Error::Conflict` otherwise, with nothing written.
    pub async fn update(
        &self,
        ticket: &Ticket,
        expected_version: i64,
        events: &[TicketEvent],
        survey: Option<&Survey>,
    ) -> Result<Ticket> {
        let stored = self
            .store
            .update_ticket(ticket, expected_version, events, survey)
            .await?;
        self.written(&stored);
        Ok(stored)
    }

    fn written(&self, stored: &Ticket) {
        self.log_written.notify_one();
        self.sla_changed.ring_if_sooner(stored.next_sla_check_at());
    }

    /// What the watch hub listens to: a write to the log by this replica.
    pub fn log_written(&self) -> LogWritten {
        LogWritten(self.log_written.clone())
    }

    /// What the SLA sweeper plans with and listens to.
    pub fn sla_changed(&self) -> &Arc<SweeperAlarm> {
        &self.sla_changed
    }
}

/// The listening end of "this replica wrote to the event log". Only
/// [`TicketWriter`] rings it.
#[derive(Clone, Debug)]
pub struct LogWritten(Arc<Notify>);

impl LogWritten {
    pub async fn notified(&self) {
        self.0.notified().await;
    }
}
