//! `spawn_app()`: a server on an ephemeral port with a fresh database and a
//! manual clock, plus typed clients and direct database access for checks.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Once};

use chrono::{DateTime, Utc};
use sqlx::{Connection, PgConnection, PgPool, SqlitePool};
use ticketd::app::Application;
use ticketd::client::{AuthedChannel, Bearer, policy_client, ticket_client};
use ticketd::clock::ManualClock;
use ticketd::config::Config;
use ticketd::domain::access::Role;
use ticketd::domain::policy::Channel as TicketChannel;
use ticketd::proto::pb;
use ticketd::proto::pb::policy_service_client::PolicyServiceClient;
use ticketd::proto::pb::ticket_service_client::TicketServiceClient;
use ticketd::store::Store;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt;

/// Where tests create their PostgreSQL databases. Override with TEST_DATABASE_URL.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The instant every test's clock starts at.
pub fn start_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-28T09:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// The test's own database, for checks the API cannot make (row counts).
pub enum TestDb {
    Postgres { pool: PgPool, name: String },
    Sqlite { pool: SqlitePool, path: PathBuf },
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub clock: ManualClock,
    /// Clients holding an administrator's credential (every scope).
    pub tickets: TicketServiceClient<AuthedChannel>,
    pub policy: PolicyServiceClient<AuthedChannel>,
    /// The administrator's bearer token the clients send.
    pub token: String,
    /// A connection to the server, for clients with other credentials.
    pub channel: Channel,
    /// The server's store, for the trait-level contract tests.
    store: Option<Arc<dyn Store>>,
    pub db: TestDb,
    pub db_url: String,
    pub shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Like [`spawn_app`], with a chance to adjust the configuration.
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
    static TRACING: Once = Once::new();
    TRACING.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            ticketd::telemetry::init(ticketd::config::LogFormat::Text);
        }
    });

    let unique = format!("ticketd_test_{}", uuid::Uuid::new_v4().simple());
    let db_url = match backend {
        Backend::Postgres => {
            let mut admin = PgConnection::connect(&admin_url()).await.expect(
                "PostgreSQL must be reachable at TEST_DATABASE_URL (default 127.0.0.1:5432)",
            );
            sqlx::query(&format!(r#"CREATE DATABASE "{unique}""#))
                .execute(&mut admin)
                .await
                .expect("create test database");
            database_url(&unique)
        }
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("{unique}.db"));
            format!("sqlite://{}", path.display())
        }
    };

    let clock = ManualClock::new(start_time());
    let (app, addr) = start_server(&db_url, &clock, adjust)
        .await
        .expect("build application");
    let store = app.store();
    let token = ticketd::auth::issue(&*store, "test-admin", Role::Admin, &[], start_time())
        .await
        .expect("issue the test's administrator credential")
        .token;
    let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = shutdown_rx.await;
    }));

    // Lazily: the listener is already bound, and a server serving TLS would
    // refuse this plaintext channel's handshake.
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_lazy();
    let bearer = Bearer::new(&token).unwrap();
    TestApp {
        addr,
        clock,
        tickets: ticket_client(channel.clone(), bearer.clone()),
        policy: policy_client(channel.clone(), bearer),
        token,
        channel,
        store: Some(store),
        db: match backend {
            Backend::Postgres => TestDb::Postgres {
                pool: PgPool::connect(&db_url)
                    .await
                    .expect("connect to test database"),
                name: unique,
            },
            Backend::Sqlite => TestDb::Sqlite {
                pool: SqlitePool::connect(&db_url)
                    .await
                    .expect("open test database"),
                path: PathBuf::from(db_url.trim_start_matches("sqlite://")),
            },
        },
        db_url,
        shutdown: Some(shutdown_tx),
        server: Some(server),
    }
}

/// Builds the server for `db_url` and starts it; returns its address, the
/// handle to stop it, and the running task.
async fn start_server(
    db_url: &str,
    clock: &ManualClock,
    adjust: impl FnOnce(&mut Config),
) -> anyhow::Result<(Application, SocketAddr)> {
    let mut config = Config::for_database(db_url);
    config.health_interval_ms = 100;
    config.credential_use_flush_ms = 100;
    config.drain_timeout_secs = 2;
    adjust(&mut config);
    let app = Application::build(config, Arc::new(clock.clone())).await?;
    let addr = app.local_addr();
    Ok((app, addr))
}

