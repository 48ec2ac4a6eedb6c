//! Grouped reads and writes for CreateTicket on PostgreSQL: the account
//! reads of concurrent calls in one statement, and their inserts in another.
//!
//! Group commit: Tickets that arrive while the
//! writers are busy are inserted together, with their events, in one
//! statement: one round trip and one durable commit for the group instead of
//! one each. A ticket is acknowledged only after the statement that holds it
//! has committed, so "acknowledged means stored" holds as before.
//!
//! Batches form only under load: a writer that is free takes the first
//! waiting ticket at once and whatever else is already queued, and never
//! waits for more, so a lone call pays nothing. The writers run on their own
//! tasks, so a caller that gives up (cancel, deadline) cannot cut a write
//! short; its ticket is stored or not as a whole, like any other in the group.

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::{PgConnection, Postgres};
use tokio::sync::{Mutex, mpsc, oneshot};
use uuid::Uuid;

use super::postgres::PgStore;
use super::sql::backend::SqlBackend;
use super::sql::rows::{AccountRow, account_columns};
use super::sql::rows::{EventRow, TicketRow, bind_event_insert, bind_ticket_insert};
use super::sql::ticket_insert::{group_sql, grouped_parameters};
use crate::error::{Error, Result};

/// Bind parameters PostgreSQL takes in one statement.
const MAX_PARAMETERS: usize = 65_535;
/// Room left for one more ticket before a group may grow: a received
/// ticket carries one event; room for four leaves slack.
const LARGEST_TICKET: usize = grouped_parameters(4);

/// How a group of tickets is written; both sides of the trade-off are flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchConfig {
    /// Most tickets in one statement; 1 writes each ticket on its own.
    pub max_tickets: usize,
    /// Groups written at once, each on its own connection.
    pub writers: usize,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            max_tickets: 8,
            writers: 1,
        }
    }
}

/// Starts `workers` tasks sharing one queue. Each takes the first waiting
/// item (waiting for one if need be), then whatever else is already queued
/// while `may_grow` allows, and hands the group to `work`; the rest stays
/// queued for the next group. Returns the queue.
fn start_workers<T, Work, Done>(
    workers: usize,
    may_grow: impl Fn(&[T]) -> bool + Clone + Send + 'static,
    work: Work,
) -> mpsc::UnboundedSender<T>
where
    T: Send + 'static,
    Work: Fn(Vec<T>) -> Done + Clone + Send + 'static,
    Done: std::future::Future<Output = ()> + Send,
{
    let (queue, receiver) = mpsc::unbounded_channel::<T>();
    let receiver = Arc::new(Mutex::new(receiver));
    for _ in 0..workers.max(1) {
        let (receiver, may_grow, work) = (receiver.clone(), may_grow.clone(), work.clone());
        tokio::spawn(async move {
            loop {
                let mut group = Vec::new();
                {
                    let mut receiver = receiver.lock().await;
                    match receiver.recv().await {
                        Some(first) => group.push(first),
                        None => return,
                    }
                    while may_grow(&group) {
                        let Ok(next) = receiver.try_recv() else { break };
                        group.push(next);
                    }
                }
                work(group).await;
            }
        });
    }
    queue
}

/// Queues an item carrying `reply` and waits for the answer.
async fn ask<T, R>(
    queue: &mpsc::UnboundedSender<T>,
    worker: &str,
    item: impl FnOnce(oneshot::Sender<Result<R>>) -> T,
) -> Result<R> {
    let (reply, answer) = oneshot::channel();
    queue
        .send(item(reply))
        .map_err(|_| Error::Unavailable(format!("the {worker}s have stopped")))?;
    answer
        .await
        .map_err(|_| Error::Internal(format!("a {worker} stopped before answering")))?
}

struct Pending {
    ticket: TicketRow,
    events: Vec<EventRow>,
    /// The ticket's number, or `None` when its request id was taken.
    reply: oneshot::Sender<Result<Option<i64>>>,
}

/// Queues tickets for the writers. Dropping it stops them once the queue is
/// empty.
#[derive(Debug, Clone)]
pub struct TicketWriter {
    queue: mpsc::UnboundedSender<Pending>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("ticket", &self.ticket.id)
            .finish()
    }
}

impl TicketWriter {
    /// Starts the writers. The queue needs no bound of its own: every entry
    /// is a call in flight, which the server's in-flight limit bounds.
    pub fn start(store: PgStore, config: BatchConfig) -> Self {
        let max = config.max_tickets.max(1);
        let queue = start_workers(
            config.writers,
            move |group: &[Pending]| {
                group.len() < max && group_parameters(group) + LARGEST_TICKET <= MAX_PARAMETERS
            },
            move |group| {
                let store = store.clone();
                async move { write_group(&store, group).await }
            },
        );
        Self { queue }
    }

    /// Writes `ticket` and `events` with whatever else is waiting; returns
    /// the ticket's number, or `None` (nothing written) when the account
    /// already has a ticket with its request id.
    pub async fn write(&self, ticket: TicketRow, events: Vec<EventRow>) -> Result<Option<i64>> {
        ask(&self.queue, "ticket writer", |reply| Pending {
            ticket,
            events,
            reply,
        })
        .await
    }
}

