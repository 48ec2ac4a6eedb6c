//! The embedded SQLite store: the zero-setup default. One process owns the
//! file; for several replicas, use PostgreSQL.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, Sqlite, SqliteConnection, SqlitePool};

use chrono::{DateTime, Utc};

use super::reach::{Dedicated, HEALTH_PING_TIMEOUT};
use super::sql::backend::SqlBackend;
use super::sql::event_log::{watch_snapshot, watch_snapshot_query};
use super::sql::fetch_optional_by;
use super::sql::rows::{
    AccountRow, EventRow, LoggedEventRow, TicketRow, account_columns, bind_ticket_insert,
    event_columns,
};
use super::sql::ticket_insert::sqlite_insert_ticket_sql;
use super::{LogPosition, PoolConfig, WatchSnapshot};
use crate::domain::ticket::Account;
use crate::domain::watch::WatchFilter;
use crate::error::Result;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// The health check's own connection: with one pooled connection, a
    /// long write would otherwise fail the check of a healthy database.
    health: Arc<Dedicated<SqliteConnection>>,
    /// Held for the life of a serving store: one server per database file.
    _owner: Option<std::sync::Arc<std::fs::File>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file named by a
    /// `sqlite://path` URL, in WAL mode with foreign keys on, and migrates it.
    pub async fn connect(url: &str, config: &PoolConfig) -> anyhow::Result<Self> {
        Self::open(url, config, true).await
    }

    /// Opens the file beside a running server, for `ticketd admin`: its
    /// writes (credentials) touch nothing the one-server rule protects (the
    /// event log and the in-process timers), and SQLite serialises writers
    /// across processes.
    pub async fn connect_for_admin(url: &str, config: &PoolConfig) -> anyhow::Result<Self> {
        Self::open(url, config, false).await
    }

    async fn open(url: &str, config: &PoolConfig, serving: bool) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: an acknowledged ticket survives a power loss, as on PostgreSQL.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // Writers queue on SQLite's single write lock instead of failing.
            .busy_timeout(Duration::from_secs(5));
        let path = options.get_filename().to_owned();
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)?;
        }
        let owner = if serving {
            Some(std::sync::Arc::new(lock_for_this_process(&path)?))
        } else {
            None
        };
        let pool = SqlitePoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(config.acquire_timeout)
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self {
            pool,
            health: Arc::new(Dedicated::new(options)),
            _owner: owner,
        })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

impl SqliteStore {
    /// Inserts a ticket and its events in one transaction (SQLite has no
    /// data-modifying CTEs; its statements do not cross a network anyway).
    /// Returns the ticket's number, or `None` (and writes nothing) when the
    /// account already has a ticket with this request id or is no longer on
    /// the ticket's plan.
    async fn write_ticket(
        conn: &mut SqliteConnection,
        ticket: &TicketRow,
        events: &[EventRow],
    ) -> Result<Option<i64>> {
        let query = sqlx::query_scalar::<_, i64>(sqlite_insert_ticket_sql());
        let mut tx = conn.begin().await?;
        let number = bind_ticket_insert!(query, ticket)
            .fetch_optional(&mut *tx)
            .await?;
        if number.is_some() {
            Self::insert_events(&mut tx, events).await?;
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(number)
    }
}

/// SQLite mode is single-process: a second ticketd on the same file would
/// share the data but not the in-process state (idempotency races are
/// settled by the database, but SLA streams and breach timers are not).
/// An exclusive lock on `<file>.lock` refuses the second process at start
/// instead of letting it be silently wrong.
fn lock_for_this_process(database: &Path) -> anyhow::Result<std::fs::File> {
    let mut lock_path = database.as_os_str().to_owned();
    lock_path.push(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another ticketd process is serving {}: the embedded SQLite store serves one \
             process only; run several replicas on PostgreSQL (--database postgres://...)",
            database.display()
        ),
        Err(std::fs::TryLockError::Error(err)) => Err(err.into()),
    }
}

/// SQLite's hooks. In the event log, writers commit one at a time, each holding
/// the write lock from its first insert to its commit, so event ids commit
/// in order and the position is (0, event id).
impl SqlBackend for SqliteStore {
    type Db = Sqlite;

    async fn read_account(&self, id: &str) -> Result<Account> {
        fetch_optional_by!(self, AccountRow, account_columns, "accounts", "id" = id)
            .ok_or_else(|| super::account_not_found(id))?
            .try_into()
    }

    /// One writer at a time anyway: each ticket on its own.
    async fn write_received(&self, row: TicketRow, events: Vec<EventRow>) -> Result<Option<i64>> {
        Self::write_ticket(&mut *self.acquire().await?, &row, &events).await
    }

    /// A pooled connection. The file does not go away as a network
    /// database does, so there is no circuit to fail calls sooner.
    async fn acquire(&self) -> Result<sqlx::pool::PoolConnection<Sqlite>> {
        Ok(self.pool.acquire().await?)
    }

    async fn ping_database(&self) -> Result<()> {
        self.health.ping(HEALTH_PING_TIMEOUT).await
    }

    async fn log_head(&self) -> Result<LogPosition> {
        let id: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM ticket_events")
            .fetch_one(&mut *self.acquire().await?)
            .await?;
        Ok(LogPosition { txid: 0, id })
    }

    async fn log_rows(
        &self,
        after: LogPosition,
        upto: LogPosition,
        limit: i64,
    ) -> Result<Vec<LoggedEventRow>> {
        let query = sqlx::query_as(concat!(
            "SELECT 0 AS txid, ",
            event_columns!(),
            " FROM ticket_events WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3"
        ))
        .bind(after.id)
        .bind(upto.id)
        .bind(limit);
        self.fetch_all_rows(query).await
    }

    /// One read transaction: in WAL mode it sees a single snapshot, and
    /// nothing after the largest id it sees has committed in it.
    async fn snapshot(
        &self,
        filter: &WatchFilter,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<WatchSnapshot> {
        let mut tx = sqlx::Transaction::begin(self.acquire().await?, None).await?;
        let rows = watch_snapshot_query::<Sqlite>(filter, now, limit)
            .build_query_as::<TicketRow>()
            .fetch_all(&mut *tx)
            .await?;
        let id: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM ticket_events")
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        watch_snapshot(rows, LogPosition { txid: 0, id }, Vec::new())
    }
}

super::sql::impl_shared_sql!(SqliteStore);
