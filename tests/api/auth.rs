//! Authentication and scopes: every RPC × every role, bad tokens,
//! revocation, last use, rate limits, load shedding, timeouts and TLS.

use std::collections::BTreeSet;
use std::time::Duration;

use ticketd::client::{Bearer, policy_client, ticket_client};
use ticketd::domain::access::Role;
use ticketd::domain::policy::Channel as TicketChannel;
use ticketd::proto::pb;
use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;
use tonic_types::StatusExt;

use crate::helpers::{
    Backend, TestApp, account, chat_ticket, error_info, lock_account_row, phone_ticket,
    spawn_app_with, wait_until_waiting_on_lock, web_ticket,
};
use crate::support::rpcs::{Call, Clients};

/// A call to each RPC the contract has (CreateTicket once per channel),
/// with a request that is valid where that is cheap and empty elsewhere: an
/// allowed caller may then get INVALID_ARGUMENT or NOT_FOUND, never
/// UNAUTHENTICATED or PERMISSION_DENIED.
fn matrix_calls() -> Vec<Call> {
    vec![
        Call::CreateAccount(pb::CreateAccountRequest::default()),
        Call::GetAccount(pb::GetAccountRequest {
            name: account("acme"),
        }),
        Call::UpdateAccount(pb::UpdateAccountRequest::default()),
        Call::ListAccounts(pb::ListAccountsRequest::default()),
        Call::CreateTicket(chat_ticket("acme")),
        Call::CreateTicket(phone_ticket("acme")),
        Call::CreateTicket(web_ticket("acme")),
        Call::GetTicket(pb::GetTicketRequest {
            name: "tickets/1".into(),
        }),
        Call::ListTickets(pb::ListTicketsRequest::default()),
        Call::Acknowledge(pb::AcknowledgeTicketRequest::default()),
        Call::UpdateStatus(pb::UpdateTicketStatusRequest::default()),
        Call::Resolve(pb::ResolveTicketRequest::default()),
        Call::AnswerSurvey(pb::AnswerSurveyRequest::default()),
        Call::ListSurveys(pb::ListSurveysRequest::default()),
        Call::Reopen(pb::ReopenTicketRequest::default()),
        Call::Close(pb::CloseTicketRequest::default()),
        Call::Reprioritize(pb::ReprioritizeTicketRequest::default()),
        Call::ListEvents(pb::ListTicketEventsRequest::default()),
        Call::ListByDeadline(pb::ListTicketsByDeadlineRequest::default()),
        Call::ComplianceReport(pb::GetComplianceReportRequest::default()),
        Call::CreateServiceRequest(pb::CreateServiceRequestRequest::default()),
        Call::GetServiceRequest(pb::GetServiceRequestRequest::default()),
        Call::ListServiceRequests(pb::ListServiceRequestsRequest::default()),
        Call::UpdateServiceRequestStatus(pb::UpdateServiceRequestStatusRequest::default()),
        Call::Watch(pb::WatchSlaStatusRequest::default()),
        Call::GetPolicy(pb::GetPolicyRequest::default()),
        Call::CheckChannel(pb::CheckChannelRequest::default()),
        Call::ClassifyPriority(pb::ClassifyPriorityRequest::default()),
        Call::ComputeDeadline(pb::ComputeDeadlineRequest::default()),
        Call::ValidatePolicyDocument(pb::ValidatePolicyDocumentRequest::default()),
    ]
}

/// The scope a call needs, and for ticket creation the channel, written out
/// here rather than read from the server's table so the two are checked
/// against each other. The match is exhaustive: a new RPC does not compile
/// until it says what it needs.
fn needs(call: &Call) -> (&'static str, Option<&'static str>) {
    use pb::create_ticket_request::Origin;
    match call {
        Call::CreateAccount(_) | Call::UpdateAccount(_) | Call::ValidatePolicyDocument(_) => {
            ("admin", None)
        }
        Call::CreateTicket(request) => {
            let channel = match request.origin {
                Some(Origin::Chat(_)) => "CHANNEL_CHAT",
                Some(Origin::PhoneCall(_)) => "CHANNEL_PHONE",
                Some(Origin::WebForm(_)) => "CHANNEL_WEB_FORM",
                None => panic!("the matrix creates tickets on a channel"),
            };
            ("tickets.create", Some(channel))
        }
        Call::GetAccount(_)
        | Call::ListAccounts(_)
        | Call::GetTicket(_)
        | Call::ListTickets(_)
        | Call::ListSurveys(_)
        | Call::ListEvents(_)
        | Call::ListByDeadline(_)
        | Call::ComplianceReport(_)
        | Call::GetServiceRequest(_)
        | Call::ListServiceRequests(_) => ("tickets.read", None),
        Call::Acknowledge(_)
        | Call::UpdateStatus(_)
        | Call::Resolve(_)
        | Call::Reopen(_)
        | Call::Close(_)
        | Call::Reprioritize(_)
        | Call::UpdateServiceRequestStatus(_) => ("tickets.act", None),
        Call::AnswerSurvey(_) => ("surveys.answer", None),
        Call::CreateServiceRequest(_) => ("service_requests.create", None),
        Call::Watch(_) => ("sla.watch", None),
        Call::GetPolicy(_)
        | Call::CheckChannel(_)
        | Call::ClassifyPriority(_)
        | Call::ComputeDeadline(_) => ("policy.read", None),
    }
}

