//! The PostgreSQL store: the production backend.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{PgPool, Postgres, QueryBuilder, Row};

use super::{Inserted, Store, TicketFilter, TicketKey};
use crate::domain::policy::{Channel, Plan, Priority, Region};
use crate::domain::priority::{Impact, ImpactScope, PriorityDecision, RequestKind, Workaround};
use crate::domain::ticket::{Account, AccountUpdate, Origin, Ticket, TicketStatus};
use crate::error::{Error, Result};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

// Column lists as macros so queries are `concat!`ed into static strings:
// no formatting on the request path, and sqlx caches one prepared statement each.
macro_rules! ticket_columns {
    () => {
        "id, number, account_id, plan, channel, contact_email, contact_name, \
    chat_session_id, transcript_uri, first_message, call_id, caller_number, dialed_number, region, \
    subject, description, request_kind, impact_scope, workaround, priority, priority_rule_id, \
    priority_rule_description, status, received_at, response_target_seconds, response_due_at, \
    policy_version, request_id"
    };
}

macro_rules! account_columns {
    () => {
        "id, display_name, plan, create_time, update_time"
    };
}

/// Pool settings chosen by the operator.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    pub max_connections: u32,
    /// Kept below RPC deadlines so a starved pool answers UNAVAILABLE instead
    /// of letting the client time out.
    pub acquire_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects, creating the database when it does not exist yet, and
    /// applies pending migrations.
    pub async fn connect(url: &str, config: &PoolConfig) -> anyhow::Result<Self> {
        let options: PgConnectOptions = url.parse()?;
        ensure_database_exists(&options).await?;
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(config.acquire_timeout)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }

    /// Wraps an existing pool (tests and tools); runs migrations.
    pub async fn from_pool(pool: PgPool) -> anyhow::Result<Self> {
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Creates the target database when the server answers that it is missing,
/// so a newcomer's first `ticketd serve` needs no manual `createdb`.
async fn ensure_database_exists(options: &PgConnectOptions) -> anyhow::Result<()> {
    use sqlx::Connection;
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

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn create_account(&self, account: &Account) -> Result<Account> {
        let result = sqlx::query(concat!(
            "INSERT INTO accounts (",
            account_columns!(),
            ") VALUES ($1, $2, $3, $4, $5) RETURNING ",
            account_columns!()
        ))
        .bind(&account.id)
        .bind(&account.display_name)
        .bind(account.plan.as_str())
        .bind(account.create_time)
        .bind(account.update_time)
        .fetch_one(&self.pool)
        .await;
        match result {
            Ok(row) => account_from_row(&row),
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                Err(Error::AlreadyExists {
                    resource: "account",
                    name: format!("accounts/{}", account.id),
                })
            }
            Err(err) => Err(err.into()),
        }
    }

    async fn get_account(&self, id: &str) -> Result<Account> {
        let row = sqlx::query(concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(account_from_row)
            .unwrap_or_else(|| Err(account_not_found(id)))
    }

    async fn update_account(
        &self,
        id: &str,
        update: &AccountUpdate,
        now: DateTime<Utc>,
    ) -> Result<Account> {
        let row = sqlx::query(concat!(
            "UPDATE accounts SET display_name = COALESCE($2, display_name), \
             plan = COALESCE($3, plan), update_time = $4 WHERE id = $1 RETURNING ",
            account_columns!()
        ))
        .bind(id)
        .bind(update.display_name.as_deref())
        .bind(update.plan.map(Plan::as_str))
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(account_from_row)
            .unwrap_or_else(|| Err(account_not_found(id)))
    }

    async fn list_accounts(&self, after_id: Option<&str>, limit: i64) -> Result<Vec<Account>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts WHERE $1::text IS NULL OR id > $1 ORDER BY id LIMIT $2"
        ))
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(account_from_row).collect()
    }

    async fn insert_ticket(&self, ticket: &Ticket) -> Result<Inserted> {
        let (contact_email, contact_name) = match &ticket.origin {
            Origin::WebForm {
                contact_email,
                contact_name,
            } => (Some(contact_email), contact_name.as_ref()),
            _ => (None, None),
        };
        let (chat_session_id, transcript_uri, first_message) = match &ticket.origin {
            Origin::Chat {
                session_id,
                transcript_uri,
                first_message,
            } => (
                Some(session_id),
                transcript_uri.as_ref(),
                first_message.as_ref(),
            ),
            _ => (None, None, None),
        };
        let (call_id, caller_number, dialed_number, region) = match &ticket.origin {
            Origin::Phone {
                call_id,
                caller_number,
                dialed_number,
                region,
            } => (
                Some(call_id),
                Some(caller_number),
                Some(dialed_number),
                Some(region.as_str()),
            ),
            _ => (None, None, None, None),
        };
        // One statement, so the write is atomic without an explicit
        // transaction; ON CONFLICT makes concurrent retries with one request
        // id produce one row.
        let inserted = sqlx::query(
            "INSERT INTO tickets (id, account_id, plan, channel, contact_email, contact_name, \
             chat_session_id, transcript_uri, first_message, call_id, caller_number, dialed_number, \
             region, subject, description, request_kind, impact_scope, workaround, priority, \
             priority_rule_id, priority_rule_description, status, received_at, \
             response_target_seconds, response_due_at, policy_version, request_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             $18, $19, $20, $21, $22, $23, $24, $25, $26, $27) \
             ON CONFLICT (request_id) DO NOTHING RETURNING number",
        )
        .bind(ticket.id)
        .bind(&ticket.account_id)
        .bind(ticket.plan.as_str())
        .bind(ticket.channel().as_str())
        .bind(contact_email)
        .bind(contact_name)
        .bind(chat_session_id)
        .bind(transcript_uri)
        .bind(first_message)
        .bind(call_id)
        .bind(caller_number)
        .bind(dialed_number)
        .bind(region)
        .bind(&ticket.subject)
        .bind(&ticket.description)
        .bind(ticket.impact.kind().as_str())
        .bind(ticket.impact.scope().map(ImpactScope::as_str))
        .bind(ticket.impact.workaround().map(Workaround::as_str))
        .bind(ticket.decision.priority.as_str())
        .bind(&ticket.decision.rule_id)
        .bind(&ticket.decision.rule_description)
        .bind(ticket.status.as_str())
        .bind(ticket.received_at)
        .bind(ticket.response_target.num_seconds())
        .bind(ticket.response_due_at)
        .bind(&ticket.policy_version)
        .bind(ticket.request_id.as_deref())
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = inserted {
            let mut stored = ticket.clone();
            stored.number = row.try_get("number")?;
            return Ok(Inserted::New(stored));
        }
        let request_id = ticket.request_id.as_deref().ok_or_else(|| {
            Error::Internal("ticket insert conflicted without a request id".into())
        })?;
        self.find_ticket_by_request_id(request_id)
            .await?
            .map(Inserted::Existing)
            .ok_or_else(|| Error::Internal("conflicting request id vanished".into()))
    }

    async fn find_ticket_by_request_id(&self, request_id: &str) -> Result<Option<Ticket>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            ticket_columns!(),
            " FROM tickets WHERE request_id = $1"
        ))
        .bind(request_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(ticket_from_row).transpose()
    }

    async fn get_ticket(&self, key: TicketKey) -> Result<Ticket> {
        let query = match key {
            TicketKey::Id(id) => sqlx::query(concat!(
                "SELECT ",
                ticket_columns!(),
                " FROM tickets WHERE id = $1"
            ))
            .bind(id),
            TicketKey::Number(number) => sqlx::query(concat!(
                "SELECT ",
                ticket_columns!(),
                " FROM tickets WHERE number = $1"
            ))
            .bind(number),
        };
        let row = query.fetch_optional(&self.pool).await?;
        match row {
            Some(row) => ticket_from_row(&row),
            None => Err(Error::NotFound {
                resource: "ticket",
                name: match key {
                    TicketKey::Id(id) => format!("tickets/{id}"),
                    TicketKey::Number(number) => format!("tickets/{number}"),
                },
            }),
        }
    }

    async fn list_tickets(
        &self,
        filter: &TicketFilter,
        before_number: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Ticket>> {
        // Built per filter combination (rather than `$1 IS NULL OR ...`) so
        // each shape gets its own prepared statement and a plan that can use
        // the matching index.
        let mut query: QueryBuilder<Postgres> = QueryBuilder::new(concat!(
            "SELECT ",
            ticket_columns!(),
            " FROM tickets WHERE TRUE"
        ));
        if let Some(account_id) = &filter.account_id {
            query.push(" AND account_id = ").push_bind(account_id);
        }
        if let Some(channel) = filter.channel {
            query.push(" AND channel = ").push_bind(channel.as_str());
        }
        if let Some(priority) = filter.priority {
            query.push(" AND priority = ").push_bind(priority.as_str());
        }
        if let Some(status) = filter.status {
            query.push(" AND status = ").push_bind(status.as_str());
        }
        if let Some(before) = before_number {
            query.push(" AND number < ").push_bind(before);
        }
        query.push(" ORDER BY number DESC LIMIT ").push_bind(limit);
        let rows = query.build().fetch_all(&self.pool).await?;
        rows.iter().map(ticket_from_row).collect()
    }
}

