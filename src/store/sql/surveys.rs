//! Satisfaction surveys: their row, and the SQL both backends run for
//! [`SurveyStore`](crate::store::SurveyStore).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::parse::parse;
use crate::domain::survey::{Rating, Survey, SurveyAnswer};
use crate::error::{Error, Result};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SurveyRow {
    pub id: i64,
    pub token: String,
    pub ticket_id: Uuid,
    pub issued_at: DateTime<Utc>,
    pub rating: Option<String>,
    pub comment: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
}

macro_rules! survey_columns {
    () => {
        "id, token, ticket_id, issued_at, rating, comment, answered_at"
    };
}
pub(crate) use survey_columns;

impl TryFrom<SurveyRow> for Survey {
    type Error = Error;

    fn try_from(row: SurveyRow) -> Result<Self> {
        let answer = match (row.rating, row.answered_at) {
            (Some(rating), Some(answered_at)) => Some(SurveyAnswer {
                rating: parse("rating", &rating, Rating::parse)?,
                comment: row.comment,
                answered_at,
            }),
            (None, None) => None,
            _ => return Err(Error::Internal("survey answer stored incompletely".into())),
        };
        Ok(Survey {
            id: row.id,
            token: row.token,
            ticket_id: row.ticket_id,
            issued_at: row.issued_at,
            answer,
        })
    }
}

/// Implements [`SurveyStore`] for a backend; see `sql` for why a macro.
///
/// [`SurveyStore`]: crate::store::SurveyStore
macro_rules! impl_survey_store {
    ($store:ty) => {
        // A const block so the expansion can have its own imports.
        const _: () = {
            use async_trait::async_trait;

            use $crate::domain::survey::Survey;
            use $crate::error::{Error, Result};
            use $crate::store::sql::backend::SqlBackend;
            use $crate::store::sql::surveys::{SurveyRow, survey_columns};

            type Db = <$store as SqlBackend>::Db;

            #[async_trait]
            impl $crate::store::SurveyStore for $store {
                async fn find_survey(&self, token: &str) -> Result<Option<Survey>> {
                    sqlx::query_as::<_, SurveyRow>(concat!(
                        "SELECT ",
                        survey_columns!(),
                        " FROM surveys WHERE token = $1"
                    ))
                    .bind(token)
                    .fetch_optional(&mut *self.acquire().await?)
                    .await?
                    .map(TryInto::try_into)
                    .transpose()
                }

                async fn answer_survey(&self, survey: &Survey) -> Result<bool> {
                    let Some(answer) = &survey.answer else {
                        return Err(Error::Internal("answer_survey without an answer".into()));
                    };
                    // Conditional, so two racing answers cannot both land.
                    let updated = sqlx::query(
                        "UPDATE surveys SET rating = $2, comment = $3, answered_at = $4 \
                         WHERE token = $1 AND answered_at IS NULL",
                    )
                    .bind(&survey.token)
                    .bind(answer.rating.as_str())
                    .bind(answer.comment.as_deref())
                    .bind(answer.answered_at)
                    .execute(&mut *self.acquire().await?)
                    .await?;
                    Ok(updated.rows_affected() == 1)
                }

                async fn list_surveys(
                    &self,
                    ticket_id: Option<uuid::Uuid>,
                    answered_only: bool,
                    after_id: Option<i64>,
                    limit: i64,
                ) -> Result<Vec<Survey>> {
                    let mut query = sqlx::QueryBuilder::<Db>::new(concat!(
                        "SELECT ",
                        survey_columns!(),
                        " FROM surveys WHERE id > "
                    ));
                    query.push_bind(after_id.unwrap_or(0));
                    if let Some(ticket_id) = ticket_id {
                        query.push(" AND ticket_id = ").push_bind(ticket_id);
                    }
                    if answered_only {
                        query.push(" AND answered_at IS NOT NULL");
                    }
                    query.push(" ORDER BY id LIMIT ").push_bind(limit);
                    let rows = query
                        .build_query_as::<SurveyRow>()
                        .fetch_all(&mut *self.acquire().await?)
                        .await?;
                    rows.into_iter().map(TryInto::try_into).collect()
                }
            }
        };
    };
}
pub(crate) use impl_survey_store;
