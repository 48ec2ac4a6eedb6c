//! Server configuration from flags and environment. Secrets are never
//! printed: the database URL and the TLS key path are held in types whose
//! `Debug` hides them ([`DatabaseUrl`], [`TlsKeyPath`]), so `Config`'s own
//! `Debug` is derived.
//!
//! Adding a flag is one edit: its field in [`Config`], with `env` and its
//! default. [`Config::for_database`] and `Debug` follow on their own.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, ValueEnum};

/// The embedded store, in the working directory.
pub const DEFAULT_DATABASE: &str = "sqlite://ticketd.db";

/// 256 KiB; see [`Config::max_message_bytes`].
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per event, for log shippers.
    Json,
}

#[derive(Debug, Clone, Args)]
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
    pub database_url: DatabaseUrl,

    /// Database connections in the pool. Default: 2 × CPU cores + 2 on
    /// PostgreSQL, 1 on SQLite.
    #[arg(long, env = "TICKETD_DB_POOL_SIZE")]
    pub db_pool_size: Option<u32>,

    /// How long a request waits for a pooled connection before failing with
    /// UNAVAILABLE, in milliseconds. Keep it below client deadlines.
    #[arg(long, env = "TICKETD_DB_ACQUIRE_TIMEOUT_MS", default_value_t = 2_000)]
    pub db_acquire_timeout_ms: u64,

    /// On PostgreSQL, most CreateTicket writes grouped into one statement
    /// and commit when calls arrive faster than they are written; 1 writes
    /// each on its own. A lone call is never held back to wait for others.
    /// Each group size is its own prepared statement on every pooled
    /// connection; groups of up to 32 shed calls at 1,745 calls/s where 8
    /// did not (BENCHMARKS.md).
    #[arg(long, env = "TICKETD_INTAKE_BATCH_MAX", default_value_t = 8)]
    pub intake_batch_max: usize,

    /// On PostgreSQL, groups of CreateTicket reads and writes in flight at
    /// once, each on a pooled connection. Default: 1 (one group at a time
    /// makes the largest groups); with grouping off, the pool size.
    #[arg(long, env = "TICKETD_INTAKE_WRITERS")]
    pub intake_writers: Option<usize>,

    /// Accounts whose plans CreateTicket keeps in memory, so a ticket
    /// usually costs one statement instead of two; 0 reads the account on
    /// every call. A stale plan is caught when the ticket is written.
    #[arg(long, env = "TICKETD_ACCOUNT_CACHE_SIZE", default_value_t = 10_000)]
    pub account_cache_size: usize,

    /// How often this server reads which policy version is active, in
    /// milliseconds: a newly activated version is used by every replica
    /// within this (plus one read) of its activation.
    #[arg(long, env = "TICKETD_POLICY_REFRESH_MS", default_value_t = 1_000)]
    pub policy_refresh_ms: u64,

    /// Threads that serve calls. Default: one per core. On a machine it
    /// shares with PostgreSQL, fewer leave the database room: on two cores,
    /// one thread takes more tickets per second than two (BENCHMARKS.md).
    #[arg(long, env = "TICKETD_WORKER_THREADS", value_parser = clap::value_parser!(u16).range(1..))]
    pub worker_threads: Option<u16>,

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

    /// Let reflection be called without a credential (it describes the
    /// contract, which is no secret inside one company; off by default).
    #[arg(long, env = "TICKETD_REFLECTION_OPEN", default_value_t = false, action = clap::ArgAction::Set)]
    pub reflection_open: bool,

    /// How long a looked-up credential is trusted before the database is
    /// asked again, in milliseconds: a revocation applies within this time.
    #[arg(long, env = "TICKETD_AUTH_CACHE_MS", default_value_t = 5_000)]
    pub auth_cache_ms: u64,

    /// While the database cannot be reached, how long a credential the
    /// server has already verified keeps being accepted, in milliseconds,
    /// counted from when the database last confirmed it; 0 refuses calls
    /// (UNAVAILABLE) as soon as the cache time has passed. Revocations made
    /// meanwhile cannot apply until the database answers again.
    #[arg(
        long,
        env = "TICKETD_AUTH_STALE_IF_ERROR_MS",
        default_value_t = 300_000
    )]
    pub auth_stale_if_error_ms: u64,

    /// How often credentials' last-use times are written, in milliseconds.
    #[arg(long, env = "TICKETD_CREDENTIAL_USE_FLUSH_MS", default_value_t = 5_000)]
    pub credential_use_flush_ms: u64,

    /// Calls per second one credential may make (sustained); 0 for no limit.
    /// Calls beyond it get RESOURCE_EXHAUSTED with `retry-after` metadata.
    #[arg(long, env = "TICKETD_RATE_LIMIT_RPS", default_value_t = 1_000)]
    pub rate_limit_rps: u32,

    /// Calls one credential may make at once above its sustained rate.
    #[arg(long, env = "TICKETD_RATE_LIMIT_BURST", default_value_t = 2_000)]
    pub rate_limit_burst: u32,

    /// Calls (other than health checks) the server works on at once; more
    /// are refused at once with UNAVAILABLE (reason OVERLOADED) instead of
    /// queueing without bound.
    #[arg(long, env = "TICKETD_MAX_IN_FLIGHT", default_value_t = 512)]
    pub max_in_flight: usize,

    /// Calls (other than health checks) one credential may have in flight at
    /// once, so one caller's flood cannot take every slot of
    /// --max-in-flight; more are refused at once with RESOURCE_EXHAUSTED
    /// (reason CREDENTIAL_IN_FLIGHT_LIMIT). Default: a quarter of
    /// --max-in-flight.
    #[arg(long, env = "TICKETD_MAX_IN_FLIGHT_PER_CREDENTIAL", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_in_flight_per_credential: Option<u32>,

    /// Longest a call may take to be answered (a unary call's response, a
    /// stream's first headers), in milliseconds; a shorter `grpc-timeout`
    /// from the client wins. Past it the call gets DEADLINE_EXCEEDED.
    #[arg(long, env = "TICKETD_REQUEST_TIMEOUT_MS", default_value_t = 30_000)]
    pub request_timeout_ms: u64,

    /// PEM certificate chain to serve TLS with (needs --tls-key). Without
    /// it the server speaks plaintext, for use behind a TLS-terminating proxy.
    #[arg(long, env = "TICKETD_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,

    /// PEM private key for --tls-cert.
    #[arg(long, env = "TICKETD_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<TlsKeyPath>,

    /// PEM CA certificate(s): when set, clients must present a certificate
    /// signed by one of them (mutual TLS), on top of their bearer token.
    #[arg(long, env = "TICKETD_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<std::path::PathBuf>,

    /// How often SLA watch streams read the event log for changes other
    /// replicas wrote, in milliseconds; this replica's own writes are read at
    /// once. Bounds cross-replica delivery delay.
    #[arg(long, env = "TICKETD_WATCH_POLL_MS", default_value_t = 250)]
    pub watch_poll_ms: u64,

    /// How often each SLA watch stream gets a heartbeat, in milliseconds.
    #[arg(long, env = "TICKETD_WATCH_HEARTBEAT_MS", default_value_t = 10_000)]
    pub watch_heartbeat_ms: u64,

    /// Updates one watch stream may have queued. A stream whose client lets
    /// the buffer fill reads the log at the client's own pace until it has
    /// caught up; memory stays bounded and other streams are not held up.
    #[arg(long, env = "TICKETD_WATCH_BUFFER", default_value_t = 256)]
    pub watch_buffer: usize,

    /// Bytes of updates one watch stream may have queued, counted as the
    /// server holds them; with --watch-buffer it bounds what a client that
    /// stops reading costs. The server's watch memory is at most about
    /// --max-watch-streams × (this + 16 KiB of HTTP/2 framing).
    #[arg(long, env = "TICKETD_WATCH_BUFFER_BYTES", default_value_t = 64 * 1024)]
    pub watch_buffer_bytes: usize,

    /// Watch snapshots and catch-up reads that may use database connections
    /// at once; the rest wait their turn, so a burst of watch opens leaves
    /// intake its connections. Default: a third of the pool, at least 1.
    #[arg(long, env = "TICKETD_WATCH_READ_CONCURRENCY")]
    pub watch_read_concurrency: Option<usize>,

    /// How long a watch stream's full buffer may stay full before the stream
    /// is ended with RESOURCE_EXHAUSTED (resume from the cursor), in ms.
    #[arg(long, env = "TICKETD_WATCH_SLOW_CONSUMER_MS", default_value_t = 15_000)]
    pub watch_slow_consumer_ms: u64,

    /// Most SLA watch streams this server holds open at once.
    #[arg(long, env = "TICKETD_MAX_WATCH_STREAMS", default_value_t = 20_000)]
    pub max_watch_streams: usize,

    /// Most open tickets one watch snapshot sends; a wider watch is refused
    /// with FAILED_PRECONDITION SNAPSHOT_TOO_LARGE.
    #[arg(long, env = "TICKETD_WATCH_SNAPSHOT_LIMIT", default_value_t = 10_000)]
    pub watch_snapshot_limit: usize,

    /// Largest request message the server decodes, in bytes; a larger one is
    /// refused with OUT_OF_RANGE before it is read. The default fits the
    /// largest valid request (a chat ticket whose 20,000-character
    /// description and first message are all 4-byte characters, ~170 KB).
    #[arg(long, env = "TICKETD_MAX_MESSAGE_BYTES", default_value_t = DEFAULT_MAX_MESSAGE_BYTES)]
    pub max_message_bytes: usize,

    /// Client connections held open at once; more are closed as soon as
    /// they are accepted. Default: the process's open-file limit less room
    /// for the database pool and files (4,096 if the limit cannot be read),
    /// so the server never runs out of descriptors.
    #[arg(long, env = "TICKETD_MAX_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: Option<u32>,

    /// Client connections held open at once from one IP address; more from
    /// it are closed as soon as they are accepted. Default: an eighth of
    /// --max-connections, at least 16.
    #[arg(long, env = "TICKETD_MAX_CONNECTIONS_PER_PEER", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections_per_peer: Option<u32>,

    /// How long a new connection may take to send its first bytes (the
    /// HTTP/2 preface, a TLS ClientHello or an HTTP/1.1 request line), in
    /// milliseconds; a connection that has not is closed. With TLS, the whole
    /// TLS handshake must also finish within it.
    #[arg(long, env = "TICKETD_HANDSHAKE_TIMEOUT_MS", default_value_t = 10_000)]
    pub handshake_timeout_ms: u64,

    /// Concurrent HTTP/2 streams (calls) per client connection.
    #[arg(
        long,
        env = "TICKETD_HTTP2_MAX_CONCURRENT_STREAMS",
        default_value_t = 1_000
    )]
    pub http2_max_concurrent_streams: u32,

    /// Interval of HTTP/2 keepalive pings to clients, in seconds; a client
    /// that does not answer within 20 s is disconnected, so dead watchers
    /// do not hold streams open.
    #[arg(long, env = "TICKETD_HTTP2_KEEPALIVE_SECS", default_value_t = 30)]
    pub http2_keepalive_secs: u64,
}

