//! Account administration: create, get, update, list.

use ticketd::proto::pb;
use tonic::Code;

use crate::helpers::*;

fn create_request(id: &str, name: &str, plan: i32) -> pb::CreateAccountRequest {
    pb::CreateAccountRequest {
        account_id: id.to_owned(),
        account: Some(pb::Account {
            display_name: name.to_owned(),
            plan,
            ..Default::default()
        }),
    }
}

async fn try_create(
    app: &TestApp,
    id: &str,
    name: &str,
    plan: i32,
) -> Result<pb::Account, tonic::Status> {
    app.tickets
        .clone()
        .create_account(create_request(id, name, plan))
        .await
        .map(|r| r.into_inner().account.unwrap())
}

async fn get(app: &TestApp, id: &str) -> Result<pb::Account, tonic::Status> {
    app.tickets
        .clone()
        .get_account(pb::GetAccountRequest { name: account(id) })
        .await
        .map(|r| r.into_inner().account.unwrap())
}

async fn update(
    app: &TestApp,
    request: pb::UpdateAccountRequest,
) -> Result<pb::Account, tonic::Status> {
    app.tickets
        .clone()
        .update_account(request)
        .await
        .map(|r| r.into_inner().account.unwrap())
}

async fn an_account_is_created_read_and_updated(app: TestApp) {
    let created = app.create_account("acme", pb::Plan::Pro).await;
    assert_eq!(created.name, "accounts/acme");
    assert_eq!(created.plan, pb::Plan::Pro as i32);
    assert_eq!(created.create_time, Some(ts(start_time())));

    app.clock.advance(chrono::Duration::hours(1));
    let updated = update(
        &app,
        pb::UpdateAccountRequest {
            account: Some(pb::Account {
                name: "accounts/acme".into(),
                display_name: "Acme Corporation".into(),
                plan: pb::Plan::Business.into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["plan".into()],
            }),
        },
    )
    .await
    .unwrap();
    assert_eq!(updated.plan, pb::Plan::Business as i32);
    assert_eq!(
        updated.display_name, "acme Ltd",
        "the mask left the name alone"
    );
    assert_eq!(
        updated.update_time,
        Some(ts(start_time() + chrono::Duration::hours(1)))
    );
    assert_eq!(updated.create_time, created.create_time);

    let read = get(&app, "acme").await.unwrap();
    assert_eq!(read, updated);
}

async fn a_taken_account_id_is_already_exists(app: TestApp) {
    app.create_account("acme", pb::Plan::Pro).await;
    let status = try_create(&app, "acme", "Again", pb::Plan::Free.into())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    assert!(status.message().contains("accounts/acme"));
}

async fn invalid_accounts_are_refused_field_by_field(app: TestApp) {
    let status = try_create(&app, "Bad_Id", "", 0).await.unwrap_err();
    assert_eq!(
        violated_fields(&status),
        ["account_id", "account.display_name", "account.plan"]
    );
    let unknown_plan = try_create(&app, "acme", "Acme", 12).await.unwrap_err();
    assert_eq!(violated_fields(&unknown_plan), ["account.plan"]);
    let bad_mask = update(
        &app,
        pb::UpdateAccountRequest {
            account: Some(pb::Account {
                name: "accounts/acme".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["create_time".into()],
            }),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(violated_fields(&bad_mask), ["update_mask"]);
    assert_eq!(app.count("accounts").await, 0);
}

async fn unknown_accounts_are_not_found(app: TestApp) {
    let get = get(&app, "ghost").await.unwrap_err();
    assert_eq!(get.code(), Code::NotFound);
    let update = app.change_plan("ghost", pb::Plan::Pro).await.unwrap_err();
    assert_eq!(update.code(), Code::NotFound);
}

async fn accounts_are_listed_by_id_in_pages(app: TestApp) {
    for id in ["delta", "alpha", "echo", "charlie", "bravo"] {
        app.create_account(id, pb::Plan::Free).await;
    }
    let mut names = Vec::new();
    let mut token = String::new();
    loop {
        let page = app
            .tickets
            .clone()
            .list_accounts(pb::ListAccountsRequest {
                page_size: 2,
                page_token: token,
            })
            .await
            .unwrap()
            .into_inner();
        names.extend(page.accounts.into_iter().map(|a| a.name));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(
        names,
        [
            "accounts/alpha",
            "accounts/bravo",
            "accounts/charlie",
            "accounts/delta",
            "accounts/echo"
        ]
    );
}

on_every_store!(
    an_account_is_created_read_and_updated,
    a_taken_account_id_is_already_exists,
    invalid_accounts_are_refused_field_by_field,
    unknown_accounts_are_not_found,
    accounts_are_listed_by_id_in_pages,
);