/// A caller in the matrix: a role (with its channels), or no credential.
#[derive(Debug, Clone, Copy)]
enum Caller {
    Anonymous,
    Intake(TicketChannel),
    Dashboard,
    Agent,
    Admin,
}

impl Caller {
    /// Whether the caller may make a call that needs `scope` (and, to
    /// create a ticket, `channel`), from the roles as documented.
    fn may(self, scope: &str, channel: Option<&str>) -> bool {
        match self {
            Caller::Anonymous => false,
            Caller::Admin => true,
            Caller::Intake(own) => match scope {
                "tickets.create" => channel == Some(proto_channel(own)),
                s => ["surveys.answer", "service_requests.create", "policy.read"].contains(&s),
            },
            Caller::Dashboard => ["tickets.read", "sla.watch", "policy.read"].contains(&scope),
            Caller::Agent => {
                ["tickets.read", "sla.watch", "tickets.act", "policy.read"].contains(&scope)
            }
        }
    }
}

fn proto_channel(channel: TicketChannel) -> &'static str {
    match channel {
        TicketChannel::Chat => "CHANNEL_CHAT",
        TicketChannel::Phone => "CHANNEL_PHONE",
        TicketChannel::WebForm => "CHANNEL_WEB_FORM",
    }
}

async fn every_rpc_answers_every_role_as_its_scopes_say(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    let callers = [
        Caller::Anonymous,
        Caller::Intake(TicketChannel::Chat),
        Caller::Intake(TicketChannel::Phone),
        Caller::Intake(TicketChannel::WebForm),
        Caller::Dashboard,
        Caller::Agent,
        Caller::Admin,
    ];
    let mut cells = 0;
    for (i, caller) in callers.into_iter().enumerate() {
        let (tickets, policy) = match caller {
            Caller::Anonymous => (
                ticket_client(app.channel.clone(), Bearer::none()),
                policy_client(app.channel.clone(), Bearer::none()),
            ),
            Caller::Intake(channel) => app.clients_with(
                &app.issue(&format!("intake-{i}"), Role::Intake, &[channel])
                    .await,
            ),
            Caller::Dashboard => app.clients_with(&app.issue("wall", Role::Dashboard, &[]).await),
            Caller::Agent => app.clients_with(&app.issue("ana", Role::Agent, &[]).await),
            Caller::Admin => app.clients_with(&app.issue("ops", Role::Admin, &[]).await),
        };
        let mut clients = Clients { tickets, policy };
        for call in matrix_calls() {
            let (scope, channel) = needs(&call);
            let rpc = match channel {
                Some(channel) => format!("{} on {channel}", call.method()),
                None => call.method().to_owned(),
            };
            let result = call.send(&mut clients).await;
            let code = result.as_ref().err().map(|s| s.code());
            let cell = format!("{caller:?} × {rpc}: {result:?}");
            match caller {
                Caller::Anonymous => assert_eq!(code, Some(Code::Unauthenticated), "{cell}"),
                _ if caller.may(scope, channel) => assert!(
                    !matches!(code, Some(Code::Unauthenticated | Code::PermissionDenied)),
                    "{cell}"
                ),
                _ => {
                    let status = result.expect_err(&cell);
                    assert_eq!(status.code(), Code::PermissionDenied, "{cell}");
                    let info = error_info(&status);
                    assert_eq!(info.reason, "MISSING_SCOPE", "{cell}");
                    assert_eq!(
                        info.metadata.get("scope").map(String::as_str),
                        Some(scope),
                        "{cell}"
                    );
                    // The channel is named to callers that create tickets,
                    // just not on this channel.
                    let channel = channel.filter(|_| matches!(caller, Caller::Intake(_)));
                    assert_eq!(
                        info.metadata.get("channel").map(String::as_str),
                        channel,
                        "{cell}"
                    );
                    assert!(status.message().contains(scope), "{cell}");
                }
            }
            cells += 1;
        }
    }
    assert_eq!(cells, callers.len() * matrix_calls().len());
}

