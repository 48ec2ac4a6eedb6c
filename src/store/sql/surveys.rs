//! Satisfaction surveys: the SQL both backends run for
//! [`SurveyStore`](crate::store::SurveyStore).

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
            use $crate::store::sql::fetch_optional_by;
            use $crate::store::sql::rows::{SurveyRow, survey_columns};

            type Db = <$store as SqlBackend>::Db;

            #[async_trait]
            impl $crate::store::SurveyStore for $store {
                async fn find_survey(&self, token: &str) -> Result<Option<Survey>> {
                    fetch_optional_by!(self, SurveyRow, survey_columns, "surveys", "token" = token)
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
                    self.fetch_all_into(query.build_query_as::<SurveyRow>())
                        .await
                }
            }
        };
    };
}
pub(crate) use impl_survey_store;
