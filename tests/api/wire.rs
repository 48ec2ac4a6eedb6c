//! What arrives on the wire before any message is decoded: a unary call
//! takes exactly one whole message, in gRPC's protobuf content type. Anything
//! else is the caller's fault and is refused before a handler runs, with
//! nothing written.

use prost::Message;
use ticketd::proto::pb;
use tonic::Code;

use crate::helpers::*;
use crate::support::raw::{RawAnswer, RawConnection, frame};

const CREATE_TICKET: &str = "/support.v1.TicketService/CreateTicket";
const HEALTH_CHECK: &str = "/grpc.health.v1.Health/Check";

fn ticket_message(request_id: &str) -> Vec<u8> {
    let mut request = chat_ticket("acme");
    request.request_id = request_id.to_owned();
    request.encode_to_vec()
}

#[track_caller]
fn assert_refused(answer: &RawAnswer, code: Code, reason: &str) {
    let status = answer.status.as_ref().expect("a gRPC status");
    assert_eq!(status.code(), code, "{answer:?}");
    assert_eq!(error_info(status).reason, reason, "{answer:?}");
}

async fn a_well_formed_raw_call_is_served(app: TestApp) {
    app.create_account("acme", pb::Plan::Pro).await;
    let mut raw = RawConnection::open(app.addr).await;
    let answer = raw
        .grpc(&app, CREATE_TICKET, frame(&ticket_message("raw-1")))
        .await;
    assert_eq!(answer.http, 200);
    assert_eq!(answer.status.map(|s| s.code()), Some(Code::Ok));
    assert_eq!(app.ticket_count().await, 1);
}

async fn two_messages_in_a_unary_call_are_refused_and_neither_is_written(app: TestApp) {
    app.create_account("acme", pb::Plan::Pro).await;
    let before = app.row_counts().await;
    let mut raw = RawConnection::open(app.addr).await;
    let body = [
        frame(&ticket_message("first")),
        frame(&ticket_message("second")),
    ]
    .concat();
    let answer = raw.grpc(&app, CREATE_TICKET, body).await;
    assert_refused(&answer, Code::InvalidArgument, "MALFORMED_REQUEST");
    assert_eq!(app.row_counts().await, before, "nothing written");
}

async fn a_json_content_type_is_refused_with_415_and_nothing_is_written(app: TestApp) {
    app.create_account("acme", pb::Plan::Pro).await;
    let before = app.row_counts().await;
    let mut raw = RawConnection::open(app.addr).await;
    let authorization = app.authorization();
    for content_type in ["application/json", "text/plain"] {
        let answer = raw
            .post(
                CREATE_TICKET,
                &[
                    ("content-type", content_type),
                    ("authorization", &authorization),
                ],
                frame(&ticket_message("json")),
            )
            .await;
        assert_eq!(answer.http, 415, "{content_type}: {answer:?}");
        assert_refused(&answer, Code::InvalidArgument, "UNSUPPORTED_CONTENT_TYPE");
    }
    // gRPC with another message format gets the status alone.
    let answer = raw
        .post(
            CREATE_TICKET,
            &[
                ("content-type", "application/grpc+json"),
                ("te", "trailers"),
                ("authorization", &authorization),
            ],
            frame(br#"{"account":"accounts/acme"}"#),
        )
        .await;
    assert_eq!(answer.http, 200);
    assert_refused(&answer, Code::InvalidArgument, "UNSUPPORTED_CONTENT_TYPE");
    assert_eq!(app.row_counts().await, before, "nothing written");
}

async fn broken_framing_is_invalid_argument_and_nothing_is_written(app: TestApp) {
    app.create_account("acme", pb::Plan::Pro).await;
    let before = app.row_counts().await;
    let message = ticket_message("broken");
    let mut truncated = frame(&message);
    truncated.truncate(truncated.len() - 10);
    let mut compressed = frame(&message);
    compressed[0] = 1;
    let mut bad_flag = frame(&message);
    bad_flag[0] = 9;
    let cases = [
        ("a message cut short", truncated),
        ("a length prefix cut short", vec![0, 0, 0]),
        ("a compressed flag without grpc-encoding", compressed),
        ("a flag that is neither 0 nor 1", bad_flag),
        ("no message at all", Vec::new()),
    ];
    let mut raw = RawConnection::open(app.addr).await;
    for (what, body) in cases {
        let answer = raw.grpc(&app, CREATE_TICKET, body).await;
        let status = answer.status.as_ref().expect(what);
        assert_eq!(status.code(), Code::InvalidArgument, "{what}: {answer:?}");
        assert_eq!(error_info(status).reason, "MALFORMED_REQUEST", "{what}");
    }
    assert_eq!(app.row_counts().await, before, "nothing written");
}

async fn the_health_service_answers_a_bad_payload_with_invalid_argument(app: TestApp) {
    let mut raw = RawConnection::open(app.addr).await;
    let grpc = [("content-type", "application/grpc"), ("te", "trailers")];
    // HealthCheckRequest.service (1) declared 5 bytes long, with 1 there.
    let answer = raw
        .post(HEALTH_CHECK, &grpc, frame(&[0x0a, 0x05, b'a']))
        .await;
    assert_refused(&answer, Code::InvalidArgument, "INVALID_FIELDS");
    let answer = raw
        .post(HEALTH_CHECK, &grpc, [frame(&[]), frame(&[])].concat())
        .await;
    assert_refused(&answer, Code::InvalidArgument, "MALFORMED_REQUEST");
    let answer = raw
        .post(
            HEALTH_CHECK,
            &[("content-type", "application/json")],
            frame(&[]),
        )
        .await;
    assert_eq!(answer.http, 415);
    // A good one still answers, with no credential.
    let answer = raw.post(HEALTH_CHECK, &grpc, frame(&[])).await;
    assert_eq!(answer.status.map(|s| s.code()), Some(Code::Ok));
}

on_every_store!(
    a_well_formed_raw_call_is_served,
    two_messages_in_a_unary_call_are_refused_and_neither_is_written,
    a_json_content_type_is_refused_with_415_and_nothing_is_written,
    broken_framing_is_invalid_argument_and_nothing_is_written,
);

/// The health service has no store to write to; one store will do.
mod health {
    use super::*;

    #[tokio::test]
    async fn the_health_service_answers_a_bad_payload_with_invalid_argument() {
        let app = spawn_app(Backend::Sqlite).await;
        super::the_health_service_answers_a_bad_payload_with_invalid_argument(app).await;
    }
}
