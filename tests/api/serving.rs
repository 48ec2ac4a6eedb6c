//! What operators and browsers rely on: health that follows the database,
//! reflection, gRPC-Web over HTTP/1.1, and a clean shutdown.

use std::time::Duration;

use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use sqlx::{Connection, PgConnection};
use ticketd::proto::pb;
use ticketd::proto::pb::policy_service_client::PolicyServiceClient;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

use crate::helpers::*;

async fn health_of(app: &TestApp, service: &str) -> ServingStatus {
    let channel = Channel::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    ServingStatus::try_from(response.status).unwrap()
}

/// Polls health until it reports `want`; the checker runs every 100 ms in tests.
async fn wait_for_health(app: &TestApp, want: ServingStatus) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let now = health_of(app, "").await;
        if now == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "health stuck at {now:?}, wanted {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn health_reports_serving_for_the_server_and_each_service(app: TestApp) {
    wait_for_health(&app, ServingStatus::Serving).await;
    for service in ["support.v1.TicketService", "support.v1.PolicyService"] {
        assert_eq!(
            health_of(&app, service).await,
            ServingStatus::Serving,
            "{service}"
        );
    }
}

async fn health_turns_not_serving_while_the_database_is_unreachable_and_recovers(app: TestApp) {
    wait_for_health(&app, ServingStatus::Serving).await;
    let db_name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(app.pg())
        .await
        .unwrap();
    let mut admin = PgConnection::connect(&admin_url()).await.unwrap();

    // Refuse new connections to this test's database and cut the existing ones.
    sqlx::query(&format!(
        r#"ALTER DATABASE "{db_name}" ALLOW_CONNECTIONS false"#
    ))
    .execute(&mut admin)
    .await
    .unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
        .bind(&db_name)
        .execute(&mut admin)
        .await
        .unwrap();
    wait_for_health(&app, ServingStatus::NotServing).await;
    let status = app.create_ticket(chat_ticket("acme")).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
    // The fixed message, nothing from the database (its name, its error text).
    assert_eq!(
        status.message(),
        "storage is temporarily unavailable; retry with backoff"
    );
    assert_eq!(error_info(&status).reason, "STORAGE_UNAVAILABLE");

    sqlx::query(&format!(
        r#"ALTER DATABASE "{db_name}" ALLOW_CONNECTIONS true"#
    ))
    .execute(&mut admin)
    .await
    .unwrap();
    wait_for_health(&app, ServingStatus::Serving).await;
    app.create_account("acme", pb::Plan::Pro).await;
    app.create_ticket(chat_ticket("acme"))
        .await
        .expect("serves again without a restart");
}

/// GetAccount with the pool's one connection in use: UNAVAILABLE once the
/// acquire timeout passes.
async fn pool_is_exhausted(app: &TestApp) -> bool {
    let status = app
        .tickets
        .clone()
        .get_account(pb::GetAccountRequest {
            name: account("acme"),
        })
        .await;
    matches!(status, Err(status) if status.code() == tonic::Code::Unavailable)
}

/// Starts an UpdateAccount that holds the server's only pooled connection
/// until the returned transaction, which holds the account's row (on
/// PostgreSQL) or the database's write lock (on SQLite), ends.
async fn hold_the_only_pooled_connection(app: &TestApp) -> (TestTx, InFlight) {
    app.create_account("acme", pb::Plan::Pro).await;
    let blocker = match &app.db {
        TestDb::Postgres { pool, .. } => {
            let mut tx = pool.begin().await.unwrap();
            sqlx::query("SELECT 1 FROM accounts WHERE id = 'acme' FOR UPDATE")
                .execute(&mut *tx)
                .await
                .unwrap();
            TestTx::Postgres(tx)
        }
        TestDb::Sqlite { pool, .. } => {
            let mut tx = pool.begin().await.unwrap();
            sqlx::query("UPDATE accounts SET display_name = display_name WHERE id = 'acme'")
                .execute(&mut *tx)
                .await
                .unwrap();
            TestTx::Sqlite(tx)
        }
    };
    let mut client = app.tickets.clone();
    let request = pb::UpdateAccountRequest {
        account: Some(pb::Account {
            name: account("acme"),
            display_name: "Held".into(),
            ..Default::default()
        }),
        update_mask: None,
    };
    let in_flight = tokio::spawn(async move { client.update_account(request).await });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    while !pool_is_exhausted(app).await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the held call never took the pool's connection"
        );
    }
    (blocker, in_flight)
}

