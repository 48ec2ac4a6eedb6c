//! What a backend supplies to the shared SQL: the few things PostgreSQL and
//! SQLite do differently. The shared code reaches a backend only through
//! [`SqlBackend`], so a missing hook is a compile error and a third backend
//! is an implementation of this trait plus one `impl_shared_sql!` line.

use std::future::Future;

use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;

use super::rows::LoggedEventRow;
use super::rows::{EventRow, TicketRow};
use crate::domain::ticket::Account;
use crate::domain::watch::WatchFilter;
use crate::error::Result;
use crate::store::{LogPosition, WatchSnapshot};

/// The hooks the shared SQL calls. Futures are `Send` because the store
/// traits' methods are (they run on the server's multi-threaded runtime).
pub trait SqlBackend: Send + Sync + 'static {
    /// The database every statement runs on; the shared SQL is checked
    /// against it when stamped out.
    type Db: sqlx::Database;

    /// A pooled connection for one call. Must fail at once, with
    /// UNAVAILABLE, while the database is known unreachable, rather than
    /// wait out the pool's acquire timeout; every statement of the shared
    /// SQL runs on a connection from here. Waiting may be cut short (the
    /// caller dropped): nothing has been sent yet.
    fn acquire(&self) -> impl Future<Output = Result<PoolConnection<Self::Db>>> + Send;

    /// The health check's round trip, over a connection outside the pool,
    /// within `reach::HEALTH_PING_TIMEOUT`: whether the database answers,
    /// never whether the pool has a connection free.
    fn ping_database(&self) -> impl Future<Output = Result<()>> + Send;

    /// The account a CreateTicket is decided for (its first statement),
    /// or `NotFound`. May group concurrent reads; must read the stored
    /// row, not a cache.
    fn read_account(&self, id: &str) -> impl Future<Output = Result<Account>> + Send;

    /// Writes a received ticket and its events atomically: all or nothing,
    /// and acknowledged only once durable. Returns the number the database
    /// gave the ticket, or `None`, having written nothing, when the account
    /// already has a ticket with its request id or is no longer on the
    /// ticket's plan. Events get ids in the order given.
    fn write_received(
        &self,
        ticket: TicketRow,
        events: Vec<EventRow>,
    ) -> impl Future<Output = Result<Option<i64>>> + Send;

    /// The newest log position before which nothing can still commit: a
    /// reader that has read up to it will never see an event appear below.
    fn log_head(&self) -> impl Future<Output = Result<LogPosition>> + Send;

    /// Events with positions in `(after, upto]`, in position order, at most
    /// `limit`, each with its position's transaction part.
    fn log_rows(
        &self,
        after: LogPosition,
        upto: LogPosition,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<LoggedEventRow>>> + Send;

    /// The open tickets matching `filter` at `now` (see
    /// [`super::event_log::watch_snapshot_query`]) and the log position
    /// they reflect, read in one snapshot of the database: every event
    /// below the position is in the tickets, and any event above it that
    /// they already show is listed in `already_applied`.
    fn snapshot(
        &self,
        filter: &WatchFilter,
        now: DateTime<Utc>,
        limit: i64,
    ) -> impl Future<Output = Result<WatchSnapshot>> + Send;
}