impl TestApp {
    pub fn store(&self) -> &Arc<dyn Store> {
        self.store.as_ref().expect("the server is running")
    }

    /// Stops the server and starts a new one on the same database, as an
    /// operator's restart would.
    pub async fn restart(&mut self) {
        self.stop().await.expect("clean stop");
        // Release the store (and, on SQLite, its single-process lock) as a
        // stopped process would.
        self.store = None;
        let (app, addr) = start_server(&self.db_url, &self.clock, |_| {})
            .await
            .expect("restart on the same database");
        self.store = Some(app.store());
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        self.server = Some(tokio::spawn(app.run_until_stopped(async {
            let _ = shutdown_rx.await;
        })));
        self.shutdown = Some(shutdown_tx);
        let channel = Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .expect("connect to restarted server");
        self.addr = addr;
        let bearer = self.bearer();
        self.tickets = ticket_client(channel.clone(), bearer.clone());
        self.policy = policy_client(channel.clone(), bearer);
        self.channel = channel;
    }

    /// The administrator's bearer token, for clients the test builds itself.
    pub fn bearer(&self) -> Bearer {
        Bearer::new(&self.token).unwrap()
    }

    /// The `authorization` metadata value the administrator's clients send.
    pub fn authorization(&self) -> String {
        format!("Bearer {}", self.token)
    }

    /// Issues a credential for `role` (and, for intake, `channels`) and
    /// returns its token.
    pub async fn issue(&self, name: &str, role: Role, channels: &[TicketChannel]) -> String {
        ticketd::auth::issue(&**self.store(), name, role, channels, self.clock_now())
            .await
            .expect("issue credential")
            .token
    }

    /// Clients that call with `token`.
    pub fn clients_with(
        &self,
        token: &str,
    ) -> (
        TicketServiceClient<AuthedChannel>,
        PolicyServiceClient<AuthedChannel>,
    ) {
        let bearer = Bearer::new(token).unwrap();
        (
            ticket_client(self.channel.clone(), bearer.clone()),
            policy_client(self.channel.clone(), bearer),
        )
    }

    /// Tries to start a second server on this test's database.
    pub async fn start_second_server(&self) -> anyhow::Result<Application> {
        start_server(&self.db_url, &self.clock, |_| {})
            .await
            .map(|(app, _)| app)
    }
}

fn database_url(db_name: &str) -> String {
    let admin = admin_url();
    let base = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(base, _)| base);
    format!("{base}/{db_name}")
}