struct PendingRead {
    id: String,
    reply: oneshot::Sender<Result<Option<AccountRow>>>,
}

/// Reads accounts for concurrent calls in one statement each round: the
/// read every CreateTicket makes first (the plan decides the deadline).
#[derive(Debug, Clone)]
pub struct AccountReader {
    queue: mpsc::UnboundedSender<PendingRead>,
}

impl std::fmt::Debug for PendingRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingRead").field("id", &self.id).finish()
    }
}

impl AccountReader {
    pub fn start(store: PgStore, config: BatchConfig) -> Self {
        let max = config.max_tickets.max(1);
        let queue = start_workers(
            config.writers,
            move |group: &[PendingRead]| group.len() < max,
            move |group| {
                let store = store.clone();
                async move { read_group(&store, group).await }
            },
        );
        Self { queue }
    }

    /// The account, read with whatever other reads are waiting.
    pub async fn read(&self, id: &str) -> Result<Option<AccountRow>> {
        ask(&self.queue, "account reader", |reply| PendingRead {
            id: id.to_owned(),
            reply,
        })
        .await
    }
}

async fn read_group(store: &PgStore, group: Vec<PendingRead>) {
    let result = match store.acquire().await {
        Ok(mut conn) => read_together(&mut conn, &group).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(rows) => {
            // Several calls may ask for one account: each gets a copy.
            for pending in group {
                let _ = pending.reply.send(Ok(rows.get(&pending.id).cloned()));
            }
        }
        Err(err) => {
            for pending in group {
                let _ = pending.reply.send(Err(err.clone()));
            }
        }
    }
}

/// `= $1` for one id (the statement bench/create_ticket.pgbench runs),
/// `= ANY($1)` for several; rows keyed by id.
async fn read_together(
    conn: &mut PgConnection,
    group: &[PendingRead],
) -> Result<HashMap<String, AccountRow>> {
    let rows = if let [one] = group {
        sqlx::query_as::<Postgres, AccountRow>(concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts WHERE id = $1"
        ))
        .bind(&one.id)
        .fetch_all(conn)
        .await?
    } else {
        let ids: Vec<&str> = group.iter().map(|p| p.id.as_str()).collect();
        sqlx::query_as::<Postgres, AccountRow>(concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts WHERE id = ANY($1)"
        ))
        .bind(ids)
        .fetch_all(conn)
        .await?
    };
    Ok(rows.into_iter().map(|row| (row.id.clone(), row)).collect())
}

fn group_parameters(group: &[Pending]) -> usize {
    group
        .iter()
        .map(|p| grouped_parameters(p.events.len()))
        .sum()
}

/// Writes the group and answers each caller. When the group's statement
/// fails for a reason other than the database being out of reach, each
/// ticket is written again on its own, so one bad row fails only its call.
async fn write_group(store: &PgStore, group: Vec<Pending>) {
    let mut conn = match store.acquire().await {
        Ok(conn) => conn,
        Err(err) => {
            for pending in group {
                let _ = pending.reply.send(Err(err.clone()));
            }
            return;
        }
    };
    if group.len() == 1 {
        let pending = group.into_iter().next().expect("one");
        let result = PgStore::write_ticket(&mut conn, &pending.ticket, &pending.events).await;
        let _ = pending.reply.send(result);
        return;
    }
    match write_together(&mut conn, &group).await {
        Ok(numbers) => {
            for pending in group {
                let number = numbers.get(&pending.ticket.id).copied();
                let _ = pending.reply.send(Ok(number));
            }
        }
        Err(err @ Error::Unavailable(_)) => {
            for pending in group {
                let _ = pending.reply.send(Err(err.clone()));
            }
        }
        Err(err) => {
            tracing::warn!(error = %err, tickets = group.len(), "group insert failed; writing one by one");
            for pending in group {
                let result =
                    PgStore::write_ticket(&mut conn, &pending.ticket, &pending.events).await;
                let _ = pending.reply.send(result);
            }
        }
    }
}

/// One statement for the whole group: the tickets, then the events of those
/// that were inserted (a ticket whose request id is taken, or whose account
/// is no longer on the ticket's plan, yields no row, so its events are not
/// written). Returns the numbers by ticket id.
async fn write_together(conn: &mut PgConnection, group: &[Pending]) -> Result<HashMap<Uuid, i64>> {
    let shape: Vec<usize> = group.iter().map(|p| p.events.len()).collect();
    let sql = group_sql(&shape);
    let mut query = sqlx::query_as::<Postgres, (Uuid, i64)>(&sql);
    for pending in group {
        query = bind_ticket_insert!(query, &pending.ticket);
    }
    for pending in group {
        for event in &pending.events {
            query = bind_event_insert!(query.bind(pending.ticket.id), event);
        }
    }
    let rows = query.fetch_all(conn).await?;
    Ok(rows.into_iter().collect())
}