/// The matrix names every method of the contract (the shared RPC list is
/// checked against it), and creates tickets on every channel, so a new RPC
/// cannot arrive without a row.
#[test]
fn the_matrix_covers_every_method_of_the_contract() {
    let calls = matrix_calls();
    let matrix: BTreeSet<String> = calls.iter().map(|c| c.method().to_owned()).collect();
    assert_eq!(crate::support::rpcs::methods(), matrix);
    let channels: BTreeSet<&str> = calls.iter().filter_map(|c| needs(c).1).collect();
    let every_channel = [
        TicketChannel::Chat,
        TicketChannel::Phone,
        TicketChannel::WebForm,
    ];
    assert_eq!(channels, every_channel.map(proto_channel).into());
}

async fn bad_tokens_are_unauthenticated_and_health_needs_none(app: TestApp) {
    let valid = app.token.clone();
    let (id, _) = valid.trim_start_matches("tkd_").split_once('_').unwrap();
    let wrong_secret = format!("tkd_{id}_{}", "0".repeat(64));
    let unknown_id = format!("tkd_{}_{}", "f".repeat(16), "0".repeat(64));
    for authorization in [
        "".to_owned(),
        "Bearer".to_owned(),
        "Basic dXNlcjpwYXNz".to_owned(),
        format!("Bearer {}", &valid[..valid.len() - 2]),
        format!("Bearer {wrong_secret}"),
        format!("Bearer {unknown_id}"),
        valid.clone(),
    ] {
        let mut request = tonic::Request::new(pb::GetPolicyRequest::default());
        if !authorization.is_empty() {
            request
                .metadata_mut()
                .insert("authorization", authorization.parse().unwrap());
        }
        let status = policy_client(app.channel.clone(), Bearer::none())
            .get_policy(request)
            .await
            .expect_err(&authorization);
        assert_eq!(status.code(), Code::Unauthenticated, "{authorization}");
        assert_eq!(error_info(&status).reason, "UNAUTHENTICATED");
        assert!(
            !status.message().contains(&valid[20..]),
            "a secret is echoed: {status:?}"
        );
    }
    let health = HealthClient::new(app.channel.clone())
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await;
    assert!(health.is_ok(), "{health:?}");
}

