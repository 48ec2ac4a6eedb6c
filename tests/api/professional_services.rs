//! Professional-services requests: their own queue and statuses, no SLA.

use ticketd::proto::pb;
use ticketd::proto::pb::ServiceRequestStatus as S;
use tonic::Code;

use crate::helpers::*;

async fn create(
    app: &TestApp,
    request: pb::CreateServiceRequestRequest,
) -> Result<pb::ServiceRequest, tonic::Status> {
    app.tickets
        .clone()
        .create_service_request(request)
        .await
        .map(|r| r.into_inner().service_request.unwrap())
}

async fn move_to(
    app: &TestApp,
    name: &str,
    status: S,
) -> Result<pb::ServiceRequest, tonic::Status> {
    app.tickets
        .clone()
        .update_service_request_status(pb::UpdateServiceRequestStatusRequest {
            name: name.to_owned(),
            status: status.into(),
        })
        .await
        .map(|r| r.into_inner().service_request.unwrap())
}

async fn a_request_is_queued_apart_from_tickets_and_walks_its_own_statuses(app: TestApp) {
    app.create_account("acme", pb::Plan::Free).await;
    let request = create(&app, training_request("acme")).await.unwrap();
    assert_eq!(request.status, S::Submitted as i32);
    assert!(request.name.starts_with("serviceRequests/"));
    assert_eq!(app.ticket_count().await, 0, "not a support ticket");
    assert!(
        app.tickets
            .clone()
            .list_tickets_by_deadline(pb::ListTicketsByDeadlineRequest::default())
            .await
            .unwrap()
            .into_inner()
            .tickets
            .is_empty(),
        "no response target, so never on the deadline list"
    );
    for status in [S::InReview, S::Scheduled, S::Completed] {
        assert_eq!(
            move_to(&app, &request.name, status).await.unwrap().status,
            status as i32
        );
    }
    let final_status = move_to(&app, &request.name, S::InReview).await.unwrap_err();
    assert_eq!(final_status.code(), Code::FailedPrecondition);
    assert_eq!(
        error_info(&final_status).metadata["current_status"],
        "SERVICE_REQUEST_STATUS_COMPLETED"
    );
    let read = app
        .tickets
        .clone()
        .get_service_request(pb::GetServiceRequestRequest {
            name: request.name.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .service_request
        .unwrap();
    assert_eq!(read.status, S::Completed as i32);
}

async fn requests_are_listed_by_kind_status_and_account_and_retries_are_idempotent(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    app.create_account("globex", pb::Plan::Pro).await;
    let mut retried = training_request("acme");
    retried.request_id = "ps-1".into();
    let first = create(&app, retried.clone()).await.unwrap();
    assert_eq!(create(&app, retried.clone()).await.unwrap(), first);
    retried.summary = "Something else".into();
    let reused = create(&app, retried).await.unwrap_err();
    assert_eq!(error_info(&reused).reason, "REQUEST_ID_REUSED");

    let mut branding = training_request("globex");
    branding.kind = pb::ServiceKind::Branding.into();
    let branding = create(&app, branding).await.unwrap();
    move_to(&app, &branding.name, S::Declined).await.unwrap();

    let list = |request: pb::ListServiceRequestsRequest| {
        let mut client = app.tickets.clone();
        async move {
            client
                .list_service_requests(request)
                .await
                .unwrap()
                .into_inner()
                .service_requests
                .into_iter()
                .map(|r| r.name)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list(pb::ListServiceRequestsRequest::default()).await,
        [branding.name.clone(), first.name.clone()]
    );
    assert_eq!(
        list(pb::ListServiceRequestsRequest {
            kind: pb::ServiceKind::Training.into(),
            ..Default::default()
        })
        .await,
        [first.name.as_str()]
    );
    assert_eq!(
        list(pb::ListServiceRequestsRequest {
            status: S::Declined.into(),
            ..Default::default()
        })
        .await,
        [branding.name.as_str()]
    );
    assert_eq!(
        list(pb::ListServiceRequestsRequest {
            account: account("acme"),
            ..Default::default()
        })
        .await,
        [first.name]
    );
}

async fn bad_requests_name_their_fields_and_write_nothing(app: TestApp) {
    let status = create(
        &app,
        pb::CreateServiceRequestRequest {
            account: "acme".into(),
            kind: 0,
            summary: String::new(),
            details: String::new(),
            contact_email: "not-an-email".into(),
            request_id: String::new(),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        violated_fields(&status),
        ["account", "kind", "summary", "contact_email"]
    );
    let unknown = create(&app, training_request("ghost")).await.unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(app.count("service_requests").await, 0);
    let missing = move_to(&app, "serviceRequests/77", S::InReview)
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
}

async fn the_policy_lists_the_professional_services(app: TestApp) {
    let policy = app.get_policy().await;
    use pb::ServiceKind::*;
    assert_eq!(
        policy.professional_services,
        [
            Training,
            Consulting,
            Branding,
            Implementation,
            CustomSolution,
            Development
        ]
        .map(|k| k as i32)
    );
}

on_every_store!(
    a_request_is_queued_apart_from_tickets_and_walks_its_own_statuses,
    requests_are_listed_by_kind_status_and_account_and_retries_are_idempotent,
    bad_requests_name_their_fields_and_write_nothing,
    the_policy_lists_the_professional_services,
);
