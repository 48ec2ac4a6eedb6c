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

#[tokio::test]
async fn health_reports_serving_for_the_server_and_each_service() {
    let app = spawn_app().await;
    wait_for_health(&app, ServingStatus::Serving).await;
    for service in ["support.v1.TicketService", "support.v1.PolicyService"] {
        assert_eq!(
            health_of(&app, service).await,
            ServingStatus::Serving,
            "{service}"
        );
    }
}

#[tokio::test]
async fn health_turns_not_serving_while_the_database_is_unreachable_and_recovers() {
    let app = spawn_app().await;
    wait_for_health(&app, ServingStatus::Serving).await;
    let db_name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let admin_url = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let mut admin = PgConnection::connect(&admin_url).await.unwrap();

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
    assert!(
        !status.message().to_lowercase().contains("sql"),
        "no database text: {}",
        status.message()
    );

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

#[tokio::test]
async fn reflection_lists_the_services() {
    let app = spawn_app().await;
    let channel = Channel::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = ServerReflectionClient::new(channel)
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

#[tokio::test]
async fn grpc_web_over_http1_reaches_the_same_services() {
    let app = spawn_app().await;
    // An HTTP/1.1-only client, as a browser's fetch would be.
    let http1 = Client::builder(TokioExecutor::new()).build_http();
    let service = tower::ServiceBuilder::new()
        .layer(tonic_web::GrpcWebClientLayer::new())
        .service(http1);
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

#[tokio::test]
async fn stopping_the_server_drains_and_then_refuses_new_calls() {
    let mut app = spawn_app().await;
    app.create_account("acme", pb::Plan::Pro).await;
    tokio::time::timeout(Duration::from_secs(5), app.stop())
        .await
        .expect("stops within the drain deadline")
        .expect("stops cleanly");
    let after = Channel::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .connect()
        .await;
    assert!(after.is_err(), "the port no longer accepts connections");
}
