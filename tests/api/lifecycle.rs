//! The SLA clock and ticket lifecycle through the API: first response,
//! status changes, reprioritisation, events, and breaches recorded by time
//! alone (the injected clock moves; nobody calls).

use std::time::Duration as StdDuration;

use chrono::Duration;
use ticketd::proto::pb;
use ticketd::proto::pb::{SlaState, TicketEventKind as Kind, TicketStatus as Status};
use tonic::Code;

use crate::helpers::*;

async fn business_p2(app: &TestApp) -> pb::Ticket {
    app.create_account("acme", pb::Plan::Business).await;
    let mut request = chat_ticket("acme");
    request.impact = impact_for(pb::Priority::P2High);
    app.create_ticket(request).await.unwrap()
}

async fn acknowledge(app: &TestApp, name: &str) -> Result<pb::Ticket, tonic::Status> {
    app.acknowledge(name, "ana@support", pb::NotificationMethod::Email)
        .await
}

async fn get(app: &TestApp, name: &str) -> pb::Ticket {
    app.get_ticket(name).await.unwrap()
}

async fn events(app: &TestApp, name: &str) -> Vec<pb::TicketEvent> {
    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let page = app
            .tickets
            .clone()
            .list_ticket_events(pb::ListTicketEventsRequest {
                name: name.to_owned(),
                page_size: 2,
                page_token: token,
            })
            .await
            .unwrap()
            .into_inner();
        all.extend(page.events);
        if page.next_page_token.is_empty() {
            return all;
        }
        token = page.next_page_token;
    }
}

fn kinds(events: &[pb::TicketEvent]) -> Vec<i32> {
    events.iter().map(|e| e.kind).collect()
}

/// Waits (in real time, bounded) for the background sweeper to record
/// what the moved clock made due.
async fn wait_for_sla_state(app: &TestApp, name: &str, want: SlaState) -> pb::Ticket {
    for _ in 0..400 {
        let ticket = get(app, name).await;
        if ticket.sla_state == want as i32 {
            return ticket;
        }
        tokio::time::sleep(StdDuration::from_millis(25)).await;
    }
    panic!("{name} never reached {want:?}");
}

async fn the_first_response_stops_the_clock_once(app: TestApp) {
    let ticket = business_p2(&app).await;
    assert_eq!(ticket.sla_state, SlaState::OnTrack as i32);
    assert_eq!(
        ticket.at_risk_at,
        Some(ts(start_time() + Duration::hours(3)))
    );
    app.clock.advance(Duration::minutes(20));
    let acked = acknowledge(&app, &ticket.name).await.unwrap();
    assert_eq!(acked.status, Status::Acknowledged as i32);
    assert_eq!(acked.sla_state, SlaState::Met as i32);
    let response = acked.first_response.clone().unwrap();
    assert_eq!(
        response.responded_at,
        Some(ts(start_time() + Duration::minutes(20)))
    );
    assert_eq!(response.responder, "ana@support");

    app.clock.advance(Duration::minutes(20));
    let again = acknowledge(&app, &ticket.name).await.unwrap();
    assert_eq!(
        again, acked,
        "a second acknowledgement is a no-op with the same result"
    );
    assert_eq!(
        kinds(&events(&app, &ticket.name).await),
        [
            Kind::Received as i32,
            Kind::FirstResponse as i32,
            Kind::StatusChanged as i32
        ]
    );
}

async fn a_breach_is_recorded_by_time_alone_exactly_once(app: TestApp) {
    let ticket = business_p2(&app).await;
    app.clock.advance(Duration::hours(3) + Duration::minutes(1));
    wait_for_sla_state(&app, &ticket.name, SlaState::AtRisk).await;
    app.clock.advance(Duration::hours(1));
    let breached = wait_for_sla_state(&app, &ticket.name, SlaState::Breached).await;
    assert_eq!(breached.status, Status::New as i32);
    let history = events(&app, &ticket.name).await;
    assert_eq!(
        kinds(&history),
        [
            Kind::Received as i32,
            Kind::AtRisk as i32,
            Kind::Breached as i32
        ]
    );
    // Stamped with the moments they happened, not when they were noticed.
    assert_eq!(
        history[1].occur_time,
        Some(ts(start_time() + Duration::hours(3)))
    );
    assert_eq!(
        history[2].occur_time,
        Some(ts(start_time() + Duration::hours(4)))
    );
    assert_eq!(history[2].actor, "system");

    // A late response is MISSED; the breach stays in the history.
    let acked = acknowledge(&app, &ticket.name).await.unwrap();
    assert_eq!(acked.sla_state, SlaState::Missed as i32);
}

async fn illegal_transitions_are_refused_naming_the_current_status(app: TestApp) {
    let ticket = business_p2(&app).await;
    let status = app.resolve(&ticket.name, "").await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    let info = error_info(&status);
    assert_eq!(info.reason, "ILLEGAL_TRANSITION");
    assert_eq!(info.metadata["current_status"], "TICKET_STATUS_NEW");
    for request in [pb::UpdateTicketStatusRequest {
        name: ticket.name.clone(),
        status: Status::InProgress.into(),
        actor: "ana".into(),
        note: String::new(),
    }] {
        let status = app.update_status(request).await.unwrap_err();
        assert_eq!(
            error_info(&status).metadata["current_status"],
            "TICKET_STATUS_NEW"
        );
    }
    let close = app.close(&ticket.name).await.unwrap_err();
    assert_eq!(close.code(), Code::FailedPrecondition);
    let reopen = app.reopen(&ticket.name, "ana", "").await.unwrap_err();
    assert_eq!(reopen.code(), Code::FailedPrecondition);
    // Statuses with their own RPC cannot be set through UpdateTicketStatus.
    let sneaky = app
        .update_status(pb::UpdateTicketStatusRequest {
            name: ticket.name.clone(),
            status: Status::Resolved.into(),
            actor: String::new(),
            note: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&sneaky), ["status", "actor"]);
    assert_eq!(
        kinds(&events(&app, &ticket.name).await),
        [Kind::Received as i32],
        "nothing was written"
    );
}

