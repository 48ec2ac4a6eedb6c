//! Every cell of POLICY.md's channel and response-target tables, through the
//! API. The expected tables are restated here, independently of `src/`.

use chrono::Duration;
use ticketd::proto::pb;
use ticketd::proto::pb::{Channel as C, Plan, Priority as P};
use tonic::Code;

use crate::helpers::*;

/// POLICY.md "Channels, by plan".
const CHANNELS: &[(Plan, C, bool)] = &[
    (Plan::Business, C::WebForm, true),
    (Plan::Business, C::Chat, true),
    (Plan::Business, C::Phone, true),
    (Plan::Education, C::WebForm, true),
    (Plan::Education, C::Chat, true),
    (Plan::Education, C::Phone, true),
    (Plan::Api, C::WebForm, true),
    (Plan::Api, C::Chat, true),
    (Plan::Api, C::Phone, true),
    (Plan::Pro, C::WebForm, true),
    (Plan::Pro, C::Chat, true),
    (Plan::Pro, C::Phone, false),
    (Plan::Free, C::WebForm, true),
    (Plan::Free, C::Chat, true),
    (Plan::Free, C::Phone, false),
];

/// POLICY.md "Target response time", in hours.
const TARGETS: &[(Plan, P, i64)] = &[
    (Plan::Pro, P::P1Urgent, 1),
    (Plan::Pro, P::P2High, 4),
    (Plan::Pro, P::P3Normal, 24),
    (Plan::Pro, P::P4Low, 24),
    (Plan::Business, P::P1Urgent, 1),
    (Plan::Business, P::P2High, 4),
    (Plan::Business, P::P3Normal, 24),
    (Plan::Business, P::P4Low, 24),
    (Plan::Api, P::P1Urgent, 1),
    (Plan::Api, P::P2High, 4),
    (Plan::Api, P::P3Normal, 24),
    (Plan::Api, P::P4Low, 24),
    (Plan::Education, P::P1Urgent, 1),
    (Plan::Education, P::P2High, 4),
    (Plan::Education, P::P3Normal, 24),
    (Plan::Education, P::P4Low, 24),
    (Plan::Free, P::P1Urgent, 24),
    (Plan::Free, P::P2High, 24),
    (Plan::Free, P::P3Normal, 24),
    (Plan::Free, P::P4Low, 24),
];

fn account_id(plan: Plan) -> String {
    plan.as_str_name().to_lowercase().replace('_', "-")
}

fn request_for(plan: Plan, channel: C) -> pb::CreateTicketRequest {
    let id = account_id(plan);
    match channel {
        C::WebForm => web_ticket(&id),
        C::Chat => chat_ticket(&id),
        C::Phone => phone_ticket(&id),
        C::Unspecified => unreachable!("not a table cell"),
    }
}

async fn create_an_account_on_every_plan(app: &TestApp) {
    for plan in ALL_PLANS {
        app.create_account(&account_id(plan), plan).await;
    }
}

async fn every_plan_and_channel_cell_is_enforced_by_create_ticket(app: TestApp) {
    create_an_account_on_every_plan(&app).await;
    assert_eq!(CHANNELS.len(), 15);
    for &(plan, channel, allowed) in CHANNELS {
        let before = app.ticket_count().await;
        let result = app.create_ticket(request_for(plan, channel)).await;
        let cell = format!("{plan:?} × {channel:?}");
        if allowed {
            let ticket = result.unwrap_or_else(|s| panic!("{cell}: refused: {s:?}"));
            assert_eq!(ticket.channel, channel as i32, "{cell}");
            assert_eq!(ticket.plan, plan as i32, "{cell}");
            assert_eq!(app.ticket_count().await, before + 1, "{cell}");
        } else {
            let status = result.expect_err(&cell);
            assert_eq!(status.code(), Code::FailedPrecondition, "{cell}");
            let info = error_info(&status);
            assert_eq!(info.reason, "CHANNEL_NOT_IN_PLAN", "{cell}");
            assert_eq!(
                info.metadata.get("allowed_channels").map(String::as_str),
                Some("CHANNEL_WEB_FORM,CHANNEL_CHAT"),
                "{cell}"
            );
            assert_eq!(app.ticket_count().await, before, "{cell}: nothing written");
        }
    }
}

