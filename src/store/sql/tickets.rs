//! Tickets and their events: the SQL both backends run for
//! [`TicketStore`](crate::store::TicketStore), and the query builders the
//! listings share.

use chrono::{DateTime, Utc};

use super::push_and_equals;
use super::rows::ticket_columns;
use crate::domain::listing::{DeadlineCursor, DeadlineFilter, TicketFilter};
use crate::domain::policy::{Channel, Plan, Priority};
use crate::domain::sla::SlaState;
use crate::domain::ticket::TicketStatus;

/// `SELECT <ticket columns> FROM tickets`, for the caller to finish.
pub fn tickets_query<DB: sqlx::Database>() -> sqlx::QueryBuilder<'static, DB>
where
    DB::Arguments<'static>: Default,
{
    sqlx::QueryBuilder::new(concat!("SELECT ", ticket_columns!(), " FROM tickets"))
}

/// Appends ListTickets' WHERE, ORDER BY and LIMIT to a `SELECT … FROM tickets`.
pub fn push_ticket_filters<'args, DB: sqlx::Database>(
    query: &mut sqlx::QueryBuilder<'args, DB>,
    filter: &TicketFilter,
    before_number: Option<i64>,
    limit: i64,
) where
    String: sqlx::Encode<'args, DB> + sqlx::Type<DB>,
    &'static str: sqlx::Encode<'args, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'args, DB> + sqlx::Type<DB>,
{
    query.push(" WHERE TRUE");
    push_and_equals(query, "account_id", filter.account_id.clone());
    push_and_equals(query, "channel", filter.channel.map(Channel::as_str));
    push_and_equals(query, "priority", filter.priority.map(Priority::as_str));
    push_and_equals(query, "status", filter.status.map(TicketStatus::as_str));
    if let Some(before) = before_number {
        query.push(" AND number < ").push_bind(before);
    }
    query.push(" ORDER BY number DESC LIMIT ").push_bind(limit);
}

/// Appends the deadline query's WHERE, ORDER BY and LIMIT to a
/// `SELECT … FROM tickets`. Public so a test can EXPLAIN the very query the
/// store runs. "Unanswered" is `status = 'new'`, which matches the partial
/// index on `response_due_at`; states are computed from the deadlines, so
/// they are exact even between sweeps.
pub fn push_deadline_query<'args, DB: sqlx::Database>(
    query: &mut sqlx::QueryBuilder<'args, DB>,
    filter: &DeadlineFilter,
    after: Option<DeadlineCursor>,
    limit: i64,
) where
    &'static str: sqlx::Encode<'args, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'args, DB> + sqlx::Type<DB>,
    DateTime<Utc>: sqlx::Encode<'args, DB> + sqlx::Type<DB>,
{
    let now = filter.now;
    query.push(" WHERE status = 'new'");
    if let Some(within) = filter.due_within {
        query.push(" AND response_due_at >= ").push_bind(now);
        query
            .push(" AND response_due_at <= ")
            .push_bind(now + within);
    }
    let states: Vec<SlaState> = filter
        .states
        .iter()
        .copied()
        .filter(|s| matches!(s, SlaState::OnTrack | SlaState::AtRisk | SlaState::Breached))
        .collect();
    if !states.is_empty() {
        query.push(" AND (FALSE");
        for state in states {
            match state {
                SlaState::OnTrack => query.push(" OR at_risk_at > ").push_bind(now),
                SlaState::AtRisk => query
                    .push(" OR (at_risk_at <= ")
                    .push_bind(now)
                    .push(" AND response_due_at >= ")
                    .push_bind(now)
                    .push(")"),
                _ => query.push(" OR response_due_at < ").push_bind(now),
            };
        }
        query.push(")");
    }
    push_and_equals(query, "plan", filter.plan.map(Plan::as_str));
    push_and_equals(query, "priority", filter.priority.map(Priority::as_str));
    push_and_equals(query, "channel", filter.channel.map(Channel::as_str));
    if let Some((due, number)) = after {
        query
            .push(" AND (response_due_at > ")
            .push_bind(due)
            .push(" OR (response_due_at = ")
            .push_bind(due)
            .push(" AND number > ")
            .push_bind(number)
            .push("))");
    }
    query
        .push(" ORDER BY response_due_at, number LIMIT ")
        .push_bind(limit);
}

