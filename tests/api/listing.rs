//! GetTicket and ListTickets: names, numbers, filters and AIP-158 paging.

use ticketd::proto::pb;
use tonic::Code;

use crate::helpers::*;

async fn list(
    app: &TestApp,
    request: pb::ListTicketsRequest,
) -> Result<pb::ListTicketsResponse, tonic::Status> {
    app.tickets
        .clone()
        .list_tickets(request)
        .await
        .map(|r| r.into_inner())
}

async fn get(app: &TestApp, name: &str) -> Result<pb::Ticket, tonic::Status> {
    app.get_ticket(name).await
}

async fn a_ticket_is_found_by_its_name_and_by_its_number(app: TestApp) {
    app.create_account("acme", pb::Plan::Education).await;
    let created = app.create_ticket(web_ticket("acme")).await.unwrap();
    assert_eq!(get(&app, &created.name).await.unwrap(), created);
    assert_eq!(
        get(&app, &format!("tickets/{}", created.number))
            .await
            .unwrap(),
        created
    );
}

async fn unknown_and_malformed_ticket_names_get_distinct_errors(app: TestApp) {
    let missing = get(&app, "tickets/6f1d2a8e-0000-4000-8000-000000000000")
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    assert_eq!(
        get(&app, "tickets/999").await.unwrap_err().code(),
        Code::NotFound
    );
    let malformed = get(&app, "ticket/1").await.unwrap_err();
    assert_eq!(violated_fields(&malformed), ["name"]);
}

async fn pages_walk_every_matching_ticket_newest_first_exactly_once(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    app.create_account("other", pb::Plan::Business).await;
    let mut expected = Vec::new();
    for i in 0..7 {
        let ticket = app.create_ticket(chat_ticket("acme")).await.unwrap();
        expected.push(ticket.number);
        if i % 2 == 0 {
            app.create_ticket(chat_ticket("other")).await.unwrap();
        }
    }
    expected.reverse();

    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = list(
            &app,
            pb::ListTicketsRequest {
                page_size: 3,
                page_token: token.clone(),
                account: account("acme"),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        pages += 1;
        assert!(page.tickets.len() <= 3);
        seen.extend(page.tickets.iter().map(|t| t.number));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, expected);
    assert_eq!(pages, 3);
}

async fn filters_select_by_account_channel_and_priority(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    app.create_account("other", pb::Plan::Business).await;
    let phone = app.create_ticket(phone_ticket("acme")).await.unwrap();
    let web = app.create_ticket(web_ticket("acme")).await.unwrap();
    let chat = app.create_ticket(chat_ticket("acme")).await.unwrap();
    let others = app.create_ticket(chat_ticket("other")).await.unwrap();

    let numbers = |response: pb::ListTicketsResponse| -> Vec<i64> {
        response.tickets.iter().map(|t| t.number).collect()
    };
    for (what, request, expected) in [
        (
            "by_channel",
            pb::ListTicketsRequest {
                channel: pb::Channel::Phone.into(),
                ..Default::default()
            },
            vec![phone.number],
        ),
        (
            "by_priority",
            pb::ListTicketsRequest {
                priority: pb::Priority::P4Low.into(),
                ..Default::default()
            },
            vec![web.number],
        ),
        (
            "by_account",
            pb::ListTicketsRequest {
                account: account("acme"),
                ..Default::default()
            },
            vec![chat.number, web.number, phone.number],
        ),
    ] {
        let response = list(&app, request).await.expect(what);
        assert_eq!(numbers(response), expected, "{what}");
    }
    let everything = list(&app, pb::ListTicketsRequest::default()).await.unwrap();
    assert_eq!(
        numbers(everything),
        [others.number, chat.number, web.number, phone.number]
    );
    let none = list(
        &app,
        pb::ListTicketsRequest {
            account: account("nobody"),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(none.tickets.is_empty() && none.next_page_token.is_empty());
}

async fn bad_paging_and_filter_arguments_are_named(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    for _ in 0..3 {
        app.create_ticket(chat_ticket("acme")).await.unwrap();
    }
    for (what, request, field) in [
        (
            "negative",
            pb::ListTicketsRequest {
                page_size: -1,
                ..Default::default()
            },
            "page_size",
        ),
        (
            "garbage",
            pb::ListTicketsRequest {
                page_token: "not-a-token".into(),
                ..Default::default()
            },
            "page_token",
        ),
        (
            "unknown_enum",
            pb::ListTicketsRequest {
                channel: 9,
                ..Default::default()
            },
            "channel",
        ),
    ] {
        let status = list(&app, request).await.expect_err(what);
        assert_eq!(violated_fields(&status), [field], "{what}");
    }

    let first = list(
        &app,
        pb::ListTicketsRequest {
            page_size: 1,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(!first.next_page_token.is_empty());
    let replayed = list(
        &app,
        pb::ListTicketsRequest {
            page_size: 1,
            page_token: first.next_page_token,
            channel: pb::Channel::Chat.into(),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(violated_fields(&replayed), ["page_token"]);
}

on_every_store!(
    a_ticket_is_found_by_its_name_and_by_its_number,
    unknown_and_malformed_ticket_names_get_distinct_errors,
    pages_walk_every_matching_ticket_newest_first_exactly_once,
    filters_select_by_account_channel_and_priority,
    bad_paging_and_filter_arguments_are_named,
);
