//! Server assembly: store, policy and clock wired into the gRPC services, plus
//! health, reflection, gRPC-Web, request tracing and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tonic::codegen::http::{HeaderName, HeaderValue, Method};
use tonic::transport::Server;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tower_http::LatencyUnit;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::api::guard::{GuardLayer, Limits};
use crate::api::policy_service::PolicyApi;
use crate::api::ticket_service::TicketApi;
use crate::auth::Authenticator;
use crate::config::Config;
use crate::domain::clock::Clock;
use crate::net::Incoming;
use crate::proto::FILE_DESCRIPTOR_SET;
use crate::proto::pb::policy_service_server::PolicyServiceServer;
use crate::proto::pb::ticket_service_server::TicketServiceServer;
use crate::service::{Policies, Service};
use crate::store::Store;
use crate::store::{self, PoolConfig};
use crate::watch::Hub;

/// Names the health service reports on; "" is the whole server. It comes
/// last, so a client that sees the server SERVING finds every service set.
const HEALTH_SERVICES: [&str; 3] = ["support.v1.TicketService", "support.v1.PolicyService", ""];

pub struct Application {
    listener: TcpListener,
    /// For what reads the store directly: health checks, credentials and
    /// the watch hub. Ticket writes go through `service`'s writer.
    store: Arc<dyn Store>,
    service: Service,
    config: Config,
}

impl Application {
    /// Opens the store (creating and migrating it as needed) and binds the
    /// listener, so the port is known before serving starts.
    pub async fn build(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        tracing::info!(store = %config.database_for_logs(), "opening store");
        let store = store::open(
            &config.database_url,
            &PoolConfig {
                max_connections: config.pool_size(),
                acquire_timeout: Duration::from_millis(config.db_acquire_timeout_ms),
                batch: config.intake_batch(),
            },
        )
        .await?;
        Self::with_store(config, store, clock).await
    }

    /// Builds around a store the caller already has.
    pub async fn with_store(
        config: Config,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.listen).await?;
        // Inserts the published policy as version 1 on a database that has
        // no version yet.
        let policies = Arc::new(Policies::load(store.clone(), clock.now()).await?);
        let service = Service::new(store.clone(), policies, clock)
            .with_account_cache(config.account_cache_size);
        Ok(Self {
            listener,
            store,
            service,
            config,
        })
    }

    /// The store the server runs on; tests use it to check what was written.
    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes, then stops taking connections,
    /// reports NOT_SERVING and lets in-flight requests finish for at most the
    /// drain timeout.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (health, health_service) = tonic_health::server::health_reporter();
        // The reporter starts with "" SERVING; nothing is, until the first
        // database check has passed and set every service.
        set_health(&health, ServingStatus::NotServing).await;
        let health_task = AbortOnDrop(tokio::spawn(watch_database(
            self.store.clone(),
            health.clone(),
            Duration::from_millis(self.config.health_interval_ms),
        )));

        let (reflection_v1, reflection_v1alpha) = if self.config.reflection {
            (
                Some(
                    tonic_reflection::server::Builder::configure()
                        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
                        .build_v1()?,
                ),
                Some(
                    tonic_reflection::server::Builder::configure()
                        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
                        .build_v1alpha()?,
                ),
            )
        } else {
            (None, None)
        };

        let trace = TraceLayer::new_for_grpc()
            .make_span_with(|request: &tonic::codegen::http::Request<_>| {
                tracing::info_span!(
                    "rpc",
                    method = %request.uri().path(),
                    credential = tracing::field::Empty,
                )
            })
            .on_response(
                DefaultOnResponse::new()
                    .level(Level::INFO)
                    .latency_unit(LatencyUnit::Micros),
            )
            .on_failure(
                DefaultOnFailure::new()
                    .level(Level::WARN)
                    .latency_unit(LatencyUnit::Micros),
            );

        let hub = Hub::new(
            self.store.clone(),
            self.service.clock().clone(),
            self.service.writer().log_written(),
            self.config.watch(),
        );
        let auth = Arc::new(Authenticator::new(
            self.store.clone(),
            self.service.clock().clone(),
            self.config.auth(),
        ));
        let guard = GuardLayer::new(
            auth.clone(),
            Limits {
                max_in_flight: self.config.max_in_flight,
                max_in_flight_per_credential: self.config.max_in_flight_per_credential(),
                request_timeout: Duration::from_millis(self.config.request_timeout_ms.max(1)),
                max_message_bytes: self.config.max_message_bytes,
                reflection_open: self.config.reflection_open,
            },
        );
        let mut builder = Server::builder();
        if let Some(tls) = self.config.server_tls()? {
            builder = builder.tls_config(tls)?;
        }
        let router = builder
            // gRPC-Web arrives over HTTP/1.1 from browsers.
            .accept_http1(true)
            // tonic's default is unlimited; watch streams are long-lived.
            .max_concurrent_streams(Some(self.config.http2_max_concurrent_streams))
            .http2_keepalive_interval(Some(Duration::from_secs(
                self.config.http2_keepalive_secs.max(1),
            )))
            .http2_keepalive_timeout(Some(Duration::from_secs(20)))
            .layer(trace)
            .layer(tower::util::option_layer(cors(
                &self.config.cors_allowed_origins,
            )?))
            .layer(tonic_web::GrpcWebLayer::new())
            // After gRPC-Web translation, so refusals reach browsers as
            // gRPC-Web statuses; after CORS, so preflights need no token.
            .layer(guard)
            .add_service(health_service)
            .add_optional_service(reflection_v1)
            .add_optional_service(reflection_v1alpha)
            .add_service(
                TicketServiceServer::new(TicketApi::new(self.service.clone(), hub.clone()))
                    .max_decoding_message_size(self.config.max_message_bytes),
            )
            .add_service(
                PolicyServiceServer::new(PolicyApi::new(self.service.clone()))
                    .max_decoding_message_size(self.config.max_message_bytes),
            );

        let addr = self.local_addr();
        // Spawned once setup can no longer fail, and aborted whenever this
        // function returns, so it never outlives the server.
        let sweeper = AbortOnDrop(tokio::spawn(crate::sla_sweeper::run(
            self.store.clone(),
            self.service.writer().clone(),
            self.service.clock().clone(),
        )));
        let hub_task = AbortOnDrop(tokio::spawn(hub.clone().run()));
        let _policy_refresher = AbortOnDrop(tokio::spawn(
            self.service
                .policies()
                .clone()
                .keep_fresh(self.config.policy_refresh()),
        ));
        let use_flusher = AbortOnDrop(tokio::spawn(auth.clone().run_use_flusher()));
        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
        let grace = Duration::from_millis(self.config.shutdown_grace_ms);
        let signal = {
            let health = health.clone();
            async move {
                shutdown.await;
                // Stop the checker first so it cannot flip us back to SERVING,
                // then give load balancers time to see NOT_SERVING. The
                // sweeper stops too: other replicas (or the next start) catch
                // up on any threshold it would have recorded.
                health_task.0.abort();
                sweeper.0.abort();
                set_health(&health, ServingStatus::NotServing).await;
                tracing::info!(?grace, "shutdown requested; reporting NOT_SERVING");
                tokio::time::sleep(grace).await;
                // Watch streams never end by themselves; end them now with
                // a cursor, so their clients resume on another replica and
                // the drain below is not held up by them.
                hub.close();
                drop(hub_task);
                drop(use_flusher);
                if let Err(err) = auth.flush_uses().await {
                    tracing::warn!(error = %err, "could not record credential last use");
                }
                tracing::info!("closing the listener; draining in-flight calls");
                let _ = stopping_tx.send(());
            }
        };
        tracing::info!(%addr, store = %self.config.database_for_logs(), "ticketd serving");
        let limits = self.config.connection_limits();
        tracing::info!(
            max_connections = limits.total,
            max_connections_per_peer = limits.per_peer,
            "admitting connections"
        );
        let incoming = Incoming::new(self.listener, limits);
        let server = router.serve_with_incoming_shutdown(incoming, signal);
        let drain = self.config.drain_timeout();
        let deadline = async move {
            match stopping_rx.await {
                Ok(()) => tokio::time::sleep(drain).await,
                // The server ended on its own; let its result decide.
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            result = server => result?,
            () = deadline => {
                tracing::warn!(?drain, "drain deadline passed with calls still open");
                anyhow::bail!("drain deadline of {drain:?} passed with calls still open");
            }
        }
        tracing::info!("ticketd stopped");
        Ok(())
    }
}

