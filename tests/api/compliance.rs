//! GetComplianceReport through the API: outcomes, response times and
//! satisfaction per plan × priority × channel, over a receipt period.

use chrono::Duration;
use ticketd::proto::pb;

use crate::helpers::*;

async fn ack(app: &TestApp, name: &str) {
    app.acknowledge(name, "ana", pb::NotificationMethod::Email)
        .await
        .unwrap();
}

/// A Business P1 chat ticket: due one hour after receipt.
async fn p1(app: &TestApp) -> Result<pb::Ticket, tonic::Status> {
    app.create_ticket(chat_ticket("acme")).await
}

async fn report(
    app: &TestApp,
    start_hours: i64,
    end_hours: i64,
) -> pb::GetComplianceReportResponse {
    app.tickets
        .clone()
        .get_compliance_report(pb::GetComplianceReportRequest {
            start_time: Some(ts(start_time() + Duration::hours(start_hours))),
            end_time: Some(ts(start_time() + Duration::hours(end_hours))),
        })
        .await
        .unwrap()
        .into_inner()
}

async fn the_report_counts_outcomes_times_and_satisfaction_per_group(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    // Three Business/P1/chat tickets at 09:00: answered after 10 and 70
    // minutes, and one never answered.
    let met = p1(&app).await.unwrap();
    let missed = p1(&app).await.unwrap();
    let _breached = p1(&app).await.unwrap();
    // One Business/P4/web ticket, answered after 5 minutes, resolved, rated good.
    let web = app.create_ticket(web_ticket("acme")).await.unwrap();
    app.clock.advance(Duration::minutes(5));
    ack(&app, &web.name).await;
    app.clock.advance(Duration::minutes(5));
    ack(&app, &met.name).await;
    app.clock.advance(Duration::minutes(60));
    ack(&app, &missed.name).await;
    let token = app.resolve(&web.name, "").await.unwrap().survey_token;
    app.tickets
        .clone()
        .answer_survey(pb::AnswerSurveyRequest {
            token,
            rating: pb::SatisfactionRating::Good.into(),
            comment: String::new(),
        })
        .await
        .unwrap();
    // A ticket outside the period (received at 10:10) is left out.
    p1(&app).await.unwrap();

    let response = report(&app, 0, 1).await;
    assert_eq!(
        response.generate_time,
        Some(ts(start_time() + Duration::minutes(70)))
    );
    let rows: Vec<_> = response
        .rows
        .iter()
        .map(|r| {
            (
                r.plan,
                r.priority,
                r.channel,
                r.received,
                r.met,
                r.missed,
                r.breached,
                r.awaiting_response,
            )
        })
        .collect();
    use pb::{Channel as C, Plan as Pl, Priority as P};
    assert_eq!(
        rows,
        [
            (
                Pl::Business as i32,
                P::P1Urgent as i32,
                C::Chat as i32,
                3,
                1,
                1,
                1,
                0
            ),
            (
                Pl::Business as i32,
                P::P4Low as i32,
                C::WebForm as i32,
                1,
                1,
                0,
                0,
                0
            ),
        ]
    );
    let chat = &response.rows[0];
    let minutes = |m: i64| {
        Some(prost_types::Duration {
            seconds: m * 60,
            nanos: 0,
        })
    };
    // Response times 10 and 70 minutes: nearest-rank median 10, p90 70.
    assert_eq!(chat.median_time_to_first_response, minutes(10));
    assert_eq!(chat.p90_time_to_first_response, minutes(70));
    let web_row = &response.rows[1];
    assert_eq!(web_row.surveys_answered, 1);
    assert_eq!(web_row.satisfaction_good_percent, 100.0);
    assert_eq!(web_row.median_time_to_first_response, minutes(5));

    assert!(report(&app, 5, 6).await.rows.is_empty());
}

async fn a_reversed_or_overlong_period_is_refused(app: TestApp) {
    for (start, end, field) in [(2, 1, "end_time"), (0, 24 * 367, "end_time")] {
        let status = app
            .tickets
            .clone()
            .get_compliance_report(pb::GetComplianceReportRequest {
                start_time: Some(ts(start_time() + Duration::hours(start))),
                end_time: Some(ts(start_time() + Duration::hours(end))),
            })
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&status), [field]);
    }
    let missing = app
        .tickets
        .clone()
        .get_compliance_report(pb::GetComplianceReportRequest::default())
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&missing), ["start_time", "end_time"]);
}

on_every_store!(
    the_report_counts_outcomes_times_and_satisfaction_per_group,
    a_reversed_or_overlong_period_is_refused,
);
