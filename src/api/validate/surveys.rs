//! AnswerSurvey and ListSurveys.

use super::limits::{MAX_NOTE_CHARS, MAX_SURVEY_TOKEN_CHARS};
use super::names::ticket_name;
use super::{Violations, page_size};
use crate::api::convert::rating_from_proto;
use crate::domain::survey::Rating;
use crate::domain::ticket::TicketKey;
use crate::error::{Error, Result};
use crate::proto::pb;

pub struct SurveyAnswerRequest {
    pub token: String,
    pub rating: Rating,
    pub comment: Option<String>,
}

pub fn answer_survey(request: pb::AnswerSurveyRequest) -> Result<SurveyAnswerRequest> {
    let mut v = Violations::default();
    let token = v.required("token", request.token, MAX_SURVEY_TOKEN_CHARS);
    let rating = v.required_enum("rating", request.rating, rating_from_proto);
    let comment = v.optional("comment", request.comment, MAX_NOTE_CHARS);
    v.into_result()?;
    rating
        .map(|rating| SurveyAnswerRequest {
            token,
            rating,
            comment,
        })
        .ok_or_else(|| Error::Internal("validation let a bad answer through".into()))
}

pub struct SurveyListing {
    pub ticket: Option<TicketKey>,
    pub page_size: i64,
}

pub fn list_surveys(request: &pb::ListSurveysRequest) -> Result<SurveyListing> {
    let mut v = Violations::default();
    let page_size = page_size(&mut v, request.page_size);
    let ticket = if request.ticket.is_empty() {
        None
    } else {
        match ticket_name(&request.ticket) {
            Ok(key) => Some(key),
            Err(_) => {
                v.add("ticket", "must be tickets/{uuid} or tickets/{number}");
                None
            }
        }
    };
    v.into_result()?;
    Ok(SurveyListing { ticket, page_size })
}