/// Aborts a background task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// CORS for gRPC-Web callers on the listed origins; `None` when there are
/// none, so only same-origin browsers (and every non-browser) can call.
fn cors(origins: &[String]) -> anyhow::Result<Option<CorsLayer>> {
    if origins.is_empty() {
        return Ok(None);
    }
    let origins = origins
        .iter()
        .map(|o| HeaderValue::from_str(o.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    let header = |name: &'static str| HeaderName::from_static(name);
    Ok(Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::POST, Method::OPTIONS])
            .allow_headers([
                header("content-type"),
                header("x-grpc-web"),
                header("x-user-agent"),
                header("grpc-timeout"),
                header("authorization"),
                header("connect-protocol-version"),
                header("connect-timeout-ms"),
            ])
            .expose_headers([
                header("grpc-status"),
                header("grpc-message"),
                header("grpc-status-details-bin"),
            ])
            .max_age(Duration::from_secs(3600)),
    ))
}

async fn set_health(health: &HealthReporter, status: ServingStatus) {
    for service in HEALTH_SERVICES {
        health.set_service_status(service, status).await;
    }
}

/// Keeps the health status in step with the database: NOT_SERVING while it
/// cannot be reached, SERVING again as soon as it answers. Whether the pool
/// has a connection free does not count: a replica whose pool is busy still
/// serves, and a load balancer must not drop it for that.
async fn watch_database(store: Arc<dyn Store>, health: HealthReporter, every: Duration) {
    let mut serving = None;
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        // The store bounds its ping (on a connection of its own, so a busy
        // pool cannot fail it); this outer bound only guards against a store
        // that does not.
        let ok = match tokio::time::timeout(every.max(Duration::from_secs(3)), store.ping()).await {
            Ok(Ok(())) => true,
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "database health check failed");
                false
            }
            Err(_) => {
                tracing::warn!("database health check timed out");
                false
            }
        };
        if serving != Some(ok) {
            serving = Some(ok);
            let status = if ok {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            set_health(&health, status).await;
        }
    }
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
