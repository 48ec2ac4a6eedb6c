//! CreateTicket: required fields per origin, entitlement, priority decision,
//! receipt time and plan at receipt.

use chrono::Duration;
use ticketd::domain::policy::Plan;
use ticketd::domain::ticket::AccountUpdate;
use ticketd::proto::pb;
use tonic::Code;

use crate::helpers::*;

/// A change to a valid request, named by its own text, and exactly the
/// fields its refusal must report.
type Rejection = (
    &'static str,
    fn(&mut pb::CreateTicketRequest),
    &'static [&'static str],
);

/// Applies each change to a copy of `valid` and expects exactly its fields to
/// be reported, with nothing written.
async fn assert_each_rejected(app: &TestApp, valid: &pb::CreateTicketRequest, cases: &[Rejection]) {
    for &(what, change, fields) in cases {
        let mut request = valid.clone();
        change(&mut request);
        let status = app
            .create_ticket(request)
            .await
            .expect_err(&format!("{what}: must be refused"));
        assert_eq!(violated_fields(&status), fields, "{what}: {status:?}");
        for field in fields {
            assert!(
                status.message().contains(field),
                "{what}: message names {field}: {}",
                status.message()
            );
        }
        assert_eq!(app.ticket_count().await, 0, "{what}: nothing written");
    }
}

async fn a_chat_ticket_missing_required_fields_is_not_received(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    let valid = chat_ticket("acme");
    assert_each_rejected(
        &app,
        &valid,
        &[
            (
                "chat(r).chat_session_id.clear()",
                |r| chat(r).chat_session_id.clear(),
                &["chat.chat_session_id"],
            ),
            (
                "{ chat(r).transcript_uri.clear(); chat(r).first_message.clear(); }",
                |r| {
                    chat(r).transcript_uri.clear();
                    chat(r).first_message.clear();
                },
                &["chat.first_message"],
            ),
            (
                "chat(r).transcript_uri = \"ftp://x\".into()",
                |r| chat(r).transcript_uri = "ftp://x".into(),
                &["chat.transcript_uri"],
            ),
            (
                "r.subject = \"   \".into()",
                |r| r.subject = "   ".into(),
                &["subject"],
            ),
            (
                "r.subject = \"x\".repeat(201)",
                |r| r.subject = "x".repeat(201),
                &["subject"],
            ),
            ("r.origin = None", |r| r.origin = None, &["origin"]),
        ],
    )
    .await;
}

async fn a_phone_ticket_missing_required_fields_is_not_received(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    let valid = phone_ticket("acme");
    assert_each_rejected(
        &app,
        &valid,
        &[
            (
                "call(r).call_id.clear()",
                |r| call(r).call_id.clear(),
                &["phone_call.call_id"],
            ),
            (
                "call(r).caller_number.clear()",
                |r| call(r).caller_number.clear(),
                &["phone_call.caller_number"],
            ),
            (
                "call(r).caller_number = \"4155550123\".into()",
                |r| call(r).caller_number = "4155550123".into(),
                &["phone_call.caller_number"],
            ),
            (
                "call(r).region = 0",
                |r| call(r).region = 0,
                &["phone_call.region"],
            ),
            (
                "call(r).region = 42",
                |r| call(r).region = 42,
                &["phone_call.region"],
            ),
            (
                "call(r).dialed_number.clear()",
                |r| call(r).dialed_number.clear(),
                &["phone_call.dialed_number"],
            ),
            // A real UK line, but the IVR says the call came in on a US line.
            (
                "call(r).dialed_number = \"+442038905445\".into()",
                |r| call(r).dialed_number = "+442038905445".into(),
                &["phone_call.dialed_number"],
            ),
            (
                "{ call(r).call_id.clear(); call(r).caller_number.clear(); r.account.clear(); }",
                |r| {
                    call(r).call_id.clear();
                    call(r).caller_number.clear();
                    r.account.clear();
                },
                &["account", "phone_call.call_id", "phone_call.caller_number"],
            ),
        ],
    )
    .await;
}

