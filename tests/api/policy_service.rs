//! PolicyService questions beyond the tables: account-based checks, dry-run
//! classification, argument errors and the check of a policy document.

use ticketd::domain::access::Role;
use ticketd::proto::pb;
use tonic::Code;
use tonic_types::StatusExt;

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

async fn validate(
    app: &TestApp,
    document: String,
) -> Result<pb::ValidatePolicyDocumentResponse, tonic::Status> {
    app.policy
        .clone()
        .validate_policy_document(pb::ValidatePolicyDocumentRequest { document })
        .await
        .map(tonic::Response::into_inner)
}

async fn the_published_document_validates_to_the_policy_in_force(app: TestApp) {
    let before = app.row_counts().await;
    let validated = validate(&app, PUBLISHED_POLICY.to_owned())
        .await
        .unwrap()
        .policy
        .expect("a policy");
    let in_force = app
        .policy
        .clone()
        .get_policy(pb::GetPolicyRequest::default())
        .await
        .unwrap()
        .into_inner()
        .policy
        .unwrap();
    assert_eq!(validated, in_force);
    // A changed target shows in the answer, and nothing changes in force.
    let faster = PUBLISHED_POLICY.replacen(r#"pro = { p1 = "1h""#, r#"pro = { p1 = "30m""#, 1);
    let validated = validate(&app, faster).await.unwrap().policy.unwrap();
    let pro_p1 = |policy: &pb::Policy| {
        policy
            .response_targets
            .iter()
            .find(|t| t.plan == pb::Plan::Pro as i32 && t.priority == pb::Priority::P1Urgent as i32)
            .and_then(|t| t.target)
            .map(|d| d.seconds)
    };
    assert_eq!(pro_p1(&validated), Some(1_800));
    assert_eq!(pro_p1(&in_force), Some(3_600));
    assert_eq!(app.row_counts().await, before, "nothing written");
}

async fn a_broken_document_is_refused_listing_every_problem_by_path_and_line(app: TestApp) {
    let document = policy_with_problems();
    let status = validate(&app, document.clone()).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(error_info(&status).reason, "INVALID_FIELDS");
    let violations = status.get_details_bad_request().unwrap().field_violations;
    let listed: Vec<(&str, &str)> = violations
        .iter()
        .map(|v| (v.field.as_str(), v.description.as_str()))
        .collect();
    let at = |needle: &str| line_of(&document, needle);
    assert_eq!(
        listed,
        [
            (
                "document.at_risk_percent",
                format!(
                    "line {}: must be between 1 and 99 (percent of the target), not 0",
                    at("at_risk_percent = 0")
                )
                .as_str()
            ),
            (
                "document.plans[3].channels",
                format!(
                    "line {}: plan \"pro\" has no channel: customers could not reach support",
                    at("channels = []")
                )
                .as_str()
            ),
            (
                "document.targets.first_response.pro.p1",
                format!(
                    "line {}: a target of \"0m\" is not positive",
                    at(r#"pro = { p1 = "0m""#)
                )
                .as_str()
            ),
        ]
    );
    // A syntax error stops the reading: one problem, at its line.
    let document = PUBLISHED_POLICY.replacen("at_risk_percent = 75", "at_risk_percent = = 75", 1);
    let status = validate(&app, document.clone()).await.unwrap_err();
    let violations = status.get_details_bad_request().unwrap().field_violations;
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].field, "document.at_risk_percent");
    let line = format!("line {}: ", line_of(&document, "at_risk_percent = ="));
    assert!(
        violations[0].description.starts_with(&line),
        "{violations:?}"
    );
}

async fn only_an_administrator_may_validate_a_policy_document(app: TestApp) {
    let token = app.issue("ana", Role::Agent, &[]).await;
    let (_, mut policy) = app.clients_with(&token);
    // The agent reads the policy in force, but may not check a document.
    policy
        .get_policy(pb::GetPolicyRequest::default())
        .await
        .unwrap();
    let status = policy
        .validate_policy_document(pb::ValidatePolicyDocumentRequest {
            document: PUBLISHED_POLICY.to_owned(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let info = error_info(&status);
    assert_eq!(info.reason, "MISSING_SCOPE");
    assert_eq!(
        info.metadata.get("scope").map(String::as_str),
        Some("admin")
    );
}

on_every_store!(
    the_published_document_validates_to_the_policy_in_force,
    a_broken_document_is_refused_listing_every_problem_by_path_and_line,
    only_an_administrator_may_validate_a_policy_document,
    check_channel_for_an_account_uses_its_current_plan,
    check_channel_needs_exactly_one_subject_and_a_channel,
    classify_priority_is_the_dry_run_of_create_ticket,
    compute_deadline_refuses_missing_and_out_of_range_arguments,
);