async fn a_revoked_credential_stops_working_within_the_cache_time(app: TestApp) {
    let token = app.issue("wall", Role::Dashboard, &[]).await;
    let (_, mut policy) = app.clients_with(&token);
    policy
        .get_policy(pb::GetPolicyRequest::default())
        .await
        .expect("valid before revocation");
    app.store()
        .revoke_credential("wall", app.clock_now())
        .await
        .unwrap();
    // The server caches credentials for --auth-cache-ms (200 ms here).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let status = loop {
        match policy.get_policy(pb::GetPolicyRequest::default()).await {
            Err(status) => break status,
            Ok(_) => assert!(tokio::time::Instant::now() < deadline, "still accepted"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(status.message().contains("revoked"), "{status:?}");
    // A new credential under the same name works: names pick live ones.
    let again = app.issue("wall", Role::Dashboard, &[]).await;
    app.clients_with(&again)
        .1
        .get_policy(pb::GetPolicyRequest::default())
        .await
        .expect("reissued credential works");
}

async fn each_credentials_last_use_is_recorded(app: TestApp) {
    let token = app
        .issue("chat-platform", Role::Intake, &[TicketChannel::Chat])
        .await;
    let last_use = |app: &TestApp| {
        let store = app.store().clone();
        async move {
            store
                .list_credentials()
                .await
                .unwrap()
                .into_iter()
                .find(|c| c.name == "chat-platform")
                .unwrap()
                .last_use_time
        }
    };
    assert_eq!(last_use(&app).await, None, "never used yet");
    app.clock.advance(chrono::Duration::minutes(5));
    app.clients_with(&token)
        .1
        .get_policy(pb::GetPolicyRequest::default())
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while last_use(&app).await.is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "last use never written"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(last_use(&app).await, Some(app.clock_now()));
}

/// `burst` GetPolicy calls with `token`, each answered, then the refusal of
/// the next.
async fn refusal_after_the_burst(app: &TestApp, token: &str, burst: usize) -> tonic::Status {
    let (_, mut policy) = app.clients_with(token);
    for _ in 0..burst {
        policy
            .get_policy(pb::GetPolicyRequest::default())
            .await
            .unwrap();
    }
    policy
        .get_policy(pb::GetPolicyRequest::default())
        .await
        .expect_err("over the limit")
}

async fn a_credential_over_its_rate_gets_resource_exhausted_with_retry_after(app: TestApp) {
    let token = app
        .issue("chat-platform", Role::Intake, &[TicketChannel::Chat])
        .await;
    // Burst 3 at 1 call per second: three pass, the fourth waits ~1 s.
    let status = refusal_after_the_burst(&app, &token, 3).await;
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert_eq!(error_info(&status).reason, "RATE_LIMITED");
    assert_eq!(
        status
            .metadata()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let delay = status
        .get_details_retry_info()
        .and_then(|r| r.retry_delay)
        .expect("RetryInfo");
    assert!(
        delay > Duration::from_millis(900) && delay <= Duration::from_secs(1),
        "{delay:?}"
    );
    // Limits are per credential: the administrator is not held up.
    app.policy
        .clone()
        .get_policy(pb::GetPolicyRequest::default())
        .await
        .unwrap();
}

/// GetPolicy sent with `authorization` metadata `values`, in order.
async fn get_policy_with(
    app: &TestApp,
    values: &[String],
) -> Result<tonic::Response<pb::GetPolicyResponse>, tonic::Status> {
    let mut request = tonic::Request::new(pb::GetPolicyRequest::default());
    for value in values {
        request
            .metadata_mut()
            .append("authorization", value.parse().unwrap());
    }
    policy_client(app.channel.clone(), Bearer::none())
        .get_policy(request)
        .await
}

async fn the_bearer_scheme_is_recognised_in_any_case(app: TestApp) {
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        get_policy_with(&app, &[format!("{scheme} {}", app.token)])
            .await
            .unwrap_or_else(|status| panic!("{scheme}: {status:?}"));
    }
}

async fn two_authorization_entries_are_refused_as_ambiguous(app: TestApp) {
    let other = app.issue("wall", Role::Dashboard, &[]).await;
    let admin = app.authorization();
    for values in [
        [admin.clone(), format!("Bearer {other}")],
        [format!("Bearer {other}"), admin.clone()],
        [admin.clone(), admin.clone()],
        [admin.clone(), "Basic dXNlcjpwYXNz".to_owned()],
    ] {
        let status = get_policy_with(&app, &values)
            .await
            .expect_err("two credentials are ambiguous");
        assert_eq!(status.code(), Code::Unauthenticated, "{values:?}");
        assert_eq!(error_info(&status).reason, "UNAUTHENTICATED");
        assert_eq!(
            status.message(),
            "more than one authorization metadata entry: send exactly one"
        );
    }
}

async fn a_rate_limit_refusal_gives_one_wait_in_retry_after_retry_info_and_error_info(
    app: TestApp,
) {
    let token = app.issue("wall", Role::Dashboard, &[]).await;
    let status = refusal_after_the_burst(&app, &token, 1).await;
    assert_eq!(error_info(&status).reason, "RATE_LIMITED");
    let header: u64 = status
        .metadata()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("retry-after in whole seconds");
    let millis: u64 = error_info(&status).metadata["retry_after_ms"]
        .parse()
        .expect("retry_after_ms in milliseconds");
    let delay = status
        .get_details_retry_info()
        .and_then(|r| r.retry_delay)
        .expect("RetryInfo");
    // One call a second: the wait is just under a second, never zero.
    assert!((1..=1_000).contains(&millis), "{millis} ms");
    assert_eq!(delay, Duration::from_millis(millis), "RetryInfo");
    assert_eq!(header, millis.div_ceil(1_000), "retry-after");
}

async fn calls_beyond_the_in_flight_limit_are_shed_at_once(app: TestApp) {
    app.create_account("acme", pb::Plan::Pro).await;
    // Hold the one in-flight slot with a call waiting on a row lock.
    let blocker = lock_account_row(&app, "acme").await;
    let mut client = app.tickets.clone();
    let held = tokio::spawn(async move {
        client
            .update_account(pb::UpdateAccountRequest {
                account: Some(pb::Account {
                    name: account("acme"),
                    display_name: "Held".into(),
                    ..Default::default()
                }),
                update_mask: None,
            })
            .await
    });
    wait_until_waiting_on_lock(&app).await;
    let started = tokio::time::Instant::now();
    let status = app
        .policy
        .clone()
        .get_policy(pb::GetPolicyRequest::default())
        .await
        .expect_err("shed");
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(error_info(&status).reason, "OVERLOADED");
    // Health checks are never shed.
    HealthClient::new(app.channel.clone())
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health answers under load");
    blocker.commit().await.unwrap();
    held.await.unwrap().expect("the held call completes");
    app.policy
        .clone()
        .get_policy(pb::GetPolicyRequest::default())
        .await
        .expect("served again once the slot is free");
}

/// One credential flooding the server gets no more than its share of the
/// in-flight limit (a quarter, 2 of 8 here); the rest is left to others.
async fn one_credentials_flood_leaves_room_for_the_others(app: TestApp) {
    app.create_account("acme", pb::Plan::Pro).await;
    let dashboard = app.issue("wall", Role::Dashboard, &[]).await;
    let blocker = lock_account_row(&app, "acme").await;
    // The administrator floods with calls that wait on the row lock.
    const FLOOD: usize = 10;
    let (done_tx, mut done) = tokio::sync::mpsc::unbounded_channel();
    for i in 0..FLOOD {
        let mut client = app.tickets.clone();
        let done_tx = done_tx.clone();
        tokio::spawn(async move {
            let result = client
                .update_account(pb::UpdateAccountRequest {
                    account: Some(pb::Account {
                        name: account("acme"),
                        display_name: format!("Flood {i}"),
                        ..Default::default()
                    }),
                    update_mask: None,
                })
                .await;
            let _ = done_tx.send(result);
        });
    }
    // All but its share are refused at once.
    for _ in 0..FLOOD - 2 {
        let status = tokio::time::timeout(Duration::from_secs(5), done.recv())
            .await
            .expect("the flood beyond the credential's share is refused at once")
            .unwrap()
            .expect_err("refused");
        assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
        assert_eq!(error_info(&status).reason, "CREDENTIAL_IN_FLIGHT_LIMIT");
        assert_eq!(error_info(&status).metadata["limit"], "2");
    }
    // Another credential is served while the flood is held.
    let (mut tickets, mut policy) = app.clients_with(&dashboard);
    for _ in 0..5 {
        policy
            .get_policy(pb::GetPolicyRequest::default())
            .await
            .expect("another credential is served during the flood");
        tickets
            .get_account(pb::GetAccountRequest {
                name: account("acme"),
            })
            .await
            .expect("another credential is served during the flood");
    }
    blocker.commit().await.unwrap();
    for _ in 0..2 {
        done.recv().await.unwrap().expect("the held calls complete");
    }
}

async fn a_call_past_the_server_timeout_ends_and_leaves_no_open_transaction(app: TestApp) {
    app.create_account("acme", pb::Plan::Pro).await;
    let blocker = lock_account_row(&app, "acme").await;
    let started = tokio::time::Instant::now();
    let status = app
        .tickets
        .clone()
        .update_account(pb::UpdateAccountRequest {
            account: Some(pb::Account {
                name: account("acme"),
                display_name: "Timed out".into(),
                ..Default::default()
            }),
            update_mask: None,
        })
        .await
        .expect_err("times out");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(2),
        "{took:?}"
    );
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert_eq!(error_info(&status).reason, "DEADLINE_EXCEEDED");
    blocker.rollback().await.unwrap();
    // Nothing of the abandoned call may hold a session inside a transaction.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let open: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() \
             AND state LIKE 'idle in transaction%'",
        )
        .fetch_one(app.pg())
        .await
        .unwrap();
        if open == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{open} sessions idle in transaction"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // As with any deadline, the outcome of the abandoned call is unknown to
    // its client (the statement was already with the database); the server
    // itself must be unharmed.
    app.tickets
        .clone()
        .get_account(pb::GetAccountRequest {
            name: account("acme"),
        })
        .await
        .expect("served after the timeout");
}

