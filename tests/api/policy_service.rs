//! PolicyService questions beyond the tables: account-based checks, dry-run
//! classification and argument errors.

use ticketd::proto::pb;
use tonic::Code;

use crate::helpers::*;

async fn check_channel_for_an_account_uses_its_current_plan(app: TestApp) {
    app.create_account("freebie", pb::Plan::Free).await;
    let answer = app
        .check_channel(pb::CheckChannelRequest {
            account: account("freebie"),
            channel: pb::Channel::Phone.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!answer.allowed);
    assert_eq!(answer.plan, pb::Plan::Free as i32);
    assert_eq!(
        answer.allowed_channels,
        [pb::Channel::WebForm as i32, pb::Channel::Chat as i32]
    );
    let ghost = app
        .check_channel(pb::CheckChannelRequest {
            account: account("ghost"),
            channel: pb::Channel::Phone.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(ghost.code(), Code::NotFound);
}

async fn check_channel_needs_exactly_one_subject_and_a_channel(app: TestApp) {
    let neither = app
        .check_channel(pb::CheckChannelRequest::default())
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&neither), ["channel", "account"]);
    let both = app
        .check_channel(pb::CheckChannelRequest {
            account: account("acme"),
            plan: pb::Plan::Pro.into(),
            channel: pb::Channel::Chat.into(),
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&both), ["plan"]);
}

async fn classify_priority_is_the_dry_run_of_create_ticket(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    use pb::{ImpactScope as S, RequestKind as K, Workaround as W};
    let cases = [
        (
            impact(K::Problem, S::ServiceDown, W::None),
            pb::Priority::P1Urgent,
            "service-down-no-workaround",
        ),
        (
            impact(K::Problem, S::Degraded, W::Partial),
            pb::Priority::P2High,
            "degraded-partial-or-no-workaround",
        ),
        (
            impact(K::Problem, S::Degraded, W::Full),
            pb::Priority::P3Normal,
            "full-workaround",
        ),
        (
            impact(K::Problem, S::FunctionImpaired, W::Unspecified),
            pb::Priority::P3Normal,
            "function-impaired",
        ),
        (
            impact(K::PrereleaseAccess, S::Unspecified, W::Unspecified),
            pb::Priority::P4Low,
            "request-not-a-problem",
        ),
    ];
    for (impact, priority, rule) in cases {
        let dry_run = app
            .policy
            .clone()
            .classify_priority(pb::ClassifyPriorityRequest { impact })
            .await
            .unwrap()
            .into_inner()
            .decision
            .unwrap();
        assert_eq!(
            (dry_run.priority, dry_run.rule_id.as_str()),
            (priority as i32, rule)
        );
        let mut request = chat_ticket("acme");
        request.impact = impact;
        let ticket = app.create_ticket(request).await.unwrap();
        assert_eq!(ticket.priority_decision, Some(dry_run), "{rule}");
    }
    // The rules are served with their conditions, so a client can apply them.
    let policy = app.get_policy().await;
    let p1 = policy
        .priority_rules
        .iter()
        .find(|r| r.rule_id == "service-down-no-workaround")
        .unwrap();
    assert_eq!(p1.kinds, [K::Problem as i32]);
    assert_eq!(p1.scopes, [S::ServiceDown as i32]);
    assert_eq!(p1.workarounds, [W::None as i32]);
}

async fn compute_deadline_refuses_missing_and_out_of_range_arguments(app: TestApp) {
    let missing = app
        .policy
        .clone()
        .compute_deadline(pb::ComputeDeadlineRequest::default())
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&missing),
        ["plan", "priority", "received_at"]
    );
    let far_future = app
        .policy
        .clone()
        .compute_deadline(pb::ComputeDeadlineRequest {
            plan: pb::Plan::Pro.into(),
            priority: pb::Priority::P1Urgent.into(),
            received_at: Some(prost_types::Timestamp {
                seconds: i64::MAX,
                nanos: 0,
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&far_future), ["received_at"]);
    // 9999-12-31T23:00:00Z is a valid Timestamp, but a 24 h deadline is not.
    let deadline_out_of_range = app
        .policy
        .clone()
        .compute_deadline(pb::ComputeDeadlineRequest {
            plan: pb::Plan::Free.into(),
            priority: pb::Priority::P4Low.into(),
            received_at: Some(prost_types::Timestamp {
                seconds: 253_402_297_200,
                nanos: 0,
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&deadline_out_of_range), ["received_at"]);
}

on_every_store!(
    check_channel_for_an_account_uses_its_current_plan,
    check_channel_needs_exactly_one_subject_and_a_channel,
    classify_priority_is_the_dry_run_of_create_ticket,
    compute_deadline_refuses_missing_and_out_of_range_arguments,
);