enum TestTx {
    Postgres(#[allow(dead_code)] sqlx::Transaction<'static, sqlx::Postgres>),
    Sqlite(#[allow(dead_code)] sqlx::Transaction<'static, sqlx::Sqlite>),
}

async fn health_stays_serving_while_the_pool_is_exhausted(app: TestApp) {
    wait_for_health(&app, ServingStatus::Serving).await;
    let (blocker, in_flight) = hold_the_only_pooled_connection(&app).await;
    // Several health checks (every 100 ms) and acquire timeouts (300 ms).
    let until = tokio::time::Instant::now() + Duration::from_millis(1_500);
    while tokio::time::Instant::now() < until {
        assert_eq!(
            health_of(&app, "").await,
            ServingStatus::Serving,
            "health failed a reachable database because its pool was busy"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        pool_is_exhausted(&app).await,
        "the pool was in use throughout"
    );
    drop(blocker);
    in_flight
        .await
        .unwrap()
        .expect("the held call completes once released");
}

async fn reflection_lists_the_services(app: TestApp) {
    let channel = Channel::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = ServerReflectionClient::with_interceptor(channel, app.bearer())
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected reflection answer {response:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in ["support.v1.TicketService", "support.v1.PolicyService"] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
}

async fn grpc_web_over_http1_reaches_the_same_services(app: TestApp) {
    // An HTTP/1.1-only client, as a browser's fetch would be.
    let http1 = Client::builder(TokioExecutor::new()).build_http();
    let service = tower::ServiceBuilder::new()
        .layer(tonic_web::GrpcWebClientLayer::new())
        .service(http1);
    let service = tower::ServiceBuilder::new()
        .map_request({
            let authorization = app.authorization();
            move |mut request: tonic::codegen::http::Request<_>| {
                request
                    .headers_mut()
                    .insert("authorization", authorization.parse().unwrap());
                request
            }
        })
        .service(service);
    let mut client =
        PolicyServiceClient::with_origin(service, format!("http://{}", app.addr).parse().unwrap());
    let answer = client
        .check_channel(pb::CheckChannelRequest {
            plan: pb::Plan::Free.into(),
            channel: pb::Channel::Phone.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!answer.allowed);
}

type InFlight =
    tokio::task::JoinHandle<Result<tonic::Response<pb::UpdateAccountResponse>, tonic::Status>>;

/// Starts an UpdateAccount that stays in flight until the returned
/// transaction (holding the account's row lock) ends.
async fn call_held_on_a_row_lock(
    app: &TestApp,
    new_name: &str,
) -> (sqlx::Transaction<'static, sqlx::Postgres>, InFlight) {
    app.create_account("acme", pb::Plan::Pro).await;
    let blocker = lock_account_row(app, "acme").await;
    let mut client = app.tickets.clone();
    let request = pb::UpdateAccountRequest {
        account: Some(pb::Account {
            name: account("acme"),
            display_name: new_name.into(),
            ..Default::default()
        }),
        update_mask: None,
    };
    let in_flight = tokio::spawn(async move { client.update_account(request).await });
    wait_until_waiting_on_lock(app).await;
    (blocker, in_flight)
}

async fn stopping_the_server_drains_and_then_refuses_new_calls(mut app: TestApp) {
    let (blocker, in_flight) = call_held_on_a_row_lock(&app, "Acme Renamed").await;
    let started = tokio::time::Instant::now();
    let mut stopping = tokio::spawn(async move {
        let result = app.stop().await;
        (app, result)
    });
    // While the call is held, the server must not have stopped.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut stopping)
            .await
            .is_err(),
        "the server stopped with a call in flight"
    );
    blocker.commit().await.unwrap();

    let renamed = in_flight
        .await
        .unwrap()
        .expect("the in-flight call completes");
    assert_eq!(
        renamed.into_inner().account.unwrap().display_name,
        "Acme Renamed"
    );
    let (app, result) = stopping.await.unwrap();
    result.expect("drained before the deadline");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "stopped well before the drain deadline"
    );
    let after = Channel::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .connect()
        .await;
    assert!(after.is_err(), "the port no longer accepts connections");
}

async fn a_call_held_past_the_drain_deadline_makes_the_stop_fail_loudly(mut app: TestApp) {
    let (blocker, _in_flight) = call_held_on_a_row_lock(&app, "Never").await;
    let result = tokio::time::timeout(Duration::from_secs(10), app.stop())
        .await
        .expect("gives up at the drain deadline (2 s in tests)");
    assert!(result.is_err(), "a cut-off drain is reported, not hidden");
    drop(blocker);
}

/// Waits until a session of the test database is blocked on a lock.
async fn health_reports_not_serving_during_the_shutdown_grace_period(app: TestApp) {
    let mut app = app;
    wait_for_health(&app, ServingStatus::Serving).await;
    let probe = Channel::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let stop = app.shutdown.take().expect("running");
    stop.send(()).unwrap();
    // During the grace period the server still answers, and says it is going.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let status = HealthClient::new(probe.clone())
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .expect("still answering during the grace period")
            .into_inner()
            .status;
        if status == ServingStatus::NotServing as i32 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never reported NOT_SERVING"
        );
    }
    app.stop().await.expect("stops after the grace period");
}

async fn preflight(
    app: &TestApp,
    origin: &str,
) -> tonic::codegen::http::Response<hyper::body::Incoming> {
    use tonic::codegen::http::{Method, Request};
    let client = Client::builder(TokioExecutor::new()).build_http::<tonic::body::Body>();
    let request = Request::builder()
        .method(Method::OPTIONS)
        .uri(format!(
            "http://{}/support.v1.PolicyService/GetPolicy",
            app.addr
        ))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type,x-grpc-web")
        .body(tonic::body::Body::empty())
        .unwrap();
    client.request(request).await.unwrap()
}

async fn cors_preflight_admits_only_the_configured_origins(app: TestApp) {
    let allowed = preflight(&app, "https://support.example.com").await;
    let header = |name: &str| {
        allowed
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    assert_eq!(
        header("access-control-allow-origin"),
        "https://support.example.com"
    );
    assert!(header("access-control-allow-headers").contains("x-grpc-web"));

    // The call itself: a gRPC-Web GetPolicy with an empty message frame.
    use tonic::codegen::http::{Method, Request};
    let client = Client::builder(TokioExecutor::new()).build_http::<tonic::body::Body>();
    let call = Request::builder()
        .method(Method::POST)
        .uri(format!(
            "http://{}/support.v1.PolicyService/GetPolicy",
            app.addr
        ))
        .header("origin", "https://support.example.com")
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .body(tonic::body::Body::new(http_body_util::Full::new(
            hyper::body::Bytes::from_static(&[0, 0, 0, 0, 0]),
        )))
        .unwrap();
    let response = client.request(call).await.unwrap();
    assert_eq!(response.status(), 200);
    let expose = response
        .headers()
        .get("access-control-expose-headers")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(expose.contains("grpc-status"), "{expose}");
    assert!(expose.contains("grpc-status-details-bin"), "{expose}");

    let refused = preflight(&app, "https://evil.example.net").await;
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

mod with_cors {
    on_configured_store!(
        cors_preflight_admits_only_the_configured_origins on Sqlite with |c| {
            c.cors_allowed_origins = vec!["https://support.example.com".into()]
        };
    );
}

mod with_grace {
    use super::*;

    macro_rules! grace_test {
        ($name:ident, $backend:expr) => {
            #[tokio::test]
            async fn $name() {
                let app = spawn_app_with($backend, |c| c.shutdown_grace_ms = 1_000).await;
                health_reports_not_serving_during_the_shutdown_grace_period(app).await
            }
        };
    }
    grace_test!(postgres, Backend::Postgres);
    grace_test!(sqlite, Backend::Sqlite);
}

mod busy_pool {
    use super::*;

    macro_rules! busy_pool_test {
        ($name:ident, $backend:expr) => {
            #[tokio::test]
            async fn $name() {
                let app = spawn_app_with($backend, |c| {
                    c.db_pool_size = Some(1);
                    c.db_acquire_timeout_ms = 300;
                })
                .await;
                health_stays_serving_while_the_pool_is_exhausted(app).await
            }
        };
    }
    busy_pool_test!(health_stays_serving_on_postgres, Backend::Postgres);
    busy_pool_test!(health_stays_serving_on_sqlite, Backend::Sqlite);
}

on_every_store!(
    health_reports_serving_for_the_server_and_each_service,
    reflection_lists_the_services,
    grpc_web_over_http1_reaches_the_same_services,
);

on_postgres!(
    health_turns_not_serving_while_the_database_is_unreachable_and_recovers,
    stopping_the_server_drains_and_then_refuses_new_calls,
    a_call_held_past_the_drain_deadline_makes_the_stop_fail_loudly,
);