fn tls_file(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

fn read_tls(name: &str) -> Vec<u8> {
    std::fs::read(tls_file(name)).unwrap()
}

async fn tls_channel(
    app: &TestApp,
    client_identity: bool,
) -> Result<Channel, tonic::transport::Error> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(read_tls("ca.pem")))
        .domain_name("localhost");
    if client_identity {
        tls = tls.identity(Identity::from_pem(
            read_tls("client.pem"),
            read_tls("client.key"),
        ));
    }
    Channel::from_shared(format!("https://localhost:{}", app.addr.port()))
        .unwrap()
        .tls_config(tls)?
        .connect()
        .await
}

async fn with_tls_the_server_speaks_only_tls(app: TestApp) {
    let channel = tls_channel(&app, false).await.expect("TLS handshake");
    policy_client(channel, app.bearer())
        .get_policy(pb::GetPolicyRequest::default())
        .await
        .expect("served over TLS");
    let plaintext = policy_client(app.channel.clone(), app.bearer())
        .get_policy(pb::GetPolicyRequest::default())
        .await;
    assert!(plaintext.is_err(), "plaintext call served: {plaintext:?}");
}

async fn with_a_client_ca_only_clients_with_certificates_get_in(app: TestApp) {
    let without = match tls_channel(&app, false).await {
        Err(err) => Err(err.to_string()),
        Ok(channel) => policy_client(channel, app.bearer())
            .get_policy(pb::GetPolicyRequest::default())
            .await
            .map(drop)
            .map_err(|s| s.to_string()),
    };
    assert!(
        without.is_err(),
        "a client without a certificate was served"
    );
    let channel = tls_channel(&app, true).await.expect("mutual TLS handshake");
    policy_client(channel, app.bearer())
        .get_policy(pb::GetPolicyRequest::default())
        .await
        .expect("served with a client certificate");
}