async fn every_plan_and_channel_cell_is_answered_by_check_channel(app: TestApp) {
    for &(plan, channel, allowed) in CHANNELS {
        let answer = app
            .check_channel(pb::CheckChannelRequest {
                plan: plan.into(),
                channel: channel.into(),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(answer.allowed, allowed, "{plan:?} × {channel:?}");
        assert_eq!(
            answer.allowed_channels.contains(&(channel as i32)),
            allowed,
            "{plan:?} × {channel:?}"
        );
    }
}

async fn every_plan_and_priority_cell_sets_the_deadline_from_receipt(app: TestApp) {
    create_an_account_on_every_plan(&app).await;
    assert_eq!(TARGETS.len(), 20);
    for (i, &(plan, priority, target_hours)) in TARGETS.iter().enumerate() {
        // Each ticket arrives at a different moment, so a deadline computed
        // from anything but this ticket's receipt would show.
        app.clock.advance(Duration::minutes(7 * i as i64 + 1));
        let now = app.clock_now();
        let mut request = chat_ticket(&account_id(plan));
        request.impact = impact_for(priority);
        let ticket = app.create_ticket(request).await.unwrap();
        let cell = format!("{plan:?} × {priority:?}");
        let decision = ticket.priority_decision.as_ref().unwrap();
        assert_eq!(decision.priority, priority as i32, "{cell}");
        assert_eq!(ticket.received_at, Some(ts(now)), "{cell}");
        assert_eq!(ticket.response_target, Some(hours(target_hours)), "{cell}");
        assert_eq!(
            ticket.response_due_at,
            Some(ts(now + Duration::hours(target_hours))),
            "{cell}"
        );
    }
}

async fn every_plan_and_priority_cell_is_answered_by_compute_deadline(app: TestApp) {
    let received = start_time() + Duration::seconds(17);
    for &(plan, priority, target_hours) in TARGETS {
        let answer = app
            .policy
            .clone()
            .compute_deadline(pb::ComputeDeadlineRequest {
                plan: plan.into(),
                priority: priority.into(),
                received_at: Some(ts(received)),
            })
            .await
            .unwrap()
            .into_inner();
        let cell = format!("{plan:?} × {priority:?}");
        assert_eq!(answer.response_target, Some(hours(target_hours)), "{cell}");
        assert_eq!(
            answer.response_due_at,
            Some(ts(received + Duration::hours(target_hours))),
            "{cell}"
        );
    }
}

async fn get_policy_returns_every_table_as_data(app: TestApp) {
    let policy = app.get_policy().await;
    for &(plan, channel, allowed) in CHANNELS {
        let row = policy
            .plan_channels
            .iter()
            .find(|row| row.plan == plan as i32)
            .unwrap_or_else(|| panic!("no channel row for {plan:?}"));
        assert_eq!(
            row.channels.contains(&(channel as i32)),
            allowed,
            "{plan:?} × {channel:?}"
        );
    }
    assert_eq!(policy.response_targets.len(), TARGETS.len());
    for &(plan, priority, target_hours) in TARGETS {
        let row = policy
            .response_targets
            .iter()
            .find(|row| row.plan == plan as i32 && row.priority == priority as i32)
            .unwrap_or_else(|| panic!("no target for {plan:?} × {priority:?}"));
        assert_eq!(
            row.target,
            Some(hours(target_hours)),
            "{plan:?} × {priority:?}"
        );
    }
    let lines: Vec<(i32, &str, &str)> = policy
        .phone_lines
        .iter()
        .map(|l| {
            (
                l.region,
                l.display_number.as_str(),
                l.support_extension.as_str(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            (pb::Region::Us as i32, "+1 888 799 9666", "2"),
            (pb::Region::Us as i32, "+1 650 397 6096", "2"),
            (pb::Region::Au as i32, "+61 1800 768 027", "2"),
            (pb::Region::Uk as i32, "+44 800 368 7314", "2"),
            (pb::Region::Uk as i32, "+44 20 3890 5445", "2"),
        ]
    );
    let names: Vec<(i32, &str)> = policy
        .priorities
        .iter()
        .map(|d| (d.priority, d.name.as_str()))
        .collect();
    assert_eq!(
        names,
        vec![
            (P::P1Urgent as i32, "Urgent"),
            (P::P2High as i32, "High"),
            (P::P3Normal as i32, "Normal"),
            (P::P4Low as i32, "Low"),
        ]
    );
    let hours = policy.support_hours.unwrap();
    assert!(hours.always_open);
    assert!(!policy.priority_rules.is_empty());
    assert!(!policy.version.is_empty());
}

on_every_store!(
    every_plan_and_channel_cell_is_enforced_by_create_ticket,
    every_plan_and_channel_cell_is_answered_by_check_channel,
    every_plan_and_priority_cell_sets_the_deadline_from_receipt,
    every_plan_and_priority_cell_is_answered_by_compute_deadline,
    get_policy_returns_every_table_as_data,
);
