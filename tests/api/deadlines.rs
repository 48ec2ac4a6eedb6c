//! ListTicketsByDeadline: the support lead's questions (due soon, at risk,
//! breached), ordered by deadline and paged; and, on PostgreSQL, that the
//! query is served by the deadline index.

use chrono::Duration;
use ticketd::proto::pb;
use ticketd::proto::pb::SlaState;

use crate::helpers::*;

async fn query(app: &TestApp, request: pb::ListTicketsByDeadlineRequest) -> Vec<i64> {
    app.tickets
        .clone()
        .list_tickets_by_deadline(request)
        .await
        .unwrap()
        .into_inner()
        .tickets
        .iter()
        .map(|t| t.number)
        .collect()
}

/// The tickets in SLA state `state`, whatever their deadline.
fn in_state(state: SlaState) -> pb::ListTicketsByDeadlineRequest {
    pb::ListTicketsByDeadlineRequest {
        sla_states: vec![state.into()],
        ..Default::default()
    }
}

fn minutes(m: i64) -> Option<prost_types::Duration> {
    Some(prost_types::Duration {
        seconds: m * 60,
        nanos: 0,
    })
}

/// Received at 09:00 (t0): a P1 due 10:00, a P2 due 13:00, a P4 due 09:00 next
/// day; at 09:10 a second P1 due 10:10; a Free P1 due at 09:10 next day.
async fn seeded(app: &TestApp) -> [i64; 5] {
    app.create_account("acme", pb::Plan::Business).await;
    app.create_account("freebie", pb::Plan::Free).await;
    let create = |priority: pb::Priority, account: &'static str| {
        let mut request = chat_ticket(account);
        request.impact = impact_for(priority);
        app.create_ticket(request)
    };
    let p1 = create(pb::Priority::P1Urgent, "acme").await.unwrap().number;
    let p2 = create(pb::Priority::P2High, "acme").await.unwrap().number;
    let p4 = create(pb::Priority::P4Low, "acme").await.unwrap().number;
    app.clock.advance(Duration::minutes(10));
    let p1_later = create(pb::Priority::P1Urgent, "acme").await.unwrap().number;
    let free = create(pb::Priority::P1Urgent, "freebie")
        .await
        .unwrap()
        .number;
    [p1, p2, p4, p1_later, free]
}