fn account_not_found(id: &str) -> Error {
    Error::NotFound {
        resource: "account",
        name: format!("accounts/{id}"),
    }
}

/// Reads a stored enumeration; a value the domain does not know means the
/// database was written by something else, which is an internal error.
fn parse_column<T>(row: &PgRow, column: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    let text: String = row.try_get(column)?;
    parse(&text).ok_or_else(|| Error::Internal(format!("unexpected {column} value {text:?}")))
}

fn parse_optional_column<T>(
    row: &PgRow,
    column: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|text| {
        parse(&text).ok_or_else(|| Error::Internal(format!("unexpected {column} value {text:?}")))
    })
    .transpose()
}

fn account_from_row(row: &PgRow) -> Result<Account> {
    Ok(Account {
        id: row.try_get("id")?,
        display_name: row.try_get("display_name")?,
        plan: parse_column(row, "plan", Plan::parse)?,
        create_time: row.try_get("create_time")?,
        update_time: row.try_get("update_time")?,
    })
}

fn ticket_from_row(row: &PgRow) -> Result<Ticket> {
    let channel = parse_column(row, "channel", Channel::parse)?;
    let required = |column: &str| -> Result<String> {
        let value: Option<String> = row.try_get(column)?;
        value.ok_or_else(|| Error::Internal(format!("{column} missing on a {channel} ticket")))
    };
    let origin = match channel {
        Channel::WebForm => Origin::WebForm {
            contact_email: required("contact_email")?,
            contact_name: row.try_get("contact_name")?,
        },
        Channel::Chat => Origin::Chat {
            session_id: required("chat_session_id")?,
            transcript_uri: row.try_get("transcript_uri")?,
            first_message: row.try_get("first_message")?,
        },
        Channel::Phone => Origin::Phone {
            call_id: required("call_id")?,
            caller_number: required("caller_number")?,
            dialed_number: required("dialed_number")?,
            region: parse_column(row, "region", Region::parse)?,
        },
    };
    let impact = Impact::new(
        parse_column(row, "request_kind", RequestKind::parse)?,
        parse_optional_column(row, "impact_scope", ImpactScope::parse)?,
        parse_optional_column(row, "workaround", Workaround::parse)?,
    )
    .map_err(|missing| Error::Internal(format!("stored impact incomplete: {missing:?}")))?;
    Ok(Ticket {
        id: row.try_get("id")?,
        number: row.try_get("number")?,
        account_id: row.try_get("account_id")?,
        plan: parse_column(row, "plan", Plan::parse)?,
        origin,
        subject: row.try_get("subject")?,
        description: row.try_get("description")?,
        impact,
        decision: PriorityDecision {
            priority: parse_column(row, "priority", Priority::parse)?,
            rule_id: row.try_get("priority_rule_id")?,
            rule_description: row.try_get("priority_rule_description")?,
        },
        status: parse_column(row, "status", TicketStatus::parse)?,
        received_at: row.try_get("received_at")?,
        response_target: chrono::Duration::seconds(row.try_get("response_target_seconds")?),
        response_due_at: row.try_get("response_due_at")?,
        policy_version: row.try_get("policy_version")?,
        request_id: row.try_get("request_id")?,
    })
}
