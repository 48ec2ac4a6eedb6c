//! The event log that watch streams follow: the SQL both backends share
//! for [`EventLogStore`](crate::store::EventLogStore). Where the log's
//! positions come from differs per backend (`SqlBackend::log_head`,
//! `log_rows`, `snapshot`).

use chrono::{DateTime, Utc};

use super::push_and_equals;
use super::rows::TicketRow;
use super::tickets::tickets_query;
use crate::domain::sla::SlaState;
use crate::domain::watch::{OPEN_STATUSES, WatchFilter};
use crate::error::Result;
use crate::store::{LogPosition, WatchSnapshot};

/// A watch snapshot's `SELECT <ticket columns> FROM tickets` with its
/// WHERE, ORDER BY and LIMIT: open tickets matching the filter, with SLA
/// states computed at `now` as the deadline query does.
pub fn watch_snapshot_query<DB: sqlx::Database>(
    filter: &WatchFilter,
    now: DateTime<Utc>,
    limit: i64,
) -> sqlx::QueryBuilder<'static, DB>
where
    DB::Arguments<'static>: Default,
    String: sqlx::Encode<'static, DB> + sqlx::Type<DB>,
    &'static str: sqlx::Encode<'static, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'static, DB> + sqlx::Type<DB>,
    DateTime<Utc>: sqlx::Encode<'static, DB> + sqlx::Type<DB>,
{
    fn any_of<'args, DB: sqlx::Database>(
        query: &mut sqlx::QueryBuilder<'args, DB>,
        column: &str,
        values: impl IntoIterator<Item = &'static str>,
    ) where
        &'static str: sqlx::Encode<'args, DB> + sqlx::Type<DB>,
    {
        query.push(format!(" AND {column} IN ("));
        let mut list = query.separated(", ");
        for value in values {
            list.push_bind(value);
        }
        list.push_unseparated(")");
    }
    let mut select = tickets_query::<DB>();
    let query = &mut select;
    query.push(" WHERE TRUE");
    any_of(query, "status", OPEN_STATUSES.iter().map(|s| s.as_str()));
    if !filter.plans.is_empty() {
        any_of(query, "plan", filter.plans.iter().map(|p| p.as_str()));
    }
    if !filter.channels.is_empty() {
        any_of(query, "channel", filter.channels.iter().map(|c| c.as_str()));
    }
    if !filter.priorities.is_empty() {
        any_of(
            query,
            "priority",
            filter.priorities.iter().map(|p| p.as_str()),
        );
    }
    push_and_equals(query, "account_id", filter.account_id.clone());
    if !filter.states.is_empty() {
        query.push(" AND (FALSE");
        for state in &filter.states {
            match state {
                SlaState::OnTrack => query
                    .push(" OR (first_response_at IS NULL AND at_risk_at > ")
                    .push_bind(now)
                    .push(")"),
                SlaState::AtRisk => query
                    .push(" OR (first_response_at IS NULL AND at_risk_at <= ")
                    .push_bind(now)
                    .push(" AND response_due_at >= ")
                    .push_bind(now)
                    .push(")"),
                SlaState::Breached => query
                    .push(" OR (first_response_at IS NULL AND response_due_at < ")
                    .push_bind(now)
                    .push(")"),
                // Final once recorded: the stored state is exact.
                SlaState::Met | SlaState::Missed => {
                    query.push(" OR sla_state = ").push_bind(state.as_str())
                }
            };
        }
        query.push(")");
    }
    query
        .push(" ORDER BY response_due_at, number LIMIT ")
        .push_bind(limit);
    select
}

/// A backend's watch snapshot: the tickets it read, and the log position
/// they reflect with the events above it they already show.
pub fn watch_snapshot(
    rows: Vec<TicketRow>,
    position: LogPosition,
    already_applied: Vec<LogPosition>,
) -> Result<WatchSnapshot> {
    Ok(WatchSnapshot {
        tickets: rows
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<_>>()?,
        position,
        already_applied,
    })
}

/// Implements [`EventLogStore`] for a backend; see `sql` for why a macro.
/// Reads tickets through the backend's `select_tickets` (`impl_ticket_store!`).
///
/// [`EventLogStore`]: crate::store::EventLogStore
macro_rules! impl_event_log_store {
    ($store:ty) => {
        // A const block so the expansion can have its own imports.
        const _: () = {
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};

            use $crate::domain::ticket::{Ticket, TicketEvent};
            use $crate::domain::watch::WatchFilter;
            use $crate::error::{Error, Result};
            use $crate::store::sql::backend::SqlBackend;
            use $crate::store::{EventLogStore, LogPage, LogPosition, LoggedEvent, WatchSnapshot};

            #[async_trait]
            impl EventLogStore for $store {
                async fn read_event_log(
                    &self,
                    after: LogPosition,
                    upto: Option<LogPosition>,
                    limit: i64,
                ) -> Result<LogPage> {
                    let upto = match upto {
                        Some(upto) => upto,
                        None => self.log_head().await?,
                    };
                    if upto <= after {
                        return Ok(LogPage {
                            events: Vec::new(),
                            reached: after,
                        });
                    }
                    let rows = self.log_rows(after, upto, limit).await?;
                    let full = rows.len() as i64 >= limit;
                    let mut ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.event.ticket_id).collect();
                    ids.sort_unstable();
                    ids.dedup();
                    let tickets: std::collections::HashMap<uuid::Uuid, Ticket> = if ids.is_empty() {
                        Default::default()
                    } else {
                        self.select_tickets(|query| {
                            query.push(" WHERE id IN (");
                            let mut list = query.separated(", ");
                            for id in ids {
                                list.push_bind(id);
                            }
                            list.push_unseparated(")");
                        })
                        .await?
                        .into_iter()
                        .map(|ticket| (ticket.id, ticket))
                        .collect()
                    };
                    let mut events = Vec::with_capacity(rows.len());
                    for row in rows {
                        let position = LogPosition {
                            txid: row.txid,
                            id: row.event.id,
                        };
                        let event = TicketEvent::try_from(row.event)?;
                        let ticket = tickets.get(&event.ticket_id).cloned().ok_or_else(|| {
                            Error::Internal("an event's ticket is missing".into())
                        })?;
                        events.push(LoggedEvent {
                            position,
                            event,
                            ticket,
                        });
                    }
                    let reached = match events.last() {
                        Some(last) if full => last.position,
                        _ => upto,
                    };
                    Ok(LogPage { events, reached })
                }

                async fn event_log_head(&self) -> Result<LogPosition> {
                    self.log_head().await
                }

                async fn watch_snapshot(
                    &self,
                    filter: &WatchFilter,
                    now: DateTime<Utc>,
                    limit: i64,
                ) -> Result<WatchSnapshot> {
                    self.snapshot(filter, now, limit).await
                }
            }
        };
    };
}
pub(crate) use impl_event_log_store;