impl Config {
    /// Defaults for everything but the database; used by tests and tools.
    /// The server listens on 127.0.0.1 on a port the system picks (0), not
    /// on `--listen`'s default, so that tests can run side by side.
    ///
    /// Every other value is the flag's own default, read from the clap
    /// definitions above, so a new flag needs no edit here.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        static DEFAULTS: std::sync::OnceLock<Config> = std::sync::OnceLock::new();
        let mut config = DEFAULTS.get_or_init(Self::flag_defaults).clone();
        config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        config.database_url = DatabaseUrl::from(database_url.into());
        config
    }

    /// What an empty `serve` command line gives, whatever the environment.
    ///
    /// `Parser::try_parse_from` would also read the flags' variables
    /// (`env = …`) from this process's environment, so a `TICKETD_*` or
    /// `DATABASE_URL` left set in a developer's shell would change what
    /// tests run with. clap cannot be told to skip the environment for one
    /// parse, so the arguments are built as for `serve` and then each has
    /// its variable removed (`Arg::env(None)`) before parsing.
    fn flag_defaults() -> Config {
        use clap::FromArgMatches;
        let matches = Self::command_without_env()
            .try_get_matches_from(["ticketd"])
            .expect("every serve flag has a default or is optional");
        Config::from_arg_matches(&matches).expect("defaults parse into a Config")
    }

    /// The `serve` flags with no environment variables attached.
    fn command_without_env() -> clap::Command {
        Config::augment_args(clap::Command::new("ticketd"))
            .mut_args(|arg| arg.env(None::<&'static str>))
    }

    pub fn watch(&self) -> crate::watch::HubConfig {
        crate::watch::HubConfig {
            poll_interval: Duration::from_millis(self.watch_poll_ms.max(1)),
            heartbeat_interval: Duration::from_millis(self.watch_heartbeat_ms.max(1)),
            buffer: self.watch_buffer.max(1),
            slow_consumer_timeout: Duration::from_millis(self.watch_slow_consumer_ms),
            max_streams: self.max_watch_streams,
            snapshot_limit: self.watch_snapshot_limit,
            buffer_bytes: self.watch_buffer_bytes,
            read_concurrency: self.watch_read_concurrency(),
        }
    }

    pub fn watch_read_concurrency(&self) -> usize {
        self.watch_read_concurrency
            .unwrap_or_else(|| self.pool_size() as usize / 3)
            .max(1)
    }

    /// The TLS settings, read from the files named; `None` for plaintext.
    pub fn server_tls(&self) -> anyhow::Result<Option<tonic::transport::ServerTlsConfig>> {
        use anyhow::Context;
        use tonic::transport::{Certificate, Identity, ServerTlsConfig};
        let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) else {
            return Ok(None);
        };
        let read = |path: &std::path::Path, what: &str| {
            std::fs::read(path)
                .with_context(|| format!("reading the TLS {what} {}", path.display()))
        };
        let mut tls = ServerTlsConfig::new()
            .identity(Identity::from_pem(
                read(cert, "certificate")?,
                read(key, "key")?,
            ))
            // A client that sends its first bytes and then stalls would
            // otherwise hold its connection for as long as it likes.
            .timeout(Duration::from_millis(self.handshake_timeout_ms.max(1)));
        if let Some(ca) = &self.tls_client_ca {
            tls = tls.client_ca_root(Certificate::from_pem(read(ca, "client CA")?));
        }
        Ok(Some(tls))
    }

    pub fn auth(&self) -> crate::auth::AuthConfig {
        crate::auth::AuthConfig {
            cache_ttl: Duration::from_millis(self.auth_cache_ms),
            stale_if_error: Duration::from_millis(self.auth_stale_if_error_ms),
            use_flush_interval: Duration::from_millis(self.credential_use_flush_ms),
            rate_limit: (self.rate_limit_rps > 0).then(|| crate::auth::rate::RateLimit {
                per_second: f64::from(self.rate_limit_rps),
                burst: f64::from(self.rate_limit_burst.max(1)),
            }),
        }
    }

    /// How CreateTicket's reads and writes are grouped on PostgreSQL.
    pub fn policy_refresh(&self) -> Duration {
        Duration::from_millis(self.policy_refresh_ms.max(1))
    }

    pub fn intake_batch(&self) -> crate::store::BatchConfig {
        let max_tickets = self.intake_batch_max.max(1);
        let writers = self.intake_writers.unwrap_or(if max_tickets == 1 {
            // One ticket at a time needs as many in flight as the pool has.
            self.pool_size() as usize
        } else {
            1
        });
        crate::store::BatchConfig {
            max_tickets,
            writers: writers.max(1),
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

    /// The per-credential share of --max-in-flight.
    pub fn max_in_flight_per_credential(&self) -> usize {
        self.max_in_flight_per_credential
            .map_or(self.max_in_flight / 4, |n| n as usize)
            .clamp(1, self.max_in_flight.max(1))
    }

    /// Connections held at once, in total and per peer address, and how
    /// long a new one may take to start talking.
    pub fn connection_limits(&self) -> crate::net::ConnectionLimits {
        let total = self.max_connections.map_or_else(
            || {
                // Descriptors the server needs besides client connections:
                // the pool, the listener, SQLite's files, the runtime's own,
                // logs; generous, as running out refuses every new client.
                let reserve = u64::from(self.pool_size()) + 128;
                crate::net::open_file_limit()
                    .map_or(4_096, |limit| limit.saturating_sub(reserve).max(16))
                    .try_into()
                    .unwrap_or(usize::MAX)
            },
            |n| n as usize,
        );
        let per_peer = self
            .max_connections_per_peer
            .map_or((total / 8).max(16), |n| n as usize)
            .min(total);
        crate::net::ConnectionLimits {
            total,
            per_peer,
            handshake_timeout: Duration::from_millis(self.handshake_timeout_ms.max(1)),
        }
    }

    pub fn drain_timeout(&self) -> Duration {
        Duration::from_secs(self.drain_timeout_secs)
    }

    /// `postgres host:port/database` without user or password, or `sqlite PATH`.
    pub fn database_for_logs(&self) -> String {
        self.database_url.for_logs()
    }
}

/// A database URL, which may hold a password: `Debug` prints
/// [`DatabaseUrl::for_logs`]; the URL itself is the `str` it derefs to.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `postgres host:port/database` without user or password, or `sqlite PATH`.
    pub fn for_logs(&self) -> String {
        if let Some(path) = self.0.strip_prefix("sqlite:") {
            let path = path.trim_start_matches("//");
            let path = path.split('?').next().unwrap_or(path);
            return format!("sqlite {path}");
        }
        match self.0.parse::<sqlx::postgres::PgConnectOptions>() {
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

impl std::ops::Deref for DatabaseUrl {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.for_logs(), f)
    }
}

impl From<String> for DatabaseUrl {
    fn from(url: String) -> Self {
        Self(url)
    }
}

impl From<&str> for DatabaseUrl {
    fn from(url: &str) -> Self {
        Self(url.to_owned())
    }
}

impl PartialEq<&str> for DatabaseUrl {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// Parsed as a `String` is, so the flag accepts exactly what it did.
impl clap::builder::ValueParserFactory for DatabaseUrl {
    type Parser =
        clap::builder::MapValueParser<clap::builder::StringValueParser, fn(String) -> Self>;

    fn value_parser() -> Self::Parser {
        use clap::builder::TypedValueParser;
        clap::builder::StringValueParser::new().map(Self as fn(String) -> Self)
    }
}

/// The path of the TLS private key: `Debug` prints `"<set>"` only.
#[derive(Clone, PartialEq, Eq)]
pub struct TlsKeyPath(std::path::PathBuf);

impl std::ops::Deref for TlsKeyPath {
    type Target = std::path::Path;

    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl std::fmt::Debug for TlsKeyPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt("<set>", f)
    }
}

impl From<std::path::PathBuf> for TlsKeyPath {
    fn from(path: std::path::PathBuf) -> Self {
        Self(path)
    }
}

/// Parsed as a `PathBuf` is (an empty value is refused), as before.
impl clap::builder::ValueParserFactory for TlsKeyPath {
    type Parser = clap::builder::MapValueParser<
        clap::builder::PathBufValueParser,
        fn(std::path::PathBuf) -> Self,
    >;

    fn value_parser() -> Self::Parser {
        use clap::builder::TypedValueParser;
        clap::builder::PathBufValueParser::new().map(Self as fn(std::path::PathBuf) -> Self)
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
        let printed = format!("{config:#?}");
        assert!(!printed.contains("s3cret"), "{printed}");
    }

    #[test]
    fn debug_output_never_contains_the_tls_key_path() {
        let mut config = Config::for_database("sqlite://t.db");
        config.tls_cert = Some("/etc/ticketd/server.crt".into());
        config.tls_key = Some(std::path::PathBuf::from("/etc/ticketd/private-key.pem").into());
        for printed in [format!("{config:?}"), format!("{config:#?}")] {
            assert!(!printed.contains("private-key"), "{printed}");
            assert!(printed.contains("<set>"), "{printed}");
            assert!(printed.contains("server.crt"), "{printed}");
        }
        let key = config.tls_key.as_deref().map(std::path::Path::to_path_buf);
        assert_eq!(key, Some("/etc/ticketd/private-key.pem".into()));
    }

    #[test]
    fn the_secret_flags_parse_as_before() {
        use clap::FromArgMatches;
        let parse = |args: &[&str]| {
            let matches = Config::command_without_env()
                .try_get_matches_from([&["ticketd"], args].concat())?;
            Config::from_arg_matches(&matches)
        };
        let config = parse(&["--database-url", "postgres://u:p@h/d"]).unwrap();
        assert_eq!(config.database_url, "postgres://u:p@h/d");
        assert_eq!(config.database_url.as_str(), "postgres://u:p@h/d");
        assert_eq!(parse(&[]).unwrap().database_url, DEFAULT_DATABASE);
        let config = parse(&["--tls-cert", "c.pem", "--tls-key", "k.pem"]).unwrap();
        assert_eq!(
            config.tls_key.as_deref(),
            Some(std::path::Path::new("k.pem"))
        );
        assert!(parse(&["--tls-cert", "c.pem", "--tls-key", ""]).is_err());
        assert!(parse(&["--tls-key", "k.pem"]).is_err(), "needs --tls-cert");
    }

    #[test]
    fn for_database_gives_the_flags_defaults() {
        let config = Config::for_database("postgres://db/tickets");
        assert_eq!(config.database_url, "postgres://db/tickets");
        assert_eq!(config.listen, SocketAddr::from(([127, 0, 0, 1], 0)));
        assert_eq!(config.db_pool_size, None);
        assert_eq!(config.db_acquire_timeout_ms, 2_000);
        assert_eq!(config.intake_batch_max, 8);
        assert_eq!(config.intake_writers, None);
        assert_eq!(config.account_cache_size, 10_000);
        assert_eq!(config.worker_threads, None);
        assert_eq!(config.log_format, LogFormat::Text);
        assert_eq!(config.drain_timeout_secs, 10);
        assert_eq!(config.shutdown_grace_ms, 0);
        assert_eq!(config.health_interval_ms, 2_000);
        assert!(config.cors_allowed_origins.is_empty());
        assert!(config.reflection);
        assert!(!config.reflection_open);
        assert_eq!(config.auth_cache_ms, 5_000);
        assert_eq!(config.auth_stale_if_error_ms, 300_000);
        assert_eq!(config.credential_use_flush_ms, 5_000);
        assert_eq!(config.rate_limit_rps, 1_000);
        assert_eq!(config.rate_limit_burst, 2_000);
        assert_eq!(config.max_in_flight, 512);
        assert_eq!(config.max_in_flight_per_credential, None);
        assert_eq!(config.request_timeout_ms, 30_000);
        assert_eq!(config.tls_cert, None);
        assert!(config.tls_key.is_none());
        assert_eq!(config.tls_client_ca, None);
        assert_eq!(config.watch_poll_ms, 250);
        assert_eq!(config.watch_heartbeat_ms, 10_000);
        assert_eq!(config.watch_buffer, 256);
        assert_eq!(config.watch_buffer_bytes, 64 * 1024);
        assert_eq!(config.watch_read_concurrency, None);
        assert_eq!(config.watch_slow_consumer_ms, 15_000);
        assert_eq!(config.max_watch_streams, 20_000);
        assert_eq!(config.watch_snapshot_limit, 10_000);
        assert_eq!(config.max_message_bytes, DEFAULT_MAX_MESSAGE_BYTES);
        assert_eq!(config.max_connections, None);
        assert_eq!(config.max_connections_per_peer, None);
        assert_eq!(config.handshake_timeout_ms, 10_000);
        assert_eq!(config.http2_max_concurrent_streams, 1_000);
        assert_eq!(config.http2_keepalive_secs, 30);
    }

    #[test]
    fn defaults_for_tests_are_read_without_the_environment() {
        use clap::Args;
        let with_env = Config::augment_args(clap::Command::new("ticketd"));
        let variables = with_env
            .get_arguments()
            .filter(|arg| arg.get_env().is_some())
            .count();
        assert!(variables > 30, "the serve flags have their variables");
        let without = Config::command_without_env();
        assert_eq!(
            without.get_arguments().count(),
            with_env.get_arguments().count()
        );
        for arg in without.get_arguments() {
            assert_eq!(arg.get_env(), None, "{}", arg.get_id());
        }
    }

    #[test]
    fn worker_threads_default_to_one_per_core_and_zero_is_refused() {
        #[derive(clap::Parser)]
        struct Serve {
            #[command(flatten)]
            config: Config,
        }
        use clap::Parser;
        let parse = |args: &[&str]| Serve::try_parse_from([&["serve"], args].concat());
        assert_eq!(parse(&[]).unwrap().config.worker_threads, None);
        assert_eq!(
            parse(&["--worker-threads", "1"])
                .unwrap()
                .config
                .worker_threads,
            Some(1)
        );
        assert!(parse(&["--worker-threads", "0"]).is_err());
    }

    #[test]
    fn grouping_off_keeps_as_many_writes_in_flight_as_the_pool_has() {
        let mut config = Config::for_database("postgres://db/tickets");
        config.db_pool_size = Some(6);
        assert_eq!(config.intake_batch().writers, 1);
        config.intake_batch_max = 1;
        assert_eq!(config.intake_batch().writers, 6);
        config.intake_writers = Some(2);
        assert_eq!(config.intake_batch().writers, 2);
    }

    #[test]
    fn each_credential_gets_a_quarter_of_the_in_flight_limit_unless_told() {
        let mut config = Config::for_database("sqlite://t.db");
        config.max_in_flight = 512;
        assert_eq!(config.max_in_flight_per_credential(), 128);
        config.max_in_flight = 2;
        assert_eq!(config.max_in_flight_per_credential(), 1);
        config.max_in_flight_per_credential = Some(1_000);
        assert_eq!(
            config.max_in_flight_per_credential(),
            2,
            "never above the total"
        );
    }

    #[test]
    fn connection_limits_leave_descriptors_for_the_pool_and_files() {
        let mut config = Config::for_database("sqlite://t.db");
        let limits = config.connection_limits();
        if let Some(open_files) = crate::net::open_file_limit() {
            assert!(
                (limits.total as u64) < open_files,
                "{limits:?} {open_files}"
            );
        }
        assert!(
            limits.per_peer <= limits.total && limits.per_peer >= 1,
            "{limits:?}"
        );
        config.max_connections = Some(5);
        config.max_connections_per_peer = Some(100);
        let limits = config.connection_limits();
        assert_eq!((limits.total, limits.per_peer), (5, 5));
    }

    #[test]
    fn sqlite_locations_are_logged_as_paths() {
        let config = Config::for_database("sqlite://data/ticketd.db?mode=rwc");
        assert_eq!(config.database_for_logs(), "sqlite data/ticketd.db");
    }
}