async fn a_web_form_ticket_missing_required_fields_is_not_received(app: TestApp) {
    app.create_account("acme", pb::Plan::Free).await;
    let valid = web_ticket("acme");
    assert_each_rejected(
        &app,
        &valid,
        &[
            (
                "form(r).contact_email.clear()",
                |r| form(r).contact_email.clear(),
                &["web_form.contact_email"],
            ),
            (
                "form(r).contact_email = \"ana.example.com\".into()",
                |r| form(r).contact_email = "ana.example.com".into(),
                &["web_form.contact_email"],
            ),
            (
                "r.description.clear()",
                |r| r.description.clear(),
                &["description"],
            ),
            (
                "r.account = \"acme\".into()",
                |r| r.account = "acme".into(),
                &["account"],
            ),
        ],
    )
    .await;
}

async fn an_incomplete_impact_is_reported_by_field(app: TestApp) {
    app.create_account("acme", pb::Plan::Pro).await;
    let valid = chat_ticket("acme");
    use pb::{ImpactScope as S, RequestKind as K, Workaround as W};
    assert_each_rejected(
        &app,
        &valid,
        &[
            ("r.impact = None", |r| r.impact = None, &["impact"]),
            (
                "r.impact = impact(K::Unspecified, S::Degraded, W::None)",
                |r| r.impact = impact(K::Unspecified, S::Degraded, W::None),
                &["impact.kind"],
            ),
            (
                "r.impact = impact(K::Problem, S::Unspecified, W::None)",
                |r| r.impact = impact(K::Problem, S::Unspecified, W::None),
                &["impact.scope"],
            ),
            (
                "r.impact = impact(K::Problem, S::ServiceDown, W::Unspecified)",
                |r| r.impact = impact(K::Problem, S::ServiceDown, W::Unspecified),
                &["impact.workaround"],
            ),
            (
                "r.impact.as_mut().unwrap().workaround = 17",
                |r| r.impact.as_mut().unwrap().workaround = 17,
                &["impact.workaround"],
            ),
        ],
    )
    .await;
}

async fn a_ticket_for_an_unknown_account_is_not_found_and_not_written(app: TestApp) {
    let status = app.create_ticket(chat_ticket("nobody")).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert!(
        status.message().contains("accounts/nobody"),
        "{}",
        status.message()
    );
    assert_eq!(app.ticket_count().await, 0);
}

