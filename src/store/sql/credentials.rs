//! API credentials: the SQL both backends run for
//! [`CredentialStore`](crate::store::CredentialStore). Like every other
//! method, these take their connection from the backend's `acquire`, so
//! authentication fails at once during an outage instead of waiting out
//! the pool.

/// Implements [`CredentialStore`] for a backend; see `sql` for why a macro.
///
/// [`CredentialStore`]: crate::store::CredentialStore
macro_rules! impl_credential_store {
    ($store:ty) => {
        // A const block so the expansion can have its own imports.
        const _: () = {
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};

            use $crate::domain::access::Credential;
            use $crate::error::{Error, Result};
            use $crate::store::sql::rows::{CredentialRow, bind_credential_insert, credential_columns};
            use $crate::store::sql::backend::SqlBackend;
            use $crate::store::sql::fetch_optional_by;

            #[async_trait]
            impl $crate::store::CredentialStore for $store {
                async fn insert_credential(&self, credential: &Credential) -> Result<()> {
                    let row = CredentialRow::from(credential);
                    let query = sqlx::query(concat!(
                        "INSERT INTO credentials (",
                        credential_columns!(),
                        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                    ));
                    let result = bind_credential_insert!(query, &row)
                        .execute(&mut *self.acquire().await?)
                    .await;
                    match result {
                        Ok(_) => Ok(()),
                        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                            Err(Error::AlreadyExists {
                                resource: "credential",
                                name: credential.name.clone(),
                            })
                        }
                        Err(err) => Err(err.into()),
                    }
                }

                async fn get_credential(&self, id: &str) -> Result<Option<Credential>> {
                    let row = fetch_optional_by!(
                        self,
                        CredentialRow,
                        credential_columns,
                        "credentials",
                        "id" = id
                    );
                    row.map(TryInto::try_into).transpose()
                }

                async fn list_credentials(&self) -> Result<Vec<Credential>> {
                    let query = sqlx::query_as::<_, CredentialRow>(concat!(
                        "SELECT ",
                        credential_columns!(),
                        " FROM credentials ORDER BY create_time, id"
                    ));
                    self.fetch_all_into(query).await
                }

                async fn revoke_credential(
                    &self,
                    id_or_name: &str,
                    at: DateTime<Utc>,
                ) -> Result<Credential> {
                    // By id first, so a name that happens to look like an id
                    // cannot revoke someone else's credential.
                    for column in ["id", "name"] {
                        let sql = format!(
                            "UPDATE credentials SET revoke_time = $2 \
                             WHERE {column} = $1 AND revoke_time IS NULL RETURNING {}",
                            credential_columns!()
                        );
                        let row = sqlx::query_as::<_, CredentialRow>(&sql)
                            .bind(id_or_name)
                            .bind(at)
                            .fetch_optional(&mut *self.acquire().await?)
                            .await?;
                        if let Some(row) = row {
                            return row.try_into();
                        }
                    }
                    Err(Error::NotFound {
                        resource: "credential",
                        name: id_or_name.to_owned(),
                    })
                }

                async fn record_credential_use(
                    &self,
                    uses: &[(String, DateTime<Utc>)],
                ) -> Result<()> {
                    let mut conn = self.acquire().await?;
                    for (id, at) in uses {
                        sqlx::query(
                            "UPDATE credentials SET last_use_time = $2 \
                             WHERE id = $1 AND (last_use_time IS NULL OR last_use_time < $2)",
                        )
                        .bind(id)
                        .bind(*at)
                        .execute(&mut *conn)
                        .await?;
                    }
                    Ok(())
                }
            }
        };
    };
}
pub(crate) use impl_credential_store;
