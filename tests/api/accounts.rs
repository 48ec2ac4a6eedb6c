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

async fn an_account_is_created_read_and_updated(app: TestApp) {
    let created = app.create_account("acme", pb::Plan::Pro).await;
    assert_eq!(created.name, "accounts/acme");
    assert_eq!(created.plan, pb::Plan::Pro as i32);
    assert_eq!(created.create_time, Some(ts(start_time())));

    app.clock.advance(chrono::Duration::hours(1));
    let updated = app
        .tickets
        .clone()
        .update_account(pb::UpdateAccountRequest {
            account: Some(pb::Account {
                name: "accounts/acme".into(),
                display_name: "Acme Corporation".into(),
                plan: pb::Plan::Business.into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["plan".into()],
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .account
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

    let read = app
        .tickets
        .clone()
        .get_account(pb::GetAccountRequest {
            name: "accounts/acme".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    assert_eq!(read, updated);
}

async fn a_taken_account_id_is_already_exists(app: TestApp) {
    app.create_account("acme", pb::Plan::Pro).await;
    let status = app
        .tickets
        .clone()
        .create_account(create_request("acme", "Again", pb::Plan::Free.into()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    assert!(status.message().contains("accounts/acme"));
}

async fn invalid_accounts_are_refused_field_by_field(app: TestApp) {
    let status = app
        .tickets
        .clone()
        .create_account(create_request("Bad_Id", "", 0))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&status),
        ["account_id", "account.display_name", "account.plan"]
    );
    let unknown_plan = app
        .tickets
        .clone()
        .create_account(create_request("acme", "Acme", 12))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&unknown_plan), ["account.plan"]);
    let bad_mask = app
        .tickets
        .clone()
        .update_account(pb::UpdateAccountRequest {
            account: Some(pb::Account {
                name: "accounts/acme".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["create_time".into()],
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&bad_mask), ["update_mask"]);
    assert_eq!(app.count("accounts").await, 0);
}

async fn unknown_accounts_are_not_found(app: TestApp) {
    let get = app
        .tickets
        .clone()
        .get_account(pb::GetAccountRequest {
            name: "accounts/ghost".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(get.code(), Code::NotFound);
    let update = app
        .tickets
        .clone()
        .update_account(pb::UpdateAccountRequest {
            account: Some(pb::Account {
                name: "accounts/ghost".into(),
                plan: pb::Plan::Pro.into(),
                ..Default::default()
            }),
            update_mask: None,
        })
        .await
        .unwrap_err();
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