impl TestApp {
    /// Asks the server to stop and waits for it to finish draining.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.server.take() {
            Some(handle) => handle.await?,
            None => Ok(()),
        }
    }

    pub async fn create_account(&self, id: &str, plan: pb::Plan) -> pb::Account {
        self.tickets
            .clone()
            .create_account(new_account(id, plan))
            .await
            .expect("create account")
            .into_inner()
            .account
            .expect("account in response")
    }

    pub async fn create_ticket(
        &self,
        request: pb::CreateTicketRequest,
    ) -> Result<pb::Ticket, Status> {
        self.tickets
            .clone()
            .create_ticket(request)
            .await
            .map(|r| r.into_inner().ticket.expect("ticket in response"))
    }

    pub async fn get_ticket(&self, name: &str) -> Result<pb::Ticket, Status> {
        self.tickets
            .clone()
            .get_ticket(pb::GetTicketRequest {
                name: name.to_owned(),
            })
            .await
            .map(|r| r.into_inner().ticket.expect("ticket in response"))
    }

    /// AcknowledgeTicket by `responder`, notified by `method`.
    pub async fn acknowledge(
        &self,
        name: &str,
        responder: &str,
        method: pb::NotificationMethod,
    ) -> Result<pb::Ticket, Status> {
        self.tickets
            .clone()
            .acknowledge_ticket(pb::AcknowledgeTicketRequest {
                name: name.to_owned(),
                responder: responder.to_owned(),
                method: method.into(),
            })
            .await
            .map(|r| r.into_inner().ticket.expect("ticket in response"))
    }

    /// ResolveTicket by "ana" with `note`.
    pub async fn resolve(
        &self,
        name: &str,
        note: &str,
    ) -> Result<pb::ResolveTicketResponse, Status> {
        self.tickets
            .clone()
            .resolve_ticket(pb::ResolveTicketRequest {
                name: name.to_owned(),
                actor: "ana".into(),
                note: note.to_owned(),
            })
            .await
            .map(|r| r.into_inner())
    }

    pub async fn update_status(
        &self,
        request: pb::UpdateTicketStatusRequest,
    ) -> Result<pb::Ticket, Status> {
        self.tickets
            .clone()
            .update_ticket_status(request)
            .await
            .map(|r| r.into_inner().ticket.expect("ticket in response"))
    }

    /// ReopenTicket by `actor` for `reason`.
    pub async fn reopen(
        &self,
        name: &str,
        actor: &str,
        reason: &str,
    ) -> Result<pb::Ticket, Status> {
        self.tickets
            .clone()
            .reopen_ticket(pb::ReopenTicketRequest {
                name: name.to_owned(),
                actor: actor.to_owned(),
                reason: reason.to_owned(),
            })
            .await
            .map(|r| r.into_inner().ticket.expect("ticket in response"))
    }

    /// CloseTicket by "ana".
    pub async fn close(&self, name: &str) -> Result<pb::Ticket, Status> {
        self.tickets
            .clone()
            .close_ticket(pb::CloseTicketRequest {
                name: name.to_owned(),
                actor: "ana".into(),
            })
            .await
            .map(|r| r.into_inner().ticket.expect("ticket in response"))
    }

    /// ReprioritizeTicket by "lead" for `reason`.
    pub async fn reprioritize_as_lead(
        &self,
        name: &str,
        priority: pb::Priority,
        reason: &str,
    ) -> Result<pb::Ticket, Status> {
        self.tickets
            .clone()
            .reprioritize_ticket(pb::ReprioritizeTicketRequest {
                name: name.to_owned(),
                priority: priority.into(),
                actor: "lead".into(),
                reason: reason.to_owned(),
            })
            .await
            .map(|r| r.into_inner().ticket.expect("ticket in response"))
    }

    /// UpdateAccount of the plan alone, without a mask.
    pub async fn change_plan(
        &self,
        account_id: &str,
        plan: pb::Plan,
    ) -> Result<pb::Account, Status> {
        self.tickets
            .clone()
            .update_account(pb::UpdateAccountRequest {
                account: Some(pb::Account {
                    name: account(account_id),
                    plan: plan.into(),
                    ..Default::default()
                }),
                update_mask: None,
            })
            .await
            .map(|r| r.into_inner().account.expect("account in response"))
    }

    pub async fn get_policy(&self) -> pb::Policy {
        self.policy
            .clone()
            .get_policy(pb::GetPolicyRequest {})
            .await
            .expect("get policy")
            .into_inner()
            .policy
            .expect("policy in response")
    }

    pub async fn check_channel(
        &self,
        request: pb::CheckChannelRequest,
    ) -> Result<pb::CheckChannelResponse, Status> {
        self.policy
            .clone()
            .check_channel(request)
            .await
            .map(|r| r.into_inner())
    }

    pub async fn ticket_count(&self) -> i64 {
        self.count("tickets").await
    }

    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT count(*) FROM {table}");
        match &self.db {
            TestDb::Postgres { pool, .. } => sqlx::query_scalar(&sql).fetch_one(pool).await,
            TestDb::Sqlite { pool, .. } => sqlx::query_scalar(&sql).fetch_one(pool).await,
        }
        .expect("count rows")
    }

    /// The PostgreSQL pool, for tests that only make sense there.
    pub fn pg(&self) -> &PgPool {
        match &self.db {
            TestDb::Postgres { pool, .. } => pool,
            TestDb::Sqlite { .. } => panic!("this test runs on PostgreSQL only"),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
        match &self.db {
            TestDb::Sqlite { path, .. } => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            TestDb::Postgres { name, .. } => drop_database(name),
        }
    }
}

/// Drops a test database, ending its sessions. Callable from `Drop`: the
/// test's runtime cannot be blocked on, so a short-lived thread with its own
/// runtime does the work.
fn drop_database(name: &str) {
    let admin = admin_url();
    let name = name.to_owned();
    let _ = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime for cleanup");
        runtime.block_on(async {
            if let Ok(mut conn) = PgConnection::connect(&admin).await {
                let sql = format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#);
                let _ = sqlx::query(&sql).execute(&mut conn).await;
            }
        });
    })
    .join();
}

