//! API credentials: their row, and the SQL both backends run for
//! [`CredentialStore`](crate::store::CredentialStore). Like every other
//! method, these take their connection from the backend's `acquire`, so
//! authentication fails at once during an outage instead of waiting out
//! the pool.

use chrono::{DateTime, Utc};

use super::parse::parse;
use crate::domain::access::{Credential, Role};
use crate::domain::policy::Channel;
use crate::error::{Error, Result};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CredentialRow {
    pub id: String,
    pub name: String,
    pub role: String,
    pub channels: String,
    pub secret_hash: Vec<u8>,
    pub create_time: DateTime<Utc>,
    pub revoke_time: Option<DateTime<Utc>>,
    pub last_use_time: Option<DateTime<Utc>>,
}

impl From<&Credential> for CredentialRow {
    fn from(credential: &Credential) -> Self {
        Self {
            id: credential.id.clone(),
            name: credential.name.clone(),
            role: credential.role.as_str().to_owned(),
            channels: credential
                .channels
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(","),
            secret_hash: credential.secret_hash.clone(),
            create_time: credential.create_time,
            revoke_time: credential.revoke_time,
            last_use_time: credential.last_use_time,
        }
    }
}

impl TryFrom<CredentialRow> for Credential {
    type Error = Error;

    fn try_from(row: CredentialRow) -> Result<Self> {
        Ok(Credential {
            role: parse("role", &row.role, Role::parse)?,
            channels: row
                .channels
                .split(',')
                .filter(|c| !c.is_empty())
                .map(|c| parse("channel", c, Channel::parse))
                .collect::<Result<_>>()?,
            id: row.id,
            name: row.name,
            secret_hash: row.secret_hash,
            create_time: row.create_time,
            revoke_time: row.revoke_time,
            last_use_time: row.last_use_time,
        })
    }
}

macro_rules! credential_columns {
    () => {
        "id, name, role, channels, secret_hash, create_time, revoke_time, last_use_time"
    };
}
pub(crate) use credential_columns;

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
            use $crate::store::sql::credentials::{CredentialRow, credential_columns};
            use $crate::store::sql::backend::SqlBackend;

            #[async_trait]
            impl $crate::store::CredentialStore for $store {
                async fn insert_credential(&self, credential: &Credential) -> Result<()> {
                    let row = CredentialRow::from(credential);
                    let result = sqlx::query(concat!(
                        "INSERT INTO credentials (",
                        credential_columns!(),
                        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                    ))
                    .bind(&row.id)
                    .bind(&row.name)
                    .bind(&row.role)
                    .bind(&row.channels)
                    .bind(&row.secret_hash)
                    .bind(row.create_time)
                    .bind(row.revoke_time)
                    .bind(row.last_use_time)
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
                    sqlx::query_as::<_, CredentialRow>(concat!(
                        "SELECT ",
                        credential_columns!(),
                        " FROM credentials WHERE id = $1"
                    ))
                    .bind(id)
                    .fetch_optional(&mut *self.acquire().await?)
                    .await?
                    .map(TryInto::try_into)
                    .transpose()
                }

                async fn list_credentials(&self) -> Result<Vec<Credential>> {
                    sqlx::query_as::<_, CredentialRow>(concat!(
                        "SELECT ",
                        credential_columns!(),
                        " FROM credentials ORDER BY create_time, id"
                    ))
                    .fetch_all(&mut *self.acquire().await?)
                    .await?
                    .into_iter()
                    .map(TryInto::try_into)
                    .collect()
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
