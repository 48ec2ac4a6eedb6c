//! The PostgreSQL store: the production backend, and the one to use with
//! several replicas.

use std::sync::Arc;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool, Postgres};

use chrono::{DateTime, Utc};

use super::intake_batch::{AccountReader, TicketWriter};
use super::reach::{Circuit, HEALTH_PING_TIMEOUT};
use super::sql::backend::SqlBackend;
use super::sql::event_log::{watch_snapshot, watch_snapshot_query};
use super::sql::rows::{
    EventRow, LoggedEventRow, TicketRow, bind_event_insert, bind_ticket_insert, event_columns,
};
use super::sql::ticket_insert::insert_ticket_sql;
use super::{LogPosition, PoolConfig, WatchSnapshot};
use crate::domain::ticket::Account;
use crate::domain::watch::WatchFilter;
use crate::error::{Error, Result};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Pooled connections idle for longer than this, or idle since before the
/// database was last found unreachable, are pinged before use. One that
/// died otherwise fails its next statement with UNAVAILABLE (which clients
/// retry) and is then discarded.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// Fails calls at once while the database is known unreachable, and
    /// holds the health check's connection.
    circuit: Arc<Circuit<PgConnection>>,
    /// Writes received tickets in groups; `None` in the writers' own copy.
    writer: Option<TicketWriter>,
    /// Reads accounts in groups; `None` in the readers' own copy.
    reader: Option<AccountReader>,
}