/// Implements [`TicketStore`] for a backend; see `sql` for why a macro.
/// Also gives the backend `select_tickets` and `insert_events`, which the
/// event log and SQLite's ticket insert use.
///
/// [`TicketStore`]: crate::store::TicketStore
macro_rules! impl_ticket_store {
    ($store:ty) => {
        // A const block so the expansion can have its own imports.
        const _: () = {
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};

            use $crate::domain::survey::Survey;
            use $crate::domain::ticket::{Ticket, TicketEvent};
            use $crate::error::{Error, Result};
            use $crate::store::sql::backend::SqlBackend;
            use $crate::store::sql::fetch_optional_by;
            use $crate::store::sql::rows::{
                EventRow, TicketRow, bind_event_insert, bind_ticket_update, event_columns,
                ticket_columns, ticket_update_assignments,
            };
            use $crate::store::sql::ticket_insert::insert_event_sql;
            use $crate::store::sql::tickets::{
                push_deadline_query, push_ticket_filters, tickets_query,
            };
            use $crate::store::{
                DeadlineCursor, DeadlineFilter, Inserted, TicketFilter, TicketKey, TicketStore,
                ticket_not_found,
            };

            type Db = <$store as SqlBackend>::Db;
            type Connection = <Db as sqlx::Database>::Connection;

            impl $store {
                /// Runs `SELECT <ticket columns> FROM tickets` with the rest of
                /// the query appended by `finish`, and reads the tickets.
                async fn select_tickets(
                    &self,
                    finish: impl FnOnce(&mut sqlx::QueryBuilder<'static, Db>),
                ) -> Result<Vec<Ticket>> {
                    let mut query = tickets_query::<Db>();
                    finish(&mut query);
                    self.fetch_all_into(query.build_query_as::<TicketRow>())
                        .await
                }

                async fn insert_events(conn: &mut Connection, events: &[EventRow]) -> Result<()> {
                    for row in events {
                        let query = sqlx::query(insert_event_sql()).bind(row.ticket_id);
                        bind_event_insert!(query, row).execute(&mut *conn).await?;
                    }
                    Ok(())
                }
            }

            #[async_trait]
            impl TicketStore for $store {
                async fn insert_ticket(
                    &self,
                    ticket: &Ticket,
                    events: &[TicketEvent],
                ) -> Result<Inserted> {
                    let row = TicketRow::from(ticket);
                    let events = events.iter().map(EventRow::from).collect();
                    // Concurrent retries with one request id produce one row
                    // (ON CONFLICT); only the winner writes events.
                    let number = self.write_received(row, events).await?;
                    if let Some(number) = number {
                        let mut stored = ticket.clone();
                        stored.number = number;
                        return Ok(Inserted::New(stored));
                    }
                    // Nothing written: the request id is taken, or else the
                    // account's plan is no longer the one the ticket was
                    // received under.
                    let Some(request_id) = ticket.request_id.as_deref() else {
                        return Err(Error::Conflict);
                    };
                    self.find_ticket_by_request_id(&ticket.account_id, request_id)
                        .await?
                        .map(Inserted::Existing)
                        .ok_or(Error::Conflict)
                }

                async fn update_ticket(
                    &self,
                    ticket: &Ticket,
                    expected_version: i64,
                    events: &[TicketEvent],
                    survey: Option<&Survey>,
                ) -> Result<Ticket> {
                    let row = TicketRow::from(ticket);
                    let mut tx = $crate::store::begin(self.acquire().await?).await?;
                    let query = sqlx::query_scalar::<_, i64>(concat!(
                        "UPDATE tickets SET ",
                        ticket_update_assignments!(),
                        ", version = version + 1 WHERE id = $1 AND version = $2 RETURNING version"
                    ))
                    .bind(row.id)
                    .bind(expected_version);
                    let version = bind_ticket_update!(query, &row)
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or(Error::Conflict)?;
                    let events: Vec<EventRow> = events.iter().map(EventRow::from).collect();
                    Self::insert_events(&mut tx, &events).await?;
                    if let Some(survey) = survey {
                        sqlx::query(
                            "INSERT INTO surveys (token, ticket_id, issued_at) VALUES ($1, $2, $3)",
                        )
                        .bind(&survey.token)
                        .bind(survey.ticket_id)
                        .bind(survey.issued_at)
                        .execute(&mut *tx)
                        .await?;
                    }
                    tx.commit().await?;
                    let mut stored = ticket.clone();
                    stored.version = version;
                    Ok(stored)
                }

                async fn list_ticket_events(
                    &self,
                    ticket_id: uuid::Uuid,
                    after_id: Option<i64>,
                    limit: i64,
                ) -> Result<Vec<TicketEvent>> {
                    let query = sqlx::query_as::<_, EventRow>(concat!(
                        "SELECT ",
                        event_columns!(),
                        " FROM ticket_events WHERE ticket_id = $1 AND id > $2 ORDER BY id LIMIT $3"
                    ))
                    .bind(ticket_id)
                    .bind(after_id.unwrap_or(0))
                    .bind(limit);
                    self.fetch_all_into(query).await
                }

                async fn tickets_due_for_sla_check(
                    &self,
                    now: DateTime<Utc>,
                    limit: i64,
                ) -> Result<Vec<Ticket>> {
                    let query = sqlx::query_as::<_, TicketRow>(concat!(
                        "SELECT ",
                        ticket_columns!(),
                        " FROM tickets WHERE next_sla_check_at <= $1 ",
                        "ORDER BY next_sla_check_at LIMIT $2"
                    ))
                    .bind(now)
                    .bind(limit);
                    self.fetch_all_into(query).await
                }

                async fn next_sla_check_at(&self) -> Result<Option<DateTime<Utc>>> {
                    // ORDER BY … LIMIT 1 rather than min(): it reads the
                    // partial index, and both backends decode the column type.
                    Ok(sqlx::query_scalar::<_, DateTime<Utc>>(
                        "SELECT next_sla_check_at FROM tickets WHERE next_sla_check_at IS NOT NULL \
                         ORDER BY next_sla_check_at LIMIT 1",
                    )
                    .fetch_optional(&mut *self.acquire().await?)
                    .await?)
                }

                async fn list_tickets_by_deadline(
                    &self,
                    filter: &DeadlineFilter,
                    after: Option<DeadlineCursor>,
                    limit: i64,
                ) -> Result<Vec<Ticket>> {
                    self.select_tickets(|query| push_deadline_query(query, filter, after, limit))
                        .await
                }

                async fn find_ticket_by_request_id(
                    &self,
                    account_id: &str,
                    request_id: &str,
                ) -> Result<Option<Ticket>> {
                    fetch_optional_by!(
                        self,
                        TicketRow,
                        ticket_columns,
                        "tickets",
                        "account_id" = account_id,
                        "request_id" = request_id
                    )
                    .map(TryInto::try_into)
                    .transpose()
                }

                async fn get_ticket(&self, key: TicketKey) -> Result<Ticket> {
                    let row = match key {
                        TicketKey::Id(id) => {
                            fetch_optional_by!(
                                self,
                                TicketRow,
                                ticket_columns,
                                "tickets",
                                "id" = id
                            )
                        }
                        TicketKey::Number(number) => fetch_optional_by!(
                            self,
                            TicketRow,
                            ticket_columns,
                            "tickets",
                            "number" = number
                        ),
                    };
                    row.ok_or_else(|| ticket_not_found(key))?.try_into()
                }

                async fn list_tickets(
                    &self,
                    filter: &TicketFilter,
                    before_number: Option<i64>,
                    limit: i64,
                ) -> Result<Vec<Ticket>> {
                    // Built per filter combination (rather than `$1 IS NULL OR
                    // ...`) so each shape gets its own prepared statement and a
                    // plan that can use the matching index.
                    self.select_tickets(|query| {
                        push_ticket_filters(query, filter, before_number, limit)
                    })
                    .await
                }
            }
        };
    };
}
pub(crate) use impl_ticket_store;
