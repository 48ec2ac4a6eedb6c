//! Deadlines: the client's `grpc-timeout` or the server's
//! `--request-timeout-ms`, whichever is shorter, answered DEADLINE_EXCEEDED
//! with its reason. What a CreateTicket past its deadline did is unknown to
//! its caller; a retry with the same request_id settles it, writing the
//! ticket once.

use std::time::Duration;

use prost::Message;
use ticketd::proto::pb;
use tonic::Code;

use crate::helpers::*;
use crate::support::raw::{RawConnection, frame};

async fn a_call_whose_grpc_timeout_has_passed_is_deadline_exceeded_and_a_retry_writes_it_once(
    app: TestApp,
) {
    app.create_account("acme", pb::Plan::Pro).await;
    let ticket = with_request_id(chat_ticket("acme"), "timed-out-1");
    // `grpc-timeout: 1n`: over before the server has read the request. Sent
    // raw, as tonic's client would give up on its own before the answer.
    let authorization = app.authorization();
    let answer = RawConnection::open(app.addr)
        .await
        .post(
            "/support.v1.TicketService/CreateTicket",
            &[
                ("content-type", "application/grpc"),
                ("te", "trailers"),
                ("grpc-timeout", "1n"),
                ("authorization", &authorization),
            ],
            frame(&ticket.encode_to_vec()),
        )
        .await;
    let status = answer.status.expect("a gRPC status");
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert_eq!(error_info(&status).reason, "DEADLINE_EXCEEDED");
    let first = app.create_ticket(ticket.clone()).await.unwrap();
    let again = app.create_ticket(ticket).await.unwrap();
    assert_eq!(again.name, first.name);
    assert_eq!(app.ticket_count().await, 1);
}

/// A CreateTicket held on the account's row lock past the server's
/// timeout: the caller is told DEADLINE_EXCEEDED while the write is still
/// queued; it lands once the lock is released, and the retry returns it.
async fn a_create_past_the_server_timeout_may_still_land_and_its_retry_returns_it_once(
    app: TestApp,
) {
    app.create_account("acme", pb::Plan::Pro).await;
    let blocker = lock_account_row(&app, "acme").await;
    let ticket = with_request_id(chat_ticket("acme"), "held-1");
    let started = tokio::time::Instant::now();
    let status = app
        .create_ticket(ticket.clone())
        .await
        .expect_err("past the server's timeout");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert_eq!(error_info(&status).reason, "DEADLINE_EXCEEDED");
    assert_eq!(
        error_info(&status).metadata["timeout_ms"],
        "300",
        "{status:?}"
    );
    blocker.commit().await.unwrap();
    let retried = app.create_ticket(ticket.clone()).await.unwrap();
    assert_eq!(app.create_ticket(ticket).await.unwrap().name, retried.name);
    assert_eq!(app.ticket_count().await, 1, "written once");
}

on_every_store!(
    a_call_whose_grpc_timeout_has_passed_is_deadline_exceeded_and_a_retry_writes_it_once,
);

mod short_server_timeout {
    on_configured_store!(
        a_create_past_the_server_timeout_may_still_land_and_its_retry_returns_it_once
            on Postgres with |c| c.request_timeout_ms = 300;
    );
}