impl PgStore {
    /// Connects, creating the database when it does not exist yet, and
    /// applies pending migrations.
    pub async fn connect(url: &str, config: &PoolConfig) -> anyhow::Result<Self> {
        let options: PgConnectOptions = url.parse()?;
        ensure_database_exists(&options).await?;
        let circuit = Circuit::start(options.clone());
        let circuit_for_pool = circuit.clone();
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(config.acquire_timeout)
            // sqlx would ping every connection it hands out: a round trip
            // per checkout, on the caller's latency. Under load a connection
            // goes out again within milliseconds of answering its last query,
            // so only one that has sat idle for a while, and may have been
            // cut meanwhile (a database restart, an idle timeout), is pinged.
            .test_before_acquire(false)
            .before_acquire(move |conn, meta| {
                let across_outage = circuit_for_pool.idle_across_outage(meta.idle_for);
                Box::pin(async move {
                    if meta.idle_for >= PING_IF_IDLE_FOR || across_outage {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        let mut store = Self {
            pool,
            circuit,
            writer: None,
            reader: None,
        };
        store.writer = Some(TicketWriter::start(store.clone(), config.batch));
        store.reader = Some(AccountReader::start(store.clone(), config.batch));
        Ok(store)
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Inserts a ticket and its events in one statement, so in one round
    /// trip and one implicit transaction: atomic without BEGIN and COMMIT
    /// (see `sql::ticket_insert`).
    /// Returns the ticket's number, or `None` (and writes nothing) when the
    /// account already has a ticket with this request id or is no longer on
    /// the ticket's plan.
    pub(super) async fn write_ticket(
        conn: &mut PgConnection,
        ticket: &TicketRow,
        events: &[EventRow],
    ) -> Result<Option<i64>> {
        let sql = insert_ticket_sql(events.len());
        let mut query = bind_ticket_insert!(sqlx::query_scalar::<_, i64>(&sql), ticket);
        for event in events {
            query = bind_event_insert!(query, event);
        }
        Ok(query.fetch_optional(conn).await?)
    }
}

/// Creates the target database when the server answers that it is missing,
/// so a first `ticketd serve` needs no manual `createdb`.
async fn ensure_database_exists(options: &PgConnectOptions) -> anyhow::Result<()> {
    match sqlx::PgConnection::connect_with(options).await {
        Ok(conn) => {
            conn.close().await?;
            Ok(())
        }
        Err(sqlx::Error::Database(err)) if err.code().as_deref() == Some("3D000") => {
            let name = options
                .get_database()
                .ok_or_else(|| anyhow::anyhow!("DATABASE_URL names no database"))?
                .to_owned();
            let mut admin =
                sqlx::PgConnection::connect_with(&options.clone().database("postgres")).await?;
            let quoted = format!("\"{}\"", name.replace('"', "\"\""));
            sqlx::query(&format!("CREATE DATABASE {quoted}"))
                .execute(&mut admin)
                .await?;
            tracing::info!(database = %name, "created database");
            Ok(())
        }
        Err(err) => Err(err.into()),
    }
}

/// The oldest transaction id, as of snapshot `$1`, that may still write
/// events: the oldest one the snapshot saw running, leaving out those that
/// are known to run in another database (transaction ids are cluster-wide,
/// and a long transaction elsewhere must not stall this log). Run after the
/// snapshot was taken, so a transaction it saw running is either seen in
/// pg_stat_activity or has finished. Unknowns count, which can only hold
/// the horizon back, never move it past a writer. With none running, the
/// next id to be assigned.
const HORIZON_OF_SNAPSHOT: &str = "\
    SELECT COALESCE(
        (SELECT min(x::text::bigint) FROM pg_snapshot_xip($1::pg_snapshot) AS x
         WHERE (x::text::bigint % 4294967296)::text::xid NOT IN (
             SELECT backend_xid FROM pg_stat_activity
             WHERE backend_xid IS NOT NULL
               AND datid IS DISTINCT FROM
                   (SELECT oid FROM pg_database WHERE datname = current_database()))),
        pg_snapshot_xmax($1::pg_snapshot)::text::bigint)";

/// The log head as of the snapshot `conn` reads in (in a transaction, the
/// transaction's): the horizon of `HORIZON_OF_SNAPSHOT`, before any event.
async fn horizon(conn: &mut PgConnection) -> Result<LogPosition> {
    let snapshot: String = sqlx::query_scalar("SELECT pg_current_snapshot()::text")
        .fetch_one(&mut *conn)
        .await?;
    let horizon: i64 = sqlx::query_scalar(HORIZON_OF_SNAPSHOT)
        .bind(snapshot)
        .fetch_one(conn)
        .await?;
    Ok(LogPosition {
        txid: horizon,
        id: 0,
    })
}

/// PostgreSQL's hooks. In the event log, positions are (writing
/// transaction id, event id), and only events of transactions older than
/// every one that may still be writing are read, so an event that commits
/// late cannot be passed over.
impl SqlBackend for PgStore {
    type Db = Postgres;

    /// An account, through the group reader (the first statement of every
    /// CreateTicket).
    async fn read_account(&self, id: &str) -> Result<Account> {
        let reader = self.reader.as_ref().ok_or_else(|| {
            Error::Internal("an account reader's store cannot read accounts".into())
        })?;
        reader
            .read(id)
            .await?
            .ok_or_else(|| super::account_not_found(id))?
            .try_into()
    }

    /// Writes a received ticket through the group writer: its number, or
    /// `None` when its request id is taken.
    async fn write_received(&self, row: TicketRow, events: Vec<EventRow>) -> Result<Option<i64>> {
        let writer = self.writer.as_ref().ok_or_else(|| {
            Error::Internal("a ticket writer's store cannot write tickets".into())
        })?;
        writer.write(row, events).await
    }

    /// A pooled connection, or UNAVAILABLE at once while the database is
    /// known unreachable (and as soon as a probe finds it so, for a call
    /// already waiting). Waiting for a connection is safe to cut short:
    /// nothing was sent yet.
    async fn acquire(&self) -> Result<PoolConnection<Postgres>> {
        self.circuit.guard(self.pool.acquire()).await
    }

    /// The health check: over its own connection, so a busy pool cannot
    /// make a reachable database look down.
    async fn ping_database(&self) -> Result<()> {
        self.circuit.ping(HEALTH_PING_TIMEOUT).await
    }

    async fn log_head(&self) -> Result<LogPosition> {
        horizon(&mut *self.acquire().await?).await
    }

    async fn log_rows(
        &self,
        after: LogPosition,
        upto: LogPosition,
        limit: i64,
    ) -> Result<Vec<LoggedEventRow>> {
        let query = sqlx::query_as(concat!(
            "SELECT txid, ",
            event_columns!(),
            " FROM ticket_events WHERE (txid, id) > ($1, $2) AND (txid, id) <= ($3, $4) \
             ORDER BY txid, id LIMIT $5"
        ))
        .bind(after.txid)
        .bind(after.id)
        .bind(upto.txid)
        .bind(upto.id)
        .bind(limit);
        self.fetch_all_rows(query).await
    }

    /// Reads the tickets and the log position in one REPEATABLE READ
    /// transaction. Every event below the snapshot's horizon is in the
    /// tickets; events above it that the snapshot already sees are listed so
    /// the stream does not apply them twice.
    async fn snapshot(
        &self,
        filter: &WatchFilter,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<WatchSnapshot> {
        let mut tx = super::begin(self.acquire().await?).await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let position = horizon(&mut tx).await?;
        let rows = watch_snapshot_query::<Postgres>(filter, now, limit)
            .build_query_as::<TicketRow>()
            .fetch_all(&mut *tx)
            .await?;
        let already_applied = sqlx::query_as::<_, (i64, i64)>(
            "SELECT txid, id FROM ticket_events WHERE txid >= $1 ORDER BY txid, id",
        )
        .bind(position.txid)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|(txid, id)| LogPosition { txid, id })
        .collect();
        tx.commit().await?;
        watch_snapshot(rows, position, already_applied)
    }
}

super::sql::impl_shared_sql!(PgStore);

#[cfg(test)]
mod tests {
    use super::*;

    /// The text between parameters, where the statement's shape is.
    fn fixed_parts(sql: &str) -> Vec<&str> {
        sql.split('$')
            .map(|part| part.trim_start_matches(|c: char| c.is_ascii_digit()))
            .filter(|part| part.len() > 2)
            .collect()
    }

    #[test]
    fn the_pgbench_script_runs_the_statements_create_ticket_runs() {
        // The script writes literals where ticketd binds parameters; all
        // the rest must be the same text.
        let script = include_str!("../../bench/create_ticket.pgbench");
        let insert = insert_ticket_sql(1);
        for part in fixed_parts(&insert) {
            assert!(
                script.contains(part),
                "bench/create_ticket.pgbench lacks {part:?} of what ticketd runs"
            );
        }
        assert_eq!(
            script.matches("INSERT").count(),
            2,
            "one statement: the ticket and its event"
        );
        assert!(
            insert.contains("(VALUES (0, $36, $37, $38, $39, $40, $41, $42, $43, $44, $45, $46))")
        );
    }
}
