//! Satisfaction surveys: one per resolution, answered once, reportable.

use ticketd::proto::pb;
use tonic::Code;

use crate::helpers::*;

async fn resolved_ticket(app: &TestApp) -> (pb::Ticket, String) {
    app.create_account("acme", pb::Plan::Pro).await;
    let ticket = app.create_ticket(chat_ticket("acme")).await.unwrap();
    app.acknowledge(&ticket.name, "ana", pb::NotificationMethod::ChatMessage)
        .await
        .unwrap();
    let token = resolve(app, &ticket.name).await;
    (ticket, token)
}

async fn resolve(app: &TestApp, name: &str) -> String {
    let response = app.resolve(name, "").await.unwrap();
    assert_eq!(
        response.ticket.unwrap().status,
        pb::TicketStatus::Resolved as i32
    );
    response.survey_token
}

async fn answer(
    app: &TestApp,
    token: &str,
    rating: pb::SatisfactionRating,
) -> Result<pb::Survey, tonic::Status> {
    app.tickets
        .clone()
        .answer_survey(pb::AnswerSurveyRequest {
            token: token.to_owned(),
            rating: rating.into(),
            comment: "Fixed within the hour".into(),
        })
        .await
        .map(|r| r.into_inner().survey.unwrap())
}

async fn surveys(app: &TestApp, ticket: &str, answered_only: bool) -> Vec<pb::Survey> {
    app.tickets
        .clone()
        .list_surveys(pb::ListSurveysRequest {
            ticket: ticket.to_owned(),
            answered_only,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .surveys
}

async fn resolving_issues_a_survey_that_takes_one_answer(app: TestApp) {
    let (ticket, token) = resolved_ticket(&app).await;
    assert_eq!(token.len(), 32);
    app.clock.advance(chrono::Duration::minutes(30));
    let answered = answer(&app, &token, pb::SatisfactionRating::Good)
        .await
        .unwrap();
    assert_eq!(answered.rating, pb::SatisfactionRating::Good as i32);
    assert_eq!(answered.comment, "Fixed within the hour");
    assert_eq!(answered.ticket, ticket.name);
    assert_eq!(
        answered.answer_time,
        Some(ts(start_time() + chrono::Duration::minutes(30)))
    );
    let again = answer(&app, &token, pb::SatisfactionRating::Bad)
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);
    assert_eq!(error_info(&again).reason, "SURVEY_ALREADY_ANSWERED");
    let listed = surveys(&app, &ticket.name, true).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].rating,
        pb::SatisfactionRating::Good as i32,
        "the first answer stands"
    );
}

async fn a_reopened_and_resolved_ticket_gets_a_new_survey(app: TestApp) {
    let (ticket, first) = resolved_ticket(&app).await;
    app.reopen(&ticket.name, "customer", "again").await.unwrap();
    let second = resolve(&app, &ticket.name).await;
    assert_ne!(first, second);
    answer(&app, &second, pb::SatisfactionRating::Bad)
        .await
        .unwrap();
    assert_eq!(surveys(&app, &ticket.name, false).await.len(), 2);
    let answered = surveys(&app, &format!("tickets/{}", ticket.number), true).await;
    assert_eq!(answered.len(), 1);
    assert_eq!(answered[0].rating, pb::SatisfactionRating::Bad as i32);
}

async fn unknown_tokens_and_bad_answers_are_refused(app: TestApp) {
    let unknown = answer(
        &app,
        "0123456789abcdef0123456789abcdef",
        pb::SatisfactionRating::Good,
    )
    .await
    .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let (_, token) = resolved_ticket(&app).await;
    let unrated = answer(&app, &token, pb::SatisfactionRating::Unspecified)
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&unrated), ["rating"]);
    assert_eq!(app.count("surveys WHERE answered_at IS NOT NULL").await, 0);
}

on_every_store!(
    resolving_issues_a_survey_that_takes_one_answer,
    a_reopened_and_resolved_ticket_gets_a_new_survey,
    unknown_tokens_and_bad_answers_are_refused,
);
