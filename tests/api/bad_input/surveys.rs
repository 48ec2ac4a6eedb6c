//! Bad input to surveys and to professional service requests.

use ticketd::proto::pb;

use super::{Call, Case, Fixtures, long, with};
use crate::helpers::training_request;

pub(super) fn cases(fx: &Fixtures) -> Vec<Case> {
    vec![
        Case {
            what: "a survey answer with SATISFACTION_RATING_UNSPECIFIED",
            call: Call::AnswerSurvey(pb::AnswerSurveyRequest {
                token: fx.survey_token.clone(),
                rating: 0,
                comment: String::new(),
            })
            .into(),
            fields: &["rating"],
        },
        Case {
            what: "a survey answer with an unknown rating number",
            call: Call::AnswerSurvey(pb::AnswerSurveyRequest {
                token: fx.survey_token.clone(),
                rating: 3,
                comment: String::new(),
            })
            .into(),
            fields: &["rating"],
        },
        Case {
            what: "a survey answer with a 2,001-character comment",
            call: Call::AnswerSurvey(pb::AnswerSurveyRequest {
                token: fx.survey_token.clone(),
                rating: pb::SatisfactionRating::Good.into(),
                comment: long(2_001),
            })
            .into(),
            fields: &["comment"],
        },
        Case {
            what: "a survey answer without a token",
            call: Call::AnswerSurvey(pb::AnswerSurveyRequest {
                token: String::new(),
                rating: pb::SatisfactionRating::Good.into(),
                comment: String::new(),
            })
            .into(),
            fields: &["token"],
        },
        Case {
            what: "a survey listing for something that is not a ticket",
            call: Call::ListSurveys(pb::ListSurveysRequest {
                ticket: "surveys/1".into(),
                ..Default::default()
            })
            .into(),
            fields: &["ticket"],
        },
        // Professional services.
        Case {
            what: "a service request with SERVICE_KIND_UNSPECIFIED",
            call: Call::CreateServiceRequest(with(training_request("acme"), |r| r.kind = 0)).into(),
            fields: &["kind"],
        },
        Case {
            what: "a service request whose contact is no e-mail address",
            call: Call::CreateServiceRequest(with(training_request("acme"), |r| {
                r.contact_email = "nobody".into()
            }))
            .into(),
            fields: &["contact_email"],
        },
        Case {
            what: "a service request without a summary",
            call: Call::CreateServiceRequest(with(training_request("acme"), |r| r.summary.clear()))
                .into(),
            fields: &["summary"],
        },
        Case {
            what: "a service request with 20,001 characters of details",
            call: Call::CreateServiceRequest(with(training_request("acme"), |r| {
                r.details = long(20_001)
            }))
            .into(),
            fields: &["details"],
        },
        Case {
            what: "a service request name that is not a number",
            call: Call::GetServiceRequest(pb::GetServiceRequestRequest {
                name: "serviceRequests/abc".into(),
            })
            .into(),
            fields: &["name"],
        },
        Case {
            what: "a service request moved to an unknown status number",
            call: Call::UpdateServiceRequestStatus(pb::UpdateServiceRequestStatusRequest {
                name: fx.service_request.clone(),
                status: 9,
            })
            .into(),
            fields: &["status"],
        },
        Case {
            what: "a service request listing with an unknown kind number",
            call: Call::ListServiceRequests(pb::ListServiceRequestsRequest {
                kind: 12,
                ..Default::default()
            })
            .into(),
            fields: &["kind"],
        },
    ]
}