async fn reflection_needs_a_credential_unless_configured_open(app: TestApp) {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    let list = || {
        tokio_stream::iter([ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        }])
    };
    let anonymous = ServerReflectionClient::new(app.channel.clone())
        .server_reflection_info(list())
        .await;
    assert_eq!(
        anonymous.map(drop).unwrap_err().code(),
        Code::Unauthenticated
    );
    ServerReflectionClient::with_interceptor(app.channel.clone(), app.bearer())
        .server_reflection_info(list())
        .await
        .expect("reflection with a credential");
    let open = spawn_app_with(Backend::Sqlite, |c| c.reflection_open = true).await;
    ServerReflectionClient::new(open.channel.clone())
        .server_reflection_info(list())
        .await
        .expect("open reflection needs no credential");
}

on_every_store!(
    every_rpc_answers_every_role_as_its_scopes_say,
    bad_tokens_are_unauthenticated_and_health_needs_none,
    each_credentials_last_use_is_recorded,
    reflection_needs_a_credential_unless_configured_open,
    the_bearer_scheme_is_recognised_in_any_case,
    two_authorization_entries_are_refused_as_ambiguous,
);

mod small_limits {
    use super::tls_file;

    on_configured_store!(
        a_revoked_credential_stops_working_within_the_cache_time
            on Postgres with |c| c.auth_cache_ms = 200;
        a_credential_over_its_rate_gets_resource_exhausted_with_retry_after
            on Sqlite with |c| {
                c.rate_limit_rps = 1;
                c.rate_limit_burst = 3;
            };
        a_rate_limit_refusal_gives_one_wait_in_retry_after_retry_info_and_error_info
            on Sqlite with |c| {
                c.rate_limit_rps = 1;
                c.rate_limit_burst = 1;
            };
        calls_beyond_the_in_flight_limit_are_shed_at_once
            on Postgres with |c| c.max_in_flight = 1;
        one_credentials_flood_leaves_room_for_the_others
            on Postgres with |c| c.max_in_flight = 8;
        a_call_past_the_server_timeout_ends_and_leaves_no_open_transaction
            on Postgres with |c| c.request_timeout_ms = 300;
        with_tls_the_server_speaks_only_tls
            on Sqlite with |c| {
                c.tls_cert = Some(tls_file("server.pem"));
                c.tls_key = Some(tls_file("server.key").into());
            };
        with_a_client_ca_only_clients_with_certificates_get_in
            on Sqlite with |c| {
                c.tls_cert = Some(tls_file("server.pem"));
                c.tls_key = Some(tls_file("server.key").into());
                c.tls_client_ca = Some(tls_file("ca.pem"));
            };
    );
}
