//! Satisfaction surveys: resolving a ticket issues a one-time survey whose
//! token the resolution notice carries; the customer answers once with a
//! good/bad rating (the vendor's scale) and an optional comment. A ticket
//! reopened and resolved again gets a new survey.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::policy::named_enum;

named_enum!(
    /// The customer's verdict, on the vendor's good/bad scale.
    Rating { Good => "good", Bad => "bad" }
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyAnswer {
    pub rating: Rating,
    pub comment: Option<String>,
    pub answered_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Survey {
    /// Assigned by the store; orders surveys by issue.
    pub id: i64,
    /// The secret the customer answers with: 122 random bits.
    pub token: String,
    pub ticket_id: Uuid,
    pub issued_at: DateTime<Utc>,
    pub answer: Option<SurveyAnswer>,
}

/// A survey that already has its one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlreadyAnswered;

impl Survey {
    pub fn issue(ticket_id: Uuid, now: DateTime<Utc>) -> Self {
        Self {
            id: 0,
            token: Uuid::new_v4().simple().to_string(),
            ticket_id,
            issued_at: now,
            answer: None,
        }
    }

    pub fn answer(
        &self,
        rating: Rating,
        comment: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Survey, AlreadyAnswered> {
        if self.answer.is_some() {
            return Err(AlreadyAnswered);
        }
        Ok(Survey {
            answer: Some(SurveyAnswer {
                rating,
                comment,
                answered_at: now,
            }),
            ..self.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_survey_takes_one_answer() {
        let now = Utc::now();
        let survey = Survey::issue(Uuid::new_v4(), now);
        assert_eq!(survey.token.len(), 32);
        let answered = survey
            .answer(Rating::Good, Some("quick".into()), now)
            .unwrap();
        assert_eq!(answered.answer.as_ref().unwrap().rating, Rating::Good);
        assert_eq!(
            answered.answer(Rating::Bad, None, now),
            Err(AlreadyAnswered)
        );
    }

    #[test]
    fn every_survey_gets_its_own_token() {
        let now = Utc::now();
        let id = Uuid::new_v4();
        assert_ne!(Survey::issue(id, now).token, Survey::issue(id, now).token);
    }
}