async fn phone_ticket_for_free_plan_is_refused_with_allowed_channels(app: TestApp) {
    app.create_account("freebie", pb::Plan::Free).await;
    let status = app
        .create_ticket(phone_ticket("freebie"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    let info = error_info(&status);
    assert_eq!(info.reason, "CHANNEL_NOT_IN_PLAN");
    assert_eq!(info.domain, "ticketd.support.v1");
    assert_eq!(info.metadata["plan"], "PLAN_FREE");
    assert_eq!(info.metadata["channel"], "CHANNEL_PHONE");
    assert_eq!(
        info.metadata["allowed_channels"],
        "CHANNEL_WEB_FORM,CHANNEL_CHAT"
    );
    assert_eq!(app.ticket_count().await, 0);
}

async fn a_received_ticket_carries_priority_rule_receipt_time_number_and_plan(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    app.clock.advance(Duration::milliseconds(1500));
    let ticket = app.create_ticket(phone_ticket("acme")).await.unwrap();
    let decision = ticket.priority_decision.clone().unwrap();
    assert_eq!(decision.priority, pb::Priority::P1Urgent as i32);
    assert_eq!(decision.rule_id, "service-down-no-workaround");
    assert!(!decision.rule_description.is_empty());
    assert_eq!(
        ticket.received_at,
        Some(ts(start_time() + Duration::milliseconds(1500)))
    );
    assert_eq!(ticket.status, pb::TicketStatus::New as i32);
    assert_eq!(ticket.plan, pb::Plan::Business as i32);
    assert_eq!(ticket.account, "accounts/acme");
    assert!(ticket.number > 0);
    assert!(ticket.name.starts_with("tickets/"));
    assert!(matches!(
        ticket.origin,
        Some(pb::ticket::Origin::PhoneCall(_))
    ));

    let second = app.create_ticket(chat_ticket("acme")).await.unwrap();
    assert!(second.number > ticket.number, "numbers increase");
}

async fn a_plan_change_does_not_touch_tickets_already_received(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    let before = app.create_ticket(phone_ticket("acme")).await.unwrap();
    app.change_plan("acme", pb::Plan::Free).await.unwrap();
    let stored = app.get_ticket(&before.name).await.unwrap();
    assert_eq!(stored.plan, pb::Plan::Business as i32);
    assert_eq!(stored.response_due_at, before.response_due_at);
    // New tickets are received under the new plan.
    let status = app.create_ticket(phone_ticket("acme")).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    let chat = app.create_ticket(chat_ticket("acme")).await.unwrap();
    assert_eq!(chat.plan, pb::Plan::Free as i32);
    assert_eq!(chat.response_target, Some(hours(24)));
}

/// The server keeps the plans of accounts it has seen. A plan changed where
/// it cannot see (another replica, an operator at the database) must still
/// decide the next ticket: refused on a channel the new plan lacks, taken on
/// one it adds, with the new plan's deadline.
async fn a_plan_changed_behind_the_servers_back_decides_the_next_ticket(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    let business = app.create_ticket(phone_ticket("acme")).await.unwrap();
    let change_plan = |plan: Plan| {
        let store = app.store().clone();
        async move {
            let update = AccountUpdate {
                display_name: None,
                plan: Some(plan),
            };
            store
                .update_account("acme", &update, start_time())
                .await
                .unwrap();
        }
    };

    change_plan(Plan::Free).await;
    let status = app.create_ticket(phone_ticket("acme")).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert_eq!(app.ticket_count().await, 1, "nothing written");
    let free = app.create_ticket(chat_ticket("acme")).await.unwrap();
    assert_eq!(free.plan, pb::Plan::Free as i32);
    assert_eq!(free.response_target, Some(hours(24)));

    change_plan(Plan::Business).await;
    let again = app.create_ticket(phone_ticket("acme")).await.unwrap();
    assert_eq!(again.plan, pb::Plan::Business as i32);
    assert_eq!(again.response_target, business.response_target);
    assert_eq!(again.priority_decision, business.priority_decision);
    assert_eq!(app.ticket_count().await, 3);
}

async fn text_with_control_characters_is_refused_not_stored(app: TestApp) {
    app.create_account("acme", pb::Plan::Pro).await;
    let valid = chat_ticket("acme");
    assert_each_rejected(
        &app,
        &valid,
        &[
            (
                "r.subject = \"nul\\0byte\".into()",
                |r| r.subject = "nul\0byte".into(),
                &["subject"],
            ),
            (
                "chat(r).first_message = \"escape \\u{1b}[2J\".into()",
                |r| chat(r).first_message = "escape \u{1b}[2J".into(),
                &["chat.first_message"],
            ),
        ],
    )
    .await;
    let mut multi_line = chat_ticket("acme");
    chat(&mut multi_line).first_message = "line one\nline two".into();
    app.create_ticket(multi_line)
        .await
        .expect("line breaks are fine");
}

on_every_store!(
    a_chat_ticket_missing_required_fields_is_not_received,
    a_phone_ticket_missing_required_fields_is_not_received,
    a_web_form_ticket_missing_required_fields_is_not_received,
    an_incomplete_impact_is_reported_by_field,
    a_ticket_for_an_unknown_account_is_not_found_and_not_written,
    phone_ticket_for_free_plan_is_refused_with_allowed_channels,
    a_received_ticket_carries_priority_rule_receipt_time_number_and_plan,
    a_plan_change_does_not_touch_tickets_already_received,
    a_plan_changed_behind_the_servers_back_decides_the_next_ticket,
    text_with_control_characters_is_refused_not_stored,
);
