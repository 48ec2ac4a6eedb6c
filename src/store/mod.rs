//! Storage, one trait per aggregate (`contract`). [`Store`] is their sum,
//! for the service layer; a part that needs one aggregate depends on its
//! trait alone. PostgreSQL (production, several replicas) and SQLite
//! (embedded, zero setup) implement them with the same SQL (`sql`) over
//! the hooks of `sql::backend::SqlBackend`, and pass the same tests.

mod contract;
mod intake_batch;
pub mod postgres;
mod reach;
mod sql;
pub mod sqlite;

use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};
pub use contract::{
    AccountStore, ComplianceStore, CredentialStore, EventLogStore, Health, Inserted, LogPage,
    LoggedEvent, PolicyStore, ServiceRequestStore, Store, SurveyStore, TicketStore, WatchSnapshot,
};
pub use intake_batch::BatchConfig;
// Callers name these by their old path; they are domain values.
pub use crate::domain::listing::{
    DeadlineCursor, DeadlineFilter, ServiceRequestFilter, TicketFilter,
};
pub use crate::domain::ticket::TicketKey;
pub use crate::domain::watch::LogPosition;
pub use sql::tickets::push_deadline_query;

/// Pool settings chosen by the operator.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    pub max_connections: u32,
    /// Kept below RPC deadlines so a starved pool answers UNAVAILABLE instead
    /// of letting the client time out.
    pub acquire_timeout: Duration,
    /// How PostgreSQL groups concurrent CreateTicket writes.
    pub batch: BatchConfig,
}

/// Which backend a database URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn of_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else {
            anyhow::bail!("unsupported database URL: use postgres://… or sqlite://path")
        }
    }
}

/// Opens (creating and migrating as needed) the store a URL names.
pub async fn open(url: &str, pool: &PoolConfig) -> anyhow::Result<Arc<dyn Store>> {
    Ok(match Backend::of_url(url)? {
        Backend::Postgres => Arc::new(postgres::PgStore::connect(url, pool).await?),
        Backend::Sqlite => Arc::new(sqlite::SqliteStore::connect(url, pool).await?),
    })
}

/// Opens the store for `ticketd admin`, which may run beside the server.
pub async fn open_for_admin(url: &str, pool: &PoolConfig) -> anyhow::Result<Arc<dyn Store>> {
    Ok(match Backend::of_url(url)? {
        Backend::Postgres => Arc::new(postgres::PgStore::connect(url, pool).await?),
        Backend::Sqlite => Arc::new(sqlite::SqliteStore::connect_for_admin(url, pool).await?),
    })
}

/// `pool.begin()`, safe to cancel. sqlx 0.8's PostgreSQL `begin` is not:
/// it counts the transaction only once BEGIN's answer is in, so a caller
/// dropped while waiting for that answer (a client that cancels, or whose
/// deadline passes, drops its handler) leaves the session inside a
/// transaction sqlx knows nothing of. The pool then hands that session on,
/// and the next caller's statements run inside it, uncommitted: an
/// acknowledged ticket that is not yet durable, and a horizon that holds the
/// event log back. Run on a task of its own, BEGIN completes even when the
/// caller is gone; the transaction is then dropped on that task, which
/// queues its ROLLBACK before the connection returns to the pool. The rest
/// of a transaction is cancel-safe: dropping a counted transaction rolls it
/// back. (sqlx issue 4393; tests/api/faults.rs shows it.)
///
/// Takes a connection the caller acquired (through the store's `acquire`,
/// so an unreachable database fails it at once) rather than the pool.
pub(crate) async fn begin<DB: sqlx::Database>(
    conn: sqlx::pool::PoolConnection<DB>,
) -> Result<sqlx::Transaction<'static, DB>> {
    tokio::spawn(async move { sqlx::Transaction::begin(conn, None).await })
        .await
        .map_err(|err| Error::Internal(format!("the task beginning a transaction failed: {err}")))?
        .map_err(Error::from)
}

fn account_not_found(id: &str) -> Error {
    Error::NotFound {
        resource: "account",
        name: format!("accounts/{id}"),
    }
}

fn ticket_not_found(key: TicketKey) -> Error {
    Error::NotFound {
        resource: "ticket",
        name: match key {
            TicketKey::Id(id) => format!("tickets/{id}"),
            TicketKey::Number(number) => format!("tickets/{number}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_scheme_picks_the_backend() {
        assert_eq!(
            Backend::of_url("postgres://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::of_url("postgresql://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::of_url("sqlite://ticketd.db").unwrap(),
            Backend::Sqlite
        );
        assert!(Backend::of_url("mysql://h/db").is_err());
    }
}
