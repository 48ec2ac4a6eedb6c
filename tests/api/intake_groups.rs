//! CreateTicket calls that arrive together are read and written together on
//! PostgreSQL (src/store/intake_batch.rs). Each call must still get exactly
//! its own answer: its own account's plan, its own ticket and event, one
//! ticket per request id, and a refusal only for the call that earned it.

use std::collections::{HashMap, HashSet};

use ticketd::proto::pb;
use tonic::Code;

use crate::helpers::{TestApp, chat_ticket};

/// Sends every request at once and returns the answers in order.
async fn all_at_once(
    app: &TestApp,
    requests: Vec<pb::CreateTicketRequest>,
) -> Vec<Result<pb::Ticket, tonic::Status>> {
    let calls: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let mut client = app.tickets.clone();
            tokio::spawn(async move {
                client
                    .create_ticket(request)
                    .await
                    .map(|r| r.into_inner().ticket.unwrap())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for call in calls {
        answers.push(call.await.unwrap());
    }
    answers
}

fn request(account: &str, request_id: &str, subject: &str) -> pb::CreateTicketRequest {
    pb::CreateTicketRequest {
        request_id: request_id.into(),
        subject: subject.into(),
        ..chat_ticket(account)
    }
}

async fn calls_made_together_each_get_their_own_ticket_plan_and_event(app: TestApp) {
    app.create_account("free", pb::Plan::Free).await;
    app.create_account("biz", pb::Plan::Business).await;
    // 40 distinct requests on two plans, 20 of them sent three times at
    // once, and 5 for an account that does not exist.
    let mut requests = Vec::new();
    for n in 0..40 {
        let account = if n % 2 == 0 { "free" } else { "biz" };
        let copies = if n < 20 { 3 } else { 1 };
        for _ in 0..copies {
            requests.push(request(
                account,
                &format!("req-{n}"),
                &format!("subject {n}"),
            ));
        }
    }
    for n in 0..5 {
        requests.push(request("ghost", &format!("ghost-{n}"), "nobody"));
    }
    let answers = all_at_once(&app, requests.clone()).await;

    let mut by_request: HashMap<String, HashSet<String>> = HashMap::new();
    let mut targets: HashMap<&str, HashSet<i64>> = HashMap::new();
    for (request, answer) in requests.iter().zip(&answers) {
        let account = request.account.trim_start_matches("accounts/");
        if account == "ghost" {
            let status = answer.as_ref().expect_err("unknown account");
            assert_eq!(status.code(), Code::NotFound, "{status:?}");
            continue;
        }
        let ticket = answer
            .as_ref()
            .unwrap_or_else(|s| panic!("{request:?}: {s:?}"));
        assert_eq!(ticket.subject, request.subject, "another call's ticket");
        assert_eq!(ticket.account, request.account, "another call's ticket");
        by_request
            .entry(request.request_id.clone())
            .or_default()
            .insert(ticket.name.clone());
        targets
            .entry(if account == "free" { "free" } else { "biz" })
            .or_default()
            .insert(ticket.response_target.unwrap().seconds);
    }
    assert_eq!(by_request.len(), 40);
    for (request_id, names) in &by_request {
        assert_eq!(names.len(), 1, "{request_id} became {names:?}");
    }
    // Each plan's tickets carry that plan's target, not a neighbour's.
    assert_eq!(targets["free"].len(), 1, "{targets:?}");
    assert_eq!(targets["biz"].len(), 1, "{targets:?}");
    assert_ne!(targets["free"], targets["biz"]);

    let pool = app.pg();
    assert_eq!(app.ticket_count().await, 40);
    let (events, tickets_with_one, statements): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), \
                (SELECT count(*) FROM (SELECT ticket_id FROM ticket_events \
                  WHERE kind = 'received' GROUP BY ticket_id HAVING count(*) = 1) one), \
                count(DISTINCT txid) \
         FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id \
         WHERE e.kind = 'received' AND e.to_priority = t.priority AND e.to_due_at = t.response_due_at",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(events, 40, "every ticket has its own RECEIVED event");
    assert_eq!(tickets_with_one, 40);
    // Written together: fewer transactions than tickets.
    assert!(
        statements < 40,
        "no call was grouped: {statements} transactions"
    );
}

async fn a_row_that_fails_fails_only_its_own_call(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    // A rule only this test has: one subject cannot be stored.
    for statement in [
        "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN IF NEW.subject = 'poison' THEN RAISE EXCEPTION 'poison'; END IF; RETURN NEW; END $$",
        "CREATE TRIGGER refuse_poison BEFORE INSERT ON tickets \
         FOR EACH ROW EXECUTE FUNCTION refuse_poison()",
    ] {
        sqlx::query(statement).execute(app.pg()).await.unwrap();
    }
    let mut requests: Vec<_> = (0..30)
        .map(|n| request("acme", &format!("ok-{n}"), &format!("fine {n}")))
        .collect();
    requests.insert(15, request("acme", "bad", "poison"));
    let answers = all_at_once(&app, requests.clone()).await;
    for (request, answer) in requests.iter().zip(&answers) {
        if request.subject == "poison" {
            let status = answer.as_ref().expect_err("the poisoned row");
            assert_eq!(status.code(), Code::Internal, "{status:?}");
            assert!(
                !status.message().contains("poison"),
                "database text leaked: {status:?}"
            );
        } else {
            answer
                .as_ref()
                .unwrap_or_else(|s| panic!("{request:?}: {s:?}"));
        }
    }
    assert_eq!(app.ticket_count().await, 30);
    assert_eq!(app.count("ticket_events").await, 30);
}

on_postgres!(
    calls_made_together_each_get_their_own_ticket_plan_and_event,
    a_row_that_fails_fails_only_its_own_call,
);