/// A fresh, empty PostgreSQL database for tests that start the server
/// themselves (as a child process, say); dropped with this value.
pub struct PgDatabase {
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    pub async fn create() -> Self {
        let name = format!("ticketd_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url())
            .await
            .expect("PostgreSQL must be reachable at TEST_DATABASE_URL (default 127.0.0.1:5432)");
        sqlx::query(&format!(r#"CREATE DATABASE "{name}""#))
            .execute(&mut admin)
            .await
            .expect("create test database");
        let url = database_url(&name);
        Self { name, url }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        drop_database(&self.name);
    }
}

/// A CreateAccount request for `id` ("{id} Ltd") on `plan`.
pub fn new_account(id: &str, plan: pb::Plan) -> pb::CreateAccountRequest {
    pb::CreateAccountRequest {
        account_id: id.to_owned(),
        account: Some(pb::Account {
            display_name: format!("{id} Ltd"),
            plan: plan.into(),
            ..Default::default()
        }),
    }
}

/// Every plan, in the order the tables list them.
pub const ALL_PLANS: [pb::Plan; 5] = [
    pb::Plan::Free,
    pb::Plan::Pro,
    pb::Plan::Business,
    pb::Plan::Education,
    pb::Plan::Api,
];

pub fn with_request_id(mut request: pb::CreateTicketRequest, id: &str) -> pb::CreateTicketRequest {
    request.request_id = id.to_owned();
    request
}

/// A professional-services training request for `account_id`.
pub fn training_request(account_id: &str) -> pb::CreateServiceRequestRequest {
    pb::CreateServiceRequestRequest {
        account: account(account_id),
        kind: pb::ServiceKind::Training.into(),
        summary: "Webinar training for 40 hosts".into(),
        details: "Two sessions in January".into(),
        contact_email: "ana@example.com".into(),
        request_id: String::new(),
    }
}

pub fn account(id: &str) -> String {
    format!("accounts/{id}")
}

pub fn impact(
    kind: pb::RequestKind,
    scope: pb::ImpactScope,
    workaround: pb::Workaround,
) -> Option<pb::Impact> {
    Some(pb::Impact {
        kind: kind.into(),
        scope: scope.into(),
        workaround: workaround.into(),
    })
}

/// An impact that the published rules classify as `priority`.
pub fn impact_for(priority: pb::Priority) -> Option<pb::Impact> {
    use pb::{ImpactScope as S, RequestKind as K, Workaround as W};
    match priority {
        pb::Priority::P1Urgent => impact(K::Problem, S::ServiceDown, W::None),
        pb::Priority::P2High => impact(K::Problem, S::Degraded, W::Partial),
        pb::Priority::P3Normal => impact(K::Problem, S::FunctionImpaired, W::Unspecified),
        pb::Priority::P4Low => impact(K::Information, S::Unspecified, W::Unspecified),
        pb::Priority::Unspecified => None,
    }
}

pub fn outage() -> Option<pb::Impact> {
    impact_for(pb::Priority::P1Urgent)
}

pub fn chat_ticket(account_id: &str) -> pb::CreateTicketRequest {
    pb::CreateTicketRequest {
        account: account(account_id),
        origin: Some(pb::create_ticket_request::Origin::Chat(pb::ChatSession {
            chat_session_id: "chat-7f3a".into(),
            transcript_uri: "https://chat.example.com/sessions/chat-7f3a".into(),
            first_message: "Our webinar stream keeps freezing".into(),
        })),
        subject: "Webinar stream freezes".into(),
        description: String::new(),
        impact: outage(),
        request_id: String::new(),
    }
}

pub fn web_ticket(account_id: &str) -> pb::CreateTicketRequest {
    pb::CreateTicketRequest {
        account: account(account_id),
        origin: Some(pb::create_ticket_request::Origin::WebForm(
            pb::WebFormSubmission {
                contact_email: "ana@example.com".into(),
                contact_name: "Ana".into(),
            },
        )),
        subject: "How do I brand the waiting room?".into(),
        description: "We want our logo in the waiting room.".into(),
        impact: impact_for(pb::Priority::P4Low),
        request_id: String::new(),
    }
}

pub fn phone_ticket(account_id: &str) -> pb::CreateTicketRequest {
    pb::CreateTicketRequest {
        account: account(account_id),
        origin: Some(pb::create_ticket_request::Origin::PhoneCall(
            pb::PhoneCall {
                call_id: "ivr-call-0001".into(),
                caller_number: "+14155550123".into(),
                dialed_number: "+18887999666".into(),
                region: pb::Region::Us.into(),
            },
        )),
        subject: "Cannot join any meeting".into(),
        description: String::new(),
        impact: outage(),
        request_id: String::new(),
    }
}

/// The fields named by the status's BadRequest details, in order.
pub fn violated_fields(status: &Status) -> Vec<String> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    status
        .get_details_bad_request()
        .expect("INVALID_ARGUMENT carries BadRequest details")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect()
}

pub fn error_info(status: &Status) -> tonic_types::ErrorInfo {
    status
        .get_details_error_info()
        .expect("status carries ErrorInfo details")
}

pub fn hours(h: i64) -> prost_types::Duration {
    prost_types::Duration {
        seconds: h * 3600,
        nanos: 0,
    }
}

pub fn ts(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    }
}

impl TestApp {
    pub fn clock_now(&self) -> DateTime<Utc> {
        use ticketd::clock::Clock;
        self.clock.now()
    }
}

impl TestApp {
    /// Rows in every table of the test's database, by table name: a snapshot
    /// to compare before and after a call that must write nothing.
    pub async fn row_counts(&self) -> std::collections::BTreeMap<String, i64> {
        let tables: Vec<String> = match &self.db {
            TestDb::Postgres { pool, .. } => {
                sqlx::query_scalar(
                    "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'",
                )
                .fetch_all(pool)
                .await
            }
            TestDb::Sqlite { pool, .. } => {
                sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                    .fetch_all(pool)
                    .await
            }
        }
        .expect("list tables");
        assert!(tables.iter().any(|t| t == "tickets"), "{tables:?}");
        let mut counts = std::collections::BTreeMap::new();
        for table in tables {
            let rows = self.count(&format!(r#""{table}""#)).await;
            counts.insert(table, rows);
        }
        counts
    }
}

/// Waits until some session of the test's PostgreSQL database waits on a
/// lock: a call the test holds with a row lock has reached the database.
pub async fn wait_until_waiting_on_lock(app: &TestApp) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(app.pg())
        .await
        .unwrap();
        if waiting > 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the call never waited on the lock"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// The chat origin of a request built from [`chat_ticket`], to change a field.
pub fn chat(request: &mut pb::CreateTicketRequest) -> &mut pb::ChatSession {
    match request.origin.as_mut() {
        Some(pb::create_ticket_request::Origin::Chat(chat)) => chat,
        _ => panic!("not a chat request"),
    }
}

/// The phone origin of a request built from [`phone_ticket`].
pub fn call(request: &mut pb::CreateTicketRequest) -> &mut pb::PhoneCall {
    match request.origin.as_mut() {
        Some(pb::create_ticket_request::Origin::PhoneCall(call)) => call,
        _ => panic!("not a phone request"),
    }
}

/// The web-form origin of a request built from [`web_ticket`].
pub fn form(request: &mut pb::CreateTicketRequest) -> &mut pb::WebFormSubmission {
    match request.origin.as_mut() {
        Some(pb::create_ticket_request::Origin::WebForm(form)) => form,
        _ => panic!("not a web form request"),
    }
}

/// Holds the account's row lock in a transaction, so a call that writes
/// for the account waits on it until the transaction ends (PostgreSQL).
pub async fn lock_account_row(
    app: &TestApp,
    account_id: &str,
) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut blocker = app.pg().begin().await.unwrap();
    sqlx::query("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE")
        .bind(account_id)
        .execute(&mut *blocker)
        .await
        .unwrap();
    blocker
}

/// The published policy document, as the server builds it in.
pub const PUBLISHED_POLICY: &str = include_str!("../../policy/published.toml");

/// The published document with three problems, in document order: an
/// at-risk threshold of 0 (`at_risk_percent`), the Pro plan (the fourth)
/// without channels (`plans[3].channels`) and a Pro P1 target of zero
/// (`targets.first_response.pro.p1`).
pub fn policy_with_problems() -> String {
    PUBLISHED_POLICY
        .replacen("at_risk_percent = 75", "at_risk_percent = 0", 1)
        .replacen(
            "id = \"pro\"\nname = \"Pro\"\nchannels = [\"web_form\", \"chat\"]",
            "id = \"pro\"\nname = \"Pro\"\nchannels = []",
            1,
        )
        .replacen(r#"pro = { p1 = "1h""#, r#"pro = { p1 = "0m""#, 1)
}

/// The 1-based line of `text` on which `needle` first appears.
pub fn line_of(text: &str, needle: &str) -> usize {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in the text"));
    text[..at].matches('\n').count() + 1
}