async fn the_lead_sees_what_is_due_at_risk_and_breached_by_deadline(app: TestApp) {
    let [p1, p2, p4, p1_later, free] = seeded(&app).await;
    // 09:40: both P1s are due within 30 minutes; neither is at risk yet (09:45, 09:55).
    app.clock.set(start_time() + Duration::minutes(40));
    let due_in_30 = query(
        &app,
        pb::ListTicketsByDeadlineRequest {
            due_within: minutes(30),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(due_in_30, [p1, p1_later]);
    let everything = query(&app, pb::ListTicketsByDeadlineRequest::default()).await;
    assert_eq!(
        everything,
        [p1, p1_later, p2, p4, free],
        "ordered by deadline"
    );

    // 09:50: P1 is at risk, the 09:10 P1 (at risk from 09:55) is not.
    app.clock.set(start_time() + Duration::minutes(50));
    let at_risk = query(&app, in_state(SlaState::AtRisk)).await;
    assert_eq!(at_risk, [p1]);

    // 10:05: P1 breached; acknowledging the later P1 takes it off every list.
    app.clock.set(start_time() + Duration::minutes(65));
    let breached = query(&app, in_state(SlaState::Breached)).await;
    assert_eq!(breached, [p1]);
    app.acknowledge(
        &format!("tickets/{p1_later}"),
        "ana",
        pb::NotificationMethod::Email,
    )
    .await
    .unwrap();
    let open = query(&app, pb::ListTicketsByDeadlineRequest::default()).await;
    assert_eq!(open, [p1, p2, p4, free]);

    let free_only = query(
        &app,
        pb::ListTicketsByDeadlineRequest {
            plan: pb::Plan::Free.into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(free_only, [free]);
    let p4_only = query(
        &app,
        pb::ListTicketsByDeadlineRequest {
            priority: pb::Priority::P4Low.into(),
            sla_states: vec![SlaState::OnTrack.into(), SlaState::AtRisk.into()],
            ..Default::default()
        },
    )
    .await;
    assert_eq!(p4_only, [p4]);
}

async fn deadline_pages_walk_every_ticket_once(app: TestApp) {
    let seeded = seeded(&app).await;
    // Three more P1s received at the same instant share one deadline, so
    // pages of one must break the tie by number.
    for _ in 0..3 {
        app.create_ticket(chat_ticket("acme")).await.unwrap();
    }
    let expected = query(&app, pb::ListTicketsByDeadlineRequest::default()).await;
    assert_eq!(expected.len(), seeded.len() + 3);
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = app
            .tickets
            .clone()
            .list_tickets_by_deadline(pb::ListTicketsByDeadlineRequest {
                page_size: 1,
                page_token: token,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        seen.extend(page.tickets.iter().map(|t| t.number));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, expected);
}

async fn deadline_queries_refuse_bad_arguments_by_field(app: TestApp) {
    let status = app
        .tickets
        .clone()
        .list_tickets_by_deadline(pb::ListTicketsByDeadlineRequest {
            due_within: Some(prost_types::Duration {
                seconds: -60,
                nanos: 0,
            }),
            sla_states: vec![SlaState::Met.into(), 42],
            channel: 9,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&status),
        ["due_within", "sla_states[0]", "sla_states[1]", "channel"]
    );
}

/// The "due in the next 30 minutes, first 100" query must use the partial
/// deadline index, not scan every ticket.
async fn the_due_soon_query_is_served_by_the_deadline_index(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    app.create_ticket(chat_ticket("acme")).await.unwrap();
    // 20,000 more tickets copied in SQL, one in 50 still open, as in production.
    sqlx::query(
        "INSERT INTO tickets (id, account_id, plan, channel, chat_session_id, first_message, \
         subject, description, request_kind, impact_scope, workaround, priority, priority_rule_id, \
         priority_rule_description, status, received_at, response_target_seconds, response_due_at, \
         policy_version, at_risk_at, sla_state, version) \
         SELECT gen_random_uuid(), account_id, plan, channel, chat_session_id, first_message, \
         subject, description, request_kind, impact_scope, workaround, priority, priority_rule_id, \
         priority_rule_description, CASE WHEN n % 50 = 0 THEN 'new' ELSE 'closed' END, \
         received_at, response_target_seconds, response_due_at + n * interval '1 second', \
         policy_version, at_risk_at, CASE WHEN n % 50 = 0 THEN 'on_track' ELSE 'met' END, 1 \
         FROM tickets, generate_series(1, 20000) AS n",
    )
    .execute(app.pg())
    .await
    .unwrap();
    sqlx::query("ANALYZE tickets")
        .execute(app.pg())
        .await
        .unwrap();

    let filter = ticketd::store::DeadlineFilter {
        now: start_time(),
        due_within: Some(Duration::minutes(30)),
        states: Vec::new(),
        plan: None,
        priority: None,
        channel: None,
    };
    let mut explain = sqlx::QueryBuilder::<sqlx::Postgres>::new("EXPLAIN SELECT * FROM tickets");
    ticketd::store::push_deadline_query(&mut explain, &filter, None, 100);
    let plan: Vec<String> = explain
        .build_query_scalar()
        .fetch_all(app.pg())
        .await
        .unwrap();
    let plan = plan.join("\n");
    assert!(plan.contains("tickets_open_due"), "{plan}");
    assert!(!plan.contains("Seq Scan"), "{plan}");
}

on_every_store!(
    the_lead_sees_what_is_due_at_risk_and_breached_by_deadline,
    deadline_pages_walk_every_ticket_once,
    deadline_queries_refuse_bad_arguments_by_field,
);

on_postgres!(the_due_soon_query_is_served_by_the_deadline_index);
