//! Policy versions: the SQL both backends run for
//! [`PolicyStore`](crate::store::PolicyStore). Rows are only ever inserted;
//! the active version is the highest number.

/// Implements [`PolicyStore`] for a backend; see `sql` for why a macro.
///
/// [`PolicyStore`]: crate::store::PolicyStore
macro_rules! impl_policy_store {
    ($store:ty) => {
        // A const block so the expansion can have its own imports.
        const _: () = {
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};

            use $crate::domain::policy::PolicyVersion;
            use $crate::error::{Error, Result};
            use $crate::store::sql::backend::SqlBackend;
            use $crate::store::sql::fetch_optional_by;
            use $crate::store::sql::rows::{PolicyVersionRow, policy_version_columns};

            impl $store {
                /// The highest number stored; 0 when there is none.
                async fn highest_policy_number(&self) -> Result<i64> {
                    Ok(sqlx::query_scalar::<_, i64>(
                        "SELECT COALESCE(MAX(number), 0) FROM policy_versions",
                    )
                    .fetch_one(&mut *self.acquire().await?)
                    .await?)
                }
            }

            #[async_trait]
            impl $crate::store::PolicyStore for $store {
                async fn activate_policy(
                    &self,
                    expected_active: i64,
                    document: &str,
                    label: &str,
                    activated_by: &str,
                    note: &str,
                    at: DateTime<Utc>,
                ) -> Result<PolicyVersion> {
                    let number = expected_active + 1;
                    // One statement: the row is written only while
                    // `expected_active` is the highest number. Two racing
                    // from the same version both pass the check, and then
                    // the primary key lets one insert `number` (on
                    // PostgreSQL the second waits for the first to commit,
                    // then fails on the key); SQLite runs one writer at a
                    // time anyway.
                    let result = sqlx::query(concat!(
                        "INSERT INTO policy_versions (",
                        policy_version_columns!(),
                        ") SELECT $1, $2, $3, $4, $5, $6 WHERE ",
                        "(SELECT COALESCE(MAX(number), 0) FROM policy_versions) = $7"
                    ))
                    .bind(number)
                    .bind(document)
                    .bind(label)
                    .bind(activated_by)
                    .bind(at)
                    .bind(note)
                    .bind(expected_active)
                    .execute(&mut *self.acquire().await?)
                    .await;
                    let raced = match result {
                        Ok(done) => done.rows_affected() == 0,
                        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => true,
                        Err(err) => return Err(err.into()),
                    };
                    if raced {
                        return Err(Error::PolicyVersionRaced {
                            expected: expected_active,
                            active: self.highest_policy_number().await?,
                        });
                    }
                    Ok(PolicyVersion {
                        number,
                        document: document.to_owned(),
                        label: label.to_owned(),
                        activated_by: activated_by.to_owned(),
                        activated_at: at,
                        note: note.to_owned(),
                    })
                }

                async fn active_policy_number(&self) -> Result<i64> {
                    self.highest_policy_number().await
                }

                async fn active_policy(&self) -> Result<Option<PolicyVersion>> {
                    let row = sqlx::query_as::<_, PolicyVersionRow>(concat!(
                        "SELECT ",
                        policy_version_columns!(),
                        " FROM policy_versions ORDER BY number DESC LIMIT 1"
                    ))
                    .fetch_optional(&mut *self.acquire().await?)
                    .await?;
                    row.map(TryInto::try_into).transpose()
                }

                async fn get_policy_version(&self, number: i64) -> Result<PolicyVersion> {
                    fetch_optional_by!(
                        self,
                        PolicyVersionRow,
                        policy_version_columns,
                        "policy_versions",
                        "number" = number
                    )
                    .ok_or_else(|| Error::NotFound {
                        resource: "policy version",
                        name: format!("policyVersions/{number}"),
                    })?
                    .try_into()
                }

                async fn list_policy_versions(
                    &self,
                    after: Option<i64>,
                    limit: i64,
                ) -> Result<Vec<PolicyVersion>> {
                    let query = sqlx::query_as::<_, PolicyVersionRow>(concat!(
                        "SELECT ",
                        policy_version_columns!(),
                        " FROM policy_versions WHERE number > $1 ORDER BY number LIMIT $2"
                    ))
                    .bind(after.unwrap_or(0))
                    .bind(limit);
                    self.fetch_all_into(query).await
                }
            }
        };
    };
}
pub(crate) use impl_policy_store;
