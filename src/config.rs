//! Server configuration from flags and environment. Secrets (the database
//! password) are never printed: use [`Config::database_for_logs`].

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, ValueEnum};

/// The embedded store, in the working directory.
pub const DEFAULT_DATABASE: &str = "sqlite://ticketd.db";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per event, for log shippers.
    Json,
}

#[derive(Clone, Args)]
pub struct Config {
    /// Address to serve gRPC, gRPC-Web, health and reflection on.
    #[arg(long, env = "TICKETD_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,

    /// Where tickets are stored: `sqlite://PATH` (embedded, the default) or
    /// `postgres://user@host:port/db` (production, several replicas). The
    /// database is created if it does not exist; migrations run at start.
    #[arg(
        long = "database",
        visible_alias = "database-url",
        env = "DATABASE_URL",
        default_value = DEFAULT_DATABASE,
        // `--help` would otherwise print the URL, password included.
        hide_env_values = true
    )]
    pub database_url: String,

    /// Database connections in the pool. Default: 2 × CPU cores + 2 on
    /// PostgreSQL, 1 on SQLite.
    #[arg(long, env = "TICKETD_DB_POOL_SIZE")]
    pub db_pool_size: Option<u32>,

    /// How long a request waits for a pooled connection before failing with
    /// UNAVAILABLE, in milliseconds. Keep it below client deadlines.
    #[arg(long, env = "TICKETD_DB_ACQUIRE_TIMEOUT_MS", default_value_t = 2_000)]
    pub db_acquire_timeout_ms: u64,

    /// Log format.
    #[arg(long, env = "TICKETD_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// On SIGINT/SIGTERM, how long in-flight requests may finish before the
    /// process exits anyway, in seconds.
    #[arg(long, env = "TICKETD_DRAIN_TIMEOUT_SECS", default_value_t = 10)]
    pub drain_timeout_secs: u64,

    /// On SIGINT/SIGTERM, how long to keep serving while health reports
    /// NOT_SERVING, so load balancers stop sending traffic before the
    /// listener closes, in milliseconds. Set it above the probe interval.
    #[arg(long, env = "TICKETD_SHUTDOWN_GRACE_MS", default_value_t = 0)]
    pub shutdown_grace_ms: u64,

    /// How often the health check pings the database, in milliseconds.
    #[arg(long, env = "TICKETD_HEALTH_INTERVAL_MS", default_value_t = 2_000)]
    pub health_interval_ms: u64,

    /// Browser origins allowed to call over gRPC-Web (CORS), comma-separated,
    /// e.g. `https://support.example.com`. Empty: no cross-origin calls.
    #[arg(long, env = "TICKETD_CORS_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub cors_allowed_origins: Vec<String>,

    /// Serve gRPC server reflection (v1 and v1alpha).
    #[arg(long, env = "TICKETD_REFLECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub reflection: bool,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("database", &self.database_for_logs())
            .field("db_pool_size", &self.pool_size())
            .field("db_acquire_timeout_ms", &self.db_acquire_timeout_ms)
            .field("log_format", &self.log_format)
            .field("drain_timeout_secs", &self.drain_timeout_secs)
            .field("shutdown_grace_ms", &self.shutdown_grace_ms)
            .field("health_interval_ms", &self.health_interval_ms)
            .field("cors_allowed_origins", &self.cors_allowed_origins)
            .field("reflection", &self.reflection)
            .finish()
    }
}

impl Config {
    /// Defaults for everything but the database; used by tests and tools.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: database_url.into(),
            db_pool_size: None,
            db_acquire_timeout_ms: 2_000,
            log_format: LogFormat::Text,
            drain_timeout_secs: 10,
            shutdown_grace_ms: 0,
            health_interval_ms: 2_000,
            cors_allowed_origins: Vec::new(),
            reflection: true,
        }
    }

    /// The pool size asked for, else 1 on SQLite (it has one writer anyway,
    /// and a single connection spares writers SQLite's busy-wait backoff:
    /// p99 CreateTicket fell from 106 ms to 10 ms at 8 clients, see
    /// BENCHMARKS.md) and 2 × cores + 2 on PostgreSQL.
    pub fn pool_size(&self) -> u32 {
        self.db_pool_size.unwrap_or_else(|| {
            if self.database_url.starts_with("sqlite:") {
                return 1;
            }
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            u32::try_from(cores * 2 + 2).unwrap_or(8)
        })
    }

    pub fn drain_timeout(&self) -> Duration {
        Duration::from_secs(self.drain_timeout_secs)
    }

    /// `postgres host:port/database` without user or password, or `sqlite PATH`.
    pub fn database_for_logs(&self) -> String {
        if let Some(path) = self.database_url.strip_prefix("sqlite:") {
            let path = path.trim_start_matches("//");
            let path = path.split('?').next().unwrap_or(path);
            return format!("sqlite {path}");
        }
        match self
            .database_url
            .parse::<sqlx::postgres::PgConnectOptions>()
        {
            Ok(options) => format!(
                "postgres {}:{}/{}",
                options.get_host(),
                options.get_port(),
                options.get_database().unwrap_or("")
            ),
            Err(_) => "<unparseable DATABASE_URL>".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_contains_the_database_password() {
        let config = Config::for_database("postgres://app:s3cret@db.internal:5433/tickets");
        let printed = format!("{config:?}");
        assert!(!printed.contains("s3cret"), "{printed}");
        assert!(printed.contains("db.internal:5433/tickets"), "{printed}");
    }

    #[test]
    fn sqlite_locations_are_logged_as_paths() {
        let config = Config::for_database("sqlite://data/ticketd.db?mode=rwc");
        assert_eq!(config.database_for_logs(), "sqlite data/ticketd.db");
    }
}
