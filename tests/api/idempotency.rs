//! AIP-155 request ids on CreateTicket.

use chrono::Duration;
use ticketd::proto::pb;
use tonic::Code;

use crate::helpers::*;

async fn a_retry_with_the_same_request_id_returns_the_first_ticket_and_writes_nothing(
    app: TestApp,
) {
    app.create_account("acme", pb::Plan::Pro).await;
    let request = with_request_id(chat_ticket("acme"), "5b0c7a1e-2f3d-4c55-9a0e-1f2e3d4c5b6a");
    let first = app.create_ticket(request.clone()).await.unwrap();
    app.clock.advance(Duration::minutes(5));
    let retry = app.create_ticket(request).await.unwrap();
    assert_eq!(
        retry, first,
        "the retry sees the first result, receipt time included"
    );
    assert_eq!(app.ticket_count().await, 1);
}

async fn the_same_request_id_with_different_content_is_refused(app: TestApp) {
    app.create_account("acme", pb::Plan::Pro).await;
    app.create_ticket(with_request_id(chat_ticket("acme"), "req-1"))
        .await
        .unwrap();
    let mut other = with_request_id(chat_ticket("acme"), "req-1");
    other.subject = "A different problem".into();
    let status = app.create_ticket(other).await.unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    assert_eq!(error_info(&status).reason, "REQUEST_ID_REUSED");
    assert_eq!(app.ticket_count().await, 1);
}

async fn twenty_concurrent_duplicates_produce_one_ticket(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    let request = with_request_id(phone_ticket("acme"), "ivr-call-0001-attempt");
    let attempts = (0..20).map(|_| {
        let mut client = app.tickets.clone();
        let request = request.clone();
        tokio::spawn(async move { client.create_ticket(request).await })
    });
    let mut names = Vec::new();
    for attempt in attempts {
        let ticket = attempt.await.unwrap().unwrap().into_inner().ticket.unwrap();
        names.push(ticket.name);
    }
    names.dedup();
    assert_eq!(names.len(), 1, "every caller got the same ticket");
    assert_eq!(app.ticket_count().await, 1);
}

async fn a_retry_after_the_plan_lost_the_channel_still_returns_the_ticket(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    let request = with_request_id(phone_ticket("acme"), "call-77");
    let first = app.create_ticket(request.clone()).await.unwrap();
    app.change_plan("acme", pb::Plan::Free).await.unwrap();
    assert_eq!(app.create_ticket(request).await.unwrap(), first);
    assert_eq!(app.ticket_count().await, 1);
}

async fn a_malformed_request_id_is_refused(app: TestApp) {
    app.create_account("acme", pb::Plan::Pro).await;
    for bad in ["has space", &"x".repeat(65)] {
        let status = app
            .create_ticket(with_request_id(chat_ticket("acme"), bad))
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&status), ["request_id"]);
    }
    assert_eq!(app.ticket_count().await, 0);
}

async fn request_ids_are_scoped_to_their_account(app: TestApp) {
    app.create_account("acme", pb::Plan::Pro).await;
    app.create_account("globex", pb::Plan::Pro).await;
    let acme = app
        .create_ticket(with_request_id(chat_ticket("acme"), "shared-id"))
        .await
        .unwrap();
    let globex = app
        .create_ticket(with_request_id(chat_ticket("globex"), "shared-id"))
        .await
        .expect("another account's key does not collide");
    assert_ne!(acme.name, globex.name);
    assert_eq!(app.ticket_count().await, 2);
}

on_every_store!(
    a_retry_with_the_same_request_id_returns_the_first_ticket_and_writes_nothing,
    the_same_request_id_with_different_content_is_refused,
    twenty_concurrent_duplicates_produce_one_ticket,
    a_retry_after_the_plan_lost_the_channel_still_returns_the_ticket,
    a_malformed_request_id_is_refused,
    request_ids_are_scoped_to_their_account,
);