async fn a_ticket_walks_its_lifecycle_and_every_step_is_an_event(app: TestApp) {
    let ticket = business_p2(&app).await;
    let name = ticket.name.clone();
    acknowledge(&app, &name).await.unwrap();
    for status in [
        Status::InProgress,
        Status::WaitingOnCustomer,
        Status::InProgress,
    ] {
        let t = app
            .update_status(pb::UpdateTicketStatusRequest {
                name: name.clone(),
                status: status.into(),
                actor: "ana".into(),
                note: "working".into(),
            })
            .await
            .unwrap();
        assert_eq!(t.status, status as i32);
    }
    app.resolve(&name, "restarted the media server")
        .await
        .unwrap();
    app.reopen(&name, "customer", "happened again")
        .await
        .unwrap();
    app.resolve(&name, "").await.unwrap();
    let closed = app
        .close(&format!("tickets/{}", ticket.number))
        .await
        .unwrap();
    assert_eq!(closed.status, Status::Closed as i32);
    let history = events(&app, &name).await;
    let moves: Vec<(i32, i32)> = history
        .iter()
        .filter(|e| e.kind == Kind::StatusChanged as i32)
        .map(|e| (e.from_status, e.to_status))
        .collect();
    use Status::*;
    assert_eq!(
        moves,
        [
            (New, Acknowledged),
            (Acknowledged, InProgress),
            (InProgress, WaitingOnCustomer),
            (WaitingOnCustomer, InProgress),
            (InProgress, Resolved),
            (Resolved, InProgress),
            (InProgress, Resolved),
            (Resolved, Closed),
        ]
        .map(|(a, b)| (a as i32, b as i32))
    );
    assert!(
        history.windows(2).all(|w| w[0].event_id < w[1].event_id),
        "ordered"
    );
    assert!(
        history
            .iter()
            .any(|e| e.note == "happened again" && e.actor == "customer")
    );
}

async fn reprioritising_before_the_response_moves_the_deadline_and_after_it_does_not(app: TestApp) {
    let ticket = business_p2(&app).await;
    app.clock.advance(Duration::minutes(10));
    let raised = app
        .reprioritize_as_lead(&ticket.name, pb::Priority::P1Urgent, "every meeting fails")
        .await
        .unwrap();
    assert_eq!(raised.received_at, ticket.received_at);
    assert_eq!(
        raised.response_due_at,
        Some(ts(start_time() + Duration::hours(1)))
    );
    assert_eq!(raised.response_target, Some(hours(1)));
    let decision = raised.priority_decision.unwrap();
    assert_eq!(decision.priority, pb::Priority::P1Urgent as i32);
    assert_eq!(decision.rule_id, "agent-reprioritized");

    acknowledge(&app, &ticket.name).await.unwrap();
    let lowered = app
        .reprioritize_as_lead(&ticket.name, pb::Priority::P4Low, "it was a how-to")
        .await
        .unwrap();
    assert_eq!(
        lowered.response_due_at,
        Some(ts(start_time() + Duration::hours(1)))
    );
    assert_eq!(lowered.sla_state, SlaState::Met as i32);
    let history = events(&app, &ticket.name).await;
    let recalculated: Vec<_> = history
        .iter()
        .filter(|e| e.kind == Kind::DeadlineRecalculated as i32)
        .collect();
    assert_eq!(recalculated.len(), 1);
    assert_eq!(
        recalculated[0].from_due_at,
        Some(ts(start_time() + Duration::hours(4)))
    );
    assert_eq!(
        recalculated[0].to_due_at,
        Some(ts(start_time() + Duration::hours(1)))
    );
    let missing_reason = app
        .reprioritize_as_lead(&ticket.name, pb::Priority::P2High, "")
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&missing_reason), ["reason"]);
}

async fn events_of_an_unknown_ticket_are_not_found(app: TestApp) {
    let status = app
        .tickets
        .clone()
        .list_ticket_events(pb::ListTicketEventsRequest {
            name: "tickets/404".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
}

async fn two_servers_racing_record_one_breach(app: TestApp) {
    let second = app.start_second_server().await.unwrap();
    let (stop_second, stopped) = tokio::sync::oneshot::channel::<()>();
    let second = tokio::spawn(second.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let ticket = business_p2(&app).await;
    // Both sweepers wake on the shared clock and race for the same rows.
    app.clock.advance(Duration::hours(5));
    wait_for_sla_state(&app, &ticket.name, SlaState::Breached).await;
    // Give the slower sweeper its chance to (wrongly) record it again.
    app.clock.advance(Duration::seconds(1));
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    let history = events(&app, &ticket.name).await;
    let count = |kind: Kind| history.iter().filter(|e| e.kind == kind as i32).count();
    assert_eq!(count(Kind::Breached), 1);
    assert_eq!(count(Kind::AtRisk), 1);
    let _ = stop_second.send(());
    second.await.unwrap().unwrap();
}

on_every_store!(
    the_first_response_stops_the_clock_once,
    a_breach_is_recorded_by_time_alone_exactly_once,
    illegal_transitions_are_refused_naming_the_current_status,
    a_ticket_walks_its_lifecycle_and_every_step_is_an_event,
    reprioritising_before_the_response_moves_the_deadline_and_after_it_does_not,
    events_of_an_unknown_ticket_are_not_found,
);

on_postgres!(two_servers_racing_record_one_breach);
