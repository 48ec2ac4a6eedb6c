//! The PostgreSQL store: the production backend, and the one to use with
//! several replicas.

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::PoolConfig;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

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

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Creates the target database when the server answers that it is missing,
/// so a first `ticketd serve` needs no manual `createdb`.
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

super::sql::impl_store_with_shared_sql!(PgStore, sqlx::Postgres);
